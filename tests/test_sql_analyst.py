"""The SQL analyst, its answer checks and the single-question fast path, with a scripted model."""

from __future__ import annotations

import math
import re

import pytest

from atomwork.agents.answer_checks import check_sql_answer, grouped_by, named_values, question_years
from atomwork.agents.router import is_single_question
from atomwork.agents.sql_analyst import (
    ASK_TOOL,
    LOGPROB_ALTERNATIVES,
    MAX_CALLS,
    REPLY_START,
    RETRY_TEMPERATURE,
    SURE,
    TEMPERATURES,
    SqlAnalyst,
    SqlAnswerError,
    extract_sql,
    laid_out,
    period_hints,
    query_repeat_chance,
    results_agree,
)
from atomwork.agents.sql_hints import from_clause, question_notes
from atomwork.goal import breakdowns
from atomwork.models import ScriptedModel
from atomwork.models.base import Completion
from atomwork.models.logprobs import TokenAlternative, TokenLogprob
from atomwork.models.scripted import FunctionModel, ModelCallInfo
from atomwork.result import StopReason
from atomwork.sdk import Atomwork
from atomwork.tools.base import Table
from atomwork.tools.glossary import STANDARD
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import Warehouse

COUNT_ORDERS = "SELECT count(*) AS orders FROM orders"
SHIPPED_1995 = (
    "SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
    "WHERE l_shipdate >= DATE '1995-01-01' AND l_shipdate < DATE '1996-01-01'"
)
ORDERED_1995 = (
    "SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem JOIN orders "
    "ON l_orderkey = o_orderkey WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'"
)


def _checked(warehouse: Warehouse, catalog: SchemaCatalog, question: str, sql: str) -> list[str]:
    """The answer checks' problems with ``sql``'s result for ``question``, with the standard glossary."""
    return check_sql_answer(question, sql, warehouse.query(sql), catalog, glossary=STANDARD)


def fenced(sql: str) -> str:
    return f"Here is the query:\n```sql\n{sql}\n```"


def sequence(*replies: str) -> ScriptedModel:
    return ScriptedModel({"sql": list(replies)})


# -- pieces ---------------------------------------------------------------------------------


def test_extract_sql_from_fences_prose_and_comments():
    assert extract_sql(fenced("SELECT 1 AS x")) == "SELECT 1 AS x"
    assert extract_sql("Sure. SELECT 2 AS y; -- done") == "SELECT 2 AS y"
    commented = "```sql\n-- tables: orders\nSELECT count(*) FROM orders\n```"
    assert extract_sql(commented) == "-- tables: orders\nSELECT count(*) FROM orders"
    assert extract_sql("```\nWITH a AS (SELECT 1 AS v) SELECT v FROM a\n```").startswith("WITH a")


def test_results_agree_ignores_names_order_and_extra_columns():
    a = Table(columns=["region", "revenue"], rows=[["ASIA", 10.0], ["EUROPE", 12.5]])
    b = Table(columns=["r_name", "rev", "orders"], rows=[["EUROPE", 12.5, 3], ["ASIA", 10.0, 4]])
    assert results_agree(a, b)
    assert not results_agree(a, Table(columns=["region", "revenue"], rows=[["ASIA", 10.0], ["EUROPE", 12.6]]))
    assert not results_agree(a, Table(columns=["region", "revenue"], rows=[["ASIA", 10.0]]))
    assert results_agree(Table(columns=["n"], rows=[[15000]]), Table(columns=["orders"], rows=[[15000.0]]))
    # year(d) and date_trunc('year', d) label the same periods
    by_year = Table(columns=["year", "revenue"], rows=[[1992, 3.0], [1993, 4.0]])
    truncated = Table(columns=["year", "revenue"], rows=[["1992-01-01 00:00:00", 3.0], ["1993-01-01", 4.0]])
    assert results_agree(by_year, truncated)
    assert not results_agree(by_year, Table(columns=["y", "r"], rows=[[1992, 3.0], [1994, 4.0]]))
    monthly = Table(columns=["month", "orders"], rows=[["1996-01-01", 5], ["1996-02-01", 6]])
    assert results_agree(monthly, Table(columns=["month", "orders"], rows=[["1996-01", 5], ["1996-02", 6]]))


def test_schema_catalog_lists_values_ranges_and_joins(catalog: SchemaCatalog):
    ddl = catalog.ddl()
    assert "CREATE TABLE orders" in ddl and "'AUTOMOBILE'" in ddl and "'1-URGENT'" in ddl
    assert "-- from 1992-01-01" in ddl  # o_orderdate range
    joins = {(j.left, j.right) for j in catalog.joins}
    assert ("lineitem.l_orderkey", "orders.o_orderkey") in joins
    assert ("nation.n_regionkey", "region.r_regionkey") in joins
    assert "warehouse_info" not in ddl


def test_named_values_and_period_hints(catalog: SchemaCatalog):
    found = named_values("How many urgent orders did AUTOMOBILE customers in the Middle East place?", catalog)
    assert found["1-URGENT"] == "orders.o_orderpriority"
    assert found["AUTOMOBILE"] == "customer.c_mktsegment"
    assert "MIDDLE EAST" in found
    assert catalog.data_end is not None
    hints = period_hints("Revenue last quarter", catalog.data_end)
    assert len(hints) == 1 and hints[0].start.month in (1, 4, 7, 10)
    assert period_hints("Revenue in 1995", catalog.data_end) == []


