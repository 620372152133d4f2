"""Scores an answer (final text plus the result tables it showed) against a case's expected table.

Numbers are pulled out of free text ("$1.23M", "303.91 million", "12.5%", "1,234"), labels are
matched case-insensitively on word boundaries; see :func:`score_answer` for the rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel

from atomwork.evals.cases import EvalCase, Expect
from atomwork.tools.base import Table

__all__ = ["MAX_NUMBERS_WITHOUT_TABLE", "Score", "ShownNumber", "extract_numbers", "score_answer"]

MAX_NUMBERS_WITHOUT_TABLE = 12
"""A NUMBER answer whose text holds more distinct numbers than this, with no table beside it, is
a dump that would hit the right figure by chance: it is scored wrong."""

_MIN_ROUNDED_SIGNIFICANT = 3
"""A display rounded coarser than the tolerance counts only when it keeps this many significant digits."""


class Score(BaseModel):
    """The verdict on one answer: right or wrong, why, and what the right answer was."""

    correct: bool
    detail: str
    expected: str


# --------------------------------------------------------------------------- numbers in text

_SCALES: dict[str, Decimal] = {
    "k": Decimal(10) ** 3,
    "thousand": Decimal(10) ** 3,
    "m": Decimal(10) ** 6,
    "mm": Decimal(10) ** 6,
    "mn": Decimal(10) ** 6,
    "million": Decimal(10) ** 6,
    "b": Decimal(10) ** 9,
    "bn": Decimal(10) ** 9,
    "billion": Decimal(10) ** 9,
}
_NUMBER = re.compile(
    r"(?<![\w.])"  # not the tail of an identifier ("Q3") or of a decimal
    # No space after the sign: "- 42 tickets" is a bullet, not minus 42.
    r"(?P<sign>[-−+])?(?P<cur>[$€£])?(?P<sign2>[-−])?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
    r"(?P<exp>[eE][-+]?\d+)?"
    r"(?:\s?(?P<pct>%|percent\b)|\s?(?P<scale>thousand|million|billion|mn|bn|mm|[kKmMbB])\b)?",
)
# Dates and periods are not quantities: "1997-03-31" must not yield 3 and 31, nor "1997-Q2" a 2.
_DATE_LIKE = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?\b|\b\d{4}-(?:0[1-9]|1[0-2])\b|\b\d{4}-?[QH][1-4]\b|"
    r"\b[QH][1-4][- ]\d{4}\b|\b\d{1,2}/\d{4}\b",
    re.IGNORECASE,
)
_DECREASE = re.compile(
    r"\b(down|fell|fall|falling|drop(ped)?|declin\w*|decreas\w*|lower|less|below|under|shr[au]nk|"
    r"lost|loss|reduc\w*|minus|negative)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ShownNumber:
    """A number as displayed: its value, where it is, and how precisely it was written."""

    value: Decimal
    unit: Decimal
    """What one displayed unit is worth: 1, or 10**6 for "303.91 million"."""
    decimals: int
    significant: int
    percent: bool
    year_like: bool
    """A bare four-digit 1900..2100 integer, most likely a year."""
    start: int
    end: int
    text: str


def _mask_dates(text: str) -> str:
    # Same length, so positions still line up with the original text.
    return _DATE_LIKE.sub(lambda m: " " * len(m.group(0)), text)


def extract_numbers(text: str) -> list[ShownNumber]:
    """Every number written in ``text``, with its scale suffix applied ("$1.2M" is 1,200,000)."""
    found: list[ShownNumber] = []
    for match in _NUMBER.finditer(_mask_dates(text)):
        digits = match.group("num").replace(",", "")
        try:
            mantissa = Decimal(digits)
        except InvalidOperation:  # pragma: no cover - the pattern only lets valid literals through
            continue
        scale_word = (match.group("scale") or "").lower()
        unit = _SCALES.get(scale_word, Decimal(1))
        if match.group("exp"):
            unit *= Decimal(10) ** int(match.group("exp")[1:])
        negative = (match.group("sign") or match.group("sign2") or "") in {"-", "−"}
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        significant = len(digits.replace(".", "").lstrip("0")) or 1
        value = mantissa * unit * (-1 if negative else 1)
        plain = not (match.group("cur") or match.group("pct") or scale_word or match.group("exp"))
        year_like = plain and re.fullmatch(r"(19|20)\d\d", match.group("num")) is not None
        found.append(
            ShownNumber(
                value=value,
                unit=unit,
                decimals=decimals,
                significant=significant,
                percent=match.group("pct") is not None,
                year_like=year_like,
                start=match.start(),
                end=match.end(),
                text=match.group(0).strip(),
            )
        )
    return found


def _is_integer_value(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_number(value: Any) -> float | int | None:
    """A cell as a number (ints stay ints, so counts keep needing an exact match)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, Decimal):
        return float(value)
    return None


