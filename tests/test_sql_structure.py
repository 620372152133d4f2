"""Checks and repairs that read a query's tree: values spelled as the data spells them, joins that
repeat the rows being summed, counts of the wrong table, one figure asked and many rows given."""

from __future__ import annotations

import pytest

from atomwork.agents.answer_checks import (
    asks_one_figure,
    breakdown_columns,
    check_sql_answer,
    named_value_words,
)
from atomwork.agents.answerer import table_text
from atomwork.agents.sql_analyst import SqlAnalyst
from atomwork.agents.sql_hints import answer_shape, question_notes
from atomwork.agents.sql_structure import (
    count_to_sum_repair,
    counted_table_problems,
    dangling_join_repair,
    fan_out_problems,
    inner_null_problems,
    key_mismatch_problems,
    open_year_problems,
    ranking,
    text_date_problems,
    text_date_repair,
    unfiltered_overall_repair,
    ungrouped_having_problems,
    unknown_value_problems,
    unlinked_join_problems,
    value_case_repair,
    window_repeat_problems,
)
from atomwork.models import ScriptedModel
from atomwork.tools.base import Table
from atomwork.tools.glossary import STANDARD

GERMANY = (
    "SELECT count(*) AS suppliers FROM supplier "
    "WHERE s_nationkey = (SELECT n_nationkey FROM nation WHERE n_name = '{}')"
)
AVG_BALANCE = (
    "SELECT n_name AS nation, avg(c_acctbal) AS balance FROM {} "
    "JOIN nation ON c_nationkey = n_nationkey GROUP BY n_name ORDER BY n_name"
)


def test_a_value_in_another_case_is_written_as_the_data_writes_it(warehouse, catalog, rows):
    fixed = value_case_repair(GERMANY.format("Germany"), catalog)
    assert fixed is not None
    assert fixed[1] == ["'Germany' is written 'GERMANY' in nation.n_name"]
    assert rows(fixed[0]) == rows(GERMANY.format("GERMANY")) != [[0]]
    # Underscores for spaces, in an IN list, under a table alias; exact values stay as they are.
    fixed = value_case_repair(
        "SELECT count(*) FROM lineitem l WHERE l.l_shipmode IN ('reg_air', 'AIR') AND l_returnflag = 'R'",
        catalog,
    )
    assert fixed is not None and "IN ('REG AIR', 'AIR')" in fixed[0] and "'R'" in fixed[0]
    assert value_case_repair(GERMANY.format("GERMANY"), catalog) is None


def test_a_value_the_column_never_holds_is_a_problem(warehouse, catalog):
    sql = "SELECT count(*) AS n FROM lineitem WHERE l_shipmode = 'TRUCKS'"
    assert unknown_value_problems(sql, catalog) == [
        "lineitem.l_shipmode never holds 'TRUCKS'; its values are "
        "'AIR', 'FOB', 'MAIL', 'RAIL', 'REG AIR', 'SHIP', 'TRUCK'"
    ]
    # It also explains an empty result.
    empty = Table(columns=["n"], rows=[])
    problems = check_sql_answer("How many line items went by truck?", sql, empty, catalog)
    assert problems[0] == "the query returned no rows" and "never holds 'TRUCKS'" in problems[1]


def test_a_word_of_a_columns_values_is_not_one_of_its_values(catalog):
    # p_type has 150 values: too many to show the model, few enough to check a query against.
    (part,) = [t for t in catalog.tables if t.name == "part"]
    p_type = part.column("p_type")
    assert p_type is not None and not p_type.values and len(p_type.known_values) == 150
    sql = "SELECT count(*) AS n FROM part WHERE p_type = 'BRASS' AND p_size = 15"
    (problem,) = check_sql_answer(
        "How many parts made of BRASS have size 15?", sql, Table(columns=["n"], rows=[[0]]), catalog
    )
    assert problem.startswith("part.p_type never holds 'BRASS' as a whole value; it is part of 30 values")
    assert problem.endswith("(match them with p_type LIKE '%BRASS%')")
    assert unknown_value_problems("SELECT count(*) FROM part WHERE p_type LIKE '%BRASS%'", catalog) == []
    assert (
        unknown_value_problems("SELECT count(*) FROM part WHERE p_type = 'LARGE BRUSHED BRASS'", catalog)
        == []
    )


def test_a_word_of_a_coded_column_the_question_names_is_filtered_on(catalog):
    question = "How many parts made of BRASS have size 15?"
    one = Table(columns=["n"], rows=[[27]])
    assert check_sql_answer(question, "SELECT count(*) AS n FROM part WHERE p_size = 15", one, catalog) == [
        "the question names 'BRASS', a word of part.p_type values, but the query does not filter on it"
    ]
    # 'Supplier' is in every s_name ('Supplier#000000001'): it tells no supplier apart.
    assert "supplier" not in named_value_words("How many suppliers are in GERMANY?", catalog)


def test_a_value_the_question_never_names_is_not_filtered_on(catalog):
    question = "How many orders were placed in 1997 by customers in the BUILDING segment?"
    joins = "FROM orders JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey"
    where = "WHERE year(o_orderdate) = 1997 AND c_mktsegment = 'BUILDING'"
    region = "JOIN region ON n_regionkey = r_regionkey"
    invented = f"SELECT count(*) AS n {joins} {region} {where} AND r_name = 'AMERICA'"
    one = Table(columns=["n"], rows=[[120]])
    assert check_sql_answer(question, invented, one, catalog) == [
        "the query keeps only region.r_name = 'AMERICA', which the question does not mention"
    ]
    assert check_sql_answer(question, f"SELECT count(*) AS n {joins} {where}", one, catalog) == []
    # Excluding a value keeps the others: it is not judged here.
    other = f"SELECT count(*) AS n {joins} {region} {where} AND r_name <> 'AMERICA'"
    assert check_sql_answer(question, other, one, catalog) == []


def test_every_number_the_question_states_is_used(catalog):
    question = "How many parts made of BRASS have size 15?"
    brass = "SELECT count(*) AS n FROM part WHERE p_type LIKE '%BRASS%'"
    assert check_sql_answer(question, brass, Table(columns=["n"], rows=[[376]]), catalog) == [
        "the question states 15, but the query never uses it"
    ]
    where = "FROM lineitem WHERE l_shipdate >= DATE '1994-01-01' AND l_shipdate < DATE '1995-01-01'"
    # A percentage as a fraction, a year, and an amount with a thousands separator are all used.
    discounted = f"SELECT count(*) AS n {where} AND l_discount >= 0.05 AND l_extendedprice > 5000"
    asked = "How many line items shipped in 1994 had a discount of at least 5% and a price over $5,000?"
    assert check_sql_answer(asked, discounted, Table(columns=["n"], rows=[[1200]]), catalog) == []
    # "In the last 6 months" becomes dates, not a 6.
    recent = "SELECT count(*) AS n FROM orders WHERE o_orderdate >= DATE '1998-02-02'"
    last = "How many orders were placed in the last 6 months?"
    assert not any(
        "states" in p for p in check_sql_answer(last, recent, Table(columns=["n"], rows=[[9]]), catalog)
    )