@pytest.mark.parametrize(
    ("question", "sql", "problem"),
    [
        ("Total net revenue of line items shipped in 1995?", ORDERED_1995, "l_shipdate"),
        ("How many orders were placed in 1996?", COUNT_ORDERS, "1996"),
        (
            "How many customers are in the AUTOMOBILE segment?",
            "SELECT count(*) AS n FROM customer",
            "AUTOMOBILE",
        ),
        ("How many orders are there?", "SELECT sum(o_totalprice) AS v FROM orders", None),
        ("What is the average order value?", "SELECT sum(o_totalprice) AS v FROM orders", "average"),
        ("Which region had the highest revenue in 1995?", "SELECT 'ASIA' AS r, 1995 AS y", "region"),
        ("Revenue by region for 1995", "SELECT 1995 AS year_filter", "1995"),
        (
            "How many orders are recorded in total?",
            "SELECT count(*) AS n FROM orders WHERE o_orderdate >= DATE '1995-01-01'",
            "does not mention",
        ),
        (
            "How many orders were placed in 1995?",
            "SELECT count(*) AS n FROM orders WHERE o_orderdate >= DATE '1995-01-01' "
            "AND o_orderdate < DATE '1995-12-31'",
            "leaves out 1995-12-31",
        ),
        (
            "What was the total order value in 1995?",
            "SELECT sum(o_totalprice) AS v FROM orders WHERE o_orderdate = DATE '1995-01-01'",
            "only part of it",
        ),
        (
            "What was the total order value in 1995?",
            "SELECT sum(o_totalprice) AS v FROM orders "
            "WHERE o_orderdate BETWEEN '1995-01-01' AND '1995-06-30'",
            "only part of it",
        ),
        (
            "What was the total order value in March 1995?",
            "SELECT sum(o_totalprice) AS v FROM orders WHERE o_orderdate >= DATE '1995-03-01' "
            "AND o_orderdate < DATE '1995-04-01'",
            None,
        ),
        (
            "On average, how many days passed between ordering and shipping in 1995?",
            "SELECT avg(l_shipdate - o_orderdate) AS days FROM lineitem "
            "JOIN orders ON l_orderkey = o_orderkey "
            "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'",
            None,
        ),
        (
            "How many orders were placed in 1995?",
            "SELECT count(*) AS n FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
            "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'",
            "repeats each orders row once per lineitem row",
        ),
        (
            "Revenue by region for 1995",
            "SELECT region, sum(l_extendedprice) AS revenue FROM lineitem "
            "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
            "JOIN nation ON c_nationkey = n_nationkey "
            "JOIN region ON n_regionkey = r_regionkey "
            "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01' GROUP BY region",
            "whole table rows",
        ),
        (
            "For orders placed in 1994, how many were urgent?",
            "SELECT count(*) AS n FROM orders WHERE o_orderpriority = '1-URGENT'",
            "1994",
        ),
        (  # regions under a column named "nation" are still regions
            "Top 3 nations by total supplier account balance",
            "SELECT r_name AS nation, sum(s_acctbal) AS balance FROM supplier JOIN nation ON "
            "s_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey GROUP BY r_name "
            "ORDER BY balance DESC LIMIT 3",
            "nation names",
        ),
        (  # orders are placed on their order date, not their ship date
            "How many orders placed in Q3 1993 had a line item received after its commit date?",
            "SELECT count(DISTINCT l_orderkey) AS orders FROM lineitem WHERE l_receiptdate > l_commitdate "
            "AND l_shipdate >= DATE '1993-07-01' AND l_shipdate < DATE '1993-10-01'",
            "o_orderdate",
        ),
        (  # a share that sums quantities over a count of rows is no share (374%)
            "What percentage of line items shipped in 1997 went by RAIL?",
            "SELECT sum(CASE WHEN l_shipmode = 'RAIL' THEN l_quantity ELSE 0 END) * 100.0 / count(*) AS pct "
            "FROM lineitem WHERE l_shipdate >= DATE '1997-01-01' AND l_shipdate < DATE '1998-01-01'",
            "between 0 and 100%",
        ),
        (
            "What percentage of line items shipped in 1997 went by RAIL?",
            "SELECT sum(CASE WHEN l_shipmode = 'RAIL' THEN 1 ELSE 0 END) * 100.0 / count(*) AS pct "
            "FROM lineitem WHERE l_shipdate >= DATE '1997-01-01' AND l_shipdate < DATE '1998-01-01'",
            None,
        ),
        (  # Europe's revenue over all gross revenue mixes two measures
            "What share of 1995 revenue came from customers in the EUROPE region, in percent?",
            "SELECT sum(CASE WHEN r_name = 'EUROPE' THEN l_extendedprice * (1 - l_discount) ELSE 0 END) "
            "* 100 / sum(l_extendedprice) AS pct FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
            "JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey "
            "JOIN region ON n_regionkey = r_regionkey "
            "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'",
            "both must sum the same measure",
        ),
        (  # the part's condition in WHERE makes the whole the part
            "What share of 1995 revenue came from customers in the EUROPE region, in percent?",
            "SELECT 100 * sum(l_extendedprice * (1 - l_discount)) / sum(l_extendedprice) AS pct "
            "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
            "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
            "WHERE r_name = 'EUROPE' AND o_orderdate >= DATE '1995-01-01' "
            "AND o_orderdate < DATE '1996-01-01'",
            "filters the whole query",
        ),
        (  # a half year is not the whole year
            "How many orders were placed in the first half of 1996?",
            "SELECT count(*) AS orders FROM orders "
            "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01'",
            "first half of 1996, 1996-01-01 up to 1996-07-01",
        ),
        (  # "shipped" dates by the ship date even with no period named
            "How many line items were shipped on the same day as their commit date?",
            "SELECT count(*) AS n FROM lineitem WHERE l_commitdate = l_receiptdate",
            "l_shipdate",
        ),
        (
            "How many line items were shipped on the same day as their commit date?",
            "SELECT count(*) AS n FROM lineitem WHERE l_shipdate = l_commitdate",
            None,
        ),
        (  # a distinct count of a label the question never mentions counts something else
            "How many orders were placed in 1995?",
            "SELECT count(DISTINCT c_name) AS orders FROM orders JOIN customer ON o_custkey = c_custkey "
            "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'",
            "counts distinct customer.c_name",
        ),
        (  # a window partitioned by the groups sees one row each
            "Number of orders per month in 1996",
            "SELECT strftime(o_orderdate, '%Y-%m') AS month, count(*) OVER (PARTITION BY "
            "strftime(o_orderdate, '%Y-%m')) AS orders FROM orders WHERE o_orderdate >= DATE '1996-01-01' "
            "AND o_orderdate < DATE '1997-01-01' GROUP BY month ORDER BY month",
            "one per group",
        ),
        (  # the question's own definition names its columns
            "What is the total value of our inventory, i.e. available quantity times supply cost?",
            "SELECT sum(ps_supplycost) AS inventory_value FROM partsupp",
            "ps_availqty",
        ),
        (
            "What is the total value of our inventory, i.e. available quantity times supply cost?",
            "SELECT sum(ps_availqty * ps_supplycost) AS inventory_value FROM partsupp",
            None,
        ),
        (  # an average over one row is the count itself
            "What was the average number of orders per customer in 1996?",
            "SELECT avg(n) AS orders_per_customer FROM (SELECT count(*) AS n FROM orders "
            "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01') AS s",
            "single row",
        ),
        (
            "What was the average number of orders per customer in 1996?",
            "SELECT avg(n) AS orders_per_customer FROM (SELECT o_custkey, count(*) AS n FROM orders "
            "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01' "
            "GROUP BY o_custkey) s",
            None,
        ),
        (  # the "overall" share divides the group's own late count by all line items
            "Which ship mode had the highest share of late deliveries in 1996, and how does it compare "
            "with the overall share?",
            "SELECT l_shipmode, sum(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) * 100.0 "
            "/ count(*) AS share, sum(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) * 100.0 "
            "/ (SELECT count(*) FROM lineitem WHERE year(l_shipdate) = 1996) AS overall_share FROM lineitem "
            "WHERE year(l_shipdate) = 1996 GROUP BY l_shipmode ORDER BY share DESC LIMIT 1",
            "group's own",
        ),
        (  # five asked for, one given
            "Which 5 nations had the highest revenue in 1995?",
            "SELECT n_name AS nation, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
            "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
            "JOIN nation ON c_nationkey = n_nationkey WHERE o_orderdate >= DATE '1995-01-01' "
            "AND o_orderdate < DATE '1996-01-01' GROUP BY n_name ORDER BY revenue DESC LIMIT 1",
            "asks for 5",
        ),
        (  # the most orders is a count of orders, not their value
            "Customers of which nation placed the most orders in 1997?",
            "SELECT n_name, sum(o_totalprice) AS revenue FROM orders JOIN customer ON o_custkey = c_custkey "
            "JOIN nation ON c_nationkey = n_nationkey WHERE o_orderdate >= DATE '1997-01-01' "
            "AND o_orderdate < DATE '1998-01-01' GROUP BY n_name ORDER BY revenue DESC LIMIT 1",
            "the most orders (a count)",
        ),
        (  # "each manufacturer" names no single one of them
            "How many parts does each manufacturer make?",
            "SELECT p_mfgr AS manufacturer, count(*) AS parts FROM part GROUP BY p_mfgr ORDER BY p_mfgr",
            None,
        ),
        (
            "How many parts does Manufacturer#2 make?",
            "SELECT count(*) AS parts FROM part",
            "Manufacturer#2",
        ),
    ],
)
def test_answer_checks_catch_mismatches(warehouse, catalog, question, sql, problem):
    table = warehouse.query(sql)
    problems = check_sql_answer(question, sql, table, catalog)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_answer_checks_accept_right_queries(warehouse, catalog):
    cases = [
        ("Total net revenue of line items shipped in 1995?", SHIPPED_1995),
        ("How many orders are recorded in total?", COUNT_ORDERS),
        (
            "How many customers belong to the AUTOMOBILE market segment?",
            "SELECT count(*) AS customers FROM customer WHERE c_mktsegment = 'AUTOMOBILE'",
        ),
        (
            "Which region had the highest revenue in 1996?",
            "SELECT r_name AS region, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
            "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey JOIN nation "
            "ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey WHERE "
            "year(o_orderdate) = 1996 GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
        ),
        (
            "Average order value by order priority in 1997",
            "SELECT o_orderpriority AS priority, avg(o_totalprice) AS avg_value FROM orders "
            "WHERE year(o_orderdate) = 1997 GROUP BY 1 ORDER BY 1",
        ),
    ]
    for question, sql in cases:
        assert check_sql_answer(question, sql, warehouse.query(sql), catalog) == [], question


