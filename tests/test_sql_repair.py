"""Deterministic repairs of a model's SQL, and the checks that a breakdown names each thing once."""

from __future__ import annotations

import pytest

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.sql_analyst import SqlAnalyst
from atomwork.agents.sql_repair import repair_sql
from atomwork.models import ScriptedModel
from atomwork.tools.base import Table
from atomwork.tools.glossary import STANDARD
from atomwork.tools.warehouse import Warehouse

TOP_CUSTOMERS = "Who were the top 3 customers by revenue in 1996?"
RIGHT_TOP = (
    "SELECT c_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
    "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
    "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' "
    "GROUP BY c_name ORDER BY revenue DESC LIMIT 3"
)
JOINS = (
    "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
    "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' "
)


@pytest.mark.parametrize(
    ("broken", "change"),
    [
        # A defined measure written as a column: its aggregate takes its place.
        (f"SELECT c_name, revenue {JOINS} GROUP BY c_name ORDER BY revenue DESC LIMIT 3", "not a column"),
        # ... and with no GROUP BY, the other projections become the grouping.
        (f"SELECT c_name, revenue AS total {JOINS} ORDER BY total DESC LIMIT 3", "not a column"),
        # An aggregate made a window function inside a grouped query.
        (
            "SELECT c_name, sum(l_extendedprice * (1 - l_discount)) OVER (PARTITION BY c_custkey) AS revenue "
            f"{JOINS} GROUP BY c_name ORDER BY revenue DESC LIMIT 3",
            "not a window function",
        ),
        # Columns without their table's prefix, found in the aliased table or the query's tables.
        (
            "SELECT c.name, sum(l.extendedprice * (1 - l.discount)) AS revenue FROM lineitem l "
            "JOIN orders o ON l.l_orderkey = o.o_orderkey JOIN customer c ON o.o_custkey = c.c_custkey "
            "WHERE o.orderdate >= DATE '1996-01-01' AND o.orderdate < DATE '1997-01-01' "
            "GROUP BY c.name ORDER BY revenue DESC LIMIT 3",
            "is written l_extendedprice",
        ),
        # A column of a table never joined: the table joins on its declared key.
        (
            "SELECT c_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
            "JOIN orders ON l_orderkey = o_orderkey WHERE o_orderdate >= DATE '1996-01-01' "
            "AND o_orderdate < DATE '1997-01-01' GROUP BY c_name ORDER BY revenue DESC LIMIT 3",
            "is a column of customer",
        ),
        # Joins in an order where an ON names a table joined only later.
        (
            "SELECT c_name, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
            "JOIN customer ON o_custkey = c_custkey JOIN orders ON l_orderkey = o_orderkey "
            "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' "
            "GROUP BY c_name ORDER BY revenue DESC LIMIT 3",
            "joins reordered",
        ),
    ],
)
def test_repairs_turn_known_mistakes_into_the_right_query(warehouse, catalog, broken, change, rows):
    glossary = STANDARD.for_schema(catalog)
    with pytest.raises(Exception, match="Binder Error"):
        warehouse.explain(warehouse.validate(broken))
    repair = repair_sql(broken, catalog, glossary)
    assert repair is not None and any(change in c for c in repair.changes)
    assert rows(repair.sql) == rows(RIGHT_TOP)


def test_a_column_written_under_a_table_that_lacks_it_is_taken_from_the_one_that_has_it(catalog, rows):
    glossary = STANDARD.for_schema(catalog)
    written = (
        "SELECT c.clerk, count(*) AS orders FROM customer c JOIN orders o ON c.c_custkey = o.o_custkey "
        "GROUP BY c.clerk ORDER BY orders DESC, c.clerk LIMIT 3"
    )
    repair = repair_sql(written, catalog, glossary)
    assert repair is not None and repair.changes == ["o.o_clerk was written c.clerk"]
    right = (
        "SELECT o_clerk, count(*) AS orders FROM orders GROUP BY o_clerk "
        "ORDER BY orders DESC, o_clerk LIMIT 3"
    )
    assert rows(repair.sql) == rows(right)
    # Where two of the query's tables end a column that way, nothing is guessed.
    two = (
        "SELECT count(DISTINCT c.orderkey) FROM customer c JOIN orders o ON c.c_custkey = o.o_custkey "
        "JOIN lineitem l ON l.l_orderkey = o.o_orderkey"
    )
    assert repair_sql(two, catalog, glossary) is None


def test_a_window_over_everything_is_the_aggregate(warehouse, catalog, rows):
    glossary = STANDARD.for_schema(catalog)
    repair = repair_sql("SELECT count(*) OVER () AS orders FROM orders", catalog, glossary)
    assert repair is not None
    assert rows(repair.sql) == rows("SELECT count(*) FROM orders")


