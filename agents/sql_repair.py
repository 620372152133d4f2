"""Deterministic repairs of the SQL a small model writes, tried when its query fails to bind.

Two mistakes account for most failed first queries of a 1.5B coder model, and asking it to
correct them mostly returns the same query:

- a defined measure written as if it were a column (``SELECT c_name, revenue ... GROUP BY
  c_name``): the measure's aggregate from the glossary takes its place;
- a column qualified with another table's alias (``T1.o_orderkey`` where T1 is lineitem): the
  one table of the query that has it is meant;
- a column written without its table's prefix (``l.extendedprice`` for ``l_extendedprice``):
  the one column of the query's tables that ends with ``_extendedprice`` is meant, in the table
  the query names or, where that table has none (``c.clerk``), in the one other table that has it;
- a column of a table the query never joins (``o_orderdate`` over ``lineitem`` alone): that
  table is joined on the key the schema declares, when exactly one table has the column;
- a join whose ON refers to a table joined only later: the joins are put in an order where
  every ON refers to tables already joined;
- an aggregate made a window function inside a grouped query (``sum(x) OVER (PARTITION BY k)``
  with ``GROUP BY``), or over everything (``count(*) OVER ()`` beside no plain column): the plain
  aggregate is what was asked for;
- an aggregate of aggregates in a grouped query (``avg(count(*)) ... GROUP BY l_orderkey``),
  which DuckDB refuses: the inner aggregate per group in a subquery, the outer one over those
  groups (Oracle's reading of the nested aggregate).

A repair only rewrites the query; it still has to pass EXPLAIN and every answer check.
"""

from __future__ import annotations

import sqlglot
from pydantic import BaseModel
from sqlglot import exp

from atomwork.agents.sql_structure import from_clause, own, parse, render, table_aliases
from atomwork.tools.glossary import Glossary
from atomwork.tools.schema import SchemaCatalog


class SqlRepair(BaseModel):
    sql: str
    changes: list[str]
    """What was rewritten, in words, for the provenance."""


def repair_sql(sql: str, catalog: SchemaCatalog, glossary: Glossary, *, pick: int = 0) -> SqlRepair | None:
    """The query with the known mistakes rewritten, or None when none applies. A column that
    several joinable tables hold is taken from the ``pick``-th of them (see :func:`repairs`)."""
    tree = parse(sql)
    if tree is None:
        return None
    changes: list[str] = []
    for select in list(tree.find_all(exp.Select)):
        changes += _requalified_columns(select, catalog)
        changes += _prefixed_columns(select, catalog)
        changes += _missing_joins(select, catalog, pick)
        changes += _reorder_joins(select, catalog)
        changes += _measure_columns(select, catalog, glossary)
        changes += _unwindow(select)
        changes += _unnested(select)
    if not changes:
        return None
    return SqlRepair(sql=render(tree), changes=list(dict.fromkeys(changes)))


MAX_ALTERNATIVES = 3


def repairs(sql: str, catalog: SchemaCatalog, glossary: Glossary) -> list[SqlRepair]:
    """Every distinct repair: one per table a missing column could come from ("territory" of the
    account or of the rep). The caller keeps a repair only if all of them agree."""
    out: dict[str, SqlRepair] = {}
    for pick in range(MAX_ALTERNATIVES):
        repair = repair_sql(sql, catalog, glossary, pick=pick)
        if repair is not None:
            out.setdefault(repair.sql, repair)
    return list(out.values())


def _from_tables(select: exp.Select) -> set[str]:
    return {t.name.lower() for t in select.find_all(exp.Table) if own(select, t)}


def _output_names(select: exp.Select) -> set[str]:
    """Aliases of the projections: ``ORDER BY revenue`` may name one; it is no unknown column."""
    return {p.alias.lower() for p in select.expressions if p.alias}


def _known_columns(select: exp.Select, catalog: SchemaCatalog) -> list[str]:
    tables = _from_tables(select)
    return [c.name for t in catalog.tables if t.name.lower() in tables for c in t.columns]


