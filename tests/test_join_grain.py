"""Checks that ask the data: joins on columns the other table holds more than once, and NOT IN
over a list that holds a NULL."""

from __future__ import annotations

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.data_probe import warehouse_probe
from atomwork.agents.join_grain import repeated_join_problems
from atomwork.agents.null_membership import null_membership_problems
from atomwork.tools.base import Table
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import Warehouse

OVERRUN = "By how much did actual expenses exceed the expense budget in 1997, across all regions?"
JOINED = (
    "SELECT sum(expenses.amount) - sum(budgets.expense_budget) AS overrun FROM expenses "
    "JOIN budgets ON expenses.region = budgets.region AND expenses.month = budgets.month "
    "WHERE expenses.month >= DATE '1997-01-01' AND expenses.month < DATE '1998-01-01'"
)


def test_a_sum_over_a_join_the_other_side_repeats_is_a_problem(warehouse: Warehouse, catalog: SchemaCatalog):
    probe = warehouse_probe(warehouse)
    # Many expenses rows share a (region, month); budgets has one row for each.
    assert repeated_join_problems(OVERRUN, JOINED, catalog, probe) == [
        "SUM(budgets.expense_budget) adds up budgets rows, but expenses has several rows for the same "
        "month, region, so the join repeats each budgets row once per matching expenses row; total each "
        "table on its own (a subquery each) and combine the totals"
    ]
    table = warehouse.query(JOINED)
    assert any(
        "adds up budgets rows" in p for p in check_sql_answer(OVERRUN, JOINED, table, catalog, probe=probe)
    )
    separate = (
        "SELECT (SELECT sum(amount) FROM expenses WHERE year(month) = 1997) "
        "- (SELECT sum(expense_budget) FROM budgets WHERE year(month) = 1997) AS overrun"
    )
    assert repeated_join_problems(OVERRUN, separate, catalog, probe) == []
    # The expenses side meets one budget row each: its sum is not repeated.
    only_expenses = JOINED.replace(" - sum(budgets.expense_budget)", "")
    assert repeated_join_problems(OVERRUN, only_expenses, catalog, probe) == []


def test_only_the_rows_the_query_keeps_are_asked_about(warehouse: Warehouse, catalog: SchemaCatalog):
    asked: list[str] = []

    def probe(sql: str) -> bool:
        asked.append(sql)
        return '"expenses"' in sql

    travel = (
        "SELECT sum(b.expense_budget) FROM expenses e JOIN budgets b ON e.region = b.region "
        "AND e.month = b.month "
        "WHERE e.department = 'Sales' AND category = 'Travel' AND b.month >= '1997-01-01'"
    )
    assert repeated_join_problems("Sales travel budget", travel, catalog, probe)
    assert asked == [
        "SELECT 1 FROM \"expenses\" AS e WHERE (e.department = 'Sales') AND (category = 'Travel') "
        'GROUP BY e."month", e."region" HAVING count(*) > 1 LIMIT 1'
    ]
    # Among the Sales department's travel rows each (region, month) is one row: nothing repeats.
    assert repeated_join_problems("Sales travel budget", travel, catalog, warehouse_probe(warehouse)) == []


def test_joins_along_the_schemas_keys_are_left_to_the_key_check(catalog: SchemaCatalog):
    def always(sql: str) -> bool:
        return True

    keyed = "SELECT avg(c_acctbal) FROM customer JOIN orders ON c_custkey = o_custkey"
    assert repeated_join_problems("Average balance", keyed, catalog, always) == []
    one = Table(columns=["n"], rows=[[1]])
    assert check_sql_answer("Average balance", keyed, one, catalog, probe=always) != []  # the key check


def test_not_in_a_list_holding_a_null_keeps_nothing(crm: tuple[Warehouse, SchemaCatalog]):
    warehouse, catalog = crm
    probe = warehouse_probe(warehouse)
    # Some activities have no contact: NOT IN their contact_ids is never true.
    nulls = "SELECT count(*) FROM contacts WHERE contact_id NOT IN (SELECT contact_id FROM activities)"
    assert warehouse.query(nulls).rows == [[0]]
    assert null_membership_problems(nulls, probe) == [
        "NOT IN (contact_id ...) keeps no row: the subquery returns a NULL, and x NOT IN (..., NULL) is "
        "never true; add WHERE contact_id IS NOT NULL to the subquery, or use NOT EXISTS"
    ]
    asked = "How many contacts have never had an activity?"
    assert any(
        p.startswith("NOT IN (contact_id")
        for p in check_sql_answer(asked, nulls, warehouse.query(nulls), catalog, probe=probe)
    )
    for right in (
        "SELECT count(*) FROM contacts WHERE contact_id NOT IN "
        "(SELECT contact_id FROM activities WHERE contact_id IS NOT NULL)",
        "SELECT count(*) FROM contacts c WHERE NOT EXISTS "
        "(SELECT 1 FROM activities a WHERE a.contact_id = c.contact_id)",
    ):
        assert null_membership_problems(right, probe) == [], right
        assert check_sql_answer(asked, right, warehouse.query(right), catalog, probe=probe) == [], right