def test_an_aggregate_of_grouped_aggregates_is_taken_over_the_groups(warehouse, catalog, rows):
    glossary = STANDARD.for_schema(catalog)
    nested = "SELECT avg(count(*)) AS items_per_order FROM lineitem GROUP BY l_orderkey"
    repair = repair_sql(nested, catalog, glossary)
    assert repair is not None and "per group of l_orderkey" in repair.changes[0]
    per_order = "SELECT avg(n) FROM (SELECT count(*) AS n FROM lineitem GROUP BY l_orderkey)"
    assert rows(repair.sql) == rows(per_order)
    # Filters and joins stay with the groups; several outer aggregates share one inner one.
    spread = (
        "SELECT max(sum(l_quantity)) AS most, min(sum(l_quantity)) AS least FROM lineitem JOIN orders "
        "ON l_orderkey = o_orderkey WHERE o_orderpriority = '1-URGENT' GROUP BY o_custkey"
    )
    inner = (
        "SELECT sum(l_quantity) AS q FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "WHERE o_orderpriority = '1-URGENT' GROUP BY o_custkey"
    )
    fixed = repair_sql(spread, catalog, glossary)
    assert fixed is not None and rows(fixed.sql) == rows(f"SELECT max(q), min(q) FROM ({inner})")
    # Without groups, or beside a plain column, a nested aggregate has no one reading.
    assert repair_sql("SELECT avg(count(*)) AS n FROM lineitem", catalog, glossary) is None
    assert (
        repair_sql("SELECT o_custkey, avg(count(*)) FROM orders GROUP BY o_custkey", catalog, glossary)
        is None
    )


def test_the_analyst_answers_an_average_per_order_through_the_repair(warehouse, catalog):
    nested = "```sql\nSELECT avg(count(*)) AS items_per_order FROM lineitem GROUP BY l_orderkey\n```"
    model = ScriptedModel({"sql": [nested, nested]})
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer(
        "On average, how many line items does an order have?"
    )
    expected = warehouse.run_query(
        "SELECT avg(n) FROM (SELECT count(*) AS n FROM lineitem GROUP BY l_orderkey)", 1
    )
    assert answer.verified and answer.table.rows == expected.table.rows and len(model.calls) == 2


def test_no_repair_for_what_it_cannot_know(catalog):
    glossary = STANDARD.for_schema(catalog)
    # An unknown name that is no defined measure, an ambiguous bare 'name', and a column already right.
    assert repair_sql(f"SELECT c_name, margin {JOINS} GROUP BY c_name", catalog, glossary) is None
    ambiguous = "SELECT name FROM customer JOIN nation ON c_nationkey = n_nationkey"
    assert repair_sql(ambiguous, catalog, glossary) is None
    assert repair_sql(RIGHT_TOP, catalog, glossary) is None
    assert repair_sql("not sql at all (", catalog, glossary) is None


def test_the_analyst_runs_a_repaired_query_and_says_so(warehouse, catalog, rows):
    broken = f"```sql\nSELECT c_name, revenue {JOINS} GROUP BY c_name ORDER BY revenue DESC LIMIT 3\n```"
    model = ScriptedModel({"sql": [broken, f"```sql\n{RIGHT_TOP}\n```"]})
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer(TOP_CUSTOMERS)
    # The repair cost no model call: two samples, two calls, and they agree.
    assert answer.verified and len(model.calls) == 2
    assert answer.candidates[0].repairs and answer.table.rows == rows(RIGHT_TOP)
    assert any("repaired" in note for note in answer.notes)


def test_a_breakdown_names_each_thing_once_by_its_name(catalog):
    by_region = "Revenue by region for 1997"
    sql = (
        "SELECT r_regionkey AS region, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey WHERE o_orderdate >= DATE '1997-01-01' "
        "AND o_orderdate < DATE '1998-01-01' GROUP BY 1"
    )
    keys = Table(columns=["region", "revenue"], rows=[[0, 1.5], [1, 2.5]])
    problems = check_sql_answer(by_region, sql, keys, catalog)
    assert any("holds keys" in p and "region.r_name" in p for p in problems)
    # A key column beside the name column is harmless.
    both = Table(columns=["region", "region_name", "revenue"], rows=[[0, "ASIA", 1.5], [1, "EUROPE", 2.5]])
    assert not any("holds keys" in p for p in check_sql_answer(by_region, sql, both, catalog))

    twice = Table(
        columns=["c_name", "revenue"], rows=[["Customer#1", 3.0], ["Customer#1", 2.0], ["Customer#2", 1.0]]
    )
    assert any("more than once" in p for p in check_sql_answer(TOP_CUSTOMERS, RIGHT_TOP, twice, catalog))
    # Several orders of one customer are rows of their own when the result carries the order key.
    orders = Table(
        columns=["o_orderkey", "c_name", "value"], rows=[[1, "Customer#1", 3.0], [2, "Customer#1", 2.0]]
    )
    assert not any("more than once" in p for p in check_sql_answer(TOP_CUSTOMERS, RIGHT_TOP, orders, catalog))


