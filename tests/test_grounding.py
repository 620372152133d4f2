"""Grounded answers and reports: figures traced to tables, degenerate text replaced, honest verdicts."""

from __future__ import annotations

from atomwork.agents.answerer import Answerer, table_text, untraced_figures
from atomwork.agents.evaluator import Evaluator, coverage_check, task_checks
from atomwork.figures import degenerate, figures, matches
from atomwork.models import ScriptedModel
from atomwork.plan import AtomicTask
from atomwork.result import Evaluation, TaskOutcome, TaskStatus
from atomwork.settings import RunSettings
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.analysis import detect_anomalies
from atomwork.tools.context import RunContext
from atomwork.tools.reporting import draft_report

REVENUE = Table(columns=["region", "revenue"], rows=[["ASIA", 1234567.89], ["EUROPE", 987654.32]])


def outcome(task_id: str, result: ToolResult, tool: str = "sales_by_region", args=None) -> TaskOutcome:
    task = AtomicTask(id=task_id, department="sales", tool=tool, args=args or {"period": "1997"})
    return TaskOutcome(
        task=task,
        status=TaskStatus.DONE,
        result=result,
        resolved_args=task.args,
        evaluation=Evaluation(passed=True, score=1.0),
    )


SALES = outcome("t1", ToolResult(summary="Revenue by region for 1997: total $2.22M.", table=REVENUE))


def test_figures_read_every_common_format():
    values = [f.value for f in figures("1,234.5 and $1.2M, 3 million, -4% and 12.5K")]
    assert values == [1234.5, 1_200_000.0, 3_000_000.0, -4.0, 12_500.0]
    assert figures("t1 and Q3") == []  # ids and quarter names are not figures


def test_a_rounded_display_matches_but_a_different_number_does_not():
    (shown,) = figures("$1.23M")
    assert matches(shown, 1_234_567.89)
    (wrong,) = figures("$1.25M")
    assert not matches(wrong, 1_234_567.89)
    (two_digits,) = figures("$1.2M")
    assert not matches(two_digits, 1_249_000.0, rel_tol=0.001)  # too coarse to vouch for the figure


def test_degenerate_text_is_caught():
    looping = "\n".join(["ASIA revenue grew strongly this quarter."] * 5)
    assert any("repeated" in p for p in degenerate(looping))
    cut = "The revenue of ASIA was 1,234,567.89 and EUROPE " + "followed closely with strong growth " * 5
    assert any("cut off" in p for p in degenerate(cut))
    assert degenerate("ASIA led with 1,234,567.89.") == []


def test_untraced_figures_are_named():
    assert untraced_figures("ASIA made $1.23M in 1997.", [SALES]) == []
    assert untraced_figures("ASIA made $5.55M.", [SALES]) == ["5,550,000"]


def test_model_answer_with_an_invented_figure_is_replaced_by_the_tables():
    other = outcome(
        "t2", ToolResult(summary="Orders in 1997: 42.", table=Table(columns=["orders"], rows=[[42]]))
    )
    model = ScriptedModel({"answer": ["ASIA earned 9,999,999 in 1997."]})
    composed = Answerer(model).compose("revenue and orders in 1997", {"t1": SALES, "t2": other}, None)
    assert not composed.by_model and "9,999,999" not in composed.text
    assert "1,234,567.89" in composed.text and "t1 · sales_by_region" in composed.text
    assert any("9,999,999" in r for r in composed.rejected)
    assert model.calls[0].repeat_penalty is not None  # generated under a repetition penalty


def test_a_grounded_model_answer_is_kept_with_its_sources():
    other = outcome(
        "t2", ToolResult(summary="Orders in 1997: 42.", table=Table(columns=["orders"], rows=[[42]]))
    )
    model = ScriptedModel({"answer": ["ASIA led 1997 with $1.23M of revenue across 42 orders."]})
    composed = Answerer(model).compose("revenue and orders in 1997", {"t1": SALES, "t2": other}, None)
    assert composed.by_model
    assert composed.text.endswith("Sources: t1 (sales_by_region), t2 (sales_by_region).")


