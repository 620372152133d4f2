"""Accounting and budgets: tokens and model calls per purpose, per task and per run (in the result,
the run record and the CLI), and per-run budgets that end a run ``budget_exhausted`` with the
finished work kept. Scripted models report estimated token counts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from rich.console import Console

from atomwork.cli import print_result
from atomwork.errors import ConfigError
from atomwork.events import BudgetExhausted
from atomwork.models.purpose import Purpose
from atomwork.outcome import StopReason, TaskStatus
from atomwork.sdk import Atomwork
from atomwork.settings import RunBudget, RunSettings
from atomwork.testing import ScriptedModel
from atomwork.tools import tool

GOAL = "Book the accruals and the fx entries of the close"


@tool(department="operations")
def book(entry: str, pause: float = 0.3) -> str:
    """Book one entry of the close.

    Args:
        entry: what to book
        pause: seconds the booking takes
    """
    time.sleep(pause)
    return f"booked {entry}"


def task(task_id: str, args: dict) -> dict:
    return {
        "id": task_id,
        "tool": "book",
        "department": "operations",
        "args": args,
        "depends_on": [],
        "success_criteria": "done",
    }


# t1 leaves its argument to the specialist (one "args" model call); t2 is fully planned.
PLAN = {"tasks": [task("t1", {}), task("t2", {"entry": "fx"})]}


def session(model: ScriptedModel, warehouse: Path, tmp_path: Path, **settings: object) -> Atomwork:
    base = RunSettings(max_workers=1, max_replans=0, answer_with_model=False, single_question_fast_path=False)
    return Atomwork(
        model=model,
        warehouse=warehouse,
        departments=[],
        tools=[book],
        settings=base.replace(**settings),
        memory=False,
        runs=f"sqlite:///{tmp_path / 'runs.sqlite'}",
    )


def test_tokens_and_calls_per_purpose_task_and_run(warehouse_path: Path, tmp_path: Path) -> None:
    model = ScriptedModel({"plan": [PLAN], "args": [{"entry": "accruals"}]})
    with session(model, warehouse_path, tmp_path) as aw:
        result = aw.run(GOAL)
        record = aw.runs()[0]
    assert result.stop_reason == StopReason.COMPLETED, result.answer
    plan_call, args_call = model.calls
    assert (plan_call.purpose, args_call.purpose) == (Purpose.PLAN, Purpose.ARGS)
    assert (plan_call.run_id, args_call.run_id) == (result.run_id, result.run_id)
    assert (plan_call.task_id, args_call.task_id) == (None, "t1")
    t1, t2 = result.usage_by_task["t1"], result.usage_by_task["t2"]
    assert t1.calls == 1 and t1.by_purpose[Purpose.ARGS].calls == 1 and t1.total_tokens > 0
    assert t1.prompt_tokens == args_call.prompt_tokens and t2.calls == 0
    usage = result.usage
    spent = [c.prompt_tokens + c.completion_tokens for c in (plan_call, args_call)]
    assert usage.calls == 2 and usage.total_tokens == sum(spent)
    assert {p: u.calls for p, u in usage.by_purpose.items()} == {Purpose.PLAN: 1, Purpose.ARGS: 1}
    assert record.usage == usage and record.tasks_finished == 2  # the run record has them too
    console = Console(record=True, width=200)
    print_result(console, result)
    shown = console.export_text()
    assert f"plan {plan_call.prompt_tokens + plan_call.completion_tokens:,} (1)" in shown
    assert f"t1 {t1.total_tokens:,} (1)" in shown


def test_a_model_call_budget_ends_the_run_keeping_finished_work(warehouse_path: Path, tmp_path: Path) -> None:
    model = ScriptedModel({"plan": [PLAN], "args": [{"entry": "accruals"}]})  # strict: nothing more
    with session(model, warehouse_path, tmp_path, budget=RunBudget(model_calls=2)) as aw:
        result = aw.run(GOAL)
    assert result.stop_reason == StopReason.BUDGET_EXHAUSTED
    assert result.stop_detail == "model-call budget of 2 reached (2 calls)"
    assert result.outcome("t1").ok and "t2" not in result.outcomes  # t2 never started
    assert "booked accruals" in result.answer and result.final_evaluation is None
    assert [e.reason for e in result.events if isinstance(e, BudgetExhausted)] == [result.stop_detail]
    model.assert_consumed()


def test_token_and_time_budgets(warehouse_path: Path, tmp_path: Path) -> None:
    model = ScriptedModel({"plan": [PLAN]})
    with session(model, warehouse_path, tmp_path, budget=RunBudget(tokens=10)) as aw:
        spent = aw.run(GOAL)
    assert spent.stop_reason == StopReason.BUDGET_EXHAUSTED and spent.outcomes == {}
    assert spent.stop_detail.startswith("token budget of 10 reached")
    full = {"tasks": [task("t1", {"entry": "accruals", "pause": 1.2}), task("t2", {"entry": "fx"})]}
    model = ScriptedModel({"plan": [full]})
    # Planning takes well under the second; t1 alone takes longer, so t2 never starts.
    with session(model, warehouse_path, tmp_path, budget=RunBudget(seconds=1.0)) as aw:
        slow = aw.run(GOAL)
    assert slow.stop_reason == StopReason.BUDGET_EXHAUSTED
    assert slow.stop_detail.startswith("time budget of 1s")
    assert slow.outcome("t1").status == TaskStatus.DONE and "t2" not in slow.outcomes


def test_bad_budgets_are_one_line() -> None:
    with pytest.raises(ConfigError, match=r"bad run settings: budget\.tokens: input should be greater than"):
        RunSettings(budget=RunBudget.model_construct(tokens=0).model_dump())
    with pytest.raises(ConfigError, match="bad run budget: seconds"):
        RunBudget(seconds=-1)
