"""A comparison of years asked one year at a time: the questions it splits into, the join of the
years' tables, and the analyst answering a comparison that way against the demo warehouse."""

from __future__ import annotations

import pytest

from atomwork.agents.sql_analyst import SqlAnalyst
from atomwork.agents.year_comparison import YearSplit, join_years, split_by_year
from atomwork.models import ScriptedModel
from atomwork.table import Table


@pytest.mark.parametrize(
    ("question", "parts", "change"),
    [
        (
            "Compare revenue in 1996 and 1997 by region.",
            ["Revenue in 1996 by region", "Revenue in 1997 by region"],
            False,
        ),
        (
            "Compare the number of orders placed in 1995 and 1996: how many in each year and what was the "
            "change in percent?",
            ["Number of orders placed in 1995: how many?", "Number of orders placed in 1996: how many?"],
            True,
        ),
        (
            "Compare won deal value in 2022 and 2023 for each territory.",
            ["Won deal value in 2022 for each territory", "Won deal value in 2023 for each territory"],
            False,
        ),
        (
            "How many orders were placed in 1995 compared with 1996?",
            ["How many orders were placed in 1995?", "How many orders were placed in 1996?"],
            False,
        ),
        (
            "How did revenue in 1997 compare with 1996 by region?",
            ["Revenue in 1996 by region?", "Revenue in 1997 by region?"],
            False,
        ),
        (
            "Compare the number of tickets in each category between 1996 and 1997.",
            ["Number of tickets in each category in 1996", "Number of tickets in each category in 1997"],
            False,
        ),
    ],
)
def test_a_comparison_of_years_is_asked_once_per_year(question, parts, change):
    split = split_by_year(question)
    assert split is not None and split.parts == parts and split.change is change


@pytest.mark.parametrize(
    "question",
    [
        "What was the revenue in 1996?",  # one year
        "What was the growth in revenue from 1996 to 1997?",  # no comparing word: one figure
        "Revenue in 1996 vs 1997 for customers who ordered in 1995",  # the years stand apart
        "Compare 1996 revenue by region with 1997",
    ],
)
def test_other_wordings_are_answered_whole(question):
    assert split_by_year(question) is None


def test_the_years_tables_join_on_their_labels_with_the_change_where_asked():
    split = YearSplit(years=["1996", "1997"], parts=["a 1996", "a 1997"], change=True)
    first = Table(
        columns=["region", "year", "revenue_1996"], rows=[["ASIA", 1996, 10.0], ["EUROPE", 1996, 20.0]]
    )
    second = Table(
        columns=["region", "year", "revenue_1997"], rows=[["EUROPE", 1997, 30.0], ["AFRICA", 1997, 5.0]]
    )
    joined = join_years(split, [first, second])
    assert joined is not None
    assert joined.columns == [
        "region",
        "revenue 1996",
        "revenue 1997",
        "revenue change 1996-1997",
        "revenue change % 1996-1997",
    ]
    assert joined.rows == [
        ["ASIA", 10.0, None, None, None],
        ["EUROPE", 20.0, 30.0, 10.0, 50.0],
        ["AFRICA", None, 5.0, None, None],
    ]
    # Tables that do not line up (another breakdown, or two figures in other names) are not joined.
    other = Table(columns=["nation", "orders", "revenue"], rows=[["FRANCE", 1, 2.0]])
    assert (
        join_years(split, [Table(columns=["region", "revenue", "orders"], rows=[["ASIA", 1.0, 2]]), other])
        is None
    )


def fenced(sql: str) -> str:
    return f"```sql\n{sql}\n```"


def orders_in(year: int) -> str:
    return (
        f"SELECT count(*) AS orders FROM orders WHERE o_orderdate >= DATE '{year}-01-01' "
        f"AND o_orderdate < DATE '{year + 1}-01-01'"
    )


def test_the_analyst_answers_a_comparison_one_year_at_a_time(warehouse, catalog, rows):
    question = (
        "Compare the number of orders placed in 1995 and 1996: how many in each year and what was the change?"
    )
    model = ScriptedModel({"sql": [fenced(orders_in(1995))] * 2 + [fenced(orders_in(1996))] * 2})
    answer = SqlAnalyst(warehouse, model, catalog=catalog).answer(question)
    (n95,), (n96,) = rows(orders_in(1995))[0], rows(orders_in(1996))[0]
    assert answer.verified and answer.table.columns[:2] == ["orders 1995", "orders 1996"]
    assert answer.table.rows == [[n95, n96, n96 - n95, (n96 - n95) / n95 * 100]]
    # Each year was asked on its own, and each query keeps the part it answered.
    prompts = [c.prompt for c in model.calls]
    assert "placed in 1995" in prompts[0] and "1996" not in prompts[0].split("Question:")[-1].split("\n")[0]
    assert {c.question for c in answer.candidates} == {
        "Number of orders placed in 1995: how many?",
        "Number of orders placed in 1996: how many?",
    }
    assert "-- 1995" in answer.sql and "-- 1996" in answer.sql


def test_a_year_that_stays_unverified_leaves_the_comparison_unverified(warehouse, catalog):
    question = "Compare the number of orders placed in 1995 and 1996."
    wrong = (
        "SELECT count(*) AS orders FROM orders WHERE o_orderpriority = '1-URGENT' "
        "AND year(o_orderdate) = 1996"
    )
    model = ScriptedModel(
        {
            "sql": [fenced(orders_in(1995))] * 2
            + [fenced(orders_in(1996)), fenced(wrong), fenced(wrong.replace("1-URGENT", "2-HIGH"))]
        }
    )
    answer = SqlAnalyst(warehouse, model, catalog=catalog, max_retries=0).answer(question)
    assert not answer.verified, (answer.notes, [(c.sql, c.table, c.problems) for c in answer.candidates])
    assert any(n.startswith("1996 not verified") for n in answer.notes), answer.notes