def test_a_join_on_a_column_equal_to_itself_and_a_figure_equal_in_every_group_are_problems(catalog):
    question = "Revenue by region for 1997"
    sql = (
        "SELECT region, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM budgets "
        "JOIN lineitem ON budgets.month = budgets.month WHERE year(budgets.month) = 1997 GROUP BY region"
    )
    same = Table(
        columns=["region", "revenue"], rows=[[r, 24638076729.582] for r in ("AFRICA", "ASIA", "EUROPE")]
    )
    problems = check_sql_answer(question, sql, same, catalog)
    assert (
        "the query compares budgets.month with itself, which holds for every row: it pairs every row with "
        "every row of the other table"
    ) in problems
    assert (
        "every row has the same revenue (24638076729.582): the figure does not depend on the row's group "
        "(check the joins)" in problems
    )
    # Unquoted names ignore case: T1.campaign_id and t1.campaign_id are one column.
    conversions = (
        "SELECT sum(t1.conversions) AS conversions FROM campaigns AS T1 JOIN lineitem AS T2 "
        "ON T1.campaign_id = t1.campaign_id WHERE year(T1.start_date) = 1996"
    )
    problems = check_sql_answer(
        "How many conversions did the campaigns launched in 1996 bring in?",
        conversions,
        Table(columns=["conversions"], rows=[[164398100]]),
        catalog,
    )
    assert any("compares T1.campaign_id with itself" in p for p in problems)
    # Whole numbers can tie: five nations in each region.
    nations = Table(columns=["r_name", "n"], rows=[[r, 5] for r in ("AFRICA", "ASIA", "EUROPE")])
    counted = (
        "SELECT r_name, count(*) AS n FROM nation JOIN region ON n_regionkey = r_regionkey GROUP BY r_name"
    )
    assert check_sql_answer("How many nations are in each region?", counted, nations, catalog) == []


def test_line_items_are_not_counted_by_their_orders(catalog):
    question = "How many line items were shipped on the same day as their commit date?"
    orders = "SELECT count(DISTINCT l_orderkey) AS n FROM lineitem WHERE l_shipdate = l_commitdate"
    assert check_sql_answer(question, orders, Table(columns=["n"], rows=[[498]]), catalog) == [
        "the question counts line items, but the query counts no lineitem rows or keys"
    ]
    items = "SELECT count(*) AS n FROM lineitem WHERE l_shipdate = l_commitdate"
    assert check_sql_answer(question, items, Table(columns=["n"], rows=[[501]]), catalog) == []


def test_a_sale_is_dated_by_its_order(catalog):
    question = "Top 5 parts by quantity sold in 1996"
    top = Table(columns=["p_name", "q"], rows=[["khaki dark blush moccasin floral", 425.0]])
    joins = "FROM lineitem JOIN part ON l_partkey = p_partkey"
    shipped = f"SELECT p_name, sum(l_quantity) AS q {joins} WHERE year(l_shipdate) = 1996 GROUP BY p_name"
    assert "the question mentions 'order…' but the query uses none of o_orderdate" in check_sql_answer(
        question, shipped, top, catalog
    )
    ordered = (
        f"SELECT p_name, sum(l_quantity) AS q {joins} JOIN orders ON l_orderkey = o_orderkey "
        "WHERE year(o_orderdate) = 1996 GROUP BY p_name ORDER BY q DESC LIMIT 5"
    )
    assert check_sql_answer(question, ordered, top, catalog) == []


def test_a_sum_of_rates_is_not_an_amount(catalog):
    assert [c.name for t in catalog.tables for c in t.columns if c.share] == ["l_discount", "l_tax"]
    question = "What was the total discount amount given on line items shipped in 1995?"
    where = "FROM lineitem WHERE l_shipdate >= DATE '1995-01-01' AND l_shipdate < DATE '1996-01-01'"
    rates = f"SELECT sum(l_discount) AS discount {where}"
    assert check_sql_answer(question, rates, Table(columns=["discount"], rows=[[436.0]]), catalog) == [
        "SUM(l_discount) adds up rates (l_discount lies between 0 and 1), which is not an amount: multiply "
        "each by the amount it applies to inside sum(), or average it with avg(l_discount)"
    ]
    amount = f"SELECT sum(l_extendedprice * l_discount) AS discount {where}"
    assert (
        check_sql_answer(question, amount, Table(columns=["discount"], rows=[[15701395.21]]), catalog) == []
    )
    # The price left after the discount is another measure than the discount given.
    net = f"SELECT sum(l_extendedprice * (1 - l_discount)) AS discount {where}"
    assert check_sql_answer(question, net, Table(columns=["discount"], rows=[[300424704.14]]), catalog) == [
        "the question asks for the discount itself, but the query computes what is left after it "
        "(1 - l_discount); the discount amount is the amount times l_discount"
    ]
    after = "What was the total revenue after discounts of line items shipped in 1995?"
    assert check_sql_answer(after, net, Table(columns=["discount"], rows=[[300424704.14]]), catalog) == []
    # A sum divided by a count is an average rate.
    average = f"SELECT 100.0 * sum(l_discount) / count(*) AS pct {where}"
    asked = "What was the average discount in percent on line items shipped in 1995?"
    assert check_sql_answer(asked, average, Table(columns=["pct"], rows=[[4.97]]), catalog) == []


def test_a_named_day_is_kept_alone(catalog):
    question = "How many orders were placed on 1996-01-01?"
    orders = "SELECT count(*) AS n FROM orders WHERE o_orderdate"
    year = f"{orders} >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01'"
    assert check_sql_answer(question, year, Table(columns=["n"], rows=[[2297]]), catalog) == [
        "the question asks about the single day 1996-01-01, but the query does not keep that day alone"
    ]
    day = f"{orders} = DATE '1996-01-01'"
    assert check_sql_answer(question, day, Table(columns=["n"], rows=[[6]]), catalog) == []
    spelled = "How many orders were placed on January 2nd, 1996?"
    next_day = f"{orders} >= DATE '1996-01-02' AND o_orderdate < DATE '1996-01-03'"
    assert check_sql_answer(spelled, next_day, Table(columns=["n"], rows=[[2]]), catalog) == []
    # Days that bound a range are its ends, the last one written as the day after.
    ranged = "How many orders were placed between 1 March 1995 and March 31, 1995?"
    march = f"{orders} >= DATE '1995-03-01' AND o_orderdate < DATE '1995-04-01'"
    assert check_sql_answer(ranged, march, Table(columns=["n"], rows=[[190]]), catalog) == []
    quarter = f"{orders} >= DATE '1995-01-01' AND o_orderdate < DATE '1995-04-01'"
    assert check_sql_answer(ranged, quarter, Table(columns=["n"], rows=[[570]]), catalog) == [
        "the question names the day 1995-03-01, but the query does not filter on that day"
    ]


def test_summing_a_table_over_a_join_that_repeats_its_rows_is_a_problem(warehouse, catalog):
    fanned = AVG_BALANCE.format("orders JOIN customer ON o_custkey = c_custkey")
    assert fan_out_problems(fanned, catalog) == [
        "AVG(c_acctbal) adds up customer rows, but the join with orders repeats each customer row once per "
        "orders row; aggregate customer alone (filter with IN or EXISTS) or use DISTINCT"
    ]
    right = AVG_BALANCE.format("customer")
    assert fan_out_problems(right, catalog) == []
    # Revenue over lineitem joined up to region is per line item: nothing repeats it.
    revenue = (
        "SELECT r_name, sum(l_extendedprice * (1 - l_discount)) FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey GROUP BY r_name"
    )
    assert fan_out_problems(revenue, catalog) == []
    assert (
        fan_out_problems(
            "SELECT count(DISTINCT c_custkey) FROM orders JOIN customer ON o_custkey = c_custkey", catalog
        )
        == []
    )


