"""The live schema of a warehouse, read once: tables, typed columns, join keys, sample values.

It is what the SQL analyst shows the model (as ``CREATE TABLE`` text, which coder models read
best) and what the answer checks use to tell which words of a question name a column or a value.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from pydantic import BaseModel, Field

from atomwork.tools.warehouse import Warehouse

# A text column with at most this many distinct values is categorical: its values are listed.
MAX_CATEGORIES = 40
# Up to this many (coded types such as TPC-H's 150 p_type values) are read to check a query's
# values against, but not shown: too many for a prompt.
MAX_KNOWN_VALUES = 500
_SHOWN_VALUES = 12
_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UBIGINT|UINTEGER|DOUBLE|FLOAT|REAL|DECIMAL)"
)
_TEXT = re.compile(r"^(VARCHAR|TEXT|STRING|CHAR)")
_DATE = re.compile(r"^(DATE|TIMESTAMP)")
_FRACTIONAL = re.compile(r"^(DOUBLE|FLOAT|REAL|DECIMAL|NUMERIC)")


class Column(BaseModel):
    name: str
    type: str
    values: list[str] = Field(default_factory=list)
    """All distinct values of a categorical text column (empty otherwise)."""
    known_values: list[str] = Field(default_factory=list)
    """All distinct values of a text column with too many to list as categories, but few enough
    to check a query's literals against (empty otherwise)."""
    min: str | None = None
    max: str | None = None
    """Range of a date column."""
    share: bool = False
    """Every value of this fractional column lies between 0 and 1: a rate or a share (a discount,
    a tax rate, a probability), which scales an amount rather than being one."""

    @property
    def numeric(self) -> bool:
        return bool(_NUMERIC.match(self.type.upper()))

    @property
    def is_date(self) -> bool:
        return bool(_DATE.match(self.type.upper()))


class TableInfo(BaseModel):
    name: str
    rows: int
    columns: list[Column]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


class JoinKey(BaseModel):
    left: str
    """``table.column``"""
    right: str

    @property
    def tables(self) -> tuple[str, str]:
        """The two tables' names, left first."""
        return self.left.rpartition(".")[0], self.right.rpartition(".")[0]

    @property
    def condition(self) -> str:
        """The join as SQL on bare column names: ``c_nationkey = n_nationkey``."""
        return f"{self.left.rpartition('.')[2]} = {self.right.rpartition('.')[2]}"


class SchemaCatalog(BaseModel):
    """Everything a SQL writer needs to know about one warehouse."""

    tables: list[TableInfo]
    joins: list[JoinKey] = Field(default_factory=list)
    data_end: date | None = None
    """The latest business date ("today" for relative periods), if known."""

    @classmethod
    def read(cls, warehouse: Warehouse) -> SchemaCatalog:
        tables: list[TableInfo] = []
        for name in warehouse.tables():
            if name == "warehouse_info":
                continue  # build metadata of the demo, not business data
            columns = [_read_column(warehouse, name, col, typ) for col, typ in warehouse.columns(name)]
            _mark_shares(warehouse, name, columns)
            tables.append(TableInfo(name=name, rows=warehouse.row_count(name), columns=columns))
        span = warehouse.date_range()
        return cls(tables=tables, joins=_infer_joins(tables), data_end=span[1] if span else None)

    def table(self, name: str) -> TableInfo | None:
        return next((t for t in self.tables if t.name.lower() == name.lower()), None)

    def column_names(self) -> list[str]:
        return [c.name for t in self.tables for c in t.columns]

    def categorical(self) -> dict[str, list[str]]:
        """``table.column`` -> its distinct values, for every categorical text column."""
        return {f"{t.name}.{c.name}": c.values for t in self.tables for c in t.columns if c.values}

    def holding(self, value: str) -> list[str]:
        """The categorical ``table.column`` names whose values include ``value`` ('EUROPE' is in
        region.r_name and in every region column of the demo's own tables)."""
        return [column for column, values in self.categorical().items() if value in values]

    def ddl(self) -> str:
        """The schema as commented ``CREATE TABLE`` statements."""
        blocks = []
        for table in self.tables:
            lines = []
            for col in table.columns:
                note = ""
                if col.values:
                    shown = ", ".join(f"'{v}'" for v in col.values[:_SHOWN_VALUES])
                    more = ", ..." if len(col.values) > _SHOWN_VALUES else ""
                    note = f" -- values: {shown}{more}"
                elif col.min and col.max:
                    note = f" -- from {col.min} to {col.max}"
                lines.append(f"  {col.name} {col.type},{note}")
            keys = [j for j in self.joins if j.left.startswith(f"{table.name}.")]
            for key in keys:
                column = key.left.split(".", 1)[1]
                lines.append(f"  -- {column} joins {key.right}")
            body = "\n".join(lines).rstrip(",")
            blocks.append(f"CREATE TABLE {table.name} ( -- {table.rows:,} rows\n{body}\n);")
        return "\n".join(blocks)