def test_a_year_comparison_needs_a_figure_per_year(catalog):
    question = "Compare revenue in 1996 and 1997 by region."
    sql = (
        "SELECT r_name, sum(l_extendedprice) AS a, sum(l_extendedprice) AS b FROM lineitem WHERE 1996 < 1997"
    )
    same = Table(
        columns=["region", "revenue_1996", "revenue_1997"], rows=[["ASIA", 1.0, 1.0], ["EUROPE", 2.0, 2.0]]
    )
    one = Table(columns=["region", "revenue"], rows=[["ASIA", 1.0], ["EUROPE", 2.0]])
    right = Table(
        columns=["region", "revenue_1996", "revenue_1997"], rows=[["ASIA", 1.0, 3.0], ["EUROPE", 2.0, 4.0]]
    )
    long = Table(columns=["region", "year", "revenue"], rows=[["ASIA", 1996, 1.0], ["ASIA", 1997, 3.0]])
    assert any("same figures" in p for p in check_sql_answer(question, sql, same, catalog))
    assert any("no figure per year" in p for p in check_sql_answer(question, sql, one, catalog))
    for table in (right, long):
        assert not any(
            "per year" in p or "same figures" in p for p in check_sql_answer(question, sql, table, catalog)
        )
    # Growth may be one figure.
    growth = Table(columns=["growth_pct"], rows=[[3.5]])
    assert not any(
        "per year" in p for p in check_sql_answer("Revenue growth from 1996 to 1997?", sql, growth, catalog)
    )


def test_at_least_and_at_most_rank_nothing(catalog):
    from atomwork.agents.sql_hints import answer_shape

    assert answer_shape("Which customers ordered at least 5 times in 1996? List them.") is None
    assert "LIMIT 1" in (answer_shape("Which customer ordered the least in 1996?") or "")


def test_a_month_is_not_its_first_day(catalog):
    question = "What was the revenue of line items shipped in September 1995?"
    one_day = (
        "SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
        "WHERE l_shipdate = '1995-09-01' AND l_shipdate < '1995-10-01'"
    )
    table = Table(columns=["revenue"], rows=[[1.0]])
    assert any("single day" in p for p in check_sql_answer(question, one_day, table, catalog))
    # A day the question names, and a monthly column's first day, are compared rightly.
    assert not any(
        "single day" in p for p in check_sql_answer("Revenue on September 1, 1995", one_day, table, catalog)
    )
    monthly = "SELECT sum(amount) AS expenses FROM expenses WHERE month = DATE '1997-01-01'"
    assert not any(
        "single day" in p for p in check_sql_answer("Expenses in January 1997", monthly, table, catalog)
    )


def test_a_return_flag_is_a_column_not_a_request_to_flag():
    from atomwork.agents.router import is_single_question

    assert is_single_question(
        "What percentage of the line items shipped in 1995 were returned (return flag R)?"
    )
    assert not is_single_question("Look at sales by region and flag anomalies")


def test_a_repaired_top_customers_answer_completes(warehouse, rows):
    from atomwork.result import StopReason
    from atomwork.sdk import Atomwork

    # The model writes c_name unaliased: the final coverage check finds "customer" in the grouped SQL.
    broken = f"```sql\nSELECT c_name, revenue {JOINS} GROUP BY c_name ORDER BY revenue DESC LIMIT 3\n```"
    session = Atomwork(
        model=ScriptedModel({"sql": [broken, broken]}), warehouse=warehouse, save_runs=False, memory=False
    )
    result = session.run(TOP_CUSTOMERS)
    assert result.stop_reason == StopReason.COMPLETED
    assert result.outcomes["t1"].result.table.rows == rows(RIGHT_TOP)


def _deals(tmp_path, rep_territories: str) -> Warehouse:
    import duckdb

    path = tmp_path / "deals.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE accounts (account_id INTEGER, territory VARCHAR)")
        db.execute("CREATE TABLE sales_reps (rep_id INTEGER, territory VARCHAR)")
        db.execute(
            "CREATE TABLE opportunities (id INTEGER, account_id INTEGER, rep_id INTEGER, amount DOUBLE)"
        )
        db.execute("INSERT INTO accounts VALUES (1, 'West'), (2, 'East')")
        db.execute(f"INSERT INTO sales_reps VALUES {rep_territories}")
        db.execute("INSERT INTO opportunities VALUES (1, 1, 1, 10), (2, 2, 2, 5), (3, 1, 1, 1)")
    return Warehouse.open(path)


