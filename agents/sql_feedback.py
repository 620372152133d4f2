"""What to tell the model when its query does not bind: where the name it wrote really lives.

DuckDB says *that* ``l_size`` or ``order_table`` does not exist, not where a size or an order is
kept. A small model asked to correct such a query mostly writes it again; naming the columns that
end the same way (``part.p_size``), or the tables there are, gives the correction somewhere to go.
"""

from __future__ import annotations

import re

from atomwork.tools.schema import SchemaCatalog

_UNKNOWN_COLUMN = re.compile(
    r'(?:Referenced column "(?P<a>\w+)" not found|does not have a column named "(?P<b>\w+)")', re.I
)
_UNKNOWN_TABLE = re.compile(r"Table with name (?P<t>\w+) does not exist", re.I)

MAX_NAMED = 6
"""Columns named at most in one hint: more would be a list, not a pointer."""


def error_hints(error: str, catalog: SchemaCatalog) -> list[str]:
    """Hints for the model from a binder or catalog error: the columns, in any table, named like
    the unknown column, or the tables there are. Empty when the error is of another kind."""
    hints = []
    for match in _UNKNOWN_COLUMN.finditer(error):
        name = (match.group("a") or match.group("b")).lower()
        found = similar_columns(name, catalog)
        if found:
            hints.append(f"{name} is not a column there; columns named like it: {', '.join(found)}.")
        elif (table := _table_named(name, catalog)) is not None:
            # "c_nation": the nation is a table of its own, reached through a key.
            keys = [j.condition for j in catalog.joins if table in j.tables]
            joined = f", joined ON {' or '.join(keys[:MAX_NAMED])}" if keys else ""
            hints.append(f"{name} is not a column; {table} is a table{joined}.")
    for match in _UNKNOWN_TABLE.finditer(error):
        tables = ", ".join(t.name for t in catalog.tables)
        hints.append(f"There is no table {match.group('t')}; the tables are: {tables}.")
    return list(dict.fromkeys(hints))


def similar_columns(name: str, catalog: SchemaCatalog) -> list[str]:
    """``table.column`` for each column called ``name`` or ending like it: ``l_size`` and ``size``
    both find ``part.p_size`` (a prefix names the table a column belongs to, and is often wrong)."""
    stem = _stem(name)
    found = [
        f"{table.name}.{column.name}"
        for table in catalog.tables
        for column in table.columns
        if column.name.lower() in (name, stem) or column.name.lower().endswith("_" + stem)
    ]
    return found[:MAX_NAMED]


def _table_named(name: str, catalog: SchemaCatalog) -> str | None:
    """The table an unknown column names (``c_nation``, ``region``, ``customers``), if any."""
    stem = _stem(name)
    names = {t.name.lower(): t.name for t in catalog.tables}
    for word in (stem, stem.removesuffix("s"), stem + "s"):
        if word in names:
            return names[word]
    return None


def _stem(name: str) -> str:
    """A column name without its table prefix (``l_size`` -> ``size``); a bare name as it is."""
    return name.split("_", 1)[1] if "_" in name else name
