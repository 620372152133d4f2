"""Open and multi-year spans a question names by bare years: "before 1993", "after 1997", "since
1995", "between 1993 and 1995".

A year alone ("in 1995") means that whole year, and the notes and checks treat it so. The same
year after "before" or "since" is a bound instead: "shipped before 1993" answered with 1993's line
items is wrong, and "after 1997" answered from 1998-01-01 on is right though 1997 appears nowhere
in the query. Two years joined by "between" or "from ... to" are one span, unless the question
asks how a figure changed between them (then they are compared, not joined).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import BaseModel

__all__ = ["YearSpan", "span_problems", "year_spans"]

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