def test_a_join_used_only_to_repeat_rows_is_dropped(warehouse, catalog, rows):
    question = "Average customer account balance per nation"
    for source in (
        "orders JOIN customer ON o_custkey = c_custkey",
        "customer c JOIN orders o ON o.o_custkey = c.c_custkey",
    ):
        fixed = dangling_join_repair(question, AVG_BALANCE.format(source), catalog)
        assert fixed is not None and "orders was joined only to repeat each customer row" in fixed[1][0]
        assert rows(fixed[0]) == rows(AVG_BALANCE.format("customer"))
    # Kept where its columns are read, or where the question is about it.
    filtered = AVG_BALANCE.format("customer JOIN orders ON o_custkey = c_custkey").replace(
        "GROUP BY", "WHERE o_orderstatus = 'F' GROUP BY"
    )
    assert dangling_join_repair(question, filtered, catalog) is None
    joined = AVG_BALANCE.format("customer JOIN orders ON o_custkey = c_custkey")
    assert (
        dangling_join_repair(
            "Average account balance of customers per nation, over their orders", joined, catalog
        )
        is None
    )


def test_how_many_customers_counts_customers(catalog):
    question = "How many customers have never placed an order?"
    wrong = (
        "SELECT count(*) AS customers FROM orders WHERE o_orderkey NOT IN (SELECT l_orderkey FROM lineitem)"
    )
    assert counted_table_problems(question, wrong, catalog) == [
        "the question counts customers, but the query counts no customer rows or keys"
    ]
    right = "SELECT count(*) AS customers FROM customer WHERE c_custkey NOT IN (SELECT o_custkey FROM orders)"
    assert counted_table_problems(question, right, catalog) == []
    keys = "SELECT count(DISTINCT o_custkey) FROM orders WHERE o_orderdate >= DATE '1995-01-01'"
    assert counted_table_problems("How many customers ordered since 1995?", keys, catalog) == []
    over_cte = "WITH x AS (SELECT o_custkey FROM orders) SELECT count(*) FROM x"
    assert counted_table_problems(question, over_cte, catalog) == []


def test_one_figure_asked_and_many_rows_returned(catalog):
    question = "What quantity of items was shipped by AIR in 1996?"
    assert asks_one_figure(question)
    for several in (
        "How many orders were placed in each year?",
        "What was the total revenue by region in 1995?",
        "How many suppliers are there in Germany and France?",
        "Which nation has the most customers?",
    ):
        assert not asks_one_figure(several), several
    sql = (
        "SELECT l_quantity FROM lineitem WHERE l_shipmode = 'AIR' "
        "AND l_shipdate >= DATE '1996-01-01' AND l_shipdate < DATE '1997-01-01'"
    )
    table = Table(columns=["l_quantity"], rows=[[28.0], [46.0], [40.0]])
    assert (
        "the question asks for one figure, but the query returned 3 rows; aggregate them (sum, count or avg) "
        "into one"
    ) in check_sql_answer(question, sql, table, catalog)


def test_the_analyst_respells_values_and_says_so(warehouse, rows):
    wrong = f"```sql\n{GERMANY.format('Germany')}\n```"
    analyst = SqlAnalyst(warehouse, ScriptedModel({"sql": [wrong, wrong]}))
    answer = analyst.answer("How many suppliers are based in Germany?")
    assert answer.verified and answer.table.rows == rows(GERMANY.format("GERMANY"))
    assert "the query was repaired ('Germany' is written 'GERMANY' in nation.n_name)" in answer.notes


def test_a_year_column_is_shown_as_a_year():
    text = table_text(Table(columns=["year", "orders"], rows=[[1996, 2297], [1997, 2287]]))
    assert "| 1996 | 2,297 |" in text and "1,996" not in text
    assert table_text(Table(columns=["orders"], rows=[[1996]])) == "orders: **1,996**"


def test_how_many_of_an_amount_column_sums_it(warehouse, catalog):
    question = "How many conversions did the campaigns launched in 1996 bring in?"
    counted = "SELECT count(conversions) FROM campaigns WHERE start_date >= DATE '1996-01-01'"
    fixed = count_to_sum_repair(question, counted, catalog)
    assert fixed is not None
    assert fixed[0] == "SELECT SUM(conversions) FROM campaigns WHERE start_date >= DATE '1996-01-01'"
    # Keys and count(*) count things; a column the question does not name is left alone.
    assert (
        count_to_sum_repair("How many orders were placed?", "SELECT count(o_orderkey) FROM orders", catalog)
        is None
    )
    assert (
        count_to_sum_repair("How many items were shipped?", "SELECT count(l_quantity) FROM lineitem", catalog)
        is None
    )


def test_the_most_customers_counts_customers_once(warehouse, catalog, rows):
    question = "Which nation has the most customers?"
    fanned = (
        "SELECT n_name, count(*) AS customers FROM orders JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey GROUP BY n_name ORDER BY customers DESC LIMIT 1"
    )
    assert check_sql_answer(
        question, fanned, Table(columns=["n_name", "customers"], rows=[["CANADA", 775]]), catalog
    ) == [
        "COUNT(*) adds up customer rows, but the join with orders repeats each customer row once per orders "
        "row; count(DISTINCT the customer key)"
    ]
    fixed = dangling_join_repair(question, fanned, catalog)
    assert fixed is not None
    right = fanned.replace("orders JOIN customer ON o_custkey = c_custkey", "customer")
    assert rows(fixed[0]) == rows(right)


@pytest.mark.parametrize("counted", ["DISTINCT o_custkey", "DISTINCT c_custkey"])
def test_customers_counted_through_their_orders_are_counted_from_customer(warehouse, catalog, counted, rows):
    through_orders = (
        f"SELECT r_name, count({counted}) AS customers FROM orders JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "GROUP BY r_name ORDER BY r_name"
    )
    fixed = dangling_join_repair("Number of customers per region", through_orders, catalog)
    assert fixed is not None
    right = (
        "SELECT r_name, count(*) FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey GROUP BY r_name ORDER BY r_name"
    )
    assert rows(fixed[0]) == rows(right) != rows(through_orders)
    # Customers who ordered are counted through their orders.
    assert dangling_join_repair("Number of customers per region who ordered", through_orders, catalog) is None


def test_a_join_that_carries_another_key_is_kept(catalog):
    # The distinct parts of 1995's orders: lineitem carries l_partkey, which orders has no stand-in for.
    sql = (
        "SELECT count(DISTINCT l_partkey) AS parts FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'"
    )
    assert dangling_join_repair("How many distinct parts were ordered in 1995?", sql, catalog) is None


def test_customers_per_market_segment_is_one_breakdown(catalog):
    from atomwork.goal import breakdowns

    assert breakdowns("Number of customers per market segment") == ["segment"]
    assert breakdowns("Top 3 nations by total supplier account balance") == ["nation"]
    # a rate over customers is one figure, not a row per customer
    assert breakdowns("What was the average number of orders per customer in 1996?") == []
    assert breakdowns("Average number of line items per order by region") == ["region"]
    # who placed the orders, not a row per customer; arranging verbs still break down
    assert breakdowns("Average discount on orders placed by customers in FRANCE in 1996") == []
    assert breakdowns("Revenue broken down by region") == ["region"]
    sql = "SELECT c_mktsegment AS segment, count(*) AS customers FROM customer GROUP BY 1"
    table = Table(columns=["segment", "customers"], rows=[["AUTOMOBILE", 302], ["BUILDING", 337]])
    assert check_sql_answer("Number of customers per market segment", sql, table, catalog) == []


