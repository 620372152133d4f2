"""Human approval: a tool marked ``requires_approval`` parks its task while the rest of the plan
runs, the run pauses ``awaiting_approval`` (a LangGraph interrupt), and a decision given later, in
a fresh session, continues it. Decisions are kept durably with who and when; a rejection is
reported as such and never planned around."""

from __future__ import annotations

from pathlib import Path

import pytest

from atomwork.errors import GoalError
from atomwork.events import ApprovalRequested, RunResumed, TaskStarted
from atomwork.models.purpose import Purpose
from atomwork.outcome import StopReason, TaskStatus
from atomwork.run_store import RunStatus
from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings
from atomwork.testing import ScriptedModel
from atomwork.tools import tool

GOAL = "Prepare the close: book the accruals, post the summary, then archive it"
SETTINGS = RunSettings(answer_with_model=False, single_question_fast_path=False, max_replans=2)
ran: list[str] = []


@tool(department="operations")
def book(entry: str) -> str:
    """Book one entry of the close.

    Args:
        entry: what to book
    """
    ran.append(f"book {entry}")
    return f"booked {entry}"


@tool(department="operations", requires_approval=True)
def post_summary(channel: str) -> str:
    """Post the close summary to a channel (people will read it).

    Args:
        channel: where to post
    """
    ran.append(f"post {channel}")
    return f"posted to {channel}"


def task(task_id: str, tool_name: str, args: dict, deps: list[str] | None = None) -> dict:
    return {
        "id": task_id,
        "tool": tool_name,
        "department": "operations",
        "args": args,
        "depends_on": deps or [],
        "success_criteria": "done",
    }


PLAN = {
    "tasks": [
        task("t1", "book", {"entry": "accruals"}),
        task("t2", "post_summary", {"channel": "finance"}),
        task("t3", "book", {"entry": "archive"}, ["t2"]),  # needs the approved post
        task("t4", "book", {"entry": "fx"}),
    ]
}


def session(model: ScriptedModel, warehouse: Path, home: Path) -> Atomwork:
    return Atomwork(
        model=model,
        warehouse=warehouse,
        departments=[],
        tools=[book, post_summary],
        settings=SETTINGS,
        memory=False,
        runs=f"sqlite:///{home / 'runs.sqlite'}",
    )


@pytest.fixture(autouse=True)
def _fresh_log() -> None:
    ran.clear()


def paused_run(warehouse: Path, home: Path) -> str:
    with session(ScriptedModel({"plan": [PLAN]}), warehouse, home) as aw:
        result = aw.run(GOAL, user="U9")
        record = aw.runs()[0]
    assert result.stop_reason == StopReason.AWAITING_APPROVAL
    # The other branch finished; the post waits, and so does only what needs it.
    assert {t: result.outcomes[t].status for t in ("t1", "t2", "t4")} == {
        "t1": TaskStatus.DONE,
        "t2": TaskStatus.AWAITING_APPROVAL,
        "t4": TaskStatus.DONE,
    }
    assert "t3" not in result.outcomes and sorted(ran) == ["book accruals", "book fx"]
    assert [(p.task_id, p.request.tool, p.request.args, p.request.user) for p in result.pending] == [
        ("t2", "post_summary", {"channel": "finance"}, "U9")
    ]
    assert any(isinstance(e, ApprovalRequested) and e.task_id == "t2" for e in result.events)
    assert "Waiting for approval: t2 (post_summary)" in result.answer and "booked accruals" in result.answer
    assert record.status == RunStatus.PAUSED and record.pending == ["t2"]
    return result.run_id


def test_an_approval_pauses_one_branch_and_survives_a_restart(warehouse_path: Path, tmp_path: Path) -> None:
    run_id = paused_run(warehouse_path, tmp_path)
    # A fresh session (a new process would see the same): no planning, nothing finished re-run.
    with session(ScriptedModel(), warehouse_path, tmp_path) as aw:
        result = aw.approve(run_id, "t2", by="alice", note="numbers checked")
        record = aw.runs()[0]
    assert result.stop_reason == StopReason.COMPLETED, result.answer
    assert sorted(ran) == ["book accruals", "book archive", "book fx", "post finance"]
    started = [e.task.id for e in result.events if isinstance(e, TaskStarted)]
    assert sorted(started) == ["t2", "t3"] and isinstance(result.events[0], RunResumed)
    decision = result.outcome("t2").approval.decision  # type: ignore[union-attr]
    assert decision is not None and decision.approved and decision.by == "alice"
    assert decision.note == "numbers checked"
    assert record.status == RunStatus.FINISHED and record.pending == []
    # The spending of the first session (its plan call) is counted with the run's.
    assert result.usage.calls == 1 and result.usage.by_purpose[Purpose.PLAN].calls == 1
    assert record.usage == result.usage
    # Who decided and when is kept with the run: a third session reads it back.
    with session(ScriptedModel(), warehouse_path, tmp_path) as aw:
        kept = aw.approvals(run_id)
        stored = aw.result(run_id)
    assert [(a.task_id, a.decision.by, a.decision.at) for a in kept if a.decision] == [
        ("t2", "alice", decision.at)
    ]
    assert stored.stop_reason == StopReason.COMPLETED and stored.approvals == kept


