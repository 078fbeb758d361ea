"""Configuration problems in the product's own words, each with file, line and column.

pydantic reports a location as a path of keys (``("user_type", "suffixs")``) and a
message of its own ("Extra inputs are not permitted"). An administrator needs the line
to edit and what to write instead, so each error becomes a :class:`ConfigProblem`:
the place in the TOML text (:class:`TomlPositions`), a sentence of ours, and for an
unknown key the nearest valid one.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from hybridsync.errors import ConfigError

__all__ = [
    "ConfigProblem",
    "ConfigProblems",
    "TomlPositions",
    "nearest",
    "problems_of",
]

Path = tuple[str | int, ...]
"""Where a value sits in the TOML document: table keys and array indices."""

SECRET_WORDS = ("secret", "password", "key", "url", "store")
"""A key holding one of these words never has its value repeated in a message (a URL
may hold a password)."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a configuration file."""

    source: str
    key: str
    """The dotted key, ``connectors[1].pth``; empty for the document itself."""
    message: str
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        if self.line is None:
            return self.source
        return f"{self.source}:{self.line}:{self.column or 1}"

    def __str__(self) -> str:
        return (
            f"{self.where()}: {self.key}: {self.message}"
            if self.key
            else (f"{self.where()}: {self.message}")
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.source,
            "line": self.line,
            "column": self.column,
            "key": self.key,
            "message": self.message,
        }


class ConfigProblems(ConfigError):
    """Every problem found in one configuration file, reported together."""

    def __init__(self, problems: Sequence[ConfigProblem]):
        self.problems = tuple(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
        if len(self.problems) == 1:
            super().__init__(str(self.problems[0]))
        else:
            lines = "\n".join(f"  {problem}" for problem in self.problems)
            super().__init__(f"{len(self.problems)} problems\n{lines}")
        self.source = self.problems[0].source if self.problems else None


_TABLE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_PART = r"""(?:[A-Za-z0-9_\-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")


def _split_key(text: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_\-]+|"[^"]*"|'[^']*'""", text)
    return [part.strip("\"'") for part in parts]


class TomlPositions:
    """Line and column of every table and key of a TOML text.

    ``tomllib`` keeps no positions, so this reads the text's headers (``[a]``,
    ``[[a]]``) and ``key =`` lines. Values spanning several lines are not looked into:
    their keys are the ones users mistype.
    """

    def __init__(self, text: str):
        self._at: dict[Path, tuple[int, int]] = {}
        self._scan(text)

    def _scan(self, text: str) -> None:
        table: Path = ()
        arrays: dict[Path, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = _TABLE.match(line)
            if header is not None:
                table = self._header(header, arrays, number, line)
                continue
            key = _KEY.match(line)
            if key is not None:
                column = len(line) - len(line.lstrip()) + 1
                self._at.setdefault((*table, *_split_key(key.group(1))), (number, column))

    def _header(
        self, header: re.Match[str], arrays: dict[Path, int], number: int, line: str
    ) -> Path:
        names = tuple(_split_key(header.group(2)))
        column = line.index("[") + 1
        if header.group(1) == "[[":
            index = arrays.get(names, -1) + 1
            arrays[names] = index
            path: Path = (*names, index)
        else:
            path = names
        self._at.setdefault(path, (number, column))
        return path

    def find(self, path: Path) -> tuple[int, int] | None:
        """The position of ``path``, else of its nearest enclosing table or key."""
        for end in range(len(path), 0, -1):
            found = self._at.get(tuple(path[:end]))
            if found is not None:
                return found
        return None


def dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def nearest(word: str, choices: Iterable[str]) -> str | None:
    """The valid key most like a mistyped one (``suffixs`` -> ``suffixes``), if any is close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def valid_keys(model: type[BaseModel], path: Path) -> list[str]:
    """The keys a table at ``path`` (relative to ``model``) may hold."""
    models = [model]
    for part in path:
        if isinstance(part, int):
            continue
        models = [
            inner
            for m in models
            if part in m.model_fields
            for inner in _models_in(m.model_fields[part].annotation)
        ]
    return sorted({name for m in models for name in m.model_fields})


def _value_words(key: str, value: Any) -> str:
    if any(word in key.lower() for word in SECRET_WORDS):
        return ""
    if isinstance(value, str | int | float | bool):
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        return f" (got {shown})"
    return ""


_WORDING: dict[str, str] = {
    "missing": "is required but missing",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be a text in quotes",
    "list_type": 'must be a list, e.g. ["a", "b"]',
    "tuple_type": "must be a list",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "path_type": "must be a file path in quotes",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be greater than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "too_short": "needs at least {min_length} entries",
    "string_too_short": "must not be empty",
    "literal_error": "must be one of {expected}",
}


def _message(error: Any, model: type[BaseModel], path: Path) -> str:
    kind, context = error["type"], error.get("ctx") or {}
    key = str(path[-1]) if path else ""
    if kind == "extra_forbidden":
        text = f"unknown key `{key}`"
        suggestion = nearest(key, valid_keys(model, path[:-1]))
        return f"{text}: did you mean `{suggestion}`?" if suggestion else text
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    template = _WORDING.get(kind)
    if template is None:
        return str(error["msg"])
    text = template.format(**{k: str(v) for k, v in context.items()})
    if kind == "missing":
        return text
    return text + _value_words(key, error.get("input"))


def _holds(data: Any, part: Any) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _data_path(loc: Sequence[Any], data: Any) -> Path:
    """The keys and indices of ``loc`` that name data, without the union member names
    pydantic adds (``("client_secret", "str")``); a missing key ends the path."""
    path: list[str | int] = []
    for part in loc:
        if _holds(data, part):
            data = data[part]
            path.append(part)
        elif isinstance(data, dict) and isinstance(part, str):
            path.append(part)  # a required key that is missing: nothing below it
            break
    return tuple(path)


def problems_of(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    source: str,
    data: Any,
    positions: TomlPositions,
    prefix: Path = (),
) -> list[ConfigProblem]:
    """One problem per pydantic error; ``prefix`` places a nested document (a connector)."""
    problems = []
    for error in exc.errors():
        path = _data_path(error["loc"], data)
        message = _message(error, model, path)
        full = (*prefix, *path)
        line_column = positions.find(full)
        line, column = line_column if line_column is not None else (None, None)
        problems.append(ConfigProblem(source, dotted(full), message, line, column))
    return problems