def number_matches(expected: float | int, shown: ShownNumber, rel_tol: float) -> bool:
    """Whether ``shown`` states ``expected``.

    Integers (counts) must match exactly. Other values match within ``rel_tol`` relative error, or
    when ``shown`` is ``expected`` correctly rounded to the shown precision with at least three
    significant digits kept ("$303.91M" for 303,912,345.1). A percentage also matches its
    fraction (12.5% for 0.125). A year-like integer matches only a value exactly equal to it."""
    # (value, worth of one displayed unit): the figure itself and, for a percentage, its fraction.
    readings = [(shown.value, shown.unit)]
    if shown.percent:
        readings.append((shown.value / 100, shown.unit / 100))
    target = Decimal(str(expected))
    for value, unit in readings:
        if value == target:
            return True
        if shown.year_like or _is_integer_value(expected):
            continue
        if abs(value - target) <= Decimal(str(rel_tol)) * abs(target):
            return True
        half_step = Decimal(5) * Decimal(10) ** (-shown.decimals - 1) * unit
        # The tiny slack absorbs float noise in the expected value (it was rounded to 4 decimals).
        if shown.significant >= _MIN_ROUNDED_SIGNIFICANT and abs(value - target) <= half_step * Decimal(
            "1.000001"
        ):
            return True
    return False


def _states(expected: float | int, shown: ShownNumber, rel_tol: float, text: str) -> bool:
    """Like :func:`number_matches`, and a decrease may be written as an unsigned figure next to a
    word such as 'down' or 'fell' ("revenue fell 4.2%" states -4.2)."""
    if number_matches(expected, shown, rel_tol):
        return True
    if expected < 0 and shown.value > 0:
        context = text[max(0, shown.start - 40) : shown.end + 25]
        return _DECREASE.search(context) is not None and number_matches(-expected, shown, rel_tol)
    return False


def _cell_matches(expected: float | int, cell: Any, rel_tol: float) -> bool:
    number = _as_number(cell)
    if number is not None:
        if _is_integer_value(expected) or (isinstance(number, int) and float(expected).is_integer()):
            return float(number) == float(expected)
        return math.isclose(float(number), float(expected), rel_tol=rel_tol, abs_tol=1e-9)
    if isinstance(cell, str):
        shown = extract_numbers(cell)
        return len(shown) == 1 and number_matches(expected, shown[0], rel_tol)
    return False


# --------------------------------------------------------------------------- labels

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


def _label_variants(label: Any) -> list[str]:
    """Ways a label may be written: "1997-03" is also "March 1997", "Mar 1997" and "03/1997"."""
    text = " ".join(str(label).replace("_", " ").split())
    variants = [text]
    month = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if month and 1 <= int(month.group(2)) <= 12:
        year, month_no = month.group(1), int(month.group(2))
        name = _MONTH_NAMES[month_no - 1]
        variants += [f"{name} {year}", f"{name[:3]} {year}", f"{name[:3]}. {year}", f"{month_no:02d}/{year}"]
        variants += [f"{month_no}/{year}", f"{name}, {year}", f"{year} {name}"]
    keyed = re.fullmatch(r"([A-Za-z]+)#0*(\d+)", text)
    if keyed:  # TPC-H names: "Customer#000001345" is also "Customer #1345" or "customer 1345"
        kind, key = keyed.groups()
        variants += [f"{kind}#{key}", f"{kind} #{key}", f"{kind} {key}"]
    quarter = re.fullmatch(r"(\d{4})-?Q([1-4])", text, re.IGNORECASE)
    if quarter:
        year, q = quarter.groups()
        variants += [f"Q{q} {year}", f"{year} Q{q}", f"Q{q}-{year}", f"Q{q}/{year}", f"{year}Q{q}"]
        ordinal = ("first", "second", "third", "fourth")[int(q) - 1]
        variants += [f"{ordinal} quarter of {year}", f"{ordinal} quarter {year}"]
    return variants