def test_nations_asked_and_regions_given(catalog):
    question = "Top 3 nations by total supplier account balance"
    sql = "SELECT r_name AS region, sum(s_acctbal) AS total FROM supplier GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
    regions = Table(columns=["region", "total"], rows=[["EUROPE", 3.0], ["ASIA", 2.0], ["AMERICA", 1.0]])
    assert "the question asks by nation, but no column of the result holds nation names (nation.n_name)" in (
        check_sql_answer(question, sql, regions, catalog)
    )
    renamed = Table(columns=["nation", "total"], rows=regions.rows)  # regions under a nation's name
    assert any("nation names" in p for p in check_sql_answer(question, sql, renamed, catalog))
    nations = Table(columns=["n_name", "total"], rows=[["GERMANY", 3.0], ["FRANCE", 2.0], ["CHINA", 1.0]])
    assert check_sql_answer(question, sql.replace("r_name AS region", "n_name"), nations, catalog) == []


def test_an_overall_figure_is_not_grouped(catalog):
    question = "Total net revenue of line items shipped in 1995 (extended price after discount)"
    where = "WHERE l_shipdate >= DATE '1995-01-01' AND l_shipdate < DATE '1996-01-01'"
    top_order = (
        f"SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem {where} "
        "GROUP BY l_orderkey ORDER BY revenue DESC LIMIT 1"
    )
    one = Table(columns=["revenue"], rows=[[394513.85]])
    assert "the question asks for one overall figure, but the query groups by l_orderkey" in (
        check_sql_answer(question, top_order, one, catalog)
    )
    # Grouping inside a subquery (an average of per-order totals) is how some figures are made.
    per_order = (
        "SELECT avg(total) AS avg_order_revenue FROM (SELECT sum(l_extendedprice * (1 - l_discount)) "
        f"AS total FROM lineitem {where} GROUP BY l_orderkey)"
    )
    assert (
        check_sql_answer("Average revenue per order of line items shipped in 1995", per_order, one, catalog)
        == []
    )


def test_a_time_between_events_uses_their_dates(catalog):
    question = "On average, how many days pass between an order being placed and its line items shipping?"
    one = Table(columns=["days"], rows=[[16.5]])
    joined = " FROM lineitem JOIN orders ON l_orderkey = o_orderkey"
    assert check_sql_answer(
        question, "SELECT avg(l_receiptdate - l_commitdate) AS days" + joined, one, catalog
    ) == [
        "the question measures time from or to 'ship…', but the query uses none of l_shipdate",
        "the question measures time from or to 'order…', but the query uses none of o_orderdate",
    ]
    assert (
        check_sql_answer(question, "SELECT avg(l_shipdate - o_orderdate) AS days" + joined, one, catalog)
        == []
    )


def test_a_group_the_filter_fixes_is_one_overall_figure(catalog):
    question = "How much revenue came from the ASIA region in 1994?"
    sql = (
        "SELECT r_name AS region, sum(l_extendedprice * (1 - l_discount)) AS revenue FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE r_name = 'ASIA' AND o_orderdate >= DATE '1994-01-01' AND o_orderdate < DATE '1995-01-01' "
        "GROUP BY r_name"
    )
    one = Table(columns=["region", "revenue"], rows=[["ASIA", 62314061.01]])
    assert check_sql_answer(question, sql, one, catalog) == []


def test_a_top_answer_lists_the_rows_tied_with_it(warehouse, rows):
    top = (
        "SELECT c_name, count(*) AS orders FROM orders JOIN customer ON o_custkey = c_custkey "
        "GROUP BY c_name ORDER BY orders DESC LIMIT 1"
    )
    counts = rows(top.replace("LIMIT 1", "LIMIT 10"))
    tied = sum(1 for row in counts if row[1] == counts[0][1])
    reply = f"```sql\n{top}\n```"
    answer = SqlAnalyst(warehouse, ScriptedModel({"sql": [reply, reply]})).answer(
        "Which customer placed the most orders?"
    )
    assert answer.verified and len(answer.table.rows) == tied
    assert {row[1] for row in answer.table.rows} == {counts[0][1]}
    if tied > 1:
        assert f"{tied - 1} more row(s) tie with the last one" in " ".join(answer.notes)
    cut = ranking(top)
    assert cut is not None and (cut.limit, cut.column) == (1, "orders") and "LIMIT 21" in cut.wider_sql


def test_samples_that_keep_different_rows_of_a_tie_agree(warehouse, rows):
    # Every region holds five nations: which one a LIMIT 1 keeps is arbitrary, and two samples that
    # keep different ones still state the same answer, the five tied regions.
    top = (
        "SELECT r_name, count(*) AS nations FROM nation JOIN region ON n_regionkey = r_regionkey "
        "GROUP BY r_name ORDER BY nations DESC, r_name {} LIMIT 1"
    )
    first, second = top.format("ASC"), top.format("DESC")
    assert rows(first) != rows(second)
    model = ScriptedModel({"sql": [f"```sql\n{first}\n```", f"```sql\n{second}\n```"]})
    answer = SqlAnalyst(warehouse, model).answer("Which region has the most nations?")
    assert answer.verified and len(model.calls) == 2
    assert sorted(row[0] for row in answer.table.rows) == sorted(
        r[0] for r in rows("SELECT r_name FROM region")
    )
    assert "4 more row(s) tie with the last one" in " ".join(answer.notes)
    assert ranking("SELECT count(*) FROM orders") is None


def test_a_share_of_exactly_all_is_a_problem(catalog):
    question = "What percentage of the orders placed in 1996 were urgent (1-URGENT)?"
    sql = (
        "SELECT count(DISTINCT o_orderkey) * 100.0 / count(o_orderkey) AS pct FROM orders "
        "WHERE o_orderpriority = '1-URGENT' "
        "AND o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01'"
    )
    problems = check_sql_answer(question, sql, Table(columns=["pct"], rows=[[100.0]]), catalog)
    assert any(p.startswith("the share is exactly 100.0 (pct)") for p in problems)
    other = check_sql_answer(question, sql, Table(columns=["pct"], rows=[[20.03]]), catalog)
    assert not any(p.startswith("the share is exactly") for p in other)
    # ...and the part's condition in WHERE makes the whole the part, whatever the figure
    assert any("filters the whole query" in p for p in other)


def test_keys_of_different_things_are_not_set_equal(catalog):
    mixed = (
        "SELECT r_name, avg(s_acctbal) AS balance FROM region JOIN supplier ON r_regionkey = s_nationkey "
        "GROUP BY r_name"
    )
    assert key_mismatch_problems(mixed, catalog) == [
        "the query sets region.r_regionkey equal to supplier.s_nationkey, but they are keys of different "
        "things (region.r_regionkey and nation.n_nationkey); join through the tables that link them"
    ]
    # Two keys holding the same thing's values ("in the same nation"), and the schema's own joins.
    same_nation = "SELECT count(*) FROM customer c JOIN supplier s ON c.c_nationkey = s.s_nationkey"
    route = (
        "SELECT r_name, avg(s_acctbal) FROM supplier JOIN nation ON s_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey GROUP BY r_name"
    )
    assert key_mismatch_problems(same_nation, catalog) == key_mismatch_problems(route, catalog) == []


