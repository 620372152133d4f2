"""Read a tool function's docstring: the description, and one description per argument.

Google (``Args:``), NumPy (``Parameters`` over dashes) and Sphinx (``:param x:``) styles are read;
whitespace is collapsed, since descriptions end up on one line of a prompt.
"""

from __future__ import annotations

import inspect
import re

from pydantic import BaseModel, Field

__all__ = ["Docstring", "parse_docstring"]

_GOOGLE_ARGS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments"}
_GOOGLE_OTHER = {
    "returns", "return", "yields", "raises", "examples", "example", "notes", "note", "see also",
    "warnings", "warning", "references", "attributes", "todo",
}  # fmt: skip
_SECTION = re.compile(r"^([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX = re.compile(r"^:(param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_SPHINX_OTHER = re.compile(r"^:(returns?|rtype|raises?|type|yields?)\b")
_NUMPY_ITEM = re.compile(r"^(\w+)\s*(?::.*)?$")


class Docstring(BaseModel):
    description: str = ""
    """The text before the first section, on one line."""
    args: dict[str, str] = Field(default_factory=dict)
    """Per parameter name, its description."""


def _one_line(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def parse_docstring(doc: str | None) -> Docstring:
    """The summary before any section, and the argument descriptions of whichever style is used."""
    if not doc:
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    args: dict[str, list[str]] = {}
    current: list[str] | None = None
    mode = "description"
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        heading = _SECTION.match(line)
        underlined = i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"} and stripped
        sphinx = _SPHINX.match(stripped)
        if heading and heading.group(1).lower() in _GOOGLE_ARGS | _GOOGLE_OTHER:
            mode = "google" if heading.group(1).lower() in _GOOGLE_ARGS else "other"
            current = None
        elif underlined:
            mode = "numpy" if stripped.lower() in {"parameters", "other parameters"} else "other"
            current = None
            i += 1  # skip the dashes
        elif sphinx:
            mode = "sphinx"
            current = args.setdefault(sphinx.group(2), [])
            current.append(sphinx.group(3))
        elif _SPHINX_OTHER.match(stripped):
            mode, current = "other", None
        elif mode == "description":
            description.append(line)
        elif mode == "google" and stripped:
            # An entry starts at the section's entry indentation; deeper lines continue it.
            item = _GOOGLE_ITEM.match(stripped) if _indent(line) <= _item_indent(lines, i) else None
            if item is not None:
                current = args.setdefault(item.group(1).lstrip("*"), [])
                current.append(item.group(2))
            elif current is not None:
                current.append(stripped)
        elif mode == "numpy" and stripped:
            item = _NUMPY_ITEM.match(line) if _indent(line) == 0 else None
            if item is not None:
                current = args.setdefault(item.group(1), [])
            elif current is not None:
                current.append(stripped)
        elif mode == "sphinx" and stripped and current is not None:
            current.append(stripped)
        i += 1
    return Docstring(
        description=_one_line(description),
        args={name: _one_line(text) for name, text in args.items() if _one_line(text)},
    )


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _item_indent(lines: list[str], index: int) -> int:
    """The indentation of the argument entries of the Google section around ``lines[index]``."""
    for j in range(index, -1, -1):
        if _SECTION.match(lines[j]):
            following = next((ln for ln in lines[j + 1 :] if ln.strip()), "")
            return _indent(following)
    return 0