def test_a_defined_measure_must_be_computed_its_way(warehouse, catalog):
    glossary = STANDARD.for_schema(catalog)
    budget = (
        "SELECT region, sum(revenue_budget) AS revenue FROM budgets "
        "WHERE month >= DATE '1997-01-01' AND month < DATE '1998-01-01' GROUP BY region"
    )
    table = warehouse.query(budget)
    problems = check_sql_answer("Revenue by region for 1997", budget, table, catalog, glossary=glossary)
    assert any("l_extendedprice" in p for p in problems), problems
    # Asking for the budget itself is a different measure.
    asked = "Revenue budget by region for 1997"
    assert check_sql_answer(asked, budget, table, catalog, glossary=glossary) == []


def test_labels_from_the_wrong_table_and_a_missing_overall_figure_fail(warehouse, catalog):
    by_region = (
        "SELECT r_name AS nation, count(*) AS suppliers FROM supplier "
        "JOIN nation ON s_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "GROUP BY r_name ORDER BY suppliers DESC LIMIT 1"
    )
    question = "Which nation has the most suppliers?"
    problems = check_sql_answer(question, by_region, warehouse.query(by_region), catalog)
    assert any("'ASIA' is a value of" in p and "not of nation" in p for p in problems), problems
    by_nation = by_region.replace("r_name", "n_name").replace(" JOIN region ON n_regionkey = r_regionkey", "")
    assert check_sql_answer(question, by_nation, warehouse.query(by_nation), catalog) == []
    late = (
        "SELECT l_shipmode AS mode, "
        "100 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) AS late "
        "FROM lineitem WHERE l_shipdate >= DATE '1996-01-01' AND l_shipdate < DATE '1997-01-01' "
        "GROUP BY l_shipmode ORDER BY late DESC LIMIT 1"
    )
    asked = (
        "Which ship mode had the highest share of late deliveries in 1996, "
        "and how does it compare with the overall share?"
    )
    problems = check_sql_answer(asked, late, warehouse.query(late), catalog)
    assert any("overall" in p for p in problems), problems


def test_a_won_or_lost_outcome_names_its_stage(tmp_path):
    import duckdb

    path = tmp_path / "crm.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute("CREATE TABLE deals (id INTEGER, stage VARCHAR, amount DOUBLE)")
        db.execute(
            "INSERT INTO deals VALUES (1, 'Closed Won', 10), (2, 'Closed Lost', 5), (3, 'Prospecting', 1)"
        )
        db.execute("ALTER TABLE deals ADD COLUMN created_date DATE")
        db.execute("ALTER TABLE deals ADD COLUMN close_date DATE")
    with Warehouse.open(path) as crm:
        deals = SchemaCatalog.read(crm)
    assert named_values("How many deals did we win?", deals) == {"Closed Won": "deals.stage"}
    assert named_values("Value of the deals we lost", deals) == {"Closed Lost": "deals.stage"}
    assert named_values("How many deals are there?", deals) == {}
    # The notes say where the outcome lives, and that a deal won in a year closed in it.
    notes = question_notes("Won deal value by territory for 2023", deals, STANDARD.for_schema(deals))
    assert "'Closed Won' is a value of deals.stage" in notes
    assert any("close_date >= DATE '2023-01-01'" in n for n in notes)


def test_an_empty_result_and_a_year_as_answer_fail(warehouse, catalog):
    empty = "SELECT count(*) AS n FROM orders WHERE o_totalprice < 0 GROUP BY o_orderstatus"
    assert check_sql_answer("How many orders?", empty, warehouse.query(empty), catalog) == [
        "the query returned no rows"
    ]


# -- the analyst ----------------------------------------------------------------------------


def test_two_agreeing_queries_verify_the_answer(warehouse, catalog):
    model = sequence(fenced(COUNT_ORDERS), fenced("SELECT count(o_orderkey) AS n FROM orders"))
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer("How many orders are recorded in total?")
    assert answer.verified and answer.table.rows == [[15000]]
    assert model.purposes() == ["sql", "sql"]
    # Same cached prompt both times; the second query is sampled, not a repeat of the first.
    prompts = [c.prompt for c in model.calls]
    assert prompts[0] == prompts[1]
    assert [c.variant for c in answer.candidates] == [0, 1]


def test_notes_are_drafted_from_as_the_model_lays_out_its_query():
    note = (
        "- join: FROM lineitem JOIN orders ON l_orderkey = o_orderkey WHERE o_orderdate >= DATE '1995-01-01'"
    )
    drafted = laid_out(note)
    # The note as written (a query may quote it on one line), then with each clause on its own line.
    assert drafted.startswith(note + "\n")
    assert drafted.endswith(
        "FROM lineitem\nJOIN orders ON l_orderkey = o_orderkey\nWHERE o_orderdate >= DATE '1995-01-01'"
    )
    assert laid_out("Question: How many orders are there?") == "Question: How many orders are there?"


def test_later_samples_and_corrections_are_predicted_from_the_reply_before(warehouse, catalog):
    replies = [fenced("SELECT count(*) AS n FROM order_table"), fenced(COUNT_ORDERS), fenced(COUNT_ORDERS)]
    asked: list[ModelCallInfo] = []

    def reply(info: ModelCallInfo) -> str:
        asked.append(info)
        return replies[info.index]

    answer = SqlAnalyst(warehouse, FunctionModel(reply), catalog=catalog).answer("How many orders are there?")
    assert answer.verified
    # The first query has nothing to go on; its correction and the second sample reuse the reply before.
    assert [info.prediction for info in asked] == [None, replies[0], replies[1]]
    # Every call may quote the question and its notes (the first has nothing else to draft from).
    question = str(asked[0].messages[1].content)
    assert question.startswith("Question: How many orders") and {info.lookup for info in asked} == {
        laid_out(question)
    }
    # A greedy correction tends to repeat the failed query: corrections are sampled.
    assert [info.temperature for info in asked] == [0.0, RETRY_TEMPERATURE, TEMPERATURES[1]]


def test_disagreement_asks_a_third_query_and_takes_the_majority(warehouse, catalog):
    model = sequence(fenced(SHIPPED_1995), fenced(ORDERED_1995), fenced(SHIPPED_1995))
    question = "What was the total net revenue of all line items shipped in 1995?"
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer(question)
    # The order-date query is corrected by the checks' feedback before it can disagree.
    assert answer.verified
    assert "l_shipdate" in answer.sql


