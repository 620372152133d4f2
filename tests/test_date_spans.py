"""Spans named by bare years: "before 1993" is a bound, not the year 1993."""

from __future__ import annotations

from datetime import date

import pytest

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.date_spans import point_problems, points_in_time, span_problems, year_spans
from atomwork.agents.sql_hints import date_column, day_notes, question_notes
from atomwork.tools.base import Table
from atomwork.tools.glossary import STANDARD
from atomwork.tools.schema import SchemaCatalog

ONE = Table(columns=["n"], rows=[[5]])


@pytest.mark.parametrize(
    ("question", "spans"),
    [
        ("How many line items were shipped before 1993?", [(None, date(1993, 1, 1))]),
        ("How many orders were placed after 1997?", [(date(1998, 1, 1), None)]),
        ("How many orders were placed since 1997?", [(date(1997, 1, 1), None)]),
        ("How many orders from 1996 onwards?", [(date(1996, 1, 1), None)]),
        ("Orders placed in 1995 or earlier", [(None, date(1996, 1, 1))]),
        ("How many orders were placed between 1993 and 1995?", [(date(1993, 1, 1), date(1996, 1, 1))]),
        ("Revenue from 1994 through 1996", [(date(1994, 1, 1), date(1997, 1, 1))]),
        # Whole years, days and comparisons are not spans.
        ("How many orders were placed in 1995?", []),
        ("What was the total revenue of orders placed after 1997-06-30?", []),
        ("How many orders were placed between March 1, 1995 and June 30, 1995?", []),
        ("Which market segment grew its revenue the most from 1995 to 1996?", []),
        ("Compare revenue between 1995 and 1996 by region", []),
    ],
)
def test_spans_are_read_from_bare_years(question, spans):
    assert [(s.start, s.end) for s in year_spans(question)] == spans


def test_a_span_is_a_note_in_place_of_a_whole_year(catalog: SchemaCatalog):
    notes = question_notes("How many line items were shipped before 1993?", catalog, STANDARD)
    assert "before 1993: l_shipdate < DATE '1993-01-01'" in notes
    assert not any(n.startswith("the whole year") for n in notes)
    between = question_notes("How many orders were placed between 1993 and 1995?", catalog, STANDARD)
    assert (
        "between 1993 and 1995: o_orderdate >= DATE '1993-01-01' AND o_orderdate < DATE '1996-01-01'"
        in between
    )


def test_a_span_must_bound_the_query_where_it_is_bounded(catalog: SchemaCatalog):
    before = "How many line items were shipped before 1993?"
    in_1993 = (
        "SELECT count(*) FROM lineitem "
        "WHERE l_shipdate >= DATE '1993-01-01' AND l_shipdate < DATE '1994-01-01'"
    )
    assert (
        "the question asks for dates 'before 1993', but the query does not bound them that way: the date "
        "column < DATE '1993-01-01'"
    ) in check_sql_answer(before, in_1993, ONE, catalog)
    for right in (
        "SELECT count(*) FROM lineitem WHERE l_shipdate < DATE '1993-01-01'",
        "SELECT count(*) FROM lineitem WHERE year(l_shipdate) < 1993",
        "SELECT count(*) FROM lineitem WHERE l_shipdate <= '1992-12-31'",
    ):
        assert check_sql_answer(before, right, ONE, catalog) == [], right


def test_a_year_that_bounds_a_span_need_not_be_in_the_query(catalog: SchemaCatalog):
    # "After 1997" starts on 1998-01-01; 1997 itself is nowhere in the right query.
    after = "SELECT count(*) FROM orders WHERE o_orderdate >= DATE '1998-01-01'"
    assert check_sql_answer("How many orders were placed after 1997?", after, ONE, catalog) == []
    between = "How many orders were placed between 1993 and 1995?"
    for right in (
        "SELECT count(*) FROM orders WHERE o_orderdate >= DATE '1993-01-01' "
        "AND o_orderdate < DATE '1996-01-01'",
        "SELECT count(*) FROM orders WHERE o_orderdate BETWEEN DATE '1993-01-01' AND DATE '1995-12-31'",
        "SELECT count(*) FROM orders WHERE year(o_orderdate) IN (1993, 1994, 1995)",
    ):
        assert check_sql_answer(between, right, ONE, catalog) == [], right
    two_years = "SELECT count(*) FROM orders WHERE year(o_orderdate) IN (1993, 1995)"
    assert span_problems(between, two_years) == [
        "the question asks for dates 'between 1993 and 1995', but the query does not bound them that way: "
        "the date column >= DATE '1993-01-01' and < DATE '1996-01-01'"
    ]


@pytest.mark.parametrize(
    ("question", "note"),
    [
        (
            "How many orders were placed between March 1, 1995 and June 30, 1995?",
            "from 1995-03-01 to 1995-06-30, both included: d >= DATE '1995-03-01' AND d < DATE '1995-07-01'",
        ),
        (
            "What was the total revenue of orders placed after 1997-06-30?",
            "after 1997-06-30: d > DATE '1997-06-30'",
        ),
        ("How many orders were placed before March 15, 1995?", "before 1995-03-15: d < DATE '1995-03-15'"),
        ("How many line items shipped since 1 March 1998?", "since 1998-03-01: d >= DATE '1998-03-01'"),
        ("How many orders were placed on January 2nd, 1996?", "on 1996-01-02: d = DATE '1996-01-02'"),
    ],
)
def test_days_the_question_writes_are_noted_as_bounds(question, note):
    assert day_notes(question, "d") == [note]


