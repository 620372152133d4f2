"""Joins on columns that are not a key of the other table, read against the data.

``expenses JOIN budgets ON expenses.region = budgets.region AND expenses.month = budgets.month``
runs and returns a plausible figure, but each (region, month) has many expenses rows, so
``sum(expense_budget)`` counts every budget once per expense. The schema's keys cannot tell
(neither column is a key), so the data is asked instead: does the other table hold several rows
for the same join values, among the rows the query keeps? Only then does the join repeat rows.
Joins along the schema's keys are :func:`~atomwork.agents.sql_structure.fan_out_problems`' part.
"""

from __future__ import annotations

from sqlglot import exp

from atomwork.agents.data_probe import DataProbe
from atomwork.agents.sql_structure import (
    column_table,
    conjuncts,
    counted_table,
    parse,
    reads,
    summed_tables,
    table_aliases,
)
from atomwork.tools.schema import SchemaCatalog

__all__ = ["repeated_join_problems"]


def _duplicated(probe: DataProbe, table: str, alias: str, columns: list[str], where: str | None) -> bool:
    """Whether some ``columns`` values occur in more than one of the ``table`` rows ``where`` keeps."""
    keys = ", ".join(f'{alias}."{c}"' for c in columns)
    kept = f" WHERE {where}" if where else ""
    return probe(f'SELECT 1 FROM "{table}" AS {alias}{kept} GROUP BY {keys} HAVING count(*) > 1 LIMIT 1')


def _joined_on(select: exp.Select, catalog: SchemaCatalog) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(alias, other alias) -> [(column, other column)] for each equality of two tables' columns in
    the select's ON and WHERE conditions that is not a join along the schema's keys."""
    aliases = table_aliases(select)
    keys = {frozenset((j.left.lower(), j.right.lower())) for j in catalog.joins}
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    conditions = [j.args.get("on") for j in select.args.get("joins") or []]
    conditions.append(select.args.get("where"))
    for condition in conditions:
        for node in conjuncts(condition) if condition is not None else ():
            if not (
                isinstance(node, exp.EQ)
                and all(isinstance(s, exp.Column) for s in (node.this, node.expression))
            ):
                continue
            sides = []
            for column in (node.this, node.expression):
                table = column_table(select, column, catalog)
                alias = column.table.lower() if column.table else _alias_of(aliases, table)
                sides.append((alias, table, column.name.lower()))
            (a, ta, ca), (b, tb, cb) = sides
            if a is None or b is None or ta is None or tb is None or a == b:
                continue
            if frozenset((f"{ta}.{ca}".lower(), f"{tb}.{cb}".lower())) in keys:
                return {}  # joined along a key as well: the key's own check applies
            pairs.setdefault((a, b), []).append((ca, cb))
            pairs.setdefault((b, a), []).append((cb, ca))
    return pairs


def _alias_of(aliases: dict[str, str], table: str | None) -> str | None:
    written = [a for a, t in aliases.items() if table is not None and t == table.lower()]
    return written[0] if len(written) == 1 else None


def _own_filter(select: exp.Select, alias: str, catalog: SchemaCatalog) -> str | None:
    """The conditions of ``select`` (WHERE, and the ON of inner joins) that read only the table
    written ``alias``: the rows of it the query keeps."""
    info = catalog.table(table_aliases(select).get(alias, ""))
    table = info.name if info is not None else ""
    conditions = [j.args.get("on") for j in select.args.get("joins") or [] if not j.side]
    conditions.append(where.this if (where := select.args.get("where")) is not None else None)
    kept = []
    for condition in conditions:
        for node in conjuncts(condition) if condition is not None else ():
            columns = list(node.find_all(exp.Column))
            if node.find(exp.Select) or not columns:
                continue
            if all(reads(select, c, alias, table, catalog) for c in columns):
                kept.append(node.sql(dialect="duckdb"))
    return " AND ".join(f"({k})" for k in kept) or None


def repeated_join_problems(question: str, sql: str, catalog: SchemaCatalog, probe: DataProbe) -> list[str]:
    """Sums, averages and counts of one table's rows over a join on columns that the other table
    holds more than once among the rows the query keeps: each row is counted once per match."""
    tree = parse(sql)
    if tree is None:
        return []
    counted = counted_table(question, catalog)
    problems: list[str] = []
    for select in tree.find_all(exp.Select):
        aliases = table_aliases(select)
        if len(set(aliases.values())) != len(aliases):
            continue  # a table written twice: which rows repeat which is not read here
        pairs = _joined_on(select, catalog)
        for agg, table in summed_tables(select, catalog, counted[1] if counted else None):
            alias = _alias_of(aliases, table)
            for (mine, other), columns in pairs.items():
                if mine != alias:
                    continue
                other_columns = sorted({c for _, c in columns})
                repeater = aliases[other]
                if _duplicated(probe, repeater, other, other_columns, _own_filter(select, other, catalog)):
                    problems.append(
                        f"{agg.sql(dialect='duckdb')} adds up {table} rows, but {repeater} has several "
                        f"rows for the same {', '.join(other_columns)}, so the join repeats each {table} row "
                        f"once per matching {repeater} row; total each table on its own (a subquery each) "
                        "and combine the totals"
                    )
    return list(dict.fromkeys(problems))
