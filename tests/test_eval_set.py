"""The answer-accuracy eval set: every case's SQL runs and has the shape its ``expect`` needs,
the set's coverage meets its minimums, and the answer scorer accepts right and rejects wrong answers.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from atomwork.agents.answer_checks import check_sql_answer
from atomwork.agents.data_probe import warehouse_probe
from atomwork.agents.sql_analyst import period_hints
from atomwork.agents.sql_hints import from_clause
from atomwork.evals.cases import DatasetName, EvalCase, Expect, Level
from atomwork.evals.datasets import (
    all_cases,
    build_crm,
    dataset_path,
    expected_table,
    probe_cases,
    select_cases,
)
from atomwork.evals.scoring import MAX_NUMBERS_WITHOUT_TABLE, extract_numbers, score_answer
from atomwork.tools.base import Table
from atomwork.tools.glossary import STANDARD
from atomwork.tools.schema import SchemaCatalog
from atomwork.tools.warehouse import Warehouse

CASES = all_cases()
DEPARTMENTS = ("sales", "finance", "hr", "marketing", "support", "operations")


@pytest.fixture(scope="session")
def dataset_warehouses(atomwork_home: Path) -> Iterator[dict[DatasetName, Warehouse]]:
    """Each dataset built once (TPC-H sf=0.01 takes a few seconds) and opened read-only."""
    opened = {name: Warehouse.open(dataset_path(name)) for name in DatasetName}
    yield opened
    for wh in opened.values():
        wh.close()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _render(value: Any) -> str:
    """How a careful analyst would write a figure: counts exactly, other values to two decimals,
    fractions to four significant digits."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4g}"


def _perfect_answer(table: Table) -> str:
    return "\n".join(" ".join(_render(v) if _is_number(v) else str(v) for v in row) for row in table.rows)


# --------------------------------------------------------------------------- the set itself


def test_ids_are_unique_and_name_their_dataset() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for case in CASES:
        assert case.id.startswith(f"{case.dataset}-"), case.id
    questions = [(c.dataset, c.question) for c in CASES]
    assert len(questions) == len(set(questions))


def test_counts_meet_the_minimums() -> None:
    per_dataset = Counter(c.dataset for c in CASES)
    assert per_dataset[DatasetName.DEMO] >= 60
    assert per_dataset[DatasetName.TPCH] >= 20
    assert per_dataset[DatasetName.CRM] >= 10
    demo = [c for c in CASES if c.dataset == DatasetName.DEMO]
    cells = Counter((c.department, c.level) for c in demo)
    for department in DEPARTMENTS:
        for level in Level:
            assert cells[(department, level)] >= 1, f"no {level} question for {department}"
    shares = {level: sum(c.level == level for c in demo) / len(demo) for level in Level}
    assert 0.3 <= shares[Level.FACT] <= 0.5, shares
    assert 0.25 <= shares[Level.GROUPED] <= 0.45, shares
    assert 0.15 <= shares[Level.MULTI] <= 0.35, shares
    for dataset in (DatasetName.TPCH, DatasetName.CRM):
        assert {c.level for c in CASES if c.dataset == dataset} == set(Level)