def test_no_agreement_is_reported_unverified(warehouse, catalog):
    model = sequence(
        fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'F'"),
        fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'O'"),
        fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'P'"),
    )
    answer = SqlAnalyst(warehouse, model, catalog=catalog, max_retries=0).answer("How many orders are there?")
    assert not answer.verified
    assert any("different figures" in n for n in answer.notes)
    assert len(answer.candidates) == 3


def corrected_twice() -> ScriptedModel:
    """A model whose query fails twice (a missing table, then a write) before it is right."""
    return sequence(
        fenced("SELECT count(*) AS n FROM order_table"),
        fenced("DELETE FROM orders"),
        fenced(COUNT_ORDERS),
        fenced(COUNT_ORDERS),
    )


def test_sql_errors_go_back_to_the_model_at_most_twice(warehouse, catalog):
    model = corrected_twice()
    answer = SqlAnalyst(warehouse, model, catalog=catalog, max_calls=4).answer(
        "How many orders are recorded in total?"
    )
    assert answer.verified
    feedback = [c.prompt for c in model.calls][1]
    assert "order_table" in feedback and "failed" in feedback
    assert "only read-only SELECT" in [c.prompt for c in model.calls][2]


def test_a_question_takes_at_most_max_calls_model_calls(warehouse, catalog):
    model = corrected_twice()
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer("How many orders are recorded in total?")
    # The budget (MAX_CALLS) is spent on the query and its two corrections: the third one ran and
    # passed, but no second sample was left to confirm it, and the user is told why.
    assert len(model.calls) == MAX_CALLS == 3
    assert not answer.verified and answer.table.rows == [[15000]]
    assert any("stopped after 3 model calls" in n for n in answer.notes)


def test_nothing_runnable_is_an_error_not_an_answer(warehouse, catalog):
    model = sequence(fenced("SELECT nope FROM nowhere"))
    with pytest.raises(SqlAnswerError, match="no query could be run"):
        SqlAnalyst(warehouse, model, catalog=catalog, max_retries=1).answer("How many orders?")


# -- routing and the engine -----------------------------------------------------------------


def test_router_sends_questions_to_sql_and_multi_step_work_to_the_planner():
    assert is_single_question("How many orders are recorded in total?")
    assert is_single_question("Revenue by region for 1997")
    assert is_single_question("How many orders were placed in 1995, and what was their total value?")
    assert is_single_question("Compare won deal value in 2022 and 2023 for each territory.")
    assert not is_single_question("Compare 1996 and 1997 revenue by region and flag unusual regions")
    assert not is_single_question("Analyze last quarter's sales by region, flag anomalies and draft a report")
    assert not is_single_question("Which regions look unusual in 1996 revenue? Write a memo")
    # An email campaign is a channel of the data; an email to someone is a deliverable.
    assert is_single_question("What was the average number of conversions per campaign for email campaigns?")
    assert not is_single_question("Write a short email to the sales director with 1997 revenue by region")
    assert not is_single_question("Revenue by region for 1997 and an email to the CFO")
    assert not is_single_question("Email revenue by region for 1997 to the CFO")


def test_a_question_costs_two_model_calls_and_no_plan(warehouse):
    model = sequence(fenced(COUNT_ORDERS), fenced("SELECT count(*) AS orders FROM orders"))
    session = Atomwork(model=model, warehouse=warehouse, save_runs=False, memory=False)
    result = session.run("How many orders are recorded in total?")
    assert result.stop_reason == StopReason.COMPLETED
    assert [t.tool for t in result.plan.tasks] == [ASK_TOOL]
    assert model.purposes() == ["sql", "sql"]
    assert "15,000" in result.answer and "Verified" in result.answer
    assert result.outcomes["t1"].result.provenance.sql == COUNT_ORDERS


def test_an_unverifiable_answer_is_not_reported_completed(warehouse):
    model = sequence(
        fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'F'"),
        fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'O'"),
        fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'P'"),
    )
    session = Atomwork(model=model, warehouse=warehouse, save_runs=False, memory=False)
    result = session.run("How many orders are there?")
    assert result.stop_reason == StopReason.UNVERIFIED and not result.ok
    assert "Not verified" in result.answer


def test_a_question_whose_sql_never_runs_fails_honestly_without_replanning(warehouse):
    model = sequence(fenced("SELECT nope FROM nowhere"))
    session = Atomwork(model=model, warehouse=warehouse, save_runs=False, memory=False)
    result = session.run("How many orders are recorded in total?")
    assert result.stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED and not result.ok
    assert "plan" not in model.purposes() and result.replans == 0
    assert "no query could be run" in (result.outcomes["t1"].error or "")
    # The answer says so, and why, rather than being blank.
    assert result.answer.startswith("No answer: no step produced a result that passed its checks")
    assert "- t1 (ask_warehouse): failed: no query could be run" in result.answer


# -- per-question notes ----------------------------------------------------------------------


def test_join_hint_follows_the_glossary_route(catalog: SchemaCatalog):
    glossary = STANDARD.for_schema(catalog)
    by_region = from_clause("Revenue by region for 1997", catalog, glossary)
    assert by_region == (
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey"
    )
    by_supplier = from_clause("Revenue by supplier nation in 1995", catalog, glossary)
    assert by_supplier is not None and "s_nationkey = n_nationkey" in by_supplier
    assert "customer" not in by_supplier
    # Shipped dates the line items themselves: no join to orders for the period.
    assert from_clause("Total revenue of line items shipped in 1995", catalog, glossary) is None


def test_notes_name_look_alikes_and_the_answer_shape(catalog: SchemaCatalog):
    notes = question_notes("Revenue by region for 1997", catalog, STANDARD.for_schema(catalog))
    assert "budgets.revenue_budget is not revenue" in notes
    assert "answer shape: one row per region, no LIMIT" in notes
    assert any("1998-01-01" in n for n in notes)
    top = question_notes("Top 5 customers by revenue in 1996", catalog, STANDARD.for_schema(catalog))
    assert "answer shape: the name(s) with the measure, ordered descending, LIMIT 5" in top
    which = question_notes("Which 3 nations had the highest revenue in 1995?", catalog, STANDARD)
    assert "answer shape: the name(s) with the measure, ordered descending, LIMIT 3" in which
    march = question_notes("How many orders were placed in March 1996?", catalog, STANDARD)
    assert "March 1996: o_orderdate >= DATE '1996-03-01' AND o_orderdate < DATE '1996-04-01'" in march
    asked = "On average, how many days after the order date were items shipped?"
    lag = question_notes(asked, catalog, STANDARD)
    assert "days from o_orderdate to l_shipdate: l_shipdate - o_orderdate" in lag
    assert "answer shape: one row with the average" in lag
    # A quarter is not the whole year.
    q1 = question_notes("How many orders were placed in Q1 1996?", catalog, STANDARD.for_schema(catalog))
    assert not any("whole year" in n for n in q1)
    # A value the question writes in capitals is placed; a word that only looks like one is not.
    segment = question_notes("How many customers are in the BUILDING segment?", catalog, STANDARD)
    assert "'BUILDING' is a value of customer.c_mktsegment" in segment
    campaigns = question_notes("How much did marketing campaigns spend in 1997?", catalog, STANDARD)
    assert not any("'Marketing' is a value" in n for n in campaigns)
    # Compared years get a column each, the defined measure spelled out.
    compared = question_notes("Compare revenue in 1996 and 1997 by region", catalog, STANDARD)
    assert any(
        "FILTER (WHERE o_orderdate >= DATE '1997-01-01'" in n and "AS revenue_1997" in n for n in compared
    )
    assert "answer shape: one row per region, with a column for each of 1996, 1997, no LIMIT" in compared
    # Which date dates a period is said only when the question has a period.
    dated = question_notes("How many orders did each customer place in 1996?", catalog, STANDARD)
    assert any(n.startswith("a period for orders") for n in dated)
    undated = question_notes("How many customers placed more than 20 orders?", catalog, STANDARD)
    assert not any(n.startswith("a period for orders") for n in undated)
    # One total over a group of customers is one row, not one per customer.
    total = question_notes("What was the total revenue from customers in CHINA in 1996?", catalog, STANDARD)
    assert "answer shape: one row with the overall figure, no GROUP BY" in total