@pytest.mark.parametrize(
    ("reps", "repaired"), [("(1, 'West'), (2, 'East')", True), ("(1, 'East'), (2, 'West')", False)]
)
def test_a_column_two_tables_hold_is_joined_only_if_both_agree(tmp_path, reps, repaired):
    from atomwork.agents.sql_analyst import SqlAnswerError

    broken = "```sql\nSELECT territory, sum(amount) AS value FROM opportunities GROUP BY territory\n```"
    with _deals(tmp_path, reps) as deals:
        analyst = SqlAnalyst(deals, ScriptedModel({"sql": [broken] * 9}), max_retries=0)
        if repaired:
            answer = analyst.answer("Deal value by territory")
            assert sorted(answer.table.rows) == [["East", 5.0], ["West", 11.0]]
            assert "territory is a column of" in answer.candidates[0].repairs[0]
        else:
            # The account's and the rep's territory differ: no choice is made for the user.
            with pytest.raises(SqlAnswerError, match="territory"):
                analyst.answer("Deal value by territory")


def test_named_periods_same_keys_and_the_next_years_first_day(catalog):
    table = Table(columns=["n"], rows=[[1]])
    q1 = "How many orders were placed in Q1 1996?"
    january = "SELECT count(*) AS n FROM orders WHERE o_orderdate BETWEEN '1996-01-01' AND '1996-01-31'"
    quarter = (
        "SELECT count(*) AS n FROM orders WHERE o_orderdate >= '1996-01-01' AND o_orderdate < '1996-04-01'"
    )
    assert any("Q1 1996" in p for p in check_sql_answer(q1, january, table, catalog))
    assert not any("Q1 1996" in p for p in check_sql_answer(q1, quarter, table, catalog))
    # A range's end and a point in time are no periods of their own.
    ranged = "Orders from January to June 1996"
    assert not any("June" in p for p in check_sql_answer(ranged, january, table, catalog))

    spanning = (
        "SELECT count(*) AS n FROM orders WHERE o_orderdate >= '1996-01-01' AND o_orderdate <= '1997-01-01'"
    )
    assert any(
        "after 1996" in p for p in check_sql_answer("How many orders in 1996?", spanning, table, catalog)
    )

    local = "Revenue in 1994 from suppliers in the same nation as their customers"
    base = (
        "SELECT sum(l_extendedprice) AS revenue FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "JOIN customer ON o_custkey = c_custkey JOIN supplier ON l_suppkey = s_suppkey "
        "JOIN nation ON c_nationkey = n_nationkey "
        "WHERE o_orderdate >= '1994-01-01' AND o_orderdate < '1995-01-01'"
    )
    assert any("same nation" in p for p in check_sql_answer(local, base, table, catalog))
    assert not any(
        "same nation" in p
        for p in check_sql_answer(local, base + " AND s_nationkey = c_nationkey", table, catalog)
    )
    via_nation = base.replace(
        "JOIN nation ON c_nationkey", "JOIN nation ON s_nationkey = n_nationkey AND c_nationkey"
    )
    assert not any("same nation" in p for p in check_sql_answer(local, via_nation, table, catalog))


def test_results_agree_only_when_rows_pair_the_same_labels_and_figures():
    from atomwork.agents.sql_analyst import results_agree

    west_first = Table(columns=["territory", "value"], rows=[["West", 11.0], ["East", 5.0]])
    reordered = Table(columns=["t", "v"], rows=[["East", 5.0], ["West", 11.0]])
    swapped = Table(columns=["territory", "value"], rows=[["West", 5.0], ["East", 11.0]])
    assert results_agree(west_first, reordered)
    assert not results_agree(west_first, swapped)


def test_columns_under_swapped_aliases_are_requalified(catalog, rows):
    swapped = (
        "SELECT avg(T2.l_shipdate - T1.o_orderdate) AS days FROM lineitem AS T1 "
        "JOIN orders AS T2 ON T1.l_orderkey = T2.o_orderkey"
    )
    repair = repair_sql(swapped, catalog, STANDARD.for_schema(catalog))
    assert repair is not None and "t1.l_shipdate was written t2.l_shipdate" in repair.changes
    right = "SELECT avg(l_shipdate - o_orderdate) FROM lineitem JOIN orders ON l_orderkey = o_orderkey"
    assert rows(repair.sql) == rows(right)