def test_select_cases_filters() -> None:
    crm = select_cases(dataset="crm")
    assert crm and all(c.dataset == DatasetName.CRM for c in crm)
    multi = select_cases(dataset=DatasetName.DEMO, level=Level.MULTI, limit=3)
    assert len(multi) == 3 and all(c.level == Level.MULTI for c in multi)
    assert [c.id for c in select_cases(ids=["tpch-01", "demo-sales-01"])] == ["demo-sales-01", "tpch-01"]
    with pytest.raises(ValueError, match="unknown case"):
        select_cases(ids=["no-such-case"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_sql_has_the_shape_its_expect_needs(
    case: EvalCase, dataset_warehouses: dict[DatasetName, Warehouse]
) -> None:
    table = dataset_warehouses[case.dataset].fetch(case.sql)
    rows = table.rows
    assert rows, "the expected answer is empty"
    assert all(v is not None for row in rows for v in row), "NULL in the expected answer"
    if case.expect == Expect.NUMBER:
        assert len(rows) == 1 and len(table.columns) == 1 and _is_number(rows[0][0])
    elif case.expect == Expect.ENTITY:
        assert len(rows) == 1 and _is_label(rows[0][0])
    elif case.expect == Expect.ROWS:
        assert 2 <= len(rows) <= 25
        assert all(_is_label(row[0]) and any(_is_number(v) for v in row[1:]) for row in rows)
        assert len({tuple(str(v) for v in row if not _is_number(v)) for row in rows}) == len(rows)
    else:
        assert len(rows) <= 25
        one_row_of_numbers = len(rows) == 1 and all(_is_number(v) for v in rows[0])
        labelled = all(_is_label(row[0]) and any(_is_number(v) for v in row) for row in rows)
        assert one_row_of_numbers or labelled


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_scorer_accepts_the_expected_answer_and_rejects_a_wrong_one(
    case: EvalCase, dataset_warehouses: dict[DatasetName, Warehouse]
) -> None:
    table = dataset_warehouses[case.dataset].fetch(case.sql)
    right = score_answer(case, table, _perfect_answer(table))
    assert right.correct, right.detail
    assert not score_answer(case, table, "I could not find the answer.").correct
    if case.expect == Expect.ROWS:
        # The result table alone carries a grouped answer; dropping a row breaks it.
        assert score_answer(case, table, "See the table.", [table]).correct
        short = Table(columns=table.columns, rows=table.rows[1:])
        assert not score_answer(case, table, _perfect_answer(short), [short]).correct
    if case.expect == Expect.NUMBER:
        value = table.rows[0][0]
        wrong = value + 1 if isinstance(value, int) else value * 1.05
        assert not score_answer(case, table, f"The answer is {_render(wrong)}.").correct


def test_expected_table_runs_the_case_sql(dataset_warehouses: dict[DatasetName, Warehouse]) -> None:
    case = next(c for c in CASES if c.id == "tpch-04")
    assert expected_table(case).rows == dataset_warehouses[DatasetName.TPCH].fetch(case.sql).rows


# --------------------------------------------------------------------------- the datasets


def test_tpch_dataset_is_plain_tpch(dataset_warehouses: dict[DatasetName, Warehouse]) -> None:
    wh = dataset_warehouses[DatasetName.TPCH]
    assert sorted(wh.tables()) == sorted(
        ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]
    )
    assert wh.row_count("orders") == 15000 and wh.row_count("lineitem") == 60175
    assert dataset_path(DatasetName.TPCH).parent.name == "evals"


def test_demo_dataset_is_the_demo_warehouse(dataset_warehouses: dict[DatasetName, Warehouse]) -> None:
    assert dataset_warehouses[DatasetName.DEMO].has_table("support_tickets")
    with Warehouse.open() as demo:
        assert dataset_path(DatasetName.DEMO) == demo.path


def test_crm_is_deterministic(tmp_path: Path) -> None:
    def dump(path: Path) -> list[Any]:
        con = sqlite3.connect(path)
        try:
            return [
                con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("sales_reps", "accounts", "contacts", "opportunities", "activities")
            ]
        finally:
            con.close()

    first, second = build_crm(tmp_path / "a.sqlite"), build_crm(tmp_path / "b.sqlite")
    assert dump(first) == dump(second)
    assert not list(tmp_path.glob(".*.tmp")), "a temp file was left behind"
    own_home = dataset_path(DatasetName.CRM, home=tmp_path)
    assert own_home.parent == tmp_path / "evals" and dump(own_home) == dump(first)


# --------------------------------------------------------------------------- the scorer


def _case(expect: Expect, question: str = "What is it?", rel_tol: float = 0.005) -> EvalCase:
    return EvalCase(
        id="t",
        dataset=DatasetName.DEMO,
        level=Level.FACT,
        department="sales",
        question=question,
        sql="SELECT 1",
        expect=expect,
        rel_tol=rel_tol,
    )


def _number(value: float | int) -> Table:
    return Table(columns=["value"], rows=[[value]])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234.56", Decimal("1234.56")),
        ("$1.23M", Decimal("1230000")),
        ("303.91 million", Decimal("303910000")),
        ("12.5%", Decimal("12.5")),
        ("1.2K", Decimal("1200")),
        ("2e6", Decimal("2000000")),
        ("-4.5", Decimal("-4.5")),
        ("−3", Decimal("-3")),
        ("**$7.5B**", Decimal("7500000000")),
        ("| ASIA | 66,543,983.90 |", Decimal("66543983.90")),
        ("$-2.5k", Decimal("-2500")),
    ],
)
def test_extract_numbers(text: str, value: Decimal) -> None:
    assert [n.value for n in extract_numbers(text)] == [value]


def test_extract_numbers_skips_dates_bullets_and_labels() -> None:
    assert [n.value for n in extract_numbers("On 1997-03-31 and in 1998-04, Q3 1997-Q2")] == []
    assert [n.value for n in extract_numbers("- 42 tickets")] == [Decimal(42)]


def test_number_exact_and_rounded_displays() -> None:
    case, expected = _case(Expect.NUMBER), _number(303_912_345.1)
    for good in ("Revenue was $303.91M.", "about **303,912,345.10**", "$304 million", "303.9 million"):
        assert score_answer(case, expected, good).correct, good
    for bad in ("Revenue was $0.3B.", "Revenue was $300M.", "Revenue was $310.5M.", "No idea."):
        assert not score_answer(case, expected, bad).correct, bad


