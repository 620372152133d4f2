"""What a warehouse query returns: JSON-compatible values in a table, and how it was cut."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from atomwork.table import Table

__all__ = ["QueryResult", "plain_value"]


def plain_value(value: Any) -> Any:
    """A JSON-compatible version of a database value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, Decimal):
        return round(float(value), 4)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 3600, 4)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [plain_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain_value(v) for k, v in value.items()}
    return str(value)


@dataclass(frozen=True)
class QueryResult:
    table: Table
    truncated: bool
    limit: int
    masked: tuple[str, ...] = ()
    """``table.column`` of the masked columns the query read (their values came back as NULL)."""

    @property
    def note(self) -> str:
        notes = []
        if self.truncated:
            notes.append(
                f"showing the first {self.limit} rows; the result has more (add filters or aggregate)"
            )
        if self.masked:
            notes.append(f"masked for you, so NULL: {', '.join(self.masked)}")
        return "; ".join(notes)