def _read_column(warehouse: Warehouse, table: str, name: str, dtype: str) -> Column:
    column = Column(name=name, type=dtype)
    quoted_t = ".".join(_quote(p) for p in table.split("."))
    quoted_c = _quote(name)
    if _TEXT.match(dtype.upper()):
        count = warehouse.scalar(f"SELECT count(DISTINCT {quoted_c}) FROM {quoted_t}")
        if count is not None and 0 < int(count) <= MAX_KNOWN_VALUES:
            rows = warehouse.fetch(
                f"SELECT DISTINCT {quoted_c} FROM {quoted_t} WHERE {quoted_c} IS NOT NULL ORDER BY 1"
            ).rows
            values = [str(r[0]) for r in rows]
            # Free text that happens to be short (names, comments) is not a category.
            if all(len(v) <= 40 for v in values):
                if len(values) <= MAX_CATEGORIES:
                    column.values = values
                else:
                    column.known_values = values
    elif _DATE.match(dtype.upper()):
        row = warehouse.fetch(f"SELECT min({quoted_c}), max({quoted_c}) FROM {quoted_t}").rows[0]
        if row[0] is not None:
            column.min, column.max = str(row[0])[:10], str(row[1])[:10]
    return column


def _mark_shares(warehouse: Warehouse, table: str, columns: list[Column]) -> None:
    """Set ``share`` on the fractional columns whose values all lie in [0, 1] (one scan per table)."""
    fractional = [c for c in columns if _FRACTIONAL.match(c.type.upper())]
    if not fractional:
        return
    quoted_t = ".".join(_quote(p) for p in table.split("."))
    bounds = ", ".join(f"min({_quote(c.name)}), max({_quote(c.name)})" for c in fractional)
    row = warehouse.fetch(f"SELECT {bounds} FROM {quoted_t}").rows[0]
    for i, column in enumerate(fractional):
        low, high = row[2 * i], row[2 * i + 1]
        column.share = low is not None and high is not None and float(low) >= 0 and 0 < float(high) <= 1


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_stem(column: str) -> str | None:
    """``o_custkey`` -> ``custkey``; ``customer_id`` -> ``customer_id``; others -> None."""
    lowered = column.lower()
    bare = re.sub(r"^[a-z]{1,2}_", "", lowered)
    if bare.endswith("key") or lowered.endswith("_id"):
        return bare
    return None


def _infer_joins(tables: list[TableInfo]) -> list[JoinKey]:
    """Join keys by naming convention: TPC-H style prefixes (``o_custkey`` = ``c_custkey``) and
    ``<table>_id`` columns pointing at the table that owns that id."""
    owners: dict[str, list[str]] = defaultdict(list)
    for table in tables:
        for col in table.columns:
            stem = _key_stem(col.name)
            if stem is not None:
                owners[stem].append(f"{table.name}.{col.name}")
    joins: list[JoinKey] = []
    for table in tables:
        for col in table.columns:
            stem = _key_stem(col.name)
            if stem is None:
                continue
            here = f"{table.name}.{col.name}"
            target = _owner(stem, owners[stem], tables)
            if target is None or target == here:
                target = _named_owner(stem, owners, tables)
            if target is not None and target != here:
                joins.append(JoinKey(left=here, right=target))
    return joins


def _named_owner(stem: str, owners: dict[str, list[str]], tables: list[TableInfo]) -> str | None:
    """The key a column of another naming style points at: ``customer_key`` -> customer's own key
    (``c_custkey``), ``owner_rep_id`` -> the key ``rep_id`` of the table that owns it."""
    base = stem.removesuffix("key").removesuffix("_id").rstrip("_")
    for info in tables:
        name = info.name.lower()
        if base in (name, name.rstrip("s")) and info.columns and _key_stem(info.columns[0].name):
            return f"{info.name}.{info.columns[0].name}"
    # A role in front of a known key ("owner_" + "rep_id"): the longest such key wins.
    for key in sorted(owners, key=len, reverse=True):
        if key != stem and stem.endswith("_" + key):
            return _owner(key, owners[key], tables)
    return None


def _owner(stem: str, candidates: list[str], tables: list[TableInfo]) -> str | None:
    """The table a key belongs to: the one whose name the key's stem starts with, or its first column."""
    base = stem.removesuffix("key").removesuffix("_id").rstrip("_")
    for candidate in candidates:
        table = candidate.split(".")[0].lower()
        if base and (table.startswith(base) or base.startswith(table.rstrip("s"))):
            return candidate
    for candidate in candidates:
        table_name = candidate.split(".")[0]
        info = next(t for t in tables if t.name == table_name)
        if info.columns and info.columns[0].name == candidate.split(".", 1)[1]:
            return candidate
    return None