def test_number_rounding_needs_three_significant_digits() -> None:
    case = _case(Expect.NUMBER)
    assert score_answer(case, _number(3.9602), "Average CSAT 3.96.").correct
    assert not score_answer(case, _number(3.9602), "Average CSAT 4.").correct
    assert score_answer(case, _number(0.125), "12.5% of items").correct  # a percentage of a fraction


def test_counts_must_match_exactly() -> None:
    case, expected = _case(Expect.NUMBER), _number(2297)
    assert score_answer(case, expected, "There were 2,297 orders.").correct
    assert not score_answer(case, expected, "There were 2,296 orders.").correct
    assert not score_answer(case, expected, "There were 2.3K orders.").correct
    assert not score_answer(case, _number(7), "7.4 tickets").correct


def test_a_year_is_not_an_answer() -> None:
    case = _case(Expect.NUMBER, "What was the average order size in 1995?")
    assert not score_answer(case, _number(1995.3), "In 1995 orders were large.").correct
    assert not score_answer(case, _number(1996.2), "Compared with 1996, nothing changed.").correct
    assert score_answer(case, _number(1995.3), "The average was 1,995.30 units in 1995.").correct
    # Unless the expected value is exactly that number.
    assert score_answer(_case(Expect.NUMBER, "How many orders?"), _number(1995), "1995 orders").correct


def test_a_number_dump_gets_no_credit_without_a_table() -> None:
    case, expected = _case(Expect.NUMBER), _number(2297)
    dump = ", ".join(str(n) for n in range(2290, 2290 + MAX_NUMBERS_WITHOUT_TABLE + 1))
    assert "2297" in dump
    verdict = score_answer(case, expected, dump)
    assert not verdict.correct and "dump" in verdict.detail
    assert score_answer(case, expected, dump, [Table(columns=["n"], rows=[[2297]])]).correct


def test_negative_values_and_decreases() -> None:
    case = _case(Expect.NUMBER)
    assert score_answer(case, _number(-4.2), "Revenue changed by -4.2%.").correct
    assert score_answer(case, _number(-4.2), "Revenue fell 4.2% year on year.").correct
    assert not score_answer(case, _number(-4.2), "Revenue grew 4.2% year on year.").correct


def test_entity_matching() -> None:
    case, expected = _case(Expect.ENTITY), Table(columns=["region", "revenue"], rows=[["ASIA", 66.5]])
    assert score_answer(case, expected, "Asia led with $66.5M.").correct
    assert score_answer(case, expected, "**ASIA**").correct
    assert not score_answer(case, expected, "EUROPE led.").correct
    assert not score_answer(case, expected, "Asian markets led.").correct
    spaced = Table(columns=["region"], rows=[["MIDDLE EAST"]])
    assert score_answer(case, spaced, "The Middle East region.").correct
    assert score_answer(case, spaced, "MIDDLE_EAST").correct
    customer = Table(columns=["customer"], rows=[["Customer#000001345"]])
    assert score_answer(case, customer, "Top customer: Customer #1345.").correct
    assert not score_answer(case, customer, "Top customer: Customer #1346.").correct
    assert not score_answer(case, customer, "Top customer: Customer#0000013456.").correct


REGIONS = Table(
    columns=["region", "revenue"],
    rows=[["ASIA", 66_543_983.9], ["AFRICA", 64_526_347.38], ["EUROPE", 57_926_537.0]],
)


def test_rows_from_text() -> None:
    case = _case(Expect.ROWS)
    lines = ["| region | revenue |", "|---|---|", "| ASIA | $66.54M |", "| AFRICA | $64.53M |"]
    markdown = "\n".join([*lines, "| Europe | 57,926,537 |"])
    assert score_answer(case, REGIONS, markdown).correct
    prose = "Asia brought in $66.54M, Africa $64.53M and Europe $57.93M."
    assert score_answer(case, REGIONS, prose).correct
    missing = score_answer(case, REGIONS, "| ASIA | $66.54M |\n| AFRICA | $64.53M |")
    assert not missing.correct and "EUROPE" in missing.detail
    swapped = "Asia $64.53M, Africa $66.54M, Europe $57.93M"
    assert not score_answer(case, REGIONS, swapped).correct
    stacked = "**ASIA**\n- revenue: $66.54M\n**AFRICA**\n- revenue: $64.53M\n**EUROPE**\n- revenue: $57.93M"
    assert score_answer(case, REGIONS, stacked).correct


def test_rows_from_tables() -> None:
    case = _case(Expect.ROWS)
    shown = Table(
        columns=["region", "revenue", "orders"],
        rows=[["ASIA", 66_543_983.9, 400], ["AFRICA", 64_526_347.38, 390], ["EUROPE", 57_926_537.0, 350]],
    )
    assert score_answer(case, REGIONS, "Done.", [shown]).correct
    shuffled = Table(columns=shown.columns, rows=[["ASIA", 64_526_347.38, 1], ["AFRICA", 66_543_983.9, 2]])
    assert not score_answer(case, REGIONS, "Done.", [shuffled]).correct


