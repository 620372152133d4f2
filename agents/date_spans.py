"""Open and multi-year spans a question names by bare years: "before 1993", "after 1997", "since
1995", "between 1993 and 1995".

A year alone ("in 1995") means that whole year, and the notes and checks treat it so. The same
year after "before" or "since" is a bound instead: "shipped before 1993" answered with 1993's line
items is wrong, and "after 1997" answered from 1998-01-01 on is right though 1997 appears nowhere
in the query. Two years joined by "between" or "from ... to" are one span, unless the question
asks how a figure changed between them (then they are compared, not joined).

"At the end of 1997" is neither: it is one day, 1997-12-31 (who was on staff then), and a query
that takes in the whole of 1997 (who was hired during it) answers another question.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel

__all__ = [
    "MONTH_OF_YEAR",
    "ORDINAL",
    "QUARTER_OF_YEAR",
    "PointInTime",
    "YearSpan",
    "month_dates",
    "month_number",
    "point_problems",
    "points_in_time",
    "quarter_dates",
    "span_problems",
    "year_spans",
]

_YEAR = r"(1[89]\d\d|20\d\d)(?![-/.]\d|\d|,?\s+\d)"
_BEFORE = re.compile(
    rf"\b(?:before|prior to|earlier than)\s+(?:the\s+(?:start|beginning)\s+of\s+)?{_YEAR}", re.I
)
_THROUGH = re.compile(rf"\b(?:through|up to and including|until the end of|by the end of)\s+{_YEAR}", re.I)
_AFTER = re.compile(rf"\b(?:after|later than|since the end of)\s+(?:the\s+end\s+of\s+)?{_YEAR}", re.I)
_SINCE = re.compile(
    rf"\b(?:since|starting(?:\s+(?:in|from))?|beginning(?:\s+in)?|in or after)\s+{_YEAR}|"
    rf"\bfrom\s+{_YEAR}\s+(?:on|onwards?|forward)\b|\b{_YEAR}\s+or\s+(?:later|after)\b",
    re.I,
)
_OR_EARLIER = re.compile(rf"\b{_YEAR}\s+or\s+(?:earlier|before)\b", re.I)
_BETWEEN = re.compile(
    rf"\b(?:between\s+{_YEAR}\s+and|from\s+{_YEAR}\s+(?:to|through|until|till))\s+{_YEAR}", re.I
)
# "Grew from 1995 to 1996", "the change between 1995 and 1996": two years compared, not one span.
_CHANGE = re.compile(
    r"\b(?:compar\w*|versus|vs|against|grow\w*|grew|chang\w*|increas\w*|decreas\w*|declin\w*|drop\w*|"
    r"ris[ei]\w*|rose|fell|differ\w*)\b",
    re.I,
)


class YearSpan(BaseModel):
    """Dates from ``start`` (inclusive) up to ``end`` (exclusive); None where the span is open."""

    phrase: str
    start: date | None = None
    end: date | None = None

    @property
    def years(self) -> set[str]:
        """The years the question writes for this span."""
        return set(re.findall(r"1[89]\d\d|20\d\d", self.phrase))

    def bounds(self, column: str) -> str:
        """The span as SQL on ``column``."""
        parts = []
        if self.start is not None:
            parts.append(f"{column} >= DATE '{self.start}'")
        if self.end is not None:
            parts.append(f"{column} < DATE '{self.end}'")
        return " AND ".join(parts)


def _jan1(year: str | int) -> date:
    return date(int(year), 1, 1)


def year_spans(question: str) -> list[YearSpan]:
    """The spans ``question`` names by bare years, in the order it names them."""
    found: list[tuple[re.Match[str], YearSpan]] = []
    if not _CHANGE.search(question):
        for m in _BETWEEN.finditer(question):
            first, last = m.group(1) or m.group(2), m.group(3)
            if int(first) < int(last):
                found.append((m, YearSpan(phrase=m.group(0), start=_jan1(first), end=_jan1(int(last) + 1))))
    for m in _BEFORE.finditer(question):
        found.append((m, YearSpan(phrase=m.group(0), end=_jan1(m.group(1)))))
    for m in _THROUGH.finditer(question):
        found.append((m, YearSpan(phrase=m.group(0), end=_jan1(int(m.group(1)) + 1))))
    for m in _AFTER.finditer(question):
        found.append((m, YearSpan(phrase=m.group(0), start=_jan1(int(m.group(1)) + 1))))
    for m in _SINCE.finditer(question):
        found.append((m, YearSpan(phrase=m.group(0), start=_jan1(m.group(1) or m.group(2) or m.group(3)))))
    for m in _OR_EARLIER.finditer(question):
        found.append((m, YearSpan(phrase=m.group(0), end=_jan1(int(m.group(1)) + 1))))
    spans: list[YearSpan] = []
    taken: list[tuple[int, int]] = []
    # "From 1994 through 1996" is one span, not also "through 1996".
    for m, span in sorted(found, key=lambda f: (f[0].start(), -f[0].end())):
        if not any(a <= m.start() < b for a, b in taken):
            spans.append(span)
            taken.append((m.start(), m.end()))
    return spans


def _literal(day: date) -> str:
    """A date literal as queries write it: 'YYYY-MM-DD', with or without DATE/TIMESTAMP before it."""
    return rf"(?:(?:date|timestamp)\s*)?'{day.isoformat()}(?:[ t][0-9:.]*)?'"


def _has_start(sql: str, start: date) -> bool:
    year = start.year
    return any(
        re.search(pattern, sql)
        for pattern in (
            rf">=\s*{_literal(start)}",
            rf">\s*{_literal(start - timedelta(days=1))}",
            rf"\bbetween\s+{_literal(start)}",
            rf"\byear\s*\([^()]*\)\s*>=\s*{year}\b",
            rf"\byear\s*\([^()]*\)\s*>\s*{year - 1}\b",
            rf"\byear\s*\([^()]*\)\s*between\s+{year}\b",
            rf"\bextract\s*\(\s*year\s+from\s+[^()]*\)\s*>=\s*{year}\b",
        )
    )


def _has_end(sql: str, end: date) -> bool:
    last = end - timedelta(days=1)
    return any(
        re.search(pattern, sql)
        for pattern in (
            rf"<\s*{_literal(end)}",
            rf"<=\s*{_literal(last)}",
            rf"\bbetween\s+(?:(?:date|timestamp)\s*)?'[^']*'\s+and\s+{_literal(last)}",
            rf"\byear\s*\([^()]*\)\s*<\s*{end.year}\b",
            rf"\byear\s*\([^()]*\)\s*<=\s*{last.year}\b",
            rf"\byear\s*\([^()]*\)\s*between\s+\d+\s+and\s+{last.year}\b",
            rf"\bextract\s*\(\s*year\s+from\s+[^()]*\)\s*<\s*{end.year}\b",
        )
    )


def span_problems(question: str, sql: str) -> list[str]:
    """Each span the question names must bound the query's dates on its open sides."""
    lowered = sql.lower()
    listed = [
        {int(y) for y in re.findall(r"\d{4}", m.group(1))}
        for m in re.finditer(r"\byear\s*\([^()]*\)\s*in\s*\(([\d,\s]+)\)", lowered)
    ]
    problems = []
    for span in year_spans(question):
        if span.start and span.end and set(range(span.start.year, span.end.year)) in listed:
            continue  # year(d) IN (1993, 1994, 1995): each year of the span, no other
        missing = []
        if span.start is not None and not _has_start(lowered, span.start):
            missing.append(f">= DATE '{span.start}'")
        if span.end is not None and not _has_end(lowered, span.end):
            missing.append(f"< DATE '{span.end}'")
        if missing:
            problems.append(
                f"the question asks for dates {span.phrase!r}, but the query does not bound them that way: "
                f"the date column {' and '.join(missing)}"
            )
    return problems