def _label_pattern(label: Any) -> re.Pattern[str]:
    parts = []
    for variant in _label_variants(label):
        # Any run of spaces, underscores or hyphens in the label may be written as any other.
        words = [re.escape(w) for w in re.split(r"[\s_-]+", variant) if w]
        parts.append(r"[\s_-]+".join(words))
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(parts) + r")(?![A-Za-z0-9])", re.IGNORECASE)


def _label_positions(label: Any, text: str, others: Sequence[Any] = ()) -> list[tuple[int, int]]:
    """Where ``label`` is written in ``text``, leaving out places inside a longer label of
    ``others`` (so "AIR" is not found inside "REG AIR")."""
    spans = [(m.start(), m.end()) for m in _label_pattern(label).finditer(text)]
    longer = [o for o in others if len(str(o)) > len(str(label))]
    if not spans or not longer:
        return spans
    covering = [span for other in longer for span in _label_positions(other, text)]
    return [(a, b) for a, b in spans if not any(c <= a and b <= d for c, d in covering)]


def _cell_is_label(label: Any, cell: Any, others: Sequence[Any] = ()) -> bool:
    if cell is None:
        return False
    if not isinstance(label, str) and _as_number(label) is not None:
        number = _as_number(cell)
        if number is not None:
            return float(number) == float(label)
    return bool(_label_positions(label, str(cell), others))


# --------------------------------------------------------------------------- the scorer


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    if _is_integer_value(value):
        return f"{value:,}"
    return str(value)


def _describe(table: Table) -> str:
    rows = "; ".join(", ".join(_fmt(v) for v in row) for row in table.rows[:25])
    return f"[{', '.join(table.columns)}] {rows}"


def _split_row(row: Sequence[Any]) -> tuple[list[Any], list[float | int]]:
    """The label cells (non-numeric) and the numeric cells of an expected row."""
    labels = [v for v in row if v is not None and _as_number(v) is None]
    numbers = [n for v in row if (n := _as_number(v)) is not None]
    return labels, numbers


def _usable(numbers: Sequence[ShownNumber], quoted: set[Decimal], value: float | int) -> list[ShownNumber]:
    """The shown numbers that may state ``value``: figures quoted from the question ("in 1995",
    "top 5") do not count, unless they are exactly the expected value."""
    target = Decimal(str(value))
    return [n for n in numbers if n.value not in quoted or n.value == target]


def _near_label(
    labels: Sequence[Any],
    value: float | int,
    text: str,
    numbers: Sequence[ShownNumber],
    rel_tol: float,
    others: Sequence[Any],
) -> bool:
    """Whether the text writes the row's first label with ``value`` beside it: on the same line,
    between the neighbouring labels of other rows ("ASIA $5.1M, EUROPE $4.2M"), with the row's
    other labels on that line too. When the line has no number after the label, the next
    non-empty line may hold the value ("**ASIA**" then "- revenue: $5.1M")."""
    for start, end in _label_positions(labels[0], text, others):
        line_start = text.rfind("\n", 0, start) + 1
        line_end = text.find("\n", end)
        line_end = len(text) if line_end < 0 else line_end
        line = text[line_start:line_end]
        if not all(_label_positions(other, line, others) for other in labels[1:]):
            continue
        window_end = line_end
        if not any(end <= n.start and n.end <= line_end for n in numbers):
            following = re.match(r"\s*\n[^\n]*", text[line_end:])
            window_end = line_end + (following.end() if following else 0)
        # Other rows' labels on the line bound this row's stretch of it.
        fences = [
            (line_start + a, line_start + b)
            for other in others
            if other not in labels
            for a, b in _label_positions(other, line, others)
            if not (line_start + a < end and start < line_start + b)
        ]
        seg_start = max([line_start, *(b for a, b in fences if b <= start)])
        seg_end = min([window_end, *(a for a, b in fences if a >= end)])
        for shown in numbers:
            if seg_start <= shown.start and shown.end <= seg_end and _states(value, shown, rel_tol, text):
                return True
    return False