def test_rows_do_not_confuse_a_label_with_a_longer_one() -> None:
    case = _case(Expect.ROWS)
    expected = Table(columns=["mode", "late_pct"], rows=[["REG AIR", 64.6], ["AIR", 61.1]])
    assert not score_answer(case, expected, "| REG AIR | 64.6 |\n| SHIP | 61.1 |").correct
    assert not score_answer(case, expected, "", [Table(columns=["m", "p"], rows=[["REG AIR", 64.6]])]).correct
    assert score_answer(case, expected, "| REG AIR | 64.6 |\n| AIR | 61.1 |").correct


def test_month_and_quarter_labels() -> None:
    case = _case(Expect.REPORT)
    expected = Table(columns=["region", "month", "revenue"], rows=[["AFRICA", "1996-05", 12_057_178.06]])
    report = "Anomaly: AFRICA revenue in May 1996 reached $12.06M, 2.3x the usual month."
    assert score_answer(case, expected, report).correct
    assert not score_answer(case, expected, "Anomaly: AFRICA in May 1996 was unusually high.").correct
    assert not score_answer(case, expected, "Anomaly: AFRICA in June 1996 reached $12.06M.").correct
    quarter = Table(columns=["department", "quarter", "leavers"], rows=[["Operations", "1997-Q3", 26]])
    assert score_answer(case, quarter, "Operations lost 26 people in Q3 1997.").correct
    assert not score_answer(case, quarter, "Operations lost 25 people in Q3 1997.").correct


def test_report_of_one_row_of_numbers() -> None:
    case = _case(Expect.REPORT, "How did expenses change from 1996 to 1997?", rel_tol=0.02)
    expected = Table(columns=["a", "b", "pct"], rows=[[28_631_376.22, 29_183_942.62, 1.9299]])
    assert score_answer(case, expected, "Expenses rose from $28.63M to $29.18M (+1.9%).").correct
    assert not score_answer(case, expected, "Expenses rose from $28.63M to $29.18M.").correct


# --------------------------------------------------------------------------- the answer checks


@pytest.mark.parametrize(
    "case", [c for c in [*CASES, *probe_cases()] if c.level is not Level.MULTI], ids=lambda c: c.id
)
def test_answer_checks_accept_every_hand_written_answer(
    case: EvalCase, dataset_warehouses: dict[DatasetName, Warehouse]
) -> None:
    """A check that rejects the right SQL makes right answers 'unverified' and sends the model to
    'fix' a correct query, so the checks are held to every hand-written answer in the set."""
    warehouse = dataset_warehouses[case.dataset]
    catalog = _catalog(case.dataset, warehouse)
    hints = period_hints(case.question, catalog.data_end)
    years = sorted({str(y) for h in hints for y in (h.start.year, h.end.year)})
    table = warehouse.query(case.sql)
    problems = check_sql_answer(
        case.question,
        case.sql,
        table,
        catalog,
        period_years=years,
        glossary=STANDARD.for_schema(catalog),
        probe=warehouse_probe(warehouse),
    )
    assert problems == []


_CATALOGS: dict[DatasetName, SchemaCatalog] = {}


def _catalog(name: DatasetName, warehouse: Warehouse) -> SchemaCatalog:
    if name not in _CATALOGS:
        _CATALOGS[name] = SchemaCatalog.read(warehouse)
    return _CATALOGS[name]


# The eval set follows TPC-H's own query 6 here (revenue "made in 1994" by ship date), where
# the glossary dates revenue by order date; the hint is right by the glossary.
_DATE_CONVENTION_CASES = {"tpch-06"}


@pytest.mark.parametrize("case", [c for c in CASES if c.level is not Level.MULTI], ids=lambda c: c.id)
def test_join_hints_never_route_through_a_table_the_answer_does_not_need(
    case: EvalCase, dataset_warehouses: dict[DatasetName, Warehouse]
) -> None:
    """A wrong join hint is worse than none: the small model follows it. Every table the hint
    joins must be one the hand-written SQL reads."""
    catalog = _catalog(case.dataset, dataset_warehouses[case.dataset])
    clause = from_clause(case.question, catalog, STANDARD.for_schema(catalog))
    if clause is None or case.id in _DATE_CONVENTION_CASES:
        return
    hinted = set(re.findall(r"(?:FROM|JOIN) (\w+)", clause))
    gold = {t.name for t in catalog.tables if re.search(rf"\b{t.name}\b", case.sql, re.I)}
    assert hinted <= gold, clause
