"""A comparison of years, asked one year at a time and joined in code.

"Compare revenue in 1996 and 1997 by region" asks a small model for a pivot it rarely writes
right: a column per year, each filtered on its own year. Asked for one year, the same question is
a plain breakdown it answers well. So each year is asked (and verified) on its own, and the tables
are joined here on their label columns, with the change computed when the question asks for it.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from atomwork.agents.answer_checks import compares_years, question_years
from atomwork.table import Table

__all__ = ["YearSplit", "join_years", "split_by_year"]


class YearSplit(BaseModel):
    """A year comparison as one question per year."""

    years: list[str]
    parts: list[str]
    """The question for each year, in the order of :attr:`years`."""
    change: bool
    """Whether the question asks how the figures changed (then a change column is added)."""


# What may stand between the compared years: "1996 and 1997", "1996 with 1997", "1996 versus
# 1997", "in 1997 compare with 1996".
_BETWEEN_YEARS = re.compile(
    r"^(?:\s|,|&|\band\b|\bor\b|\bvs\b\.?|\bversus\b|\bwith\b|\bto\b|\bagainst\b|\bin\b|"
    r"\bcompared?\b|\bcompares\b)*$",
    re.I,
)
_PREPOSITION = re.compile(r"\b(?:in|for|during|between|from|of)\s+$", re.I)
_LEAD = re.compile(r"^\s*(?:please\s+)?(?:compare\s+(?:the\s+)?|how\s+(?:did|does|do|has|have)\s+)", re.I)
_CHANGE_CLAUSE = re.compile(
    r"(?:[,;:]\s*|\s+)(?:and\s+)?(?:what|how)\s+(?:was|is|were|much|did|large|big)?\s*(?:was\s+|is\s+)?"
    r"(?:the\s+)?(?:change|growth|difference|increase|decrease|decline)\b[^?.;]*|"
    r",?\s+and\s+(?:how\s+much|by\s+how\s+much)\s+did\s+(?:it|they)\s+\w+[^?.;]*",
    re.I,
)
_EACH_YEAR = re.compile(
    r"\s*\b(?:in|for)?\s*(?:each|every|both)\s+(?:of\s+the\s+)?years?\b|\s+per\s+year\b", re.I
)
_CHANGE = re.compile(r"\b(?:chang\w*|grow\w*|grew|increas\w*|decreas\w*|declin\w*|differ\w*)\b", re.I)


def split_by_year(question: str) -> YearSplit | None:
    """The question once per year it compares, or None where its wording is not one this reads
    (the question is then answered as a whole)."""
    years = compares_years(question)
    if len(years) < 2:
        return None
    spots = [m for m in re.finditer(r"(?<!\d)(?:19|20)\d\d(?!\d)", question) if m.group(0) in years]
    start, end = spots[0].start(), spots[-1].end()
    # The years must stand together ("in 1996 and 1997"), not in separate clauses.
    if not _BETWEEN_YEARS.match(re.sub(r"(?:19|20)\d\d", " ", question[start:end])):
        return None
    before = question[:start]
    preposition = _PREPOSITION.search(before)
    if preposition is not None:
        before = before[: preposition.start()]
    after = question[end:]
    parts = []
    for year in years:
        text = f"{before.rstrip()} in {year}{after}"
        text = _LEAD.sub("", text)
        text = _CHANGE_CLAUSE.sub("", text)
        text = _EACH_YEAR.sub("", text)
        text = re.sub(r"\s+([?.,:;])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
        text = re.sub(r"\s+compared?$", "", text.rstrip("?. "))
        if question_years(text) != [year] or len(text) < 8:
            return None
        parts.append(text[0].upper() + text[1:] + ("?" if question.rstrip().endswith("?") else ""))
    return YearSplit(years=years, parts=parts, change=bool(_CHANGE.search(question)))


def _numeric(table: Table, index: int) -> bool:
    values = [row[index] for row in table.rows if row[index] is not None]
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


class _Shape(BaseModel):
    labels: list[int]
    figures: list[int]


def _shape(table: Table, year: str) -> _Shape | None:
    """One year's label and figure columns; a year column (it only repeats the year) is neither."""
    shape = _Shape(labels=[], figures=[])
    for i, name in enumerate(table.columns):
        if "year" in name.lower() and all(str(row[i])[:4] == year for row in table.rows):
            continue
        (shape.figures if _numeric(table, i) else shape.labels).append(i)
    return shape if shape.figures and table.rows else None


def _change(old: object, new: object) -> tuple[float | None, float | None]:
    """(new - old, that as a percentage of old)."""
    if not isinstance(old, int | float) or not isinstance(new, int | float):
        return None, None
    return new - old, ((new - old) / old * 100 if old else None)


def join_years(split: YearSplit, tables: list[Table]) -> Table | None:
    """One table with a figure column per year (and change columns where asked), joined on the
    label columns; None when the years' tables do not line up (other columns)."""
    shapes = [_shape(t, y) for t, y in zip(tables, split.years, strict=True)]
    if any(s is None for s in shapes):
        return None
    ready = [s for s in shapes if s is not None]
    # Columns line up by name ("revenue_1996" is "revenue"), or, for a single figure, by position.
    names = [
        [re.sub(r"_?(?:19|20)\d\d", "", t.columns[i].lower()) for i in s.labels + s.figures]
        for t, s in zip(tables, ready, strict=True)
    ]
    single = all(len(s.figures) == 1 and len(s.labels) == len(ready[0].labels) for s in ready)
    if any(n != names[0] for n in names[1:]) and not single:
        return None
    first, years = ready[0], len(tables)
    # Label tuple -> each figure's value per year (figure-major), None where a year lacks the row.
    rows: dict[tuple[object, ...], list[object]] = {}
    for k, (table, shape) in enumerate(zip(tables, ready, strict=True)):
        for row in table.rows:
            slots = rows.setdefault(
                tuple(row[i] for i in shape.labels), [None] * (len(shape.figures) * years)
            )
            for j, i in enumerate(shape.figures):
                slots[j * years + k] = row[i]
    head = [re.sub(r"_?(?:19|20)\d\d", "", c) for c in tables[0].columns]
    columns = [head[i] for i in first.labels]
    columns += [f"{head[i]} {year}" for i in first.figures for year in split.years]
    if split.change:
        span = f"{split.years[0]}-{split.years[-1]}"
        columns += [f"{head[i]} change{pct} {span}" for i in first.figures for pct in ("", " %")]
    out: list[list[object]] = []
    for key, slots in rows.items():
        row = [*key, *slots]
        if split.change:
            for j in range(len(first.figures)):
                row += _change(slots[j * years], slots[j * years + years - 1])
        out.append(row)
    return Table(columns=columns, rows=out)