def test_one_result_is_answered_without_a_model_call():
    model = ScriptedModel({})
    composed = Answerer(model).compose("revenue by region in 1997", {"t1": SALES}, None)
    assert model.calls == [] and "1,234,567.89" in composed.text


def test_final_answer_checks_reject_degenerate_and_untraced_text():
    evaluator = Evaluator(ScriptedModel({}), RunSettings(score_final_with_model=False))
    outcomes = {"t1": SALES}
    good = evaluator.evaluate_final("revenue by region in 1997", "ASIA: 1,234,567.89.", outcomes)
    assert good.passed
    looping = "\n".join(["ASIA made 1,234,567.89 in 1997."] * 4)
    assert not evaluator.evaluate_final("revenue by region in 1997", looping, outcomes).passed
    invented = evaluator.evaluate_final("revenue by region in 1997", "ASIA made 3,333,333.", outcomes)
    assert not invented.passed and "3,333,333" in invented.reason


def test_the_goal_period_must_be_what_the_tasks_worked_on():
    assert coverage_check("revenue by region in 1997", {"t1": SALES}) == []
    problems = coverage_check("revenue by region in 1995", {"t1": SALES})
    assert problems and "1995" in problems[0]


def test_no_anomalies_is_a_finding_not_a_failure():
    flat = Table(columns=["month", "revenue"], rows=[[f"1997-{m:02d}", 100.0 + m] for m in range(1, 13)])
    result = detect_anomalies(flat, "revenue")
    assert result.table is not None and result.table.rows == []
    assert task_checks(outcome("t2", result, tool="detect_anomalies")) == []
    empty = ToolResult(summary="nothing", table=Table(columns=["x"], rows=[]))
    assert task_checks(outcome("t3", empty)) == ["result table is empty"]


def test_a_report_citing_invented_figures_is_rebuilt_from_its_inputs():
    facts = ["Revenue by region for 1997: ASIA 1,234,567.89; EUROPE 987,654.32."]
    model = ScriptedModel({"report": ["Headline: ASIA made 7,777,777.\n- EUROPE 987,654.32."]})
    args = {"title": "1997 revenue", "audience": "the CFO", "inputs": facts}
    result = draft_report.invoke(args, RunContext(model=model))
    assert "7,777,777" not in result.summary and "1,234,567.89" in result.summary
    assert result.draft is not None and result.draft.replaced and result.draft.sources == facts[0]
    kept = ScriptedModel({"report": ["Headline: ASIA led with 1,234,567.89.\n- EUROPE 987,654.32."]})
    kept_result = draft_report.invoke(args, RunContext(model=kept))
    assert kept_result.summary.startswith("Headline: ASIA") and kept_result.draft.replaced == []


def test_table_text_states_figures_in_full():
    assert table_text(Table(columns=["orders"], rows=[[15000]])) == "orders: **15,000**"
    many = table_text(REVENUE)
    assert "| ASIA | 1,234,567.89 |" in many


def test_a_plan_that_misses_the_asked_breakdown_or_search_is_not_complete():
    by_region = {"t1": SALES}
    assert coverage_check("revenue by region in 1997", by_region) == []
    months = coverage_check("flag unusual months in 1997 revenue by region", by_region)
    assert any("breakdown by month" in p for p in months)
    assert any("flag unusual values" in p for p in months)
    assert any("breakdown by month" in p for p in coverage_check("monthly 1997 revenue by region", by_region))
    both = coverage_check("1997 revenue by region and quarter", by_region)
    assert any("breakdown by quarter" in p for p in both)
    report = coverage_check("revenue by region in 1997 and draft a report for the CFO", by_region)
    assert any("no report was drafted" in p for p in report)