def test_an_average_count_per_entity_is_shaped_as_counts_then_their_average():
    from atomwork.agents.sql_hints import answer_shape

    counts_then_average = (
        "one row: count the line items of each order in a subquery grouped by the order's key, "
        "then avg() of those counts"
    )
    for question in (
        "What is the average number of line items per order?",
        "On average, how many line items does an order have?",
        "How many line items does an order have on average?",
    ):
        assert answer_shape(question) == counts_then_average, question
    # An average of a column, and a count without an average, keep their shapes.
    assert answer_shape("What is the average quantity per line item?") == "one row with the average"
    assert answer_shape("How many line items does an order have?") == "one row with the count"


def test_a_query_repeated_after_its_error_is_not_asked_for_again(warehouse):
    broken = "```sql\nSELECT count(DISTINCT c_custkey) AS conversions FROM campaigns\n```"
    model = ScriptedModel({"sql": [broken] * 6})
    with pytest.raises(SqlAnswerError, match="c_custkey"):
        SqlAnalyst(warehouse, model, max_retries=2, max_calls=9).answer(
            "How many conversions did the campaigns bring in?"
        )
    # The query, then the same query again after the error. Each later sample writes it again: a
    # query whose correction already went nowhere is not corrected again.
    assert len(model.calls) == 4


def test_a_verifying_sample_that_returns_to_a_failed_query_does_not_end_the_verification(warehouse, catalog):
    bad, good = fenced("SELECT count(*) AS n FROM order_table"), fenced(COUNT_ORDERS)
    model = sequence(bad, good, bad, good)
    answer = SqlAnalyst(warehouse, model, catalog=catalog, max_calls=4).answer(
        "How many orders are recorded in total?"
    )
    # The second sample repeats the first one's failed query: it is not corrected, the third sample
    # is drawn instead, and it agrees.
    assert answer.verified and len(model.calls) == 4
    assert [c.stuck for c in answer.candidates] == [False, True, False]


# -- a greedy query sure enough to need no second sample ----------------------------------------


def scored(text: str, doubts: dict[str, list[tuple[str, float]]] | None = None) -> Completion:
    """``text`` as a backend reports it with log-probabilities: one token per word (with the space
    before it), each certain unless ``doubts`` lists alternatives and their probabilities for it."""
    tokens = []
    for piece in re.split(r"(?=\s)", text):
        others = (doubts or {}).get(piece.strip(), [])
        p = 1.0 - sum(q for _, q in others)
        top = sorted([(piece, p), *others], key=lambda a: -a[1])
        tokens.append(
            TokenLogprob(
                token=piece,
                logprob=math.log(p),
                top=[TokenAlternative(token=t, logprob=math.log(q)) for t, q in top],
            )
        )
    return Completion(text=text, logprobs=tokens)


def test_respelling_alternatives_and_prose_after_the_query_do_not_count():
    query = fenced("SELECT count(*) AS n FROM orders WHERE o_orderstatus = 'F';") + "\nIt counts orders."
    respelt = {"count(*)": [(" COUNT(*)", 0.4)], "AS": [(" FROM", 0.3)], "counts": [(" sums", 0.5)]}
    sure = scored(query, respelt)
    assert query_repeat_chance(sure, 0.4) == pytest.approx(1.0)
    # Another function, or another text value's spelling, is another query.
    for doubt in ({"count(*)": [(" sum(o_totalprice)", 0.4)]}, {"'F';": [(" 'f';", 0.4)]}):
        chance = query_repeat_chance(scored(query, doubt), 0.4)
        assert chance == pytest.approx(0.6**2.5 / (0.6**2.5 + 0.4**2.5))
    assert query_repeat_chance(Completion(text=query), 0.4) is None  # no probabilities reported


def test_a_given_reply_start_is_not_counted_as_sampled_and_the_query_ends_at_its_fence():
    written = "SELECT count(*) AS n FROM orders;\n```\nIt counts."
    doubt = {"counts.": [(" sums.", 0.5)]}  # prose after the fence: not part of the query
    sampled = scored(written, doubt)
    given = Completion(text=REPLY_START + written, logprobs=sampled.logprobs, given=REPLY_START)
    assert query_repeat_chance(given, 0.4) == pytest.approx(1.0)
    doubt["count(*)"] = [(" sum(o_totalprice)", 0.4)]
    chance = query_repeat_chance(
        Completion(**{**given.model_dump(), "logprobs": scored(written, doubt).logprobs}), 0.4
    )
    assert chance == pytest.approx(0.6**2.5 / (0.6**2.5 + 0.4**2.5))


def test_replies_start_with_the_given_fence_and_a_correction_shows_it_closed(warehouse, catalog):
    asked: list[ModelCallInfo] = []
    replies = [
        REPLY_START + "SELECT count(*) AS n FROM order_table;\n",
        fenced(COUNT_ORDERS),
        fenced(COUNT_ORDERS),
    ]

    def reply(info: ModelCallInfo) -> str:
        asked.append(info)
        return replies[len(asked) - 1]

    answer = SqlAnalyst(warehouse, FunctionModel(reply), catalog=catalog).answer("How many orders are there?")
    assert answer.verified and answer.table.rows == [[15000]]
    assert {(a.reply_start, tuple(a.stop or ())) for a in asked} == {(REPLY_START, ("```",))}
    # The backend cut the closing fence (its stop string): the conversation shows the reply whole.
    assert asked[1].messages[-2].content == REPLY_START + "SELECT count(*) AS n FROM order_table;\n```"


def test_a_sure_greedy_query_is_verified_without_a_second_sample(warehouse, catalog):
    asked: list[ModelCallInfo] = []

    def reply(info: ModelCallInfo) -> Completion:
        asked.append(info)
        return scored(fenced(COUNT_ORDERS), {"count(*)": [(" COUNT(*)", 0.3), (" count(o_orderkey)", 0.01)]})

    answer = SqlAnalyst(warehouse, FunctionModel(reply), catalog=catalog).answer("How many orders are there?")
    assert answer.verified and answer.table.rows == [[15000]]
    assert [(a.temperature, a.logprobs) for a in asked] == [(0.0, LOGPROB_ALTERNATIVES)]
    assert answer.candidates[0].repeat_chance is not None and answer.candidates[0].repeat_chance >= SURE
    assert "token probabilities" in answer.notes[0]


