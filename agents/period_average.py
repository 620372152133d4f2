"""An average per period computed as an average per row.

"The average monthly Payroll expense of Sales in 1997" is the mean of twelve monthly totals. The
expenses table holds one row per month, region, department and category, so ``avg(amount)`` over
the Sales payroll rows averages five regional rows a month: a fifth of the monthly figure. Whether
a period holds several of the rows the query keeps is a fact of the data, so the data is asked;
only then must the rows be totalled per period before they are averaged.
"""

from __future__ import annotations

import re

from sqlglot import exp

from atomwork.agents.data_probe import DataProbe
from atomwork.agents.sql_structure import column_table, own, parse, table_aliases
from atomwork.tools.schema import SchemaCatalog

__all__ = ["asked_period", "period_average_problems"]

# "Average monthly expense", "the mean quarterly spend", "average spend per month". Not years:
# "the average annual salary" is a yearly figure of each row, not a total per year.
_PER_PERIOD = re.compile(
    r"\b(?:average|mean|typical)\s+(month|quarter|week|dai)ly\b"
    r"|\b(?:average|mean)\b[^.?;]*?\bper\s+(month|quarter|week|day)\b",
    re.I,
)
_UNIT = {"month": "month", "quarter": "quarter", "week": "week", "dai": "day", "day": "day"}


def asked_period(question: str) -> str | None:
    """The period an average is taken over ("average monthly expense" -> ``month``), if any."""
    match = _PER_PERIOD.search(question)
    return _UNIT[(match.group(1) or match.group(2)).lower()] if match else None


def _period_column(select: exp.Select, table: str, catalog: SchemaCatalog) -> exp.Column | None:
    """The date column that dates ``table``'s rows: the one the query filters on, else its only one."""
    info = catalog.table(table)
    if info is None:
        return None
    dates = {c.name.lower() for c in info.columns if c.is_date}
    where = select.args.get("where")
    filtered = [
        c
        for c in (where.find_all(exp.Column) if where is not None else ())
        if c.name.lower() in dates and column_table(select, c, catalog) == table
    ]
    if filtered:
        return filtered[0].copy()
    if len(dates) == 1:
        alias = next((a for a, t in table_aliases(select).items() if t == table), table)
        return exp.column(next(iter(dates)), table=alias)
    return None


# How a grouping key names each period ("date_trunc('quarter', month)", "strftime(d, '%Y-%m')").
_GRAIN = {
    "month": re.compile(r"month|%m", re.I),
    "quarter": re.compile(r"quarter|%q", re.I),
    "week": re.compile(r"week|%w|%v|%u", re.I),
}


def _averaged_subquery(select: exp.Select, column: exp.Column) -> exp.Select | None:
    """The subquery in ``select``'s FROM or joins whose output ``column`` is."""
    derived = [
        s
        for s in select.find_all(exp.Subquery)
        if s.parent_select is select and isinstance(s.this, exp.Select)
    ]
    if column.table:
        derived = [s for s in derived if s.alias_or_name.lower() == column.table.lower()]
    return derived[0].this if len(derived) == 1 else None


def _output(select: exp.Select, key: exp.Expr) -> exp.Expr:
    """What a grouping key stands for: "GROUP BY 1" and "GROUP BY m" name an output column."""
    outputs = select.expressions
    if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.this) <= len(outputs):
        return outputs[int(key.this) - 1].unalias()
    if isinstance(key, exp.Column) and not key.table:
        named = [o for o in outputs if isinstance(o, exp.Alias) and o.alias.lower() == key.name.lower()]
        if named:
            return named[0].unalias()
    return key


def _grain_problems(select: exp.Select, avg: exp.Avg, period: str) -> list[str]:
    """``avg(total)`` over a subquery of monthly totals, for "the average quarterly expense"."""
    columns = list(avg.find_all(exp.Column))
    inner = _averaged_subquery(select, columns[0]) if len(columns) == 1 else None
    group = inner.args.get("group") if inner is not None else None
    if group is None or period not in _GRAIN:
        return []
    assert inner is not None
    keys = [_output(inner, k).sql(dialect="duckdb") for k in group.expressions]
    if any(_GRAIN[period].search(k) for k in keys):
        return []
    return [
        f"the question asks for an average per {period}, but the averaged subquery totals per "
        f"{', '.join(keys)}: group it by the {period}"
    ]


def period_average_problems(question: str, sql: str, catalog: SchemaCatalog, probe: DataProbe) -> list[str]:
    period = asked_period(question)
    tree = parse(sql)
    if period is None or not isinstance(tree, exp.Select):
        return []
    # "The average order value per month", grouped by month: an average within each period, asked by it.
    group = tree.args.get("group")
    grain = _GRAIN.get(period)
    # "GROUP BY 1" and "GROUP BY m" stand for output columns, which the probe below replaces.
    grouped = [_output(tree, k) for k in group.expressions] if group is not None else []
    if grain is not None and any(grain.search(k.sql(dialect="duckdb")) for k in grouped):
        return []
    problems = []
    for avg in tree.find_all(exp.Avg):
        if not own(tree, avg) or avg.find_ancestor(exp.Window):
            continue
        problems.extend(_grain_problems(tree, avg, period))
        owners = {column_table(tree, c, catalog) for c in avg.find_all(exp.Column)}
        if len(owners) != 1 or None in owners:
            continue
        table = next(iter(owners))
        assert table is not None
        column = _period_column(tree, table, catalog)
        if column is None:
            continue
        # The rows the query keeps, grouped as it groups them and by the period: does one hold two?
        trunc = exp.func("date_trunc", exp.Literal.string(period), column)
        keys = [*grouped, trunc]
        check = tree.copy()
        check.set("expressions", [exp.Literal.number(1)])
        check.set("group", exp.Group(expressions=[k.copy() for k in keys]))
        check.set(
            "having",
            exp.Having(this=exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))),
        )
        check.set("order", None)
        check.set("limit", exp.Limit(expression=exp.Literal.number(1)))
        if probe(check.sql(dialect="duckdb")):
            problems.append(
                f"the question asks for an average per {period}, but {avg.sql(dialect='duckdb')} averages "
                f"rows, and a {period} holds several of them; total each {period} first (a subquery "
                f"grouped by the {period}) and average those totals"
            )
    return problems
