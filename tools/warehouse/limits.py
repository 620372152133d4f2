"""What one warehouse connection may use: DuckDB's memory, the rows a statement returns and the
length of one value, so that no query can take the host's memory or flood a prompt.
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atomwork.tools.warehouse.sql_guard import WarehouseError

__all__ = ["MEMORY_ENV", "QueryLimits"]

MEMORY_ENV = "ATOMWORK_WAREHOUSE_MEMORY_LIMIT"
"""DuckDB's memory limit for the warehouse connection, e.g. ``2GB`` (default ``1GB``)."""

_MEMORY = re.compile(r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


class QueryLimits(BaseModel):
    """Limits of every statement run on one warehouse connection."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    memory_limit: str = "1GB"
    """DuckDB's ``memory_limit`` (DuckDB itself would take 80% of the machine's RAM)."""
    max_rows: int = Field(default=100_000, ge=1)
    """Rows any statement may return; a tool's statement returning more fails with a clear error (a
    user's query is cut at its own row limit first)."""
    max_cell_chars: int = Field(default=2_000, ge=32)
    """Characters of one value; a longer one is cut with a visible mark."""

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"memory_limit must be a size such as 512MB or 2GB, got {value!r}")
        return value.strip()

    @classmethod
    def from_env(cls) -> QueryLimits:
        """The defaults, with ``$ATOMWORK_WAREHOUSE_MEMORY_LIMIT`` when set (a WarehouseError when bad)."""
        memory = os.environ.get(MEMORY_ENV, "").strip()
        try:
            return cls(memory_limit=memory) if memory else cls()
        except ValidationError as exc:
            raise WarehouseError(f"bad {MEMORY_ENV}: {exc.errors()[0]['msg']}") from None