def test_a_doubtful_greedy_query_is_checked_by_a_sample(warehouse, catalog):
    doubt = {"count(*)": [(" sum(o_totalprice)", 0.48)], "orders": [(" lineitem", 0.48)]}
    replies = [scored(fenced(COUNT_ORDERS), doubt), fenced("SELECT count(o_orderkey) AS n FROM orders")]
    model = FunctionModel(lambda info: replies[info.index])
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer("How many orders are there?")
    assert answer.verified and len(model.calls) == 2
    assert answer.candidates[0].repeat_chance is not None and answer.candidates[0].repeat_chance < SURE
    assert "two independently sampled queries" in answer.notes[0]


def test_a_sure_query_that_fails_a_check_is_not_taken_on_its_word(warehouse, catalog):
    wrong_year = "SELECT count(*) AS n FROM orders WHERE year(o_orderdate) = 1995"
    replies = [scored(fenced(wrong_year)), fenced(COUNT_ORDERS), fenced(wrong_year)]
    model = FunctionModel(lambda info: replies[min(info.index, len(replies) - 1)])
    answer = SqlAnalyst(warehouse, model, catalog=catalog, max_retries=0).answer(
        "How many orders were placed in 1996?"
    )
    # The certain query said 1995: certainty does not excuse a failed check.
    assert len(model.calls) > 1 and not answer.verified


def test_the_verifying_sample_continues_the_conversation_that_settled_the_query(warehouse, catalog):
    wrong_year = fenced("SELECT count(*) AS n FROM orders WHERE year(o_orderdate) = 1995")
    right = fenced("SELECT count(*) AS n FROM orders WHERE year(o_orderdate) = 1996")
    replies = [wrong_year, right, right]
    asked: list[ModelCallInfo] = []

    def reply(info: ModelCallInfo) -> str:
        asked.append(info)
        return replies[info.index]

    answer = SqlAnalyst(warehouse, FunctionModel(reply), catalog=catalog).answer(
        "How many orders were placed in 1996?"
    )
    assert answer.verified and len(asked) == 3
    # The sample sees the failed query and the checks' feedback, as the correction did; drawn
    # from the bare question it would tend to repeat the first mistake.
    assert asked[2].messages == asked[1].messages and "1996" in asked[1].user
    assert asked[2].prediction == right and asked[2].temperature == TEMPERATURES[1]


def test_a_sure_correction_needs_no_sample(warehouse, catalog):
    wrong_year = fenced("SELECT count(*) AS n FROM orders WHERE year(o_orderdate) = 1995")
    right = scored(fenced("SELECT count(*) AS n FROM orders WHERE year(o_orderdate) = 1996"))
    model = FunctionModel(lambda info: [wrong_year, right][info.index])
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer("How many orders were placed in 1996?")
    assert answer.verified and len(model.calls) == 2 and answer.candidates[0].calls == 2


# -- what a failed query is told ---------------------------------------------------------------


def test_an_unknown_column_is_answered_with_the_columns_named_like_it(warehouse, catalog):
    replies = [
        fenced("SELECT count(*) AS parts FROM lineitem WHERE l_size > 40"),
        fenced("SELECT count(*) AS parts FROM part WHERE p_size > 40"),
    ]
    asked: list[ModelCallInfo] = []

    def reply(info: ModelCallInfo) -> str:
        asked.append(info)
        return replies[min(info.index, 1)]

    answer = SqlAnalyst(warehouse, FunctionModel(reply), catalog=catalog).answer(
        "How many parts have a size greater than 40?"
    )
    assert "l_size" in asked[1].user and "columns named like it: part.p_size" in asked[1].user
    assert answer.verified and answer.sql.endswith("p_size > 40")


def test_error_hints_name_where_an_unknown_name_lives(catalog):
    from atomwork.agents.sql_feedback import error_hints

    clerk = error_hints('Binder Error: Table "c" does not have a column named "clerk"', catalog)
    assert clerk == ["clerk is not a column there; columns named like it: orders.o_clerk."]
    (tables,) = error_hints("Catalog Error: Table with name order_table does not exist!", catalog)
    assert tables.startswith("There is no table order_table; the tables are: ") and "orders" in tables
    (nation,) = error_hints('Referenced column "c_nation" not found in FROM clause!', catalog)
    assert nation.startswith("c_nation is not a column; nation is a table, joined ON ")
    assert "c_nationkey = n_nationkey" in nation
    assert error_hints('Referenced column "zzz_qqq" not found in FROM clause!', catalog) == []
    assert error_hints("Parser Error: syntax error at or near FROM", catalog) == []


def test_a_data_value_spelled_like_a_measure_word_is_the_value(catalog: SchemaCatalog):
    glossary = STANDARD.for_schema(catalog)
    assert "employees.department" in glossary.values["Sales"]

    def named(question: str) -> list[str]:
        return [d.term.split(" ")[0] for d in glossary.measures_named(question)]

    # 'Sales' of employees.department is the department, not the revenue measure.
    assert "revenue" not in named("What is the total salary of Sales employees?")
    assert "revenue" not in named("What were the Sales department's expenses in 1997?")
    assert "revenue" in named("Sales by region in 1997")
    assert "revenue" in named("What were total sales in 1997?")
    notes = question_notes("What is the total salary of Sales employees?", catalog, glossary)
    assert not any(n.startswith("revenue") for n in notes)


def test_an_average_count_held_in_a_column_is_one_average(warehouse, catalog: SchemaCatalog):
    asked = "What was the average number of leads per campaign for campaigns that started in 1998?"
    notes = question_notes(asked, catalog, STANDARD)
    assert "answer shape: one row: avg(leads) over the campaigns rows" in notes
    sql = (
        "SELECT avg(leads) FROM campaigns "
        "WHERE start_date >= DATE '1998-01-01' AND start_date < DATE '1999-01-01'"
    )
    assert _checked(warehouse, catalog, asked, sql) == []
    # A count column of the rows averaged, whatever follows the counted word.
    email = "What is the average number of leads of the email campaigns?"
    leads = "SELECT avg(leads) FROM campaigns WHERE channel = 'email'"
    assert _checked(warehouse, catalog, email, leads) == []
    # One average over them all, not one per campaign.
    each = sql.replace("avg(leads)", "avg(leads) OVER (PARTITION BY campaign_id)")
    assert any(
        p.startswith("the question asks for one figure, but the query returned")
        for p in _checked(warehouse, catalog, asked, each)
    )
    # Any other column averaged is no count: line items are counted, not their quantities averaged.
    items = "What is the average number of line items per order?"
    quantity = "SELECT avg(l_quantity) FROM lineitem"
    assert "the question asks how many, but the query counts nothing" in _checked(
        warehouse, catalog, items, quantity
    )
    # Counted things with no column of their own are still counted per entity, then averaged.
    tickets = question_notes(
        "What was the average number of tickets per customer in 1997?", catalog, STANDARD
    )
    assert any("count the tickets of each customer in a subquery" in n for n in tickets)


def test_a_number_compared_is_not_a_year(warehouse, catalog: SchemaCatalog):
    asked = "How many parts have a retail price above 1900?"
    sql = "SELECT count(*) FROM part WHERE p_retailprice > 1900"
    assert _checked(warehouse, catalog, asked, sql) == []
    assert question_years("How many orders of more than 1995 dollars were placed in 1996?") == ["1996"]


def test_definitions_are_named_by_the_words_not_their_first_letters(catalog: SchemaCatalog):
    def terms(question: str) -> list[str]:
        return [n.split(" (")[0] for n in question_notes(question, catalog, STANDARD)]

    # "Department" is not "departures", nor "salary" "sales".
    assert "departures" not in terms("How much did each department spend in 1996?")
    assert "revenue" not in terms("Average salary per region for employees hired in 1995")
    assert "departures" in terms("Which department lost the most employees in 1997?")
    assert "departures" in terms("How many employees departed in 1997?")
    assert any(t.startswith("late shipment") for t in terms("How many line items were shipped late in 1995?"))


