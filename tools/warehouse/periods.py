"""Turn a period phrase ("1997", "1998-Q2", "last_quarter", ...) into an inclusive date range.

Business data is historical, so relative periods are anchored on ``today``: the
warehouse's latest data date, not the wall clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from atomwork.errors import ToolError

__all__ = ["PERIOD_HELP", "is_relative", "period_choices", "previous_period", "resolve_period", "same_period"]

PERIOD_HELP = (
    "a period such as 1997, 1997-Q2, 1997-03, 1997-H1, last_quarter, last_month, last_year, "
    "this_quarter, this_year, ytd, last_90_days, last_6_months, 1997-01-01..1997-06-30 or all"
)

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name} | {
    name.lower(): i for i, name in enumerate(calendar.month_abbr) if name
}
_MONTHS["sept"] = 9
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _quarter_range(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    return start, _month_range(year, 3 * quarter)[1]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _year(text: str) -> int:
    year = int(text)
    if not 1000 <= year <= 9999:
        raise ValueError(text)
    return year


def _parse_single(text: str, today: date, earliest: date | None) -> tuple[date, date, str]:
    key = re.sub(r"[\s\-]+", "_", text)
    key = re.sub(r"^(the_)?(previous|prior|past)_", "last_", key)
    key = re.sub(r"^current_", "this_", key)
    q_today = (today.month - 1) // 3 + 1

    if key in {"all", "all_time", "everything", "all_data", "any", "total", "overall"}:
        start = earliest or date(1, 1, 1)
        label = f"all data ({start} to {today})" if earliest else f"all data through {today}"
        return start, today, label
    if key in {"last_quarter", "last_qtr"}:
        year, quarter = (today.year, q_today - 1) if q_today > 1 else (today.year - 1, 4)
        return (*_quarter_range(year, quarter), f"{year}-Q{quarter}")
    if key in {"this_quarter", "quarter_to_date", "qtd"}:
        return (*_quarter_range(today.year, q_today), f"{today.year}-Q{q_today} (to date)")
    if key == "last_month":
        prev = today.replace(day=1) - timedelta(days=1)
        return (*_month_range(prev.year, prev.month), f"{prev:%Y-%m}")
    if key in {"this_month", "month_to_date", "mtd"}:
        return (*_month_range(today.year, today.month), f"{today:%Y-%m} (to date)")
    if key == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), str(today.year - 1)
    if key in {"this_year", "year_to_date", "ytd"}:
        return date(today.year, 1, 1), date(today.year, 12, 31), f"{today.year} (to date)"

    match = re.fullmatch(r"last_(\d{1,4})_?(day|week|month|quarter|year)s?", key)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if count < 1:
            raise ValueError(text)
        if unit in {"day", "week"}:
            start = today - timedelta(days=count * (7 if unit == "week" else 1) - 1)
        else:
            start = _add_months(today, -count * {"month": 1, "quarter": 3, "year": 12}[unit]) + timedelta(
                days=1
            )
        return start, today, f"last {count} {unit}{'s' if count > 1 else ''} ({start} to {today})"

    compact = re.sub(r"[\s_]+", " ", text).strip()
    if re.fullmatch(r"(fy|year)? ?\d{4}", compact):
        year = _year(compact[-4:])
        return date(year, 1, 1), date(year, 12, 31), str(year)
    match = re.fullmatch(r"(?:fy ?)?(\d{4}) ?[-/ ]? ?q([1-4])", compact) or re.fullmatch(
        r"q([1-4]) ?[-/ ]? ?(?:fy ?)?(\d{4})", compact
    )
    if match:
        first, second = match.groups()
        year, quarter = (_year(first), int(second)) if len(first) == 4 else (_year(second), int(first))
        return (*_quarter_range(year, quarter), f"{year}-Q{quarter}")
    match = re.fullmatch(r"(\d{4}) ?[-/ ]? ?h([12])", compact) or re.fullmatch(
        r"h([12]) ?[-/ ]? ?(\d{4})", compact
    )
    if match:
        first, second = match.groups()
        year, half = (_year(first), int(second)) if len(first) == 4 else (_year(second), int(first))
        start = date(year, 1 if half == 1 else 7, 1)
        return start, _month_range(year, 6 if half == 1 else 12)[1], f"{year}-H{half}"
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})", compact) or re.fullmatch(r"(\d{1,2})[-/](\d{4})", compact)
    if match:
        first, second = match.groups()
        year, month = (_year(first), int(second)) if len(first) == 4 else (_year(second), int(first))
        if not 1 <= month <= 12:
            raise ValueError(text)
        return (*_month_range(year, month), f"{year}-{month:02d}")
    match = re.fullmatch(rf"({_MONTH_WORD})\.?,? ?(\d{{4}})", compact) or re.fullmatch(
        rf"(\d{{4}}) ?({_MONTH_WORD})\.?", compact
    )
    if match:
        first, second = match.groups()
        word, digits = (second, first) if first.isdigit() else (first, second)
        year, month = _year(digits), _MONTHS[word]
        return (*_month_range(year, month), f"{year}-{month:02d}")
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", compact)
    if match:
        day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        return day, day, day.isoformat()
    raise ValueError(text)


def resolve_period(period: str, today: date, *, earliest: date | None = None) -> tuple[date, date, str]:
    """``(start, end, label)`` for ``period``; both ends inclusive.

    ``today`` anchors relative periods (``last_quarter`` ...); ``earliest`` (the first data date)
    is used for ``all``. Accepts years, quarters ("1998-Q2", "Q2 1998", "1998 q2"), halves,
    months ("1998-03", "March 1998"), relative periods, ISO dates and ranges ``A..B`` / ``A to B``.
    """
    if not isinstance(period, str) or not period.strip():
        raise ToolError(f"missing period: give {PERIOD_HELP}")
    text = period.strip().lower()
    try:
        parts = re.split(r"\s*(?:\.\.|\bto\b|\bthrough\b|\buntil\b)\s*", text)
        if len(parts) == 2 and all(parts):
            first = _parse_single(parts[0], today, earliest)
            second = _parse_single(parts[1], today, earliest)
            start, end = first[0], second[1]
            if start > end:
                raise ToolError(f"period {period!r} ends before it starts")
            return start, end, f"{first[2]} to {second[2]}" if first[2] != second[2] else first[2]
        if len(parts) != 1:
            raise ValueError(text)
        return _parse_single(text, today, earliest)
    except ValueError:
        raise ToolError(f"unrecognised period {period!r}; use {PERIOD_HELP}") from None


RELATIVE_PERIODS: tuple[str, ...] = (
    "all",
    "last_year",
    "last_quarter",
    "last_month",
    "this_year",
    "this_quarter",
    "this_month",
    "last_12_months",
    "last_6_months",
)
"""Relative period words offered to the planner (anchored on the latest data date)."""


def period_choices(earliest: date, latest: date, *, max_months: int = 120) -> list[str]:
    """Every period that overlaps the data from ``earliest`` to ``latest`` (both inclusive).

    The relative words first, then years, halves ("1997-H1"), quarters ("1997-Q2") and months
    ("1997-03"), oldest first. Only the latest ``max_months`` months are listed, so a long history
    does not make the planner's grammar huge (older months stay reachable through the tools)."""
    if latest < earliest:
        earliest, latest = latest, earliest
    out: list[str] = []
    for word in RELATIVE_PERIODS:
        start, end, _ = resolve_period(word, latest, earliest=earliest)
        if start <= latest and end >= earliest:
            out.append(word)
    years = range(earliest.year, latest.year + 1)
    out += [str(y) for y in years]
    out += [
        f"{y}-H{h}" for y in years for h in (1, 2) if _overlaps(date(y, 6 * h - 5, 1), earliest, latest, 6)
    ]
    out += [
        f"{y}-Q{q}"
        for y in years
        for q in range(1, 5)
        if _overlaps(date(y, 3 * q - 2, 1), earliest, latest, 3)
    ]
    months = [
        f"{y}-{m:02d}" for y in years for m in range(1, 13) if _overlaps(date(y, m, 1), earliest, latest, 1)
    ]
    out += months[-max_months:] if max_months > 0 else []
    return out


