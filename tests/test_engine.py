"""Orchestration logic with a scripted model and in-memory tools."""

from __future__ import annotations

import pytest

from atomwork.agents.evaluator import grounding_check
from atomwork.engine import Engine
from atomwork.errors import ConfigError, ModelError, PlanError
from atomwork.events import Replanned
from atomwork.models import Purpose, ScriptedModel
from atomwork.result import StopReason, TaskStatus
from atomwork.settings import RunSettings

from .fakes import Recorder, make_registry, task

GOOD = {"reason": "meets the criteria", "score": 8}
BAD = {"reason": "misses the point", "score": 2}
REPORT = "Headline: MIDDLE EAST leads with 610.0 revenue.\n- total 1155.0"


def engine(script, recorder=None, **settings) -> tuple[Engine, ScriptedModel]:
    """An engine on the scripted model; model scores are on unless ``settings`` say otherwise."""
    model = ScriptedModel(script)
    chosen = RunSettings(**{"score_tasks_with_model": True, "score_final_with_model": True, **settings})
    return Engine(
        model, make_registry(recorder), settings=chosen, data_range="1992-01-01 to 1998-08-02"
    ), model


def test_happy_path_fully_specified_tasks_make_no_model_call():
    rec = Recorder()
    plan = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1998-Q2"}),
            task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
            task("t3", "draft_report", "reporting", {"title": "Q2", "inputs": ["$t1", "$t2"]}, ["t1", "t2"]),
        ]
    }
    eng, model = engine({"plan": [plan], "score": [GOOD], "score_final": [GOOD], "report": [REPORT]}, rec)
    result = eng.run("analyze sales by region, flag the top region, report")
    assert result.stop_reason == StopReason.COMPLETED and result.ok
    assert result.answer.startswith(REPORT) and "Sources: t1 (sales_by_region)" in result.answer
    assert [o.status for o in result.outcomes.values()] == [TaskStatus.DONE] * 3
    assert not result.outcomes["t1"].used_model and not result.outcomes["t2"].used_model
    assert result.outcomes["t3"].used_model
    assert "args" not in model.purposes()
    assert model.purposes().count("report") == 1
    assert result.outcomes["t2"].result.table.rows == [["MIDDLE EAST", 610.0]]
    assert set(result.tables) == {"t1", "t2"}
    assert rec.calls.count("sales_by_region:1998-Q2") == 1
    # the report prompt was grounded on the referenced outputs
    report_prompt = next(c.prompt for c in model.calls if c.purpose == "report")
    assert "MIDDLE EAST" in report_prompt and "610" in report_prompt


def test_missing_arguments_are_filled_by_the_specialist_model():
    plan = {"tasks": [task("t1", "ticket_stats", "support", {"period": "1998"})]}
    eng, model = engine(
        {
            "plan": [plan],
            "args": [{"group_by": "priority"}],
            "score": [GOOD],
            "score_final": [GOOD],
            "answer": ["ok"],
        }
    )
    result = eng.run("support tickets by priority in 1998")
    outcome = result.outcomes["t1"]
    assert outcome.status == TaskStatus.DONE and outcome.used_model
    assert outcome.resolved_args == {"period": "1998", "group_by": "priority"}
    args_call = next(c for c in model.calls if c.purpose == "args")
    assert "group_by" in args_call.prompt and "priority" in args_call.prompt


def test_slow_branch_does_not_block_unrelated_chain():
    rec = Recorder()
    plan = {
        "tasks": [
            task("slow", "wait_a_bit", "operations", {"seconds": 1.5, "label": "slow"}),
            task("t1", "sales_by_region", "sales", {"period": "1998"}),
            task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
        ]
    }
    eng, _ = engine({"plan": [plan], "score": [GOOD], "score_final": [GOOD], "answer": ["done"]}, rec)
    result = eng.run("do both")
    assert result.ok
    _, slow_end = rec.spans["sleep:slow"]
    chain_end = rec.spans["top_value"][1]
    assert chain_end < slow_end, "the dependent of a fast task waited for an unrelated slow task"
    assert rec.spans["sales_by_region:1998"][0] < slow_end


def test_failed_task_is_replanned_and_finished_work_is_kept():
    rec = Recorder()
    first = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1998"}),
            task("t2", "sales_by_region", "sales", {"period": "broken"}),
            task("t3", "top_value", "analysis", {"table": "$t2", "value_column": "revenue"}, ["t2"]),
        ]
    }
    second = {
        "tasks": [
            task("t4", "sales_by_region", "sales", {"period": "1997"}),
            task("t5", "top_value", "analysis", {"table": "$t4", "value_column": "revenue"}, ["t4"]),
        ]
    }
    eng, model = engine(
        {"plan": [first], "replan": [second], "score": [GOOD], "score_final": [GOOD], "answer": ["a"]},
        rec,
    )
    result = eng.run("compare")
    assert result.stop_reason == StopReason.COMPLETED
    assert result.replans == 1
    assert result.outcomes["t2"].status == TaskStatus.FAILED and "broken" in result.outcomes["t2"].error
    assert result.outcomes["t3"].status == TaskStatus.SKIPPED
    assert result.outcomes["t4"].ok and result.outcomes["t5"].ok
    assert rec.calls.count("sales_by_region:1998") == 1, "finished task was re-run"
    replan_prompt = next(c.prompt for c in model.calls if c.purpose == Purpose.REPLAN)
    assert "t1" in replan_prompt and "broken" in replan_prompt
    assert sum(isinstance(e, Replanned) for e in result.events) == 1
    assert result.plan.ids() == ["t1", "t2", "t3", "t4", "t5"]


