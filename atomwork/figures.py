"""Figures in text: reading numbers out of prose, writing them exactly, spotting degenerate text.

Shared by the evaluator (does every figure trace to a table?) and the answer writer (state the
figures exactly, never abbreviated into something a reader cannot check).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any, NamedTuple

_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}
_NUMBER = re.compile(
    r"(?<![\w.])(-)?\$?((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?:\s?(thousand|million|billion|bn|mn|[kmb])\b)?",
    re.I,
)


class Figure(NamedTuple):
    """A number read from text, with the count of significant digits shown."""

    value: float
    digits: int


def figures(text: str) -> list[Figure]:
    """Every number in ``text`` (``1,234.5``, ``$1.2M``, ``3 million``, ``-4%``) with its precision."""
    out: list[Figure] = []
    for match in _NUMBER.finditer(text):
        sign, body, scale = match.groups()
        value = float(body.replace(",", "")) * _SCALE.get((scale or "").lower(), 1.0)
        digits = len(body.replace(",", "").replace(".", "").lstrip("0")) or 1
        out.append(Figure(-value if sign else value, digits))
    return out


def matches(shown: Figure, actual: float, *, rel_tol: float = 0.005) -> bool:
    """Whether a shown figure states ``actual``: equal within ``rel_tol``, or a correct rounding
    of it to the digits shown (at least three significant digits)."""
    value = shown.value
    if math.isclose(value, actual, rel_tol=rel_tol, abs_tol=1e-9):
        return True
    if shown.digits >= 3 and actual != 0:
        magnitude = math.floor(math.log10(abs(actual)))
        unit = 10 ** (magnitude - shown.digits + 1)
        return abs(value - actual) <= unit / 2 + 1e-9 * abs(actual)
    return False


def unmatched_figures(
    text: str, known: Sequence[float], *, given: Collection[float] = (), years_ok: bool = False
) -> list[str]:
    """Figures in ``text`` that state none of ``known``, written out in full.

    Small whole numbers (list numbering, "top 5") never count; neither do figures in ``given``
    (ones the user wrote) nor, with ``years_ok``, whole numbers that read as years."""
    missing = []
    for shown in figures(text):
        whole = float(shown.value).is_integer()
        if shown.value in given or (whole and abs(shown.value) < 10):
            continue
        if years_ok and whole and 1900 <= shown.value <= 2099:
            continue
        if not any(matches(shown, value) for value in known):
            missing.append(format_number(shown.value))
    return missing


def format_number(value: Any) -> str:
    """A number written in full: ``1,234,567.89``; integers without decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def numbers_in(values: Iterable[Any]) -> list[float]:
    """The numeric values among table cells."""
    out = []
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
            out.append(float(value))
    return out


def degenerate(text: str) -> list[str]:
    """Signs that generated text went wrong: repeated lines, looping phrases, a cut-off ending."""
    problems = []
    # Markdown table rows are data laid out, not prose: their separators repeat by design.
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("|")]
    text = "\n".join(lines) if lines else text
    if lines:
        line, count = Counter(lines).most_common(1)[0]
        if count >= 3 and len(line) > 10:
            problems.append(f"a line is repeated {count} times")
    words = text.split()
    if len(words) >= 24:
        grams = Counter(tuple(words[i : i + 6]) for i in range(len(words) - 5))
        gram, count = grams.most_common(1)[0]
        if count >= 3:
            problems.append(f"the phrase {' '.join(gram)!r} repeats {count} times")
    stripped = text.rstrip()
    if stripped and len(words) > 30 and stripped[-1] not in ".!?)|*`\"'" and not stripped.endswith("]"):
        problems.append("the text ends mid-sentence (cut off)")
    return problems
