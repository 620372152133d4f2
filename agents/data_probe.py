"""Asking the data what a query's text cannot tell: whether some rows exist.

A join on ``region, month`` repeats rows only if one side holds a (region, month) twice, and
``NOT IN (SELECT contact_id FROM activities)`` keeps nothing only if that column holds a NULL.
Checks that depend on such facts ask them as a query that returns a row or none.
"""

from __future__ import annotations

from collections.abc import Callable

from atomwork.errors import AtomworkError
from atomwork.tools.warehouse import Warehouse

__all__ = ["PROBE_TIMEOUT_S", "DataProbe", "warehouse_probe"]

DataProbe = Callable[[str], bool]
"""Whether a SELECT returns any row."""

PROBE_TIMEOUT_S = 5.0


def warehouse_probe(warehouse: Warehouse) -> DataProbe:
    """:data:`DataProbe` answered by ``warehouse``; a query it cannot run (not readable, not
    runnable alone) answers False: no evidence, so no problem is raised on it."""

    def probe(sql: str) -> bool:
        try:
            return bool(warehouse.fetch(sql, timeout=PROBE_TIMEOUT_S).rows)
        except AtomworkError:
            return False

    return probe