def _requalified_columns(select: exp.Select, catalog: SchemaCatalog) -> list[str]:
    """``T1.o_orderkey`` where T1 is lineitem: the one other table of the query that has the
    column is meant (aliases swapped)."""
    by_alias = table_aliases(select)
    changes = []
    for column in list(select.find_all(exp.Column)):
        written = column.table.lower() if column.table else ""
        if not own(select, column) or written not in by_alias:
            continue
        named = catalog.table(by_alias[written])
        if named is None or named.column(column.name) is not None:
            continue
        owners = [
            alias
            for alias, table in by_alias.items()
            if (info := catalog.table(table)) is not None and info.column(column.name) is not None
        ]
        if len(owners) == 1:
            column.set("table", exp.to_identifier(owners[0]))
            changes.append(f"{column.table}.{column.name} was written {written}.{column.name}")
    return changes


def _prefixed_columns(select: exp.Select, catalog: SchemaCatalog) -> list[str]:
    columns = _known_columns(select, catalog)
    known = {c.lower() for c in columns}
    aliases = _output_names(select)
    by_alias = table_aliases(select)  # ``r.name`` looks in the table aliased ``r`` only
    changes = []
    for column in list(select.find_all(exp.Column)):
        name = column.name.lower()
        if not own(select, column) or not name or name in known or name in aliases:
            continue
        table = catalog.table(by_alias.get(column.table.lower(), "")) if column.table else None
        pool = [c.name for c in table.columns] if table is not None else columns
        matches = [c for c in pool if c.lower().endswith("_" + name)]
        if len(matches) == 1:
            column.set("this", exp.to_identifier(matches[0]))
            changes.append(f"{name} is written {matches[0]}")
        elif table is not None and not matches:
            # ``c.clerk`` where customer has no clerk: the one table of the query that has one.
            elsewhere = [
                (alias, col.name)
                for alias, name_of in by_alias.items()
                if (info := catalog.table(name_of)) is not None
                for col in info.columns
                if col.name.lower().endswith("_" + name)
            ]
            if len(elsewhere) == 1:
                alias, real = elsewhere[0]
                written = f"{column.table}.{column.name}"
                column.set("this", exp.to_identifier(real))
                column.set("table", exp.to_identifier(alias))
                changes.append(f"{alias}.{real} was written {written}")
    return changes


def _missing_joins(select: exp.Select, catalog: SchemaCatalog, pick: int = 0) -> list[str]:
    tables = _from_tables(select)
    known = {c.lower() for c in _known_columns(select, catalog)}
    aliases = _output_names(select)
    # Join conditions name tables as the query does (by alias), so shared key names stay unambiguous.
    written = {table: alias for alias, table in table_aliases(select).items()}
    changes = []
    for column in list(select.find_all(exp.Column)):
        name = column.name.lower()
        if not own(select, column) or column.table or not name or name in known or name in aliases:
            continue
        options = []
        for info in catalog.tables:
            if info.column(name) is None or info.name.lower() in tables:
                continue
            for join in catalog.joins:
                ends = [join.left.split(".", 1), join.right.split(".", 1)]
                mine = next((e for e in ends if e[0].lower() == info.name.lower()), None)
                theirs = next((e for e in ends if e[0].lower() in tables and e is not mine), None)
                if mine is not None and theirs is not None:
                    options.append((info, theirs, mine))
                    break
        if pick >= len(options):
            continue
        info, theirs, mine = options[pick]
        left = f"{written.get(theirs[0].lower(), theirs[0])}.{theirs[1]}"
        select.join(info.name, on=f"{left} = {info.name}.{mine[1]}", copy=False)
        tables.add(info.name.lower())
        written[info.name.lower()] = info.name
        known |= {c.name.lower() for c in info.columns}
        changes.append(f"{name} is a column of {info.name}: joined on {left} = {info.name}.{mine[1]}")
    return changes


