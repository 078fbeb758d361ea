"""Generated Python turned into functions: the one place that does it.

Three generators write Python source: the expression compiler
(:mod:`hybridsync.expressions.codegen`), the scope generator
(:mod:`hybridsync.core.scopegen`) and the flow generator (:mod:`hybridsync.core.flowgen`).
They share what is not about their own language:

- one naming scheme: a value the generated code reads (a rule, an attribute name, a
  compiled function) is a global ``_kN`` handed out by :class:`Constants`, so data never
  becomes source text; the runtime helpers each generator provides start with ``_`` too;
- one file name per kind of code, ``<hybridsync KIND>``, which tracebacks show and which
  the expression language reads to point at the failing position;
- one error path: source Python cannot compile (too deeply nested, too large) raises
  :class:`GeneratedCodeError`, which each generator states in its own terms.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

from hybridsync.errors import HybridsyncError


class GeneratedCodeError(HybridsyncError):
    """Generated source that Python cannot compile (e.g. nested too deeply)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"generated {kind} code does not compile ({reason})")
        self.reason = reason


def filename(kind: str) -> str:
    """The file name tracebacks show for generated code of this kind."""
    return f"<hybridsync {kind}>"


class Constants:
    """The values one generated function reads, each under a made-up global ``_kN``."""

    __slots__ = ("_by_identity", "names")

    def __init__(self) -> None:
        self.names: dict[str, object] = {}
        self._by_identity: dict[int, str] = {}

    def name(self, value: object) -> str:
        """The global standing for ``value`` (one name per object, however often used)."""
        known = self._by_identity.get(id(value))
        if known is not None and self.names[known] is value:
            return known
        name = self._by_identity[id(value)] = f"_k{len(self.names)}"
        self.names[name] = value
        return name


def define(
    source: str,
    function: str,
    *,
    kind: str,
    runtime: Mapping[str, object],
    constants: Constants | None = None,
) -> Callable[..., object]:
    """Compile ``source`` and return its function named ``function``.

    ``runtime`` holds the generator's helpers and ``constants`` the values the source
    names; together they are the function's globals (a fresh dict per function).

    Raises:
        GeneratedCodeError: Python could not compile the source.
    """
    namespace: dict[str, object] = {**runtime, **(constants.names if constants else {})}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(source, filename(kind), "exec")
        exec(code, namespace)  # the source names only made-up names and runtime helpers
    except (SyntaxError, RecursionError, MemoryError) as error:
        raise GeneratedCodeError(kind, str(error)) from None
    found = namespace[function]
    assert callable(found)
    return found
