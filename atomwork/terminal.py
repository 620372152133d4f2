"""Data made safe to print on a terminal with rich: no markup it could smuggle in, and no control
characters that could drive the terminal.

A customer named ``[/bold]`` must not crash the CLI, ``[link=...]`` must not render a disguised
link, and an escape sequence in a cell must not recolour, clear or retitle the terminal. Every
value that comes from data (answers, cells, errors, arguments) goes through :func:`visible`
before it is printed: :func:`text` for a rich ``Text``, :func:`markup` inside a markup string.
"""

from __future__ import annotations

import re

from rich.markup import escape
from rich.text import Text

__all__ = ["markup", "text", "visible"]

# C0 controls except tab and newline, DEL, C1 controls, and the bidi controls that reorder what a
# line appears to say (Trojan Source).
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(value: object) -> str:
    """``value`` as text whose control characters are shown as escapes (``\\x1b``), not obeyed."""
    return _UNSAFE.sub(_escaped, str(value))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object, style: str = "") -> Text:
    """A rich ``Text`` of ``value``: never read as markup, control characters made visible."""
    return Text(visible(value), style=style)


def markup(value: object) -> str:
    """``value`` for interpolation into a rich markup string (its brackets escaped)."""
    return escape(visible(value))