# A quarter or a month of a year, as a question writes it: "Q3 1996", "the third quarter of 1996"
# (groups: number, year, ordinal, year), "March 1996", "mar. of 1996" (groups: month, year).
QUARTER_OF_YEAR = r"q([1-4])\s+(\d{4})|(first|second|third|fourth)\s+quarter\s+of\s+(\d{4})"
MONTH_OF_YEAR = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?:of\s+)?(\d{4})"
ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def month_number(name: str) -> int:
    """ "March", "mar." -> 3."""
    return _MONTH_NAMES.index(name.lower()[:3]) + 1


def quarter_dates(number: str | None, ordinal: str | None, year: str) -> tuple[date, date]:
    """The quarter "Q3" (``number``) or "third" (``ordinal``) of ``year``: first day, first day after."""
    q = int(number) if number else ORDINAL[(ordinal or "").lower()]
    y = int(year)
    return date(y, 3 * q - 2, 1), date(y + (q == 4), (3 * q) % 12 + 1, 1)


def month_dates(name: str, year: str) -> tuple[date, date]:
    """The month ``name`` of ``year``: first day, first day after."""
    number, y = month_number(name), int(year)
    return date(y, number, 1), date(y + (number == 12), number % 12 + 1, 1)


# "At the end of 1997", "as of the start of Q3 1996", "year-end 1997": one day. "By the end of 1997"
# and "since the end of 1997" bound spans (above), as do "from"/"until" the start of a year.
_POINT_PERIOD = rf"(?:{QUARTER_OF_YEAR}|{MONTH_OF_YEAR}|(\d{{4}}))\b"
_POINT = re.compile(
    rf"(?:\b(\w+)\s+)?\b(?:the\s+)?(end|close|start|beginning)\s+of\s+(?:the\s+(?:(?:fiscal\s+)?year\s+)?)?"
    rf"{_POINT_PERIOD}",
    re.I,
)
_YEAR_END = re.compile(r"\b(?:year[- ]end|end[- ]of[- ]year)\s+(\d{4})\b", re.I)
_SPAN_WORDS = {"by", "from", "since", "until", "till", "through", "thru", "before", "after", "to", "and"}