def test_a_window_aggregate_that_repeats_rows_is_a_problem(warehouse, catalog):
    window = "SELECT o_orderstatus, count(*) OVER (PARTITION BY o_orderstatus) AS orders FROM orders"
    grouped = "SELECT o_orderstatus, count(*) AS orders FROM orders GROUP BY 1"
    question = "How many orders are there in each order status?"
    problems = check_sql_answer(question, window, warehouse.query(window), catalog)
    assert any("window function" in p for p in problems), problems
    assert window_repeat_problems(grouped, warehouse.query(grouped)) == []
    # A window over distinct rows (a share of the total) repeats nothing.
    share = "SELECT o_orderstatus, count(*) * 1.0 / sum(count(*)) OVER () AS share FROM orders GROUP BY 1"
    assert window_repeat_problems(share, warehouse.query(share)) == []


def test_a_made_up_column_name_does_not_stand_for_a_table(catalog):
    # "ticket volume" counted from orders: the alias ticket_volume is not the tickets table.
    question = "How many support tickets were opened in 1997?"
    orders = "SELECT count(*) AS ticket_volume FROM orders WHERE year(o_orderdate) = 1997"
    table = Table(columns=["ticket_volume"], rows=[[2290]])
    problems = check_sql_answer(question, orders, table, catalog)
    assert any("does not use it" in p for p in problems), problems


def test_a_figure_computed_over_every_year_is_not_the_years(catalog):
    question = "Which ship mode had the highest share of late deliveries in 1996, and the overall share?"
    late = "100.0 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END)"
    sql = (
        f"SELECT l_shipmode, {late} AS share, (SELECT {late} FROM lineitem) AS overall_share FROM lineitem "
        "WHERE year(l_shipdate) = 1996 GROUP BY l_shipmode ORDER BY share DESC LIMIT 1"
    )
    table = Table(columns=["l_shipmode", "share", "overall_share"], rows=[["AIR", 63.8, 62.98]])
    assert "the column overall_share is computed over every year, not 1996 as the question asks" in (
        check_sql_answer(question, sql, table, catalog)
    )
    same_year = sql.replace("FROM lineitem) AS", "FROM lineitem WHERE year(l_shipdate) = 1996) AS")
    assert not any("every year" in p for p in check_sql_answer(question, same_year, table, catalog))


def test_a_formatted_date_compared_with_a_day_is_a_problem_and_is_repaired(warehouse, catalog):
    question = "Number of orders per month in 1996"
    text = (
        "SELECT strftime(o_orderdate, '%Y-%m') AS month, count(*) AS orders FROM orders "
        "WHERE strftime(o_orderdate, '%Y-%m') >= '1996-01-01' "
        "AND strftime(o_orderdate, '%Y-%m') < '1997-01-01' "
        "GROUP BY 1 ORDER BY 1"
    )
    # '1996-01' sorts before '1996-01-01': January drops out and January 1997 comes in.
    table = warehouse.query(text)
    assert table.rows[0][0] == "1996-02" and table.rows[-1][0] == "1997-01"
    problems = check_sql_answer(question, text, table, catalog)
    assert any("does not compare with '1996-01-01' as a date does" in p for p in problems), problems
    assert any("holds periods of 1997, outside the 1996" in p for p in problems), problems
    repaired = text_date_repair(text)
    assert repaired is not None and "o_orderdate >= DATE '1996-01-01'" in repaired[0]
    fixed = warehouse.query(repaired[0])
    assert [r[0] for r in fixed.rows] == [f"1996-{m:02d}" for m in range(1, 13)]
    assert check_sql_answer(question, repaired[0], fixed, catalog) == []
    # A month written as the format writes it compares rightly, and is left alone.
    same_shape = "SELECT count(*) FROM orders WHERE strftime(o_orderdate, '%Y-%m') = '1996-03'"
    assert text_date_repair(same_shape) is None and text_date_problems(same_shape) == []


def test_a_year_bounded_on_one_side_is_a_problem(warehouse, catalog):
    question = "Average order value per market segment in 1996"
    open_ended = (
        "SELECT c_mktsegment, avg(o_totalprice) AS aov FROM orders JOIN customer ON o_custkey = c_custkey "
        "WHERE o_orderdate >= '1996-01-01' GROUP BY 1"
    )
    table = warehouse.query(open_ended)
    assert any("with no end" in p for p in check_sql_answer(question, open_ended, table, catalog))
    closed = open_ended.replace("GROUP BY", "AND o_orderdate < '1997-01-01' GROUP BY")
    assert check_sql_answer(question, closed, warehouse.query(closed), catalog) == []
    # "Since 1996" asks for exactly that open end.
    since = "Average order value per market segment since 1996"
    assert not any("with no end" in p for p in check_sql_answer(since, open_ended, table, catalog))
    before = "SELECT count(*) FROM orders WHERE o_orderdate < DATE '1997-01-01'"
    problems = check_sql_answer(
        "How many orders were placed in 1996?", before, Table(columns=["n"], rows=[[9]]), catalog
    )
    assert any("with no start" in p for p in problems), problems


def test_a_ranking_of_several_cut_to_the_maximum_is_a_problem(warehouse, catalog):
    question = "Which 3 customers have the highest account balance?"
    tied = (
        "SELECT c_name, c_acctbal FROM customer WHERE c_acctbal = (SELECT max(c_acctbal) FROM customer) "
        "ORDER BY c_acctbal DESC LIMIT 3"
    )
    problems = check_sql_answer(question, tied, warehouse.query(tied), catalog)
    assert any("keeps only the rows equal to the maximum" in p for p in problems), problems
    top = "SELECT c_name, c_acctbal FROM customer ORDER BY c_acctbal DESC LIMIT 3"
    assert check_sql_answer(question, top, warehouse.query(top), catalog) == []


def test_a_monthly_figure_is_a_breakdown_but_an_average_monthly_one_is_not(catalog):
    one_month = Table(columns=["month", "revenue"], rows=[["1995-12", 28896188.43]])
    sql = (
        "SELECT strftime(o_orderdate, '%Y-%m') AS month, sum(o_totalprice) AS revenue FROM orders "
        "WHERE o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01' "
        "GROUP BY 1 ORDER BY revenue DESC LIMIT 1"
    )
    problems = check_sql_answer("Monthly revenue in 1995", sql, one_month, catalog)
    assert "the question asks for a breakdown, but the query returned a single row" in problems
    assert answer_shape("Monthly revenue in 1995") == "one row per month, no LIMIT"
    average = "What was the average monthly revenue in 1995?"
    assert asks_one_figure(average)
    assert answer_shape(average) == (
        "one row: total each month in a subquery grouped by the month, then avg() of the totals"
    )


def test_counted_rows_are_dated_by_their_own_date_column(crm):
    warehouse, catalog = crm
    question = "How many sales activities of each type were logged in Q1 2024?"
    by_deal = (
        "SELECT activity_type, count(*) AS n FROM activities JOIN opportunities "
        "ON activities.opportunity_id = opportunities.opportunity_id "
        "WHERE created_date >= DATE '2024-01-01' AND created_date < DATE '2024-04-01' GROUP BY 1"
    )
    problems = check_sql_answer(question, by_deal, warehouse.query(by_deal), catalog)
    assert any("dated by activity_date, but the query filters on created_date" in p for p in problems), (
        problems
    )
    own = (
        "SELECT activity_type, count(*) AS n FROM activities "
        "WHERE activity_date >= DATE '2024-01-01' AND activity_date < DATE '2024-04-01' GROUP BY 1"
    )
    assert check_sql_answer(question, own, warehouse.query(own), catalog) == []
    # The question may date them by the other event: activities on deals created in Q1 2024.
    created = "How many activities were logged on deals created in Q1 2024?"
    assert not any(
        "dated by" in p for p in check_sql_answer(created, by_deal, warehouse.query(by_deal), catalog)
    )


