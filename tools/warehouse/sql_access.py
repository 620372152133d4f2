"""A user's SQL checked against their :class:`~atomwork.policy.Access`: every table it reads must be
permitted, and masked columns are replaced by NULL where the table is read, so no filter, join,
aggregate or ``SELECT *`` can see their values.

DuckDB's own parser says which tables a query reads (:func:`.sql_guard.parse_select`); sqlglot
rewrites each read of a table with masked columns into a subquery that leaves them out. The two
must agree on every read of such a table, or the query is refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import sqlglot
from pydantic import BaseModel, ConfigDict
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

from atomwork.errors import PermissionDenied
from atomwork.policy import Access, table_key
from atomwork.tools.warehouse.sql_guard import ParsedSelect

__all__ = ["GovernedSql", "govern_select"]

ColumnsOf = Callable[[str], list[tuple[str, str]] | None]
"""A table's ``(column, type)`` pairs, or None when the warehouse has no such table."""


class GovernedSql(BaseModel):
    """The query to run for this user, and what was masked in it."""

    model_config = ConfigDict(frozen=True)

    sql: str
    masked: tuple[str, ...] = ()
    """``table.column`` of every masked column the query reads."""


def govern_select(parsed: ParsedSelect, access: Access, columns_of: ColumnsOf) -> GovernedSql:
    """The query ``access`` lets its user run, or :class:`PermissionDenied` saying why not."""
    reads = [t for t in parsed.tables if not _is_cte(t, parsed.ctes)]
    for name in parsed.tables:
        # A WITH clause named like a real table would hide which of the two a read means.
        shadowed = _is_cte(name, parsed.ctes) and columns_of(name) is not None
        if shadowed and (access.table_refusal(name) is not None or access.masked_columns(name)):
            raise PermissionDenied(f"a WITH clause may not be named like the table {table_key(name)!r}")
    for name in reads:
        refusal = access.table_refusal(name)
        if refusal is not None:
            raise PermissionDenied(refusal)
    to_mask: dict[str, list[tuple[str, str, bool]]] = {}
    for name in dict.fromkeys(table_key(t) for t in reads):
        hidden = access.masked_columns(name)
        found = columns_of(name) if hidden else None
        if found and any(c.lower() in hidden for c, _ in found):
            to_mask[name] = [(c, t, c.lower() in hidden) for c, t in found]
    if not to_mask:
        return GovernedSql(sql=parsed.text)
    return _rewrite(parsed, reads, to_mask)


def _is_cte(name: str, ctes: frozenset[str]) -> bool:
    return "." not in name and name.lower() in ctes


def _rewrite(
    parsed: ParsedSelect, reads: list[str], to_mask: dict[str, list[tuple[str, str, bool]]]
) -> GovernedSql:
    try:
        tree = sqlglot.parse_one(parsed.text, read="duckdb")
    except (ParseError, SqlglotError) as exc:
        raise PermissionDenied(
            f"this query reads masked columns and could not be checked ({str(exc).splitlines()[0]}); "
            "write it more simply"
        ) from None
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    found: Counter[str] = Counter()
    targets: list[tuple[exp.Table, str]] = []
    for node in tree.find_all(exp.Table):
        if not isinstance(node.this, exp.Identifier):
            continue  # a table function: checked against the allow-list by DuckDB's parse
        name = ".".join(p for p in (node.catalog, node.db, node.name) if p)
        if not node.db and node.name.lower() in ctes:
            continue
        key = table_key(name)
        found[key] += 1
        if key in to_mask:
            targets.append((node, key))
    expected = Counter(table_key(t) for t in reads)
    if any(found[key] != expected[key] for key in to_mask):
        raise PermissionDenied(
            f"this query reads masked columns of {', '.join(sorted(to_mask))} in a way that could not "
            "be checked; write it more simply"
        )
    for node, key in targets:
        node.replace(_masked_source(node, to_mask[key]))
    masked = tuple(f"{key}.{c}" for key, cols in to_mask.items() for c, _, hide in cols if hide)
    return GovernedSql(sql=tree.sql(dialect="duckdb"), masked=masked)


def _masked_source(node: exp.Table, columns: list[tuple[str, str, bool]]) -> exp.Subquery:
    """``(SELECT a, CAST(NULL AS T) AS secret, ... FROM t) AS <the read's alias or name>``."""
    alias = node.args.get("alias")
    inner = node.copy()
    inner.set("alias", None)
    projections: list[exp.Expr] = []
    for column, dtype, hide in columns:
        ident = exp.to_identifier(column, quoted=True)
        projections.append(exp.alias_(_null_of(dtype), ident) if hide else exp.column(ident))
    select = exp.select(*projections).from_(inner)
    return exp.Subquery(
        this=select,
        alias=alias.copy() if alias is not None else exp.TableAlias(this=exp.to_identifier(node.name)),
    )


def _null_of(dtype: str) -> exp.Expression:
    """A NULL of the column's type, so expressions over it still bind (a plain NULL otherwise)."""
    try:
        return exp.cast(exp.null(), exp.DataType.build(dtype, dialect="duckdb"))
    except (ParseError, SqlglotError, ValueError):
        return exp.null()