def test_a_rejected_step_is_reported_and_not_planned_around(warehouse_path: Path, tmp_path: Path) -> None:
    run_id = paused_run(warehouse_path, tmp_path)
    model = ScriptedModel()  # strict: a replan call would fail the test
    with session(model, warehouse_path, tmp_path) as aw:
        result = aw.reject(run_id, "t2", by="bob", note="not before the audit")
    assert result.stop_reason == StopReason.REJECTED
    assert result.outcome("t2").status == TaskStatus.REJECTED
    assert "rejected by bob" in (result.outcome("t2").error or "")
    assert result.outcome("t3").status == TaskStatus.SKIPPED  # it needed the post
    assert result.replans == 0 and model.calls == []
    assert "post finance" not in ran and "book archive" not in ran
    assert "Rejected, so not done:\n- t2 (post_summary): rejected by bob at" in result.answer
    assert "not before the audit" in result.answer


def test_bad_decisions_are_one_line(warehouse_path: Path, tmp_path: Path) -> None:
    run_id = paused_run(warehouse_path, tmp_path)
    with session(ScriptedModel(), warehouse_path, tmp_path) as aw:
        with pytest.raises(GoalError, match="no call 't9' waiting for approval \\(waiting: t2\\)"):
            aw.approve(run_id, "t9", by="alice")
        with pytest.raises(GoalError, match="there is no run 'nope'"):
            aw.approve("nope", "t2", by="alice")
        with pytest.raises(Exception, match="blank"):
            aw.approve(run_id, "t2", by="  ")
        aw.approve(run_id, "t2", by="alice")
        with pytest.raises(GoalError, match=r"t2 of run \w+ was already approved by alice"):
            aw.reject(run_id, "t2", by="bob")


def test_a_conversation_continues_its_paused_turn(warehouse_path: Path, tmp_path: Path) -> None:
    with session(ScriptedModel({"plan": [PLAN]}), warehouse_path, tmp_path) as aw:
        chat = aw.chat()
        paused = chat.ask(GOAL)
        assert [p.task_id for p in chat.pending] == ["t2"]
        with pytest.raises(GoalError, match="no goal here waits for approval of 't4'"):
            chat.approve("t4", by="alice")
        done = chat.approve("t2", by="alice")
    assert done.run_id == paused.run_id and done.stop_reason == StopReason.COMPLETED
    assert chat.turns[-1].result == done and chat.pending == []
    assert {"t1", "t2", "t3", "t4"} <= set(chat.context().outcomes)  # follow-ups see the new results


def test_auto_approve_decides_at_once_and_is_recorded(warehouse_path: Path, tmp_path: Path) -> None:
    with Atomwork(
        model=ScriptedModel({"plan": [PLAN]}), warehouse=warehouse_path, departments=[],
        tools=[book, post_summary], settings=SETTINGS, memory=False,
        runs=f"sqlite:///{tmp_path / 'runs.sqlite'}", auto_approve=lambda request: True,
    ) as aw:  # fmt: skip
        result = aw.run(GOAL)
    assert result.stop_reason == StopReason.COMPLETED and result.pending == []
    assert [(a.task_id, a.decision.by) for a in result.approvals if a.decision] == [("t2", "approve policy")]


def test_resuming_a_paused_run_without_a_decision_pauses_it_again(
    warehouse_path: Path, tmp_path: Path
) -> None:
    run_id = paused_run(warehouse_path, tmp_path)
    ran.clear()
    with session(ScriptedModel(), warehouse_path, tmp_path) as aw:
        again = aw.resume(run_id)
        assert again.stop_reason == StopReason.AWAITING_APPROVAL
        assert [p.task_id for p in again.pending] == ["t2"] and ran == []
        done = aw.approve(run_id, "t2", by="alice")  # the pause after the resume still takes it
    assert done.stop_reason == StopReason.COMPLETED and sorted(ran) == ["book archive", "post finance"]