def test_a_value_written_as_the_data_spells_it_binds(warehouse, catalog: SchemaCatalog):
    asked = "How much did the Support department spend on Travel in 1996?"
    salaries = (
        "SELECT sum(salary) FROM employees WHERE department = 'Support' "
        "AND hire_date >= DATE '1996-01-01' AND hire_date < DATE '1997-01-01'"
    )
    problems = _checked(warehouse, catalog, asked, salaries)
    assert "the question names 'Travel' (expenses.category) but the query does not filter on it" in problems
    assert any(p.startswith("the question asks for expenses") for p in problems)  # "spend" is expenses
    right = (
        "SELECT sum(amount) FROM expenses WHERE department = 'Support' AND category = 'Travel' "
        "AND month >= DATE '1996-01-01' AND month < DATE '1997-01-01'"
    )
    assert _checked(warehouse, catalog, asked, right) == []
    notes = question_notes(asked, catalog, STANDARD)
    # Where the measure is: the expenses' department, not the employees'.
    assert "'Support' is a value of expenses.department" in notes
    assert "'Travel' is a value of expenses.category" in notes  # capitalized as the data spells it
    staff = question_notes("How many Support employees were hired in 1996?", catalog, STANDARD)
    assert "'Support' is a value of employees.department" in staff
    # A look-alike is named only for a word the question says: "spent" does not bring up campaigns.
    software = question_notes(
        "How much was spent on Software by the Finance department in 1997?", catalog, STANDARD
    )
    assert not any("campaigns" in n for n in software)
    assert not any("campaigns" in n for n in notes)  # nor does the verb "spend"


def test_by_one_named_department_is_who_not_a_breakdown():
    assert grouped_by("Expenses by department in 1997") is not None
    assert grouped_by("How much was spent on Software by the Finance department in 1997?") is None
    assert grouped_by("Revenue by the EUROPE region and by month") is not None  # "by month" still is


def test_a_table_with_its_own_region_is_not_routed_through_customers(catalog: SchemaCatalog):
    def notes(question: str) -> list[str]:
        return question_notes(question, catalog, STANDARD)

    social = notes("What was the total spend of social campaigns in the EUROPE region?")
    assert "'EUROPE' is a value of campaigns.region" in social
    assert not any(n.startswith("region or nation of a") for n in social)
    tickets = notes("How many urgent tickets were opened in the ASIA region in 1997?")
    assert "'ASIA' is a value of support_tickets.region" in tickets
    assert "'urgent' is a value of support_tickets.priority" in tickets
    # Revenue has no region of its own: its route stays, beside the budget's region.
    both = notes("Compare actual revenue with the revenue budget for each region in 1997.")
    assert any(n.startswith("region or nation of a customer") for n in both)
    customers = notes("What was the total revenue from customers in the EUROPE region in 1996?")
    assert "'EUROPE' is a value of region.r_name" in customers


def test_the_highest_value_asked_is_the_value_not_who_has_it(warehouse, catalog: SchemaCatalog):
    asked = "What was the highest salary in the HR department?"
    who = "SELECT name FROM employees WHERE department = 'HR' ORDER BY salary DESC LIMIT 1"
    assert any(
        p.startswith("the question asks for the value itself")
        for p in _checked(warehouse, catalog, asked, who)
    )
    value = "SELECT max(salary) FROM employees WHERE department = 'HR'"
    assert _checked(warehouse, catalog, asked, value) == []
    # "Which ... the highest" asks who.
    which = "Which employee in the HR department had the highest salary?"
    assert not any(
        p.startswith("the question asks for the value itself")
        for p in _checked(warehouse, catalog, which, who)
    )


def test_what_employees_earn_is_their_salary(warehouse, catalog: SchemaCatalog):
    asked = "How many Marketing employees earn more than 80000?"
    amounts = (
        "SELECT count(DISTINCT e.employee_id) FROM employees e "
        "JOIN expenses x ON e.department = x.department "
        "WHERE x.department = 'Marketing' AND x.amount > 80000"
    )
    assert any(
        p.startswith("the question asks for pay of an employee")
        for p in _checked(warehouse, catalog, asked, amounts)
    )
    right = "SELECT count(*) FROM employees WHERE department = 'Marketing' AND salary > 80000"
    assert _checked(warehouse, catalog, asked, right) == []


def test_reps_narrowed_by_who_they_are_did_it_and_are_not_a_breakdown():
    assert grouped_by("How many activities were logged by reps hired in 2021?") is None
    assert grouped_by("Total duration of Demo activities by reps in the West territory") is None
    assert grouped_by("Deals won by rep in 2023") is not None
    assert grouped_by("Expenses by departments in 1997") is not None


def test_a_breakdown_noun_behind_a_preposition_only_narrows_who_did_it():
    narrowed = "How many orders were placed in 1993 by customers in nations of the EUROPE region?"
    assert grouped_by(narrowed) is None
    assert grouped_by("Orders placed by customers in each nation") is not None
    assert grouped_by("Revenue by customer nation in 1995") is not None


def test_an_outcome_does_not_date_a_question_that_names_its_event(crm):
    warehouse, crm_catalog = crm
    asked = "What is the average deal size of won opportunities created in 2023?"
    sql = "SELECT avg(amount) FROM opportunities WHERE stage = 'Closed Won' AND year(created_date) = 2023"
    assert _checked(warehouse, crm_catalog, asked, sql) == []
    won = "How many opportunities were won in 2023?"
    created = "SELECT count(*) FROM opportunities WHERE stage = 'Closed Won' AND year(created_date) = 2023"
    assert any("close" in p for p in _checked(warehouse, crm_catalog, won, created))


def test_current_employees_are_those_not_terminated(warehouse, catalog):
    asked = "What is the combined salary of everyone currently employed in the Support department?"
    everyone = "SELECT sum(salary) FROM employees WHERE department = 'Support'"
    assert any("termination_date" in p for p in _checked(warehouse, catalog, asked, everyone))
    current = everyone + " AND termination_date IS NULL"
    assert _checked(warehouse, catalog, asked, current) == []


def test_a_kind_of_row_named_in_the_plural_must_be_filtered(crm):
    warehouse, crm_catalog = crm
    asked = "What was the total duration of calls logged by Ines Hale?"
    named = {"Call": "activities.activity_type", "Ines Hale": "sales_reps.name"}
    assert named_values(asked, crm_catalog) == named
    every = (
        "SELECT sum(a.duration_minutes) FROM activities a JOIN sales_reps r ON a.rep_id = r.rep_id "
        "WHERE r.name = 'Ines Hale'"
    )
    assert "the question names 'Call' (activities.activity_type) but the query does not filter on it" in (
        _checked(warehouse, crm_catalog, asked, every)
    )
    calls = every + " AND a.activity_type = 'Call'"
    assert _checked(warehouse, crm_catalog, asked, calls) == []


