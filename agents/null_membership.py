"""``x NOT IN (subquery)`` where the subquery yields a NULL: the test is never true.

``SELECT count(*) FROM contacts WHERE contact_id NOT IN (SELECT contact_id FROM activities)``
counts 0 when one activity has no contact: ``x NOT IN (..., NULL)`` is NULL, not true, for every
``x``. The query runs and its 0 looks like an answer, so the data is asked whether the subquery's
column holds a NULL among the rows it keeps.
"""

from __future__ import annotations

from sqlglot import exp

from atomwork.agents.data_probe import DataProbe
from atomwork.agents.sql_structure import parse

__all__ = ["null_membership_problems"]


def null_membership_problems(sql: str, probe: DataProbe) -> list[str]:
    tree = parse(sql)
    if tree is None:
        return []
    problems = []
    for negation in tree.find_all(exp.Not):
        inside = negation.this
        if not isinstance(inside, exp.In):
            continue
        query = inside.args.get("query")
        subquery = query.this if isinstance(query, exp.Subquery) else query
        if not isinstance(subquery, exp.Select) or len(subquery.expressions) != 1:
            continue
        listed = subquery.expressions[0]
        if probe(f"SELECT 1 FROM ({subquery.sql(dialect='duckdb')}) AS _listed(v) WHERE v IS NULL LIMIT 1"):
            problems.append(
                f"NOT IN ({listed.sql(dialect='duckdb')} ...) keeps no row: the subquery returns a NULL, and "
                f"x NOT IN (..., NULL) is never true; add WHERE {listed.sql(dialect='duckdb')} IS NOT NULL "
                "to the subquery, or use NOT EXISTS"
            )
    return problems