def test_an_overall_figure_over_every_year_gets_the_querys_period(warehouse, catalog):
    question = "Which ship mode had the highest share of late deliveries in 1996, and the overall share?"
    late = "100.0 * avg(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END)"
    sql = (
        f"SELECT l_shipmode, {late} AS share, (SELECT {late} FROM lineitem) AS overall_share FROM lineitem "
        "WHERE year(l_shipdate) = 1996 AND l_quantity > 0 GROUP BY l_shipmode ORDER BY share DESC LIMIT 1"
    )
    repaired = unfiltered_overall_repair(question, sql)
    assert repaired is not None
    # Only the period: the overall figure still spans every other condition's rows.
    assert "FROM lineitem WHERE YEAR(l_shipdate) = 1996) AS overall_share" in repaired[0]
    table = warehouse.query(repaired[0])
    overall = warehouse.query(f"SELECT {late} FROM lineitem WHERE year(l_shipdate) = 1996").rows[0][0]
    assert table.rows[0][2] == pytest.approx(overall)
    assert check_sql_answer(question, repaired[0], table, catalog) == []
    # No period asked, or an overall figure already filtered: nothing to repair.
    assert unfiltered_overall_repair("Which ship mode had the highest share of late deliveries?", sql) is None
    assert unfiltered_overall_repair(question, repaired[0]) is None


def test_a_figure_before_or_after_a_deduction_uses_it_accordingly(catalog):
    where = "FROM lineitem WHERE l_shipdate >= DATE '1993-01-01' AND l_shipdate < DATE '1994-01-01'"
    net = f"SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue {where}"
    gross = f"SELECT sum(l_extendedprice) AS revenue {where}"
    one = Table(columns=["revenue"], rows=[[305964803.2]])
    before = "What was the total gross revenue (before discounts) of line items shipped in 1993?"
    assert any("with l_discount" in p for p in check_sql_answer(before, net, one, catalog))
    assert check_sql_answer(before, gross, one, catalog) == []
    after = "What was the revenue after discount of line items shipped in 1993?"
    assert any("do not use l_discount" in p for p in check_sql_answer(after, gross, one, catalog))
    assert check_sql_answer(after, net, one, catalog) == []
    # A filter on the discount is not a figure computed with it.
    count = f"SELECT count(*) AS items {where} AND l_discount = 0"
    without = "How many line items shipped in 1993 were sold without any discount?"
    assert check_sql_answer(without, count, Table(columns=["items"], rows=[[120]]), catalog) == []
    # "How much more ... without the discounts" asks for the discount itself.
    change = f"SELECT sum(l_extendedprice * l_discount) AS revenue_change {where}"
    what_if = "How much more revenue would we have made in 1993 without the discounts?"
    assert check_sql_answer(what_if, change, one, catalog) == []


def test_a_share_is_not_divided_by_the_rest(catalog):
    question = "What percentage of line items shipped in 1997 went by RAIL?"
    where = "FROM lineitem WHERE l_shipdate >= DATE '1997-01-01' AND l_shipdate < DATE '1998-01-01'"
    rest = (
        "SELECT count(CASE WHEN l_shipmode = 'RAIL' THEN 1 END) * 100.0 / "
        f"count(CASE WHEN l_shipmode != 'RAIL' THEN 1 END) AS pct {where}"
    )
    whole = f"SELECT count(CASE WHEN l_shipmode = 'RAIL' THEN 1 END) * 100.0 / count(*) AS pct {where}"
    one = Table(columns=["pct"], rows=[[16.6]])
    assert any("not by the rest" in p for p in check_sql_answer(question, rest, one, catalog))
    assert check_sql_answer(question, whole, one, catalog) == []


def test_what_never_happened_is_counted_from_the_table_of_what_is_counted(catalog):
    # Customers who never ordered have no rows in orders: excluding something there (orders with
    # no line items) still finds only customers who did order. (A done-but-unconfirmed answer of 0.)
    question = "How many customers have never placed an order?"
    keys = (
        "SELECT count(DISTINCT o_custkey) AS customers FROM orders "
        "WHERE o_orderkey NOT IN (SELECT l_orderkey FROM lineitem)"
    )
    zero = Table(columns=["customers"], rows=[[0]])
    assert any(
        "count rows of customer and exclude the ones that did" in p
        for p in check_sql_answer(question, keys, zero, catalog)
    )
    right = "SELECT count(*) AS customers FROM customer WHERE c_custkey NOT IN (SELECT o_custkey FROM orders)"
    assert check_sql_answer(question, right, Table(columns=["customers"], rows=[[500]]), catalog) == []


def test_what_never_happened_is_not_counted_from_what_did(catalog):
    question = "How many customers have never placed an order?"
    one = Table(columns=["customers"], rows=[[1000]])
    did = "SELECT count(DISTINCT o_custkey) AS customers FROM orders"
    assert any(
        "asks about what did not happen ('never')" in p for p in check_sql_answer(question, did, one, catalog)
    )
    for never in (
        "SELECT count(*) AS customers FROM customer WHERE c_custkey NOT IN (SELECT o_custkey FROM orders)",
        "SELECT count(*) AS customers FROM customer LEFT JOIN orders ON o_custkey = c_custkey "
        "WHERE o_orderkey IS NULL",
        "SELECT count(*) AS customers FROM (SELECT c_custkey FROM customer "
        "EXCEPT SELECT o_custkey FROM orders)",
    ):
        assert not any("did not happen" in p for p in check_sql_answer(question, never, one, catalog)), never
    # "Have no ... that were returned" is the same kind of question.
    returned = "SELECT count(DISTINCT l_orderkey) AS orders FROM lineitem WHERE l_returnflag = 'R'"
    assert any(
        "asks about what did not happen ('have no')" in p
        for p in check_sql_answer(
            "How many orders have no line items that were returned?",
            returned,
            Table(columns=["orders"], rows=[[6518]]),
            catalog,
        )
    )
    # "Placed no orders in 1996": a verb with "no" asks about what did not happen as well.
    placed = (
        "SELECT count(DISTINCT c_custkey) FROM orders JOIN customer ON o_custkey = c_custkey "
        "WHERE o_orderdate >= DATE '1996-01-01' AND o_orderdate < DATE '1997-01-01'"
    )
    assert any(
        "asks about what did not happen ('no orders')" in p
        for p in check_sql_answer("How many customers placed no orders in 1996?", placed, one, catalog)
    )


