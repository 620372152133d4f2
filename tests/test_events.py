"""The typed events a run emits: their order and fields, how they are stored, and the CLI view drawn
from them (no message parsing)."""

from __future__ import annotations

from pydantic import TypeAdapter
from rich.console import Console

from atomwork.cli import PlanView
from atomwork.engine import Engine
from atomwork.events import (
    AnswerComposed,
    AnswerEvaluated,
    Event,
    PlanCreated,
    ReplanFailed,
    Replanned,
    RunFinished,
    RunStarted,
    TaskEvaluated,
    TaskFinished,
    TaskSkipped,
    TaskStarted,
)
from atomwork.feedback import ReplanFeedback
from atomwork.models import ScriptedModel
from atomwork.outcome import Evaluation, StopReason, TaskOutcome, TaskStatus
from atomwork.plan import AtomicTask, Plan
from atomwork.prompts.rendering import describe_feedback
from atomwork.result import RunResult
from atomwork.settings import RunSettings

from .fakes import make_registry, task

GOOD = {"reason": "meets the criteria", "score": 8}
CHAIN = {
    "tasks": [
        task("t1", "sales_by_region", "sales", {"period": "1998"}),
        task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
    ]
}


def run(
    script: dict, goal: str = "analyze sales by region and find the top region", **settings
) -> tuple[RunResult, list[Event]]:
    seen: list[Event] = []
    engine = Engine(
        ScriptedModel(script),
        make_registry(),
        settings=RunSettings(**settings),
        data_range="1992-01-01 to 1998-08-02",
        on_event=seen.append,
    )
    return engine.run(goal, run_id="r1"), seen


def kinds(events: list[Event]) -> list[str]:
    return [e.type for e in events]


def test_a_run_emits_typed_events_in_order():
    result, seen = run({"plan": [CHAIN], "answer": ["MIDDLE EAST leads with 610.0."]})
    assert result.ok
    assert kinds(seen) == [
        "run_started",
        "plan_created",
        "task_started",
        "task_finished",
        "task_evaluated",
        "task_started",
        "task_finished",
        "task_evaluated",
        "answer_composed",
        "answer_evaluated",
        "run_finished",
    ]
    assert result.events == seen  # the handler and the record see the same events
    started, created = seen[0], seen[1]
    assert (
        isinstance(started, RunStarted)
        and started.run_id == "r1"
        and started.goal.startswith("analyze sales by region")
    )
    assert isinstance(created, PlanCreated) and created.plan.ids() == ["t1", "t2"] and not created.direct
    first_start, first_finish, first_verdict = seen[2], seen[3], seen[4]
    assert isinstance(first_start, TaskStarted) and first_start.task.tool == "sales_by_region"
    assert isinstance(first_finish, TaskFinished) and first_finish.outcome.status == TaskStatus.DONE
    # a snapshot taken before evaluation: the verdict comes in its own event
    assert first_finish.outcome.evaluation is None and result.outcomes["t1"].evaluation is not None
    assert first_finish.outcome.result.table.columns == ["region", "revenue"]
    assert isinstance(first_verdict, TaskEvaluated) and first_verdict.task_id == "t1"
    assert first_verdict.evaluation.passed
    composed, judged, finished = seen[-3:]
    assert (
        isinstance(composed, AnswerComposed) and composed.answer == result.answer and composed.rejected == []
    )
    assert isinstance(judged, AnswerEvaluated) and judged.evaluation == result.final_evaluation
    assert isinstance(finished, RunFinished)
    assert (finished.run_id, finished.stop_reason, finished.replans) == ("r1", StopReason.COMPLETED, 0)
    assert str(first_verdict).startswith("t1 passed")  # a human line for logs


def test_failure_skip_and_replan_are_typed_events():
    broken = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "broken"}),
            task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
        ]
    }
    fixed = {"tasks": [task("t3", "sales_by_region", "sales", {"period": "1997"})]}
    result, seen = run({"plan": [broken], "replan": [fixed], "answer": ["Revenue by region."]})
    assert result.ok and result.replans == 1
    failed = next(e for e in seen if isinstance(e, TaskFinished) and e.task_id == "t1")
    assert failed.outcome.status == TaskStatus.FAILED and "broken" in failed.outcome.error
    skipped = next(e for e in seen if isinstance(e, TaskSkipped))
    assert skipped.task.id == "t2" and skipped.failed_dependencies == ["t1"]
    assert not any(isinstance(e, TaskStarted) and e.task.id == "t2" for e in seen)
    replanned = next(e for e in seen if isinstance(e, Replanned))
    assert replanned.round == 1 and replanned.plan.ids() == ["t3"] and replanned.kept == []
    assert set(replanned.feedback.failed) == {"t1", "t2"} and replanned.feedback.answer_problems == []
    later = seen[seen.index(replanned) :]
    assert any(isinstance(e, TaskStarted) and e.round == 1 and e.task.id == "t3" for e in later)
    assert isinstance(seen[-1], RunFinished) and seen[-1].replans == 1


