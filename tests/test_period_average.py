"""An average per month (or quarter, week, day) is the mean of each period's total: averaging the
rows is right only where each period holds one of the rows the query keeps, which the data tells."""

from __future__ import annotations

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.data_probe import warehouse_probe
from atomwork.agents.period_average import asked_period, period_average_problems
from atomwork.agents.sql_hints import answer_shape
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import Warehouse

PAYROLL = "What was the average monthly Payroll expense of the Sales department in 1997?"
ROWS = (
    "SELECT avg(amount) FROM expenses WHERE department = 'Sales' AND category = 'Payroll' "
    "AND month >= DATE '1997-01-01' AND month < DATE '1998-01-01'"
)
TOTALS = (
    "SELECT avg(m) FROM (SELECT month, sum(amount) AS m FROM expenses WHERE department = 'Sales' "
    "AND category = 'Payroll' AND year(month) = 1997 GROUP BY month)"
)


def test_the_period_of_an_average_is_read_from_the_question():
    assert asked_period(PAYROLL) == "month"
    assert asked_period("What is the mean quarterly spend on Travel?") == "quarter"
    assert asked_period("What is the average number of tickets opened per day in 1997?") == "day"
    # A yearly figure of each row, not a total per year.
    assert asked_period("What is the average annual salary of Finance employees?") is None
    assert asked_period("What was the average order value in 1996?") is None


def test_rows_averaged_where_a_month_holds_several_is_a_problem(warehouse: Warehouse, catalog: SchemaCatalog):
    probe = warehouse_probe(warehouse)
    # Each month holds one Sales payroll row per region.
    assert period_average_problems(PAYROLL, ROWS, catalog, probe) == [
        "the question asks for an average per month, but AVG(amount) averages rows, and a month holds "
        "several of them; total each month first (a subquery grouped by the month) and average those totals"
    ]
    problems = check_sql_answer(PAYROLL, ROWS, warehouse.query(ROWS), catalog, probe=probe)
    assert any("average per month" in p for p in problems)
    assert period_average_problems(PAYROLL, TOTALS, catalog, probe) == []
    assert check_sql_answer(PAYROLL, TOTALS, warehouse.query(TOTALS), catalog, probe=probe) == []


def test_rows_averaged_where_each_month_holds_one_are_the_monthly_figures(
    warehouse: Warehouse, catalog: SchemaCatalog
):
    # budgets has one row per region and month: one region's rows are its monthly figures.
    asked = "What was the average monthly revenue budget of the ASIA region in 1997?"
    one_region = "SELECT avg(revenue_budget) FROM budgets WHERE region = 'ASIA' AND year(month) = 1997"
    assert period_average_problems(asked, one_region, catalog, warehouse_probe(warehouse)) == []
    every_region = "SELECT avg(revenue_budget) FROM budgets WHERE year(month) = 1997"
    overall = "What was the average monthly revenue budget in 1997?"
    assert period_average_problems(overall, every_region, catalog, warehouse_probe(warehouse))


def test_the_writer_is_told_to_total_each_period_first():
    assert answer_shape(PAYROLL) == (
        "one row: total each month in a subquery grouped by the month, then avg() of the totals"
    )


def test_the_averaged_totals_are_of_the_period_asked(warehouse: Warehouse, catalog: SchemaCatalog):
    probe = warehouse_probe(warehouse)
    asked = "What was the average quarterly Advertising expense in 1996?"
    monthly = (
        "SELECT avg(t.total) FROM (SELECT month, sum(amount) AS total FROM expenses "
        "WHERE category = 'Advertising' AND year(month) = 1996 GROUP BY month) AS t"
    )
    assert period_average_problems(asked, monthly, catalog, probe) == [
        "the question asks for an average per quarter, but the averaged subquery totals per month: "
        "group it by the quarter"
    ]
    # Grouped by position or by output name, the key is read for what it computes.
    quarterly = (
        "SELECT avg(q) FROM (SELECT date_trunc('quarter', month) AS qt, sum(amount) AS q FROM expenses "
        "WHERE category = 'Advertising' AND year(month) = 1996 GROUP BY 1)"
    )
    assert period_average_problems(asked, quarterly, catalog, probe) == []
    assert (
        period_average_problems(asked, quarterly.replace("GROUP BY 1", "GROUP BY qt"), catalog, probe) == []
    )


def test_an_average_within_each_period_asked_by_period_is_a_breakdown(
    warehouse: Warehouse, catalog: SchemaCatalog
):
    asked = "What was the average order value per month in 1996?"
    by_month = (
        "SELECT strftime(o_orderdate, '%Y-%m') AS m, avg(o_totalprice) FROM orders "
        "WHERE year(o_orderdate) = 1996 GROUP BY m"
    )
    probe = warehouse_probe(warehouse)
    assert period_average_problems(asked, by_month, catalog, probe) == []
    assert period_average_problems(asked, by_month.replace("GROUP BY m", "GROUP BY 1"), catalog, probe) == []
    # Grouped by region, each region's average spreads over its months' rows: those are averaged wrongly.
    by_region = "SELECT region, avg(amount) FROM expenses WHERE year(month) = 1997 GROUP BY 1"
    assert period_average_problems("Average monthly expense by region in 1997", by_region, catalog, probe)