def test_replan_budget_exhausted_gives_clear_stop_reason():
    broken = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "broken"})]}
    again = {"tasks": [task("t2", "sales_by_region", "sales", {"period": "broken"})]}
    eng, _ = engine(
        {"plan": [broken], "replan": [again], "score": [GOOD], "score_final": [BAD]}, max_replans=1
    )
    result = eng.run("x")
    assert result.stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED
    assert not result.ok
    assert result.replans == 1
    assert set(result.outcomes) == {"t1", "t2"}


def test_low_model_score_triggers_replanning():
    first = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
    second = {"tasks": [task("t2", "sales_by_region", "sales", {"period": "1997"})]}
    eng, _ = engine(
        {"plan": [first], "replan": [second], "score": [BAD, GOOD], "score_final": [GOOD], "answer": ["a"]}
    )
    result = eng.run("x")
    assert result.outcomes["t1"].status == TaskStatus.DONE
    assert not result.outcomes["t1"].ok and result.outcomes["t1"].evaluation.score == 0.2
    assert result.outcomes["t2"].ok
    assert result.stop_reason == StopReason.COMPLETED


def test_programmatic_check_fails_empty_table_without_asking_the_model():
    plan = {"tasks": [task("t1", "empty_finance", "finance", {"period": "1998"})]}
    eng, model = engine({"plan": [plan], "score_final": [GOOD], "answer": ["a"]}, max_replans=0)
    result = eng.run("x")
    assert result.outcomes["t1"].evaluation.checks == ["result table is empty"]
    assert "score" not in model.purposes()
    assert "- t1 (empty_finance): its result failed the checks: result table is empty" in result.answer
    assert result.stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED


def test_replanner_that_cannot_plan_stops_with_no_progress():
    first = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "broken"})]}
    useless = {"tasks": [task("t9", "launch_rockets", "sales", {})]}
    eng, _ = engine({"plan": [first], "replan": [useless], "score_final": [GOOD]})
    result = eng.run("x")
    assert result.stop_reason == StopReason.NO_PROGRESS
    assert result.outcomes["t1"].status == TaskStatus.FAILED


def test_planner_retries_after_unusable_output():
    good = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
    eng, model = engine(
        {"plan": ["not json at all", good], "score": [GOOD], "score_final": [GOOD], "answer": ["a"]}
    )
    result = eng.run("x")
    assert result.ok
    assert model.purposes().count("plan") == 2


def test_planner_gives_up_with_plan_error():
    eng, _ = engine({"plan": [{"tasks": [task("t1", "nope", "sales")]}]})
    with pytest.raises(PlanError, match="could not produce a valid plan"):
        eng.run("x")


def test_model_failure_during_planning_is_a_clear_error():
    eng, _ = engine({"plan": [ModelError("cannot reach the model endpoint http://127.0.0.1:9/v1")]})
    with pytest.raises(PlanError, match="cannot reach the model endpoint"):
        eng.run("x")


def test_final_answer_failing_evaluation_triggers_replan():
    first = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
    second = {"tasks": [task("t2", "draft_report", "reporting", {"title": "r", "inputs": ["$t1"]})]}
    eng, model = engine(
        {
            "plan": [first],
            "replan": [second],
            "score": [GOOD],
            # The programmatic check (a report was asked for, none was drafted) rejects the first
            # answer before any model score is asked for.
            "score_final": [GOOD],
            "answer": ["meh"],
            "report": [REPORT],
        }
    )
    result = eng.run("report on sales")
    assert result.stop_reason == StopReason.COMPLETED
    assert result.answer.startswith(REPORT) and "Sources: t1 (sales_by_region)" in result.answer
    assert result.replans == 1
    replan_prompt = next(c.prompt for c in model.calls if c.purpose == Purpose.REPLAN)
    assert "final answer rejected" in replan_prompt and "no report was drafted" in replan_prompt


def test_task_for_missing_department_fails_cleanly():
    registry = make_registry().restricted_to(["sales"])
    assert "support" not in registry.departments()
    with pytest.raises(ConfigError, match="unknown department"):
        make_registry().restricted_to(["sales", "astrology"])


def test_invented_figures_fail_grounding():
    sources = "revenue 1,234,567.89 for ASIA; 42 orders"
    assert grounding_check("ASIA made 1,234,567.89", sources) == []
    assert grounding_check("ASIA made 9,999,999 and 8,888,888", sources) != []
    assert grounding_check("no figures here", sources) == []