def _overlaps(first: date, earliest: date, latest: date, months: int) -> bool:
    """Whether the ``months`` long span starting on ``first`` overlaps ``earliest``..``latest``."""
    last = _add_months(first, months) - timedelta(days=1)
    return first <= latest and last >= earliest


def previous_period(period: str, today: date | None, *, earliest: date | None = None) -> str | None:
    """The period of the same kind just before ``period``: 1997 -> 1996, 1997-Q1 -> 1996-Q4,
    1997-H2 -> 1997-H1, 1997-03 -> 1997-02; ``last_quarter`` -> the quarter before it, written
    explicitly. Other spans (ranges, last_90_days) shift back by their own length. None when
    ``today`` is needed but unknown, or when the previous period ends before ``earliest``."""
    if today is None and is_relative(period):
        return None
    anchor = today or date.today()  # absolute periods do not depend on it
    try:
        start, end, label = resolve_period(period, anchor, earliest=earliest)
    except ToolError:
        return None
    label = label.removesuffix(" (to date)")
    out: str | None = None
    if match := re.fullmatch(r"(\d{4})", label):
        out = str(int(match.group(1)) - 1)
    elif match := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        year, quarter = int(match.group(1)), int(match.group(2))
        out = f"{year}-Q{quarter - 1}" if quarter > 1 else f"{year - 1}-Q4"
    elif match := re.fullmatch(r"(\d{4})-H([12])", label):
        year = int(match.group(1))
        out = f"{year}-H1" if match.group(2) == "2" else f"{year - 1}-H2"
    elif match := re.fullmatch(r"(\d{4})-(\d{2})", label):
        prev = date(int(match.group(1)), int(match.group(2)), 1) - timedelta(days=1)
        out = f"{prev:%Y-%m}"
    else:
        days = (end - start).days + 1
        new_end = start - timedelta(days=1)
        out = f"{new_end - timedelta(days=days - 1)}..{new_end}"
    _, new_end, _ = resolve_period(out, anchor, earliest=earliest)
    if earliest is not None and new_end < earliest:
        return None
    return out


def same_period(a: str, b: str, today: date | None, *, earliest: date | None = None) -> bool:
    """Whether two period phrases name the same dates ("1997" and "FY1997" do); False when
    either cannot be resolved, or when one is relative and ``today`` is unknown."""
    if a.strip().lower() == b.strip().lower():
        return True
    if today is None and (is_relative(a) or is_relative(b)):
        return False
    today = today or date.today()
    try:
        first = resolve_period(a, today, earliest=earliest)
        second = resolve_period(b, today, earliest=earliest)
    except ToolError:
        return False
    return first[:2] == second[:2]


def is_relative(period: str) -> bool:
    """Whether the period's dates depend on "today" (last_quarter, ytd, all ...)."""
    try:
        return resolve_period(period, date(2000, 6, 15))[:2] != resolve_period(period, date(2010, 6, 15))[:2]
    except ToolError:
        return False
