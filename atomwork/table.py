"""The result table that travels between tasks: column names and rows of JSON-compatible values.

A core type: tools produce it, plans reference it (``$t1``), answers and reports quote it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from atomwork.errors import ToolError

__all__ = ["Table"]


class Table(BaseModel):
    """A small result table: column names and rows of JSON-compatible values."""

    columns: list[str]
    rows: list[list[Any]] = Field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        if name not in self.columns:
            raise ToolError(f"column {name!r} not in table (columns: {', '.join(self.columns)})")
        idx = self.columns.index(name)
        return [row[idx] for row in self.rows]

    def to_markdown(self, max_rows: int = 20) -> str:
        head = "| " + " | ".join(self.columns) + " |"
        sep = "| " + " | ".join("---" for _ in self.columns) + " |"
        body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in self.rows[:max_rows]]
        more = [f"... ({len(self.rows) - max_rows} more rows)"] if len(self.rows) > max_rows else []
        return "\n".join([head, sep, *body, *more])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)