def test_a_column_the_question_spells_out_is_used(crm):
    crm_catalog = crm[1]
    question = (
        "Which sales reps met their annual quota in 2023 (won deal value at least the quota)? "
        "List them with their won value."
    )
    won = (
        "SELECT s.name AS sales_rep, sum(o.amount) AS won_value FROM sales_reps s JOIN opportunities o "
        "ON s.rep_id = o.rep_id WHERE o.stage = 'Closed Won' AND o.close_date >= DATE '2023-01-01' "
        "AND o.close_date < DATE '2024-01-01' GROUP BY s.name"
    )
    rows = Table(
        columns=["sales_rep", "won_value"], rows=[["Kira Fournier", 1249422.56], ["Chloe Chen", 1022807.99]]
    )
    problem = "the question names annual_quota, but the query does not use it"
    assert problem in check_sql_answer(question, won, rows, crm_catalog)
    met = won + " HAVING sum(o.amount) >= max(s.annual_quota)"
    assert problem not in check_sql_answer(question, met, rows, crm_catalog)


def test_keys_of_another_naming_style_are_joined(catalog, crm):
    # "customer_key" is customer's own key, "owner_rep_id" a role in front of the key rep_id.
    assert ("support_tickets.customer_key", "customer.c_custkey") in {
        (j.left, j.right) for j in catalog.joins
    }
    assert ("accounts.owner_rep_id", "sales_reps.rep_id") in {(j.left, j.right) for j in crm[1].joins}


TICKETS_THROUGH_ORDERS = (
    "SELECT r_name, count(*) AS tickets FROM orders JOIN customer ON o_custkey = c_custkey "
    "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
    "JOIN support_tickets AS t ON o_custkey = t.customer_key GROUP BY r_name"
)


def test_two_tables_joined_by_the_key_they_both_point_at_repeat_each_other(catalog, rows):
    question = "How many support tickets were opened in each region?"
    assert fan_out_problems(TICKETS_THROUGH_ORDERS, catalog, question) == [
        "COUNT(*) adds up support_tickets rows, but the join with orders repeats each support_tickets "
        "row once per orders row; both point at customer: join support_tickets to customer directly, "
        "without orders"
    ]
    # Whichever table the question counts, count(*) over such a join counts pairs.
    assert fan_out_problems(TICKETS_THROUGH_ORDERS, catalog, "Monthly ticket volumes by region") == [
        "COUNT(*) counts every pair of orders and support_tickets rows with the same customer key (both "
        "point at customer); count one table's rows, joined to customer directly"
    ]
    direct = TICKETS_THROUGH_ORDERS.replace(
        "orders JOIN customer ON o_custkey = c_custkey",
        "support_tickets AS t JOIN customer ON t.customer_key = c_custkey",
    ).replace(" JOIN support_tickets AS t ON o_custkey = t.customer_key", "")
    assert fan_out_problems(direct, catalog, question) == []
    assert sum(r[1] for r in rows(direct)) < sum(r[1] for r in rows(TICKETS_THROUGH_ORDERS))


def test_having_without_group_by_is_a_problem(catalog):
    sql = "SELECT count(DISTINCT l_orderkey) AS orders FROM lineitem HAVING count(l_partkey) > 5"
    assert ungrouped_having_problems(sql) == [
        "HAVING COUNT(l_partkey) > 5 without GROUP BY tests the whole table as one group; to count the "
        "entities that meet it, group by the entity's key in a subquery with that HAVING, then count its rows"
    ]
    grouped = "SELECT count(*) FROM (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey HAVING count(*) > 5)"
    assert ungrouped_having_problems(grouped) == []


def test_a_threshold_on_a_count_per_entity_gets_its_shape():
    assert answer_shape("How many orders contain more than 5 line items?") == (
        "one row: in a subquery, group the line items by the key of their order with HAVING count(*) > 5; "
        "then count the subquery's rows"
    )
    assert "HAVING count(*) >= 20" in (
        answer_shape("How many customers placed at least 20 orders in 1996?") or ""
    )
    assert answer_shape("How many orders have a total price over 300,000?") == "one row with the count"


def test_a_breakdown_by_a_column_of_the_schema_needs_its_rows(catalog, crm):
    one = Table(columns=["line_items"], rows=[[14902]])
    sql = "SELECT count(*) AS line_items FROM lineitem WHERE l_returnflag = 'R'"
    assert (
        "the question asks for a breakdown per l_returnflag, but the query returned a single row; GROUP BY "
        "it, one row per value"
    ) in check_sql_answer("Number of line items per return flag", sql, one, catalog)
    assert breakdown_columns("Deals by lead source", crm[1]) == ["lead_source"]
    assert breakdown_columns("Orders placed by customers in FRANCE", catalog) == []
    assert breakdown_columns("Line items shipped by AIR", catalog) == []


def test_the_number_of_days_is_a_time_not_a_count(catalog):
    question = "What was the average number of days between the commit date and the receipt date in 1995?"
    sql = (
        "SELECT avg(l_receiptdate - l_commitdate) AS days FROM lineitem "
        "WHERE l_receiptdate >= DATE '1995-01-01' AND l_receiptdate < DATE '1996-01-01'"
    )
    problems = check_sql_answer(question, sql, Table(columns=["days"], rows=[[30.1]]), catalog)
    assert not any("counts nothing" in p for p in problems)
    counted = check_sql_answer(
        "What is the number of orders in 1995?",
        "SELECT avg(o_totalprice) FROM orders WHERE year(o_orderdate) = 1995",
        Table(columns=["n"], rows=[[1.5]]),
        catalog,
    )
    assert "the question asks how many, but the query counts nothing" in counted


def test_is_null_on_an_inner_joined_key_never_holds(catalog):
    inner = (
        "SELECT count(DISTINCT c_custkey) FROM customer JOIN orders ON c_custkey = o_custkey "
        "WHERE o_orderkey IS NULL"
    )
    assert inner_null_problems(inner, catalog) == [
        "o_orderkey IS NULL never holds: orders is inner-joined, so its key is never empty; use LEFT JOIN "
        "orders (or NOT EXISTS) to find rows without a match"
    ]
    outer = inner.replace("FROM customer JOIN", "FROM customer LEFT JOIN")
    assert inner_null_problems(outer, catalog) == []


def test_a_table_the_query_misses_names_its_own_column_for_the_one_used(catalog):
    sql = (
        "SELECT avg(c_acctbal) AS balance FROM customer JOIN nation ON c_nationkey = n_nationkey "
        "WHERE n_name = 'GERMANY'"
    )
    problems = check_sql_answer(
        "What is the average account balance of suppliers in GERMANY?",
        sql,
        Table(columns=["balance"], rows=[[4280.1]]),
        catalog,
    )
    assert (
        "the question is about supplier but the query does not use it; it has supplier.s_acctbal where the "
        "query reads customer.c_acctbal"
    ) in problems


def test_a_numbered_name_the_question_writes_is_in_the_query(catalog):
    question = "How many orders did the customer Customer#000000010 place in 1995?"
    every = "SELECT count(*) AS orders FROM orders WHERE year(o_orderdate) = 1995"
    one = Table(columns=["orders"], rows=[[2204]])
    assert "the question names Customer#000000010, but the query never uses it" in check_sql_answer(
        question, every, one, catalog
    )
    for used in ("o_custkey = 10", "o_custkey = '000000010'"):
        problems = check_sql_answer(
            question, f"{every} AND {used}", Table(columns=["orders"], rows=[[4]]), catalog
        )
        assert not any("Customer#" in p for p in problems)


