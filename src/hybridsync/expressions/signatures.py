"""What the checker knows about each function: overloads, parameter and result types.

Type codes follow the functions reference: ``str``, ``num``, ``bool``, ``dt``, ``bin``,
``ref``, ``enum``, ``mv`` (multi-valued), ``var`` (anything) and ``void`` (never
returns: ``Error``). A parameter of type ``exp`` accepts any expression used as a
condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Implementation = Callable[..., object]


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One function of the language.

    Attributes:
        name: the name, case-sensitive.
        family: the reference's family (Text, Conversion, ...), for documentation.
        signatures: the overloads, each a tuple of parameter type codes.
        returns: the result's type code.
        implementation: the Python function; None for forms the compiler writes inline
            (IIF, Switch, Select, Where, With, ImportedValue, ValueCount).
        maps: a multi-valued first argument gives a multi-valued result.
        pairs: the arguments are condition/value pairs (Switch).
    """

    name: str
    family: str
    signatures: tuple[tuple[str, ...], ...]
    returns: str
    implementation: Implementation | None = None
    maps: bool = False
    pairs: bool = False

    @property
    def arities(self) -> frozenset[int]:
        return frozenset(len(signature) for signature in self.signatures)


def function(
    name: str,
    family: str,
    returns: str,
    *signatures: tuple[str, ...],
    implementation: Implementation | None = None,
    maps: bool = False,
    pairs: bool = False,
) -> FunctionSpec:
    """Shorthand for a :class:`FunctionSpec`."""
    return FunctionSpec(name, family, signatures, returns, implementation, maps, pairs)