def _in_tables(
    labels: Sequence[Any], value: float | int, tables: Sequence[Table], rel_tol: float, others: Sequence[Any]
) -> bool:
    """Whether a row of a table has the row's labels in its cells and ``value`` in another cell."""
    for table in tables:
        for row in table.rows:
            label_cells = [i for i, cell in enumerate(row) if _cell_is_label(labels[0], cell, others)]
            if not label_cells:
                continue
            if not all(any(_cell_is_label(other, cell, others) for cell in row) for other in labels[1:]):
                continue
            rest = [cell for i, cell in enumerate(row) if i not in label_cells]
            if any(_cell_matches(value, cell, rel_tol) for cell in rest):
                return True
    return False


def score_answer(case: EvalCase, expected: Table, answer: str, tables: Sequence[Table] = ()) -> Score:
    """Whether ``answer`` (the final text) and ``tables`` (the result tables shown with it) give
    the expected answer of ``case``.

    - NUMBER: the text states the single expected number. If the text holds more than
      :data:`MAX_NUMBERS_WITHOUT_TABLE` distinct numbers and no table is given, it is wrong.
    - ENTITY: the text names the entity in column 1 (case-insensitive, on word boundaries).
    - ROWS: for every expected row, its label(s) and first number are on one line of the text
      (or just after the label), or in one row of a given table (label in a text cell, the
      number in another cell).
    - REPORT: every label and every number of the expected table appears in the text.

    Numbers match when equal, within ``case.rel_tol``, or correctly rounded with at least three
    significant digits; counts (integers) must be exact; a year never stands in for another value.
    """
    shown_expected = _describe(expected)
    numbers = extract_numbers(answer)
    # Figures quoted from the question ("in 1995", "top 5") are not an answer unless they are it.
    quoted = {n.value for n in extract_numbers(case.question)}

    def verdict(correct: bool, detail: str) -> Score:
        return Score(correct=correct, detail=detail, expected=shown_expected)

    if not expected.rows:
        return verdict(False, "the expected answer is empty; the case cannot be scored")

    if case.expect == Expect.NUMBER:
        value = _as_number(expected.rows[0][0])
        if value is None:
            return verdict(False, "the expected answer is not a number")
        distinct = {n.value for n in numbers}
        if len(distinct) > MAX_NUMBERS_WITHOUT_TABLE and not tables:
            return verdict(
                False,
                f"the answer lists {len(distinct)} distinct numbers (more than {MAX_NUMBERS_WITHOUT_TABLE}) "
                "without a table: a dump, not an answer",
            )
        usable = _usable(numbers, quoted, value)
        hit = next((n for n in usable if _states(value, n, case.rel_tol, answer)), None)
        if hit is None:
            return verdict(False, f"{_fmt(value)} is not stated in the answer")
        return verdict(True, f"{_fmt(value)} stated as {hit.text!r}")

    if case.expect == Expect.ENTITY:
        entity, *figures = expected.rows[0]
        also = f" (expected figures: {', '.join(_fmt(v) for v in figures)})" if figures else ""
        if _label_positions(entity, answer):
            return verdict(True, f"names {entity}{also}")
        return verdict(False, f"does not name {entity}{also}")

    if case.expect == Expect.ROWS:
        split = [_split_row(row) for row in expected.rows]
        all_labels = [label for labels, _ in split for label in labels]
        missing = []
        for row, (labels, values) in zip(expected.rows, split, strict=True):
            if not labels or not values:
                missing.append(f"{row} (malformed expected row)")
                continue
            value = values[0]
            usable = _usable(numbers, quoted, value)
            if _in_tables(labels, value, tables, case.rel_tol, all_labels) or _near_label(
                labels, value, answer, usable, case.rel_tol, all_labels
            ):
                continue
            missing.append(f"{' '.join(str(x) for x in labels)}={_fmt(value)}")
        if missing:
            listed = "; ".join(missing)
            return verdict(False, f"{len(missing)} of {len(expected.rows)} rows missing: {listed}")
        return verdict(True, f"all {len(expected.rows)} rows found")

    # REPORT: the report's text must carry every expected label and figure.
    absent: list[str] = []
    report_labels = [label for row in expected.rows for label in _split_row(row)[0]]
    for row in expected.rows:
        labels, values = _split_row(row)
        absent += [str(label) for label in labels if not _label_positions(label, answer, report_labels)]
        absent += [
            _fmt(v)
            for v in values
            if not any(_states(v, n, case.rel_tol, answer) for n in _usable(numbers, quoted, v))
        ]
    if absent:
        return verdict(False, f"the report lacks {len(absent)} expected item(s): {', '.join(absent)}")
    return verdict(True, "the report states every expected label and figure")