def _reorder_joins(select: exp.Select, catalog: SchemaCatalog) -> list[str]:
    base = from_clause(select)
    joins = list(select.args.get("joins") or [])
    if base is None or len(joins) < 2 or not isinstance(base.this, exp.Table):
        return []
    by_alias = table_aliases(select)
    owner = {c.name.lower(): t.name.lower() for t in catalog.tables for c in t.columns}

    def table_of(join: exp.Join) -> str:
        return join.this.name.lower() if isinstance(join.this, exp.Table) else ""

    def needs(join: exp.Join) -> set[str]:
        on = join.args.get("on")
        refs = on.find_all(exp.Column) if on is not None else []
        return {
            by_alias.get(c.table.lower(), c.table.lower()) if c.table else owner.get(c.name.lower(), "")
            for c in refs
        }

    joined = {base.this.name.lower()}
    ordered: list[exp.Join] = []
    pending = joins
    while pending:
        ready = next((j for j in pending if needs(j) <= joined | {table_of(j)}), None)
        if ready is None:
            return []  # no order works: not this mistake
        ordered.append(ready)
        joined.add(table_of(ready))
        pending = [j for j in pending if j is not ready]
    if ordered == joins:
        return []
    select.set("joins", ordered)
    return [f"joins reordered: {', '.join(table_of(j) for j in ordered)}"]


def _unwindow(select: exp.Select) -> list[str]:
    grouped = bool(select.args.get("group"))
    # "count(*) OVER ()" beside only aggregates is the aggregate, repeated on every row.
    whole = not grouped and all(p.unalias().find(exp.AggFunc) for p in select.expressions)
    if not grouped and not whole:
        return []
    changes = []
    for window in list(select.find_all(exp.Window)):
        bare = not window.args.get("partition_by") and not window.args.get("order")
        if own(select, window) and isinstance(window.this, exp.AggFunc) and (grouped or bare):
            changes.append(f"{window.this.sql(dialect='duckdb')} is an aggregate, not a window function")
            window.replace(window.this.copy())
    return changes


def _unnested(select: exp.Select) -> list[str]:
    if not select.args.get("group"):
        return []  # without groups an aggregate of an aggregate means nothing to repair toward
    direct: list[tuple[exp.AggFunc, str]] = []  # the aggregates right inside an outer one, as SQL
    for projection in select.expressions:
        outer = projection.unalias()
        if not isinstance(outer, exp.AggFunc):
            return []  # a plain column beside the groups' aggregate: no one reading of it
        nested = [
            a for a in outer.find_all(exp.AggFunc) if a.find_ancestor(exp.AggFunc) is outer and own(select, a)
        ]
        if not nested:
            return []
        direct += [(a, a.sql(dialect="duckdb")) for a in nested]
    inner: dict[str, exp.AggFunc] = {}  # each kind of inner aggregate, computed once per group
    for agg, written in direct:
        inner.setdefault(written, agg)
    names = {written: f"per_group_{i}" for i, written in enumerate(inner, 1)}
    groups = select.copy()
    groups.set("expressions", [agg.copy().as_(names[written]) for written, agg in inner.items()])
    for arg in ("order", "limit", "offset"):
        groups.set(arg, None)
    keys = ", ".join(k.sql(dialect="duckdb") for k in select.args["group"].expressions)
    for agg, written in direct:
        agg.replace(exp.column(names[written]))
    for arg in ("joins", "where", "group", "having"):
        select.set(arg, None)
    select.from_(groups.subquery("groups"), copy=False)
    described = ", ".join(f"{sql} per group of {keys}" for sql in names)
    return [f"aggregates of aggregates are taken over groups: {described} in a subquery"]


def _measure_columns(select: exp.Select, catalog: SchemaCatalog, glossary: Glossary) -> list[str]:
    tables = _from_tables(select)
    known = {c.lower() for c in _known_columns(select, catalog)} | tables
    changes = []
    for position, projection in enumerate(list(select.expressions)):
        column = projection.unalias()
        if not isinstance(column, exp.Column) or column.table or column.name.lower() in known:
            continue
        measure = glossary.measure_aliased(column.name)
        if measure is None or measure.aggregate is None:
            continue
        needed = {ref.split(".", 1)[0].lower() for ref in measure.needs}
        if not needed <= tables:
            continue
        alias = projection.alias or column.name
        select.expressions[position] = exp.alias_(sqlglot.parse_one(measure.aggregate, read="duckdb"), alias)
        changes.append(f"{column.name} is not a column: computed as {measure.aggregate}")
    if changes and not select.args.get("group"):
        # The other projections become the grouping, as "SELECT c_name, revenue" meant.
        keys = [p.unalias().copy() for p in select.expressions if not p.unalias().find(exp.AggFunc)]
        if keys:
            select.group_by(*keys, copy=False)
    return changes
