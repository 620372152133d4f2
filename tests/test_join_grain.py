"""Joins on columns the other table holds more than once, read against the data."""

from __future__ import annotations

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.join_grain import repeated_join_problems, warehouse_duplicates
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
    # Many expenses rows share a (region, month); budgets has one row for each.
    assert repeated_join_problems(OVERRUN, JOINED, catalog, warehouse_duplicates(warehouse)) == [
        "SUM(budgets.expense_budget) adds up budgets rows, but expenses has several rows for the same "
        "month, region, so the join repeats each budgets row once per matching expenses row; total each "
        "table on its own (a subquery each) and combine the totals"
    ]
    table = warehouse.query(JOINED)
    assert any(
        "adds up budgets rows" in p
        for p in check_sql_answer(OVERRUN, JOINED, table, catalog, duplicated=warehouse_duplicates(warehouse))
    )
    separate = (
        "SELECT (SELECT sum(amount) FROM expenses WHERE year(month) = 1997) "
        "- (SELECT sum(expense_budget) FROM budgets WHERE year(month) = 1997) AS overrun"
    )
    assert repeated_join_problems(OVERRUN, separate, catalog, warehouse_duplicates(warehouse)) == []
    # The expenses side meets one budget row each: its sum is not repeated.
    only_expenses = JOINED.replace(" - sum(budgets.expense_budget)", "")
    assert repeated_join_problems(OVERRUN, only_expenses, catalog, warehouse_duplicates(warehouse)) == []


def test_only_the_rows_the_query_keeps_are_asked_about(warehouse: Warehouse, catalog: SchemaCatalog):
    asked: list[tuple[str, str, list[str], str | None]] = []

    def duplicated(table: str, alias: str, columns: list[str], where: str | None) -> bool:
        asked.append((table, alias, columns, where))
        return table == "expenses"

    travel = (
        "SELECT sum(b.expense_budget) FROM expenses e JOIN budgets b ON e.region = b.region "
        "AND e.month = b.month "
        "WHERE e.department = 'Sales' AND category = 'Travel' AND b.month >= '1997-01-01'"
    )
    assert repeated_join_problems("Sales travel budget", travel, catalog, duplicated)
    assert asked == [
        ("expenses", "e", ["month", "region"], "(e.department = 'Sales') AND (category = 'Travel')")
    ]
    # Among the Sales department's travel rows each (region, month) is one row: nothing repeats.
    assert (
        repeated_join_problems("Sales travel budget", travel, catalog, warehouse_duplicates(warehouse)) == []
    )


def test_joins_along_the_schemas_keys_are_left_to_the_key_check(catalog: SchemaCatalog):
    def always(table: str, alias: str, columns: list[str], where: str | None) -> bool:
        return True

    keyed = "SELECT avg(c_acctbal) FROM customer JOIN orders ON c_custkey = o_custkey"
    assert repeated_join_problems("Average balance", keyed, catalog, always) == []
    one = Table(columns=["n"], rows=[[1]])
    assert check_sql_answer("Average balance", keyed, one, catalog, duplicated=always) != []  # the key check