def test_a_replanner_that_cannot_plan_emits_replan_failed():
    first = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "broken"})]}
    useless = {"tasks": [task("t9", "launch_rockets", "sales", {})]}
    result, seen = run({"plan": [first], "replan": [useless]})
    assert result.stop_reason == StopReason.NO_PROGRESS
    failed = [e for e in seen if isinstance(e, ReplanFailed)]
    assert (
        len(failed) == 1 and "launch_rockets" in failed[0].error and set(failed[0].feedback.failed) == {"t1"}
    )
    assert not any(isinstance(e, Replanned) for e in seen)


def test_a_rejected_final_answer_goes_to_the_replanner_as_typed_feedback():
    first = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
    second = {"tasks": [task("t2", "draft_report", "reporting", {"title": "r", "inputs": ["$t1"]})]}
    report = "Headline: MIDDLE EAST leads with 610.0 revenue.\n- total 1155.0"
    result, seen = run(
        {"plan": [first], "replan": [second], "answer": ["meh"], "report": [report]}, goal="report on sales"
    )
    assert result.stop_reason == StopReason.COMPLETED and result.replans == 1
    replanned = next(e for e in seen if isinstance(e, Replanned))
    # no invented "final answer" task: the failed tasks are empty, the answer's problems are typed
    assert replanned.feedback.failed == {}
    assert replanned.feedback.answer_problems == ["the goal asks for a report, but no report was drafted"]
    assert set(result.outcomes) == {"t1", "t2"} and replanned.kept == ["t1"]
    verdicts = [e.evaluation.passed for e in seen if isinstance(e, AnswerEvaluated)]
    assert verdicts == [False, True]


def test_describe_feedback_lists_failed_calls_then_answer_problems():
    task_ = AtomicTask(id="t4", department="sales", tool="sales_by_region", args={"period": "x"})
    outcome = TaskOutcome(task=task_, status=TaskStatus.FAILED, error="unknown period 'x'")
    feedback = ReplanFeedback(failed={"t4": outcome}, answer_problems=["no report", "no 1997 figures"])
    assert describe_feedback(feedback) == (
        '- t4: sales_by_region({"period": "x"}) -> unknown period \'x\'\n'
        "- final answer rejected: no report; no 1997 figures"
    )
    assert describe_feedback(ReplanFeedback()) == "none" and ReplanFeedback().empty


def test_events_survive_a_json_round_trip_with_their_types():
    result, _ = run({"plan": [CHAIN], "answer": ["MIDDLE EAST leads with 610.0."]})
    again = RunResult.model_validate_json(result.model_dump_json())
    assert [type(e) for e in again.events] == [type(e) for e in result.events]
    assert again.events == result.events
    one = TypeAdapter(Event).validate_python(
        {"type": "task_skipped", "task": CHAIN["tasks"][1], "failed_dependencies": ["t1"]}
    )
    assert isinstance(one, TaskSkipped) and one.task_id == "t2"


def test_a_record_saved_before_typed_events_still_loads():
    result, _ = run({"plan": [CHAIN], "answer": ["MIDDLE EAST leads with 610.0."]})
    old = result.model_dump(mode="json")
    old["events"] = [{"kind": "planned", "message": "2 tasks: t1, t2", "tasks": [], "at": old["started_at"]}]
    del old["settings"]
    loaded = RunResult.model_validate(old)
    assert loaded.events == [] and loaded.answer == result.answer and loaded.settings == RunSettings()


def render(view: PlanView) -> str:
    console = Console(record=True, width=160)
    console.print(view.render())
    return console.export_text()


def test_the_cli_view_is_drawn_from_typed_events():
    view = PlanView()
    result, _ = run(
        {
            "plan": [
                {
                    "tasks": [
                        task("t1", "sales_by_region", "sales", {"period": "broken"}),
                        task(
                            "t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]
                        ),
                        task("t3", "sales_by_region", "sales", {"period": "1998"}),
                    ]
                }
            ],
            "answer": ["Revenue by region."],
        },
        max_replans=0,
    )
    for event in result.events:
        view.on_event(event)
    rows = {cells[2].strip(): line for line in render(view).splitlines() if len(cells := line.split("│")) > 3}
    assert "✗" in rows["t1"] and "broken" in rows["t1"]
    assert "↷" in rows["t2"]
    assert "✓" in rows["t3"]


def test_the_cli_view_does_not_read_message_text():
    """A failed task whose error happens to start with "skipped" is failed, not skipped."""
    view = PlanView()
    task_ = AtomicTask(id="t1", department="sales", tool="sales_by_region", args={})
    view.on_event(PlanCreated(plan=Plan(goal="g", tasks=[task_])))
    view.on_event(TaskStarted(task=task_))
    outcome = TaskOutcome(task=task_, status=TaskStatus.FAILED, error="skipped: the warehouse said no")
    view.on_event(TaskFinished(outcome=outcome))
    view.on_event(
        TaskEvaluated(
            task_id="t1", evaluation=Evaluation(passed=False, score=0.0, checks=["task did not complete"])
        )
    )
    row = next(line for line in render(view).splitlines() if "│ t1 " in line)
    assert "✗" in row and "↷" not in row