def test_a_figure_per_partition_is_not_the_overall_figure(catalog):
    question = "What was the total revenue from customers in CHINA in 1996?"
    per_customer = (
        "SELECT c_name, sum(l_extendedprice * (1 - l_discount)) OVER (PARTITION BY c_name) AS revenue "
        "FROM lineitem JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "ORDER BY revenue DESC LIMIT 1"
    )
    problems = check_sql_answer(
        question, per_customer, Table(columns=["c_name", "revenue"], rows=[["C", 1.5]]), catalog
    )
    assert (
        "the question asks for one overall figure, but the query computes it per c_name (OVER PARTITION BY); "
        "aggregate all rows into one"
    ) in problems


def test_the_having_that_picks_entities_counts_the_rows_the_question_names(catalog):
    question = "How many customers placed more than 20 orders?"
    through_lineitem = (
        "SELECT count(*) FROM (SELECT o_custkey FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "GROUP BY o_custkey HAVING count(*) > 20)"
    )
    assert fan_out_problems(through_lineitem, catalog, question) == [
        "COUNT(*) adds up orders rows, but the join with lineitem repeats each orders row once per lineitem "
        "row; count(DISTINCT the orders key)"
    ]
    alone = "SELECT count(*) FROM (SELECT o_custkey FROM orders GROUP BY o_custkey HAVING count(*) > 20)"
    assert fan_out_problems(alone, catalog, question) == []


def test_a_total_is_added_up(catalog):
    question = "What was the total extended price of line items returned (return flag R) in 1995?"
    one_row = (
        "SELECT l_extendedprice AS total_extended_price FROM lineitem WHERE l_returnflag = 'R' "
        "AND year(l_shipdate) = 1995 ORDER BY l_shipdate LIMIT 1"
    )
    problem = "the question asks for a total, but the query adds nothing up (no sum)"
    assert problem in check_sql_answer(question, one_row, Table(columns=["t"], rows=[[41845.6]]), catalog)
    summed = "SELECT sum(l_extendedprice) FROM lineitem WHERE l_returnflag = 'R' AND year(l_shipdate) = 1995"
    assert problem not in check_sql_answer(
        question, summed, Table(columns=["t"], rows=[[64014381.24]]), catalog
    )
    # "Total price" is a column's name, not a sum.
    largest = "SELECT max(o_totalprice) FROM orders"
    assert problem not in check_sql_answer(
        "What is the largest order total price on record?",
        largest,
        Table(columns=["m"], rows=[[5e5]]),
        catalog,
    )


def test_a_join_whose_condition_reads_none_of_its_columns_is_a_problem(catalog):
    unlinked = (
        "SELECT avg(l_discount) FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON c_nationkey = n_nationkey WHERE r_name = 'MIDDLE EAST'"
    )
    problem = (
        "region is joined ON c_nationkey = n_nationkey, which reads none of its columns: every row is paired "
        "with every region row; join it ON n_regionkey = r_regionkey"
    )
    assert unlinked_join_problems(unlinked, catalog) == [problem]
    question = "What was the average discount on orders of customers in the MIDDLE EAST region?"
    assert problem in check_sql_answer(question, unlinked, Table(columns=["d"], rows=[[0.0499]]), catalog)
    linked = unlinked.replace("ON c_nationkey = n_nationkey WHERE", "ON n_regionkey = r_regionkey WHERE")
    assert unlinked_join_problems(linked, catalog) == []


def test_a_period_asked_for_is_not_answered_with_single_days(catalog):
    question = "In which year was the total order value highest?"
    top = "sum(o_totalprice) AS v FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    problem = (
        "the question asks for a year, but year holds single days (1995-09-16); "
        "group by year(the date column)"
    )
    day = Table(columns=["year", "v"], rows=[["1995-09-16", 2302515.01]])
    assert problem in check_sql_answer(question, f"SELECT o_orderdate AS year, {top}", day, catalog)
    year = Table(columns=["year", "v"], rows=[[1993, 329267348.3]])
    assert problem not in check_sql_answer(
        question, f"SELECT year(o_orderdate) AS year, {top}", year, catalog
    )


def test_rows_in_both_years_are_not_rows_of_either(catalog):
    question = "How many customers have placed orders in both 1995 and 1996?"
    either = (
        "SELECT count(DISTINCT o_custkey) FROM orders "
        "WHERE year(o_orderdate) = 1995 OR year(o_orderdate) = 1996"
    )
    problem = (
        "the question asks for those with rows in both 1995 and 1996, but the query takes rows of either "
        "year; keep the keys of 1995 INTERSECT the keys of 1996"
    )
    assert problem in check_sql_answer(question, either, Table(columns=["n"], rows=[[975]]), catalog)
    both = (
        "SELECT count(*) FROM (SELECT o_custkey FROM orders WHERE year(o_orderdate) = 1995 "
        "INTERSECT SELECT o_custkey FROM orders WHERE year(o_orderdate) = 1996)"
    )
    assert check_sql_answer(question, both, Table(columns=["n"], rows=[[765]]), catalog) == []
    notes = question_notes(question, catalog, STANDARD)
    assert any(n.startswith("in both 1995 and 1996: the keys with rows in 1995 INTERSECT") for n in notes)
    assert not any(" or o_orderdate" in n for n in notes)


def test_the_overall_figure_gets_both_ends_of_the_year(catalog, rows):
    question = (
        "Which ship mode had the highest share of late deliveries in 1996, and how does it compare overall?"
    )
    late = "sum(CASE WHEN l_receiptdate > l_commitdate THEN 1 ELSE 0 END) * 100.0 / count(*)"
    sql = (
        f"SELECT l_shipmode, {late} AS share, (SELECT {late} FROM lineitem) AS overall FROM lineitem "
        "WHERE l_receiptdate >= DATE '1996-01-01' AND l_receiptdate < DATE '1997-01-01' GROUP BY l_shipmode"
    )
    repaired = unfiltered_overall_repair(question, sql)
    assert repaired is not None
    assert repaired[1] == [
        "the overall figure overall was computed over every year: it now keeps l_receiptdate >= "
        "CAST('1996-01-01' AS DATE) AND l_receiptdate < CAST('1997-01-01' AS DATE) as the query does"
    ]
    # A year's start with no end runs on to the data's last day.
    half = sql.replace(
        f"(SELECT {late} FROM lineitem)",
        f"(SELECT {late} FROM lineitem WHERE l_receiptdate >= DATE '1996-01-01')",
    )
    assert open_year_problems(half, ["1996"]) == [
        "l_receiptdate >= CAST('1996-01-01' AS DATE) has no end, so it keeps every year from 1996 on; add "
        "l_receiptdate < DATE '1997-01-01'"
    ]
    assert open_year_problems(repaired[0], ["1996"]) == []
    problems = check_sql_answer(
        question, half, Table(columns=["m", "s", "o"], rows=[["AIR", 63.8, 64.25]]), catalog
    )
    assert any("has no end" in p for p in problems)


def test_hires_are_dated_by_hire_date_only_when_the_question_names_a_period(catalog):
    glossary = STANDARD.for_schema(catalog)
    everyone = "SELECT count(*) AS employees FROM employees WHERE department = 'Operations'"
    counted = Table(columns=["employees"], rows=[[190]])
    ever = "How many employees were ever hired into the Operations department?"
    assert check_sql_answer(ever, everyone, counted, catalog, glossary=glossary) == []
    in_1996 = "How many employees were hired into the Operations department in 1996?"
    assert any(
        "defined as count(*) FROM employees WHERE hire_date is in the period" in p
        for p in check_sql_answer(in_1996, everyone, counted, catalog, glossary=glossary)
    )
