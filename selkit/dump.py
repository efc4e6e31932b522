"""A stable text dump of AST and IR values, for golden files and ``selkit check --dump``."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from selkit.diagnostics import Span


def dump(value: object, indent: int = 0) -> str:
    """Indented, deterministic text of a dataclass tree (spans as ``@line:col``)."""
    return "\n".join(_lines(value, indent)) + "\n"


def _scalar(value: Any) -> str | None:
    if type(value).__name__ == "Origin":
        return f"<{value.span.short()}:{value.span.column} {value.cause.value} {value.statement!r}>"
    if isinstance(value, Span):
        return f"@{value.line}:{value.column}-{value.end_line}:{value.end_column}"
    if isinstance(value, enum.StrEnum):
        return repr(value.value)  # a string with a closed set of values: dumped as the string
    if isinstance(value, enum.Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return repr(value)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return "(" + " ".join(value) + ")"
    return None


def _lines(value: object, depth: int) -> list[str]:
    pad = "  " * depth
    scalar = _scalar(value)
    if scalar is not None:
        return [pad + scalar]
    if dataclasses.is_dataclass(value):
        head = type(value).__name__
        simple, nested = [], []
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            text = _scalar(item)
            if text is not None:
                simple.append(f"{f.name}={text}")
            else:
                nested.append((f.name, item))
        out = [pad + head + (" " + " ".join(simple) if simple else "")]
        for name, item in nested:
            if isinstance(item, (tuple, list)) and not item:
                continue
            out.append(f"{pad}  {name}:")
            out.extend(_lines(item, depth + 2))
        return out
    if isinstance(value, (tuple, list)):
        out = []
        for item in value:
            out.extend(_lines(item, depth))
        return out
    if isinstance(value, dict):
        out = []
        for key in sorted(value):
            out.append(f"{pad}{key}:")
            out.extend(_lines(value[key], depth + 1))
        return out
    return [pad + repr(value)]