def test_the_analyst_hears_the_day_notes(catalog: SchemaCatalog):
    notes = question_notes("How many orders were placed on 1996-01-01?", catalog, STANDARD)
    assert "on 1996-01-01: o_orderdate = DATE '1996-01-01'" in notes


def test_a_date_column_the_question_names_dates_its_period(catalog: SchemaCatalog):
    asked = "What was the total revenue lost to returns (return flag R) in 1994, by ship date?"
    assert date_column(asked, catalog, STANDARD) == "l_shipdate"
    # An event's own date still wins over a date column named for another purpose.
    late = "How many line items shipped in 1995 arrived after their commit date?"
    assert date_column(late, catalog, STANDARD) == "l_shipdate"
    assert date_column("Revenue in 1995", catalog, STANDARD) == "o_orderdate"
    # Late line items are dated by their ship date, unless the question says received.
    late_share = "Which ship mode had the highest share of late deliveries in 1996?"
    assert date_column(late_share, catalog, STANDARD) == "l_shipdate"
    assert (
        date_column("How many line items were received late in 1995?", catalog, STANDARD) == "l_receiptdate"
    )
    # The event written just before the year dates it, wherever the other events are.
    placed = "How many orders placed in Q3 1993 had a line item received after its committed date?"
    assert date_column(placed, catalog, STANDARD) == "o_orderdate"
    shipped = "How many line items received after their commit date were shipped in 1997?"
    assert date_column(shipped, catalog, STANDARD) == "l_shipdate"


@pytest.mark.parametrize(
    ("question", "days"),
    [
        ("How many employees were on staff at the end of 1997?", [date(1997, 12, 31)]),
        ("Headcount at the end of June 1998", [date(1998, 6, 30)]),
        ("Who was employed at the start of Q3 1996?", [date(1996, 7, 1)]),
        ("Payroll at the close of the third quarter of 1995", [date(1995, 9, 30)]),
        ("Open tickets at the beginning of the fiscal year 1997", [date(1997, 1, 1)]),
        ("Headcount at year-end 1996", [date(1996, 12, 31)]),
        # "By" and "since" the end of a year bound spans; they are not moments.
        ("How many orders were placed by the end of 1997?", []),
        ("How many employees were hired since the start of 1996?", []),
        ("How many orders were placed in 1997?", []),
    ],
)
def test_moments_are_single_days(question, days):
    assert [p.day for p in points_in_time(question)] == days


def test_a_moment_is_the_day_and_not_the_whole_period(catalog: SchemaCatalog):
    staff = "What was the total salary of the Marketing employees on staff at the end of 1997?"
    hired_in_1997 = (
        "SELECT sum(salary) FROM employees WHERE department = 'Marketing' "
        "AND hire_date >= '1997-01-01' AND hire_date < '1998-01-01'"
    )
    assert check_sql_answer(staff, hired_in_1997, ONE, catalog) == [
        "the end of 1997 is the single day 1997-12-31, not the whole period from 1997-01-01 to "
        "1997-12-31: the query takes in the whole period"
    ]
    hired_that_year = "SELECT sum(salary) FROM employees WHERE year(hire_date) = 1997"
    assert point_problems(staff, hired_that_year, set()) == [
        "the question asks about one day, 1997-12-31 (the end of 1997), but the query's dates do not "
        "include it"
    ]
    for right in (
        "SELECT sum(salary) FROM employees WHERE department = 'Marketing' AND hire_date <= DATE '1997-12-31' "
        "AND (termination_date IS NULL OR termination_date > DATE '1997-12-31')",
        "SELECT sum(salary) FROM employees WHERE department = 'Marketing' AND hire_date < DATE '1998-01-01' "
        "AND (termination_date IS NULL OR termination_date >= DATE '1998-01-01')",
        "SELECT sum(salary) FROM employees WHERE department = 'Marketing' AND year(hire_date) <= 1997 "
        "AND (termination_date IS NULL OR year(termination_date) > 1997)",
    ):
        assert check_sql_answer(staff, right, ONE, catalog) == [], right
    # A year the question also names as a whole may be taken whole.
    both = "How many employees hired in 1997 were still on staff at the end of 1997?"
    hired = (
        "SELECT count(*) FROM employees WHERE hire_date >= DATE '1997-01-01' "
        "AND hire_date < DATE '1998-01-01' "
        "AND (termination_date IS NULL OR termination_date > DATE '1997-12-31')"
    )
    assert check_sql_answer(both, hired, ONE, catalog) == []


def test_a_moment_is_noted_as_its_day_with_the_definition_filled_in(catalog: SchemaCatalog):
    notes = question_notes("How many employees were on staff at the end of June 1998?", catalog, STANDARD)
    assert (
        "employees on staff at the end of June 1998: hire_date <= DATE '1998-06-30' AND "
        "(termination_date IS NULL OR termination_date > DATE '1998-06-30')"
    ) in notes
    assert (
        "the end of June 1998: the single day 1998-06-30, what held on that day; not everything dated during "
        "the period"
    ) in notes
    assert not any(n.startswith(("the whole year", "the whole month")) for n in notes)
