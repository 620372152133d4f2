"""Cutting results down to size: a tool's result is kept within :class:`ResultLimits`, with a visible
mark wherever something was cut.

Whatever a result holds is copied into prompts, events and the run record, so one oversized value
(a 5 MB cell) would otherwise grow each of them.
"""

from __future__ import annotations

import json
from typing import Any

from atomwork.settings import ResultLimits
from atomwork.table import Table
from atomwork.tool_result import ToolResult

__all__ = ["CUT_MARK", "clip_result", "clip_table", "clip_text", "clip_value"]

CUT_MARK = "…[cut"
"""How every cut starts, so a reader (and a test) can tell cut text from whole text."""


_MARK_ROOM = 40
"""Characters kept free for the mark (``…[cut: 4,998,000 more characters]``), so cut text stays
within its limit and cutting it again changes nothing."""


def clip_text(text: str, limit: int) -> str:
    """``text``, or as much of its start as fits in ``limit`` characters with a mark saying how
    much was cut."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - _MARK_ROOM)
    return f"{text[:keep]}{CUT_MARK}: {len(text) - keep:,} more characters]"


def clip_value(value: Any, limit: int) -> Any:
    """A table cell within ``limit`` characters: long text is cut; a long list or mapping becomes
    its cut JSON text (the cell can no longer be read as a whole value anyway)."""
    if isinstance(value, str):
        return clip_text(value, limit)
    if isinstance(value, list | dict):
        text = json.dumps(value, default=str)
        return value if len(text) <= limit else clip_text(text, limit)
    return value


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str) else len(str(value))


def clip_table(table: Table, limits: ResultLimits) -> tuple[Table, bool]:
    """``table`` within the row, cell and total limits; True when rows were dropped."""
    rows: list[list[Any]] = []
    total = 0
    changed = False
    for index, row in enumerate(table.rows):
        if index >= limits.max_rows:
            break
        cells = [clip_value(v, limits.max_cell_chars) for v in row]
        changed = changed or any(c is not v for c, v in zip(cells, row, strict=True))
        total += sum(_size(c) for c in cells)
        if total > limits.max_table_chars and rows:
            break
        rows.append(cells)
    dropped = len(rows) < len(table.rows)
    if not (changed or dropped):
        return table, False
    return Table(columns=[clip_text(c, limits.max_cell_chars) for c in table.columns], rows=rows), dropped


def clip_result(result: ToolResult, limits: ResultLimits) -> ToolResult:
    """``result`` within ``limits`` (the same object when nothing had to be cut); a table that lost
    rows is marked truncated and its summary says so."""
    update: dict[str, Any] = {}
    summary = clip_text(result.summary, limits.max_text_chars)
    if result.table is not None:
        table, dropped = clip_table(result.table, limits)
        if table is not result.table:
            update["table"] = table
        if dropped:
            update["truncated"] = True
            summary += f" (only the first {len(table.rows):,} of {len(result.table.rows):,} rows kept)"
    if summary != result.summary:
        update["summary"] = summary
    if result.draft is not None:
        sources = clip_text(result.draft.sources, limits.max_text_chars)
        if sources != result.draft.sources:
            update["draft"] = result.draft.model_copy(update={"sources": sources})
    if result.provenance is not None:
        provenance = _clip_provenance(result, limits)
        if provenance is not result.provenance:
            update["provenance"] = provenance
    return result.model_copy(update=update) if update else result


def _clip_provenance(result: ToolResult, limits: ResultLimits) -> Any:
    assert result.provenance is not None
    provenance = result.provenance
    attempts = []
    changed = False
    for attempt in provenance.attempts:
        if attempt.table is None:
            attempts.append(attempt)
            continue
        table, _ = clip_table(attempt.table, limits)
        changed = changed or table is not attempt.table
        attempts.append(attempt if table is attempt.table else attempt.model_copy(update={"table": table}))
    return provenance.model_copy(update={"attempts": attempts}) if changed else provenance