def test_a_dated_agent_narrowed_by_its_segment_is_not_a_breakdown(warehouse, catalog):
    asked = "What was the total revenue from orders placed in 1994 by customers in the BUILDING segment?"
    assert breakdowns(asked) == []
    assert breakdowns("Revenue shipped in 1995 by region") == ["region"]
    top_customer = (
        "SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "WHERE c_mktsegment = 'BUILDING' AND o_orderdate >= DATE '1994-01-01' "
        "AND o_orderdate < DATE '1995-01-01' "
        "GROUP BY c_custkey ORDER BY revenue DESC LIMIT 1"
    )
    problems = _checked(warehouse, catalog, asked, top_customer)
    assert "the question asks for one overall figure, but the query groups by c_custkey" in problems
    whole = top_customer.split(" GROUP BY")[0]
    assert _checked(warehouse, catalog, asked, whole) == []


def test_a_median_is_computed_as_one(warehouse, catalog):
    asked = "What is the median salary of Finance employees?"
    halved = "SELECT avg(salary) / 2 FROM employees WHERE department = 'Finance'"
    assert "the question asks for the median, but the query computes none: use median(...)" in (
        _checked(warehouse, catalog, asked, halved)
    )
    median = "SELECT median(salary) FROM employees WHERE department = 'Finance'"
    assert _checked(warehouse, catalog, asked, median) == []


def test_a_count_held_in_a_column_is_added_up_not_counted(warehouse, catalog):
    asked = "What was the total number of leads from events campaigns in the ASIA region?"
    rows = "SELECT count(*) AS leads FROM campaigns WHERE region = 'ASIA' AND channel = 'events'"
    assert (
        "the question counts leads, which campaigns.leads holds for each row, but count(*) counts "
        "campaigns rows; add them up: sum(leads)"
    ) in _checked(warehouse, catalog, asked, rows)
    summed = rows.replace("count(*)", "sum(leads)")
    assert _checked(warehouse, catalog, asked, summed) == []
    # Campaigns compared by their conversions are still counted as campaigns.
    compared = "How many campaigns had more conversions than 50?"
    over = "SELECT count(*) FROM campaigns WHERE conversions > 50"
    assert _checked(warehouse, catalog, compared, over) == []


def test_a_key_named_for_its_role_must_be_used(crm):
    warehouse, crm_catalog = crm
    asked = "What is the total won amount from accounts owned by Farah Chen?"
    by_deal_rep = (
        "SELECT sum(o.amount) FROM accounts a JOIN opportunities o ON a.account_id = o.account_id "
        "JOIN sales_reps r ON o.rep_id = r.rep_id WHERE r.name = 'Farah Chen' AND o.stage = 'Closed Won'"
    )
    assert "the question names owner_rep_id, but the query does not use it" in _checked(
        warehouse, crm_catalog, asked, by_deal_rep
    )
    by_owner = by_deal_rep.replace("o.rep_id = r.rep_id", "a.owner_rep_id = r.rep_id")
    assert _checked(warehouse, crm_catalog, asked, by_owner) == []


def test_a_named_column_is_not_scaled_by_one_the_question_does_not_name(warehouse, catalog):
    asked = "What was the total extended price of returned line items (return flag R) shipped by MAIL?"
    discounted = (
        "SELECT sum(l_extendedprice * (1 - l_discount)) FROM lineitem "
        "WHERE l_returnflag = 'R' AND l_shipmode = 'MAIL'"
    )
    assert (
        "the question asks about l_extendedprice, but the query computes "
        "SUM(l_extendedprice * (1 - l_discount)) with l_discount, which it does not mention"
    ) in _checked(warehouse, catalog, asked, discounted)
    gross = discounted.replace(" * (1 - l_discount)", "")
    assert _checked(warehouse, catalog, asked, gross) == []
    # Revenue is defined with the discount: naming it allows it.
    revenue = "What was the total revenue of line items shipped by MAIL in 1995?"
    net = (
        "SELECT sum(l_extendedprice * (1 - l_discount)) FROM lineitem "
        "WHERE year(l_shipdate) = 1995 AND l_shipmode = 'MAIL'"
    )
    assert _checked(warehouse, catalog, revenue, net) == []


YEAR_CHANGES = [
    (
        "By how much did total Travel expenses grow from 1996 to 1997?",
        "SELECT sum(amount) FROM expenses WHERE category = 'Travel' "
        "AND month >= DATE '1996-01-01' AND month < DATE '1998-01-01'",
        [
            "SELECT sum(amount) FILTER (WHERE year(month) = 1997) "
            "- sum(amount) FILTER (WHERE year(month) = 1996) FROM expenses WHERE category = 'Travel'",
            "SELECT (SELECT sum(amount) FROM expenses WHERE category = 'Travel' AND year(month) = 1997) "
            "- (SELECT sum(amount) FROM expenses WHERE category = 'Travel' AND year(month) = 1996)",
        ],
    ),
    # "How many more ... than ..." is a difference of the two years' figures as much as a growth.
    (
        "How many more employees were hired in 1997 than in 1996?",
        "SELECT count(*) FROM employees "
        "WHERE hire_date >= DATE '1996-01-01' AND hire_date < DATE '1998-01-01'",
        [
            "SELECT count(*) FILTER (WHERE year(hire_date) = 1997) "
            "- count(*) FILTER (WHERE year(hire_date) = 1996) FROM employees"
        ],
    ),
]


@pytest.mark.parametrize(("asked", "together", "apart"), YEAR_CHANGES)
def test_a_change_from_one_year_to_another_needs_each_years_figure(
    warehouse, catalog, asked, together, apart
):
    problems = _checked(warehouse, catalog, asked, together)
    assert any(p.startswith("the question asks how the figure changed from 1996 to 1997") for p in problems)
    for sql in apart:
        assert _checked(warehouse, catalog, asked, sql) == []


def test_a_column_named_like_the_measure_is_not_the_measure(warehouse, catalog):
    asked = "What were the total Travel expenses in 1997?"
    budget = (
        "SELECT sum(b.expense_budget) FROM budgets b WHERE year(b.month) = 1997 "
        "AND b.region IN (SELECT region FROM expenses WHERE category = 'Travel' AND amount > 0)"
    )
    assert any(
        p.startswith("the query uses budgets.expense_budget, which is not expenses")
        for p in _checked(warehouse, catalog, asked, budget)
    )
    spent = "SELECT sum(amount) FROM expenses WHERE category = 'Travel' AND year(month) = 1997"
    assert _checked(warehouse, catalog, asked, spent) == []


def test_things_counted_by_their_kind_are_rows_of_the_table_holding_it(crm):
    warehouse, crm_catalog = crm
    asked = "How many demos did reps in the East territory give in 2024?"
    reps = (
        "SELECT count(DISTINCT r.rep_id) FROM activities a JOIN sales_reps r ON a.rep_id = r.rep_id "
        "WHERE a.activity_type = 'Demo' AND r.territory = 'East' AND year(a.activity_date) = 2024"
    )
    assert "the question counts demos, but the query counts no activities rows or keys" in _checked(
        warehouse, crm_catalog, asked, reps
    )
    demos = reps.replace("count(DISTINCT r.rep_id)", "count(*)")
    assert _checked(warehouse, crm_catalog, asked, demos) == []


def test_the_same_year_as_a_named_year_is_that_year_on_both_dates(warehouse, catalog):
    asked = "How many employees hired in 1996 left within the same year?"
    both = "SELECT count(*) FROM employees WHERE year(hire_date) = 1996 AND year(termination_date) = 1996"
    assert _checked(warehouse, catalog, asked, both) == []
    one = "SELECT count(*) FROM employees WHERE year(hire_date) = 1996 AND termination_date IS NOT NULL"
    assert any(
        p.startswith("the question asks for the same year") for p in _checked(warehouse, catalog, asked, one)
    )