class PointInTime(BaseModel):
    """One day the question asks about as a moment: ``day`` is the first or last day of the
    period from ``start`` (inclusive) to ``end`` (exclusive) that it names."""

    phrase: str
    day: date
    start: date
    end: date

    @property
    def years(self) -> set[str]:
        return set(re.findall(r"1[89]\d\d|20\d\d", self.phrase))


def _period(m: re.Match[str], first: int) -> tuple[date, date]:
    """The period a :data:`_POINT_PERIOD` match names, from its groups starting at ``first``."""
    quarter, q_year, ordinal, o_year, month, m_year, year = m.groups()[first : first + 7]
    if quarter or ordinal:
        return quarter_dates(quarter, ordinal, q_year or o_year)
    if month:
        return month_dates(month, m_year)
    return _jan1(year), _jan1(int(year) + 1)


def points_in_time(question: str) -> list[PointInTime]:
    """The days ``question`` asks about as moments ("on staff at the end of June 1998")."""
    points = []
    for m in _POINT.finditer(question):
        if m.group(1) and m.group(1).lower() in _SPAN_WORDS:
            continue
        start, end = _period(m, 2)
        edge = m.group(2).lower()
        day = end - timedelta(days=1) if edge in ("end", "close") else start
        phrase = m.group(0)[len(m.group(1)) :].strip() if m.group(1) else m.group(0)
        points.append(PointInTime(phrase=phrase, day=day, start=start, end=end))
    for m in _YEAR_END.finditer(question):
        start = _jan1(m.group(1))
        end = _jan1(start.year + 1)
        points.append(PointInTime(phrase=m.group(0), day=end - timedelta(days=1), start=start, end=end))
    return points


_DAY_LITERAL = re.compile(r"'(\d{4}-\d{2}-\d{2})")


def point_problems(question: str, sql: str, other_years: set[str]) -> list[str]:
    """A day asked about as a moment must be in the query (as itself, or the day after it for a
    ``<`` bound), and where the question names that period nowhere else (``other_years``: the
    years it writes outside its moments), the query must not take in the period as a whole: who
    was hired during 1997 is not who was on staff at its end."""
    lowered = sql.lower()
    days = {date.fromisoformat(d) for d in _DAY_LITERAL.findall(lowered) if _valid(d)}
    problems = []
    for point in points_in_time(question):
        near = {point.day, point.day + timedelta(days=1), point.day - timedelta(days=1)}
        if not days & near and not _year_bound(lowered, point):
            problems.append(
                f"the question asks about one day, {point.day} ({point.phrase}), but the query's dates do "
                "not include it"
            )
            continue
        if point.years & other_years:
            continue
        edge = point.start if point.day != point.start else point.end - timedelta(days=1)
        whole_year = re.search(rf"{_YEAR_OF}[^=<>!]*=\s*{point.day.year}\b", lowered)
        if edge in days or ((point.end - point.start).days > 300 and whole_year):
            problems.append(
                f"{point.phrase} is the single day {point.day}, not the whole period from {point.start} to "
                f"{point.end - timedelta(days=1)}: the query takes in the whole period"
            )
    return problems


_YEAR_OF = r"\b(?:year\s*\(|extract\s*\(\s*year\s+from\b)"


def _year_bound(lowered_sql: str, point: PointInTime) -> bool:
    """Whether the query bounds a year at the moment ("year(hire_date) <= 1997" for the end of
    1997, "< 1997" for its start): the day without a date literal."""
    if (point.start.month, point.start.day) != (1, 1) or point.end.year != point.start.year + 1:
        return False
    year = point.start.year
    at_end = point.day != point.start
    bounds = (
        rf"<=\s*{year}|<\s*{year + 1}|>\s*{year}|>=\s*{year + 1}"
        if at_end
        else rf"<\s*{year}|<=\s*{year - 1}|>=\s*{year}|>\s*{year - 1}"
    )
    return re.search(rf"{_YEAR_OF}[^()]*?\)\s*(?:{bounds})\b", lowered_sql) is not None


def _valid(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
