"""The embedded, read-only warehouse: the connection (:mod:`.connection`), the SQL guard
(:mod:`.sql_guard`), period phrases (:mod:`.periods`) and the seeded demo data (:mod:`.seed`)."""

from atomwork.tools.warehouse.connection import (
    DEFAULT_ROW_LIMIT,
    DEFAULT_TIMEOUT_S,
    QueryResult,
    Warehouse,
    default_warehouse_path,
)
from atomwork.tools.warehouse.seed import SCHEMA_VERSION, build_demo_warehouse
from atomwork.tools.warehouse.sql_guard import WarehouseError, load_extension, validate_select

__all__ = [
    "DEFAULT_ROW_LIMIT",
    "DEFAULT_TIMEOUT_S",
    "SCHEMA_VERSION",
    "QueryResult",
    "Warehouse",
    "WarehouseError",
    "build_demo_warehouse",
    "default_warehouse_path",
    "load_extension",
    "validate_select",
]
