"""The streaming planner: task objects read from a growing reply, released only when safe, and tasks
that start while the plan is still being written (RunSettings.stream_plan)."""

from __future__ import annotations

import json
import time

from atomwork.agents.plan_stream import PlanReplyParser, PlanStream
from atomwork.agents.plan_validation import validate_plan
from atomwork.engine import Engine
from atomwork.events import PlanCreated, TaskPlanned, TaskStarted
from atomwork.models.paced import PacedModel
from atomwork.plan import AtomicTask
from atomwork.progress import RunProgress, TaskState
from atomwork.result import RunResult, StopReason, TaskStatus
from atomwork.settings import RunSettings
from atomwork.testing import ScriptedModel

from .fakes import Recorder, make_registry, task


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_parser_hands_out_each_task_when_its_object_closes():
    tasks = [
        {"tool": "a", "id": "t1", "args": {"note": 'braces } { and "quotes" \\\\ inside'}, "depends_on": []},
        {"tool": "b", "id": "t2", "args": {"nested": {"x": [1, {"y": 2}]}}, "depends_on": ["t1"]},
    ]
    reply = json.dumps({"task_count": 2, "tasks": tasks, "after": {"tasks": [{"id": "no"}]}})
    for size in (1, 3, 17, len(reply)):
        parser = PlanReplyParser()
        seen: list[tuple[int, dict]] = []
        for piece in _pieces(reply, size):
            items = parser.feed(piece)
            seen += [(len(parser.text), item) for item in items]  # how much was read by then
        assert [item for _, item in seen] == tasks  # the later "tasks" key is not the plan's
        first_end = reply.index(json.dumps(tasks[0])) + len(json.dumps(tasks[0]))
        assert seen[0][0] <= first_end + size - 1  # t1 came out as soon as its closing brace arrived
        assert parser.text == reply


def test_parser_ignores_a_tasks_key_inside_a_task_and_text_around_the_reply():
    reply = 'Here: {"tasks": [{"id": "t1", "args": {"tasks": [{"id": "inner"}]}}]} done'
    parser = PlanReplyParser()
    items = [item for piece in _pieces(reply, 2) for item in parser.feed(piece)]
    assert items == [{"id": "t1", "args": {"tasks": [{"id": "inner"}]}}]


def _stream(goal: str, registry, released: list[AtomicTask]) -> PlanStream:
    return PlanStream(goal, registry, lambda draft: validate_plan(draft, registry), released.append)


def _release_order(goal: str, tasks: list[dict]) -> list[tuple[int, str]]:
    """(number of tasks read, id) for each release while the tasks arrive one by one."""
    registry = make_registry()
    released: list[AtomicTask] = []
    stream = _stream(goal, registry, released)
    order = []
    for count, item in enumerate(tasks, start=1):
        stream._drafted.append(item)
        stream._consider()
        order += [(count, t.id) for t in released[len(order) :]]
    return order


def test_only_tasks_no_later_task_can_change_are_released_early():
    tasks = [
        task("t1", "ticket_stats", "support", {"group_by": "priority", "period": "1998"}),  # off-goal
        task("t2", "sales_by_region", "sales", {"period": "1998"}),
        task("t3", "top_value", "analysis", {"table": "$t1", "value_column": "n"}, ["t1"]),
        task("t4", "draft_report", "reporting", {"title": "x", "inputs": ["$t2"]}, ["t2"]),
    ]
    # t1 serves nothing in the goal: held until a task that does reads it (t3, whose tool is named).
    # A report waits for the whole plan (its inputs may still change).
    assert _release_order("sales by region and the top value", tasks) == [(2, "t2"), (3, "t1"), (3, "t3")]


def test_a_goal_that_orders_its_parts_releases_each_task_after_the_one_before():
    registry = make_registry()
    released: list[AtomicTask] = []
    stream = _stream("show sales by region, then wait a bit", registry, released)
    stream._drafted += [
        task("t1", "sales_by_region", "sales", {"period": "1998"}),
        task("t2", "wait_a_bit", "operations", {"seconds": 0.1}),
    ]
    stream._consider()
    assert [(t.id, t.depends_on) for t in released] == [("t1", []), ("t2", ["t1"])]
    # The rest of the reply broke off: the released tasks are the plan, and the report says why.
    plan, report = stream.settle(None, "invalid JSON")
    assert plan.ids() == ["t1", "t2"] and "invalid JSON" in report.dropped[0]


SLOW = 0.6
"""Seconds the first task's tool takes; the two after it read its output."""


def _chain_plan() -> dict:
    return {
        "task_count": 3,
        "tasks": [
            task("t1", "wait_a_bit", "operations", {"seconds": SLOW, "label": "first"}),
            task("t2", "wait_a_bit", "operations", {"seconds": 0.05, "label": "second"}, ["t1"]),
            task("t3", "wait_a_bit", "operations", {"seconds": 0.05, "label": "third"}, ["t1"]),
        ],
    }


def _run(stream_plan: bool) -> tuple[float, list, RunResult, Recorder, PacedModel]:
    recorder = Recorder()
    events: list = []
    scripted = ScriptedModel(plan=[_chain_plan()])
    # About 130 tokens of plan at 6 ms each: the reply takes ~0.8 s to write.
    model = PacedModel(scripted, seconds_per_token=0.006)
    settings = RunSettings(stream_plan=stream_plan, answer_with_model=False, max_replans=0)
    engine = Engine(model, make_registry(recorder), settings=settings, on_event=events.append)
    start = time.perf_counter()
    result = engine.run("wait a bit, three times")
    elapsed = time.perf_counter() - start
    scripted.assert_consumed()
    return elapsed, events, result, recorder, model


def test_tasks_start_while_the_plan_streams_and_the_run_ends_sooner():
    planned_first, _events, result, recorder, model = _run(stream_plan=False)
    streamed, stream_events, stream_result, stream_recorder, stream_model = _run(stream_plan=True)

    assert result.stop_reason == stream_result.stop_reason == StopReason.COMPLETED
    assert stream_result.plan.ids() == result.plan.ids() == ["t1", "t2", "t3"]
    assert all(o.status == TaskStatus.DONE for o in stream_result.outcomes.values())
    assert sorted(stream_recorder.calls) == sorted(recorder.calls)  # each tool ran once
    kinds = [type(e) for e in stream_events]
    # t1 was handed over and started before the planner had finished writing
    assert kinds.index(TaskPlanned) < kinds.index(TaskStarted) < kinds.index(PlanCreated)
    first_started = next(e for e in stream_events if isinstance(e, TaskStarted))
    plan_done = next(e for e in stream_events if isinstance(e, PlanCreated))
    assert first_started.task.id == "t1" and first_started.at < plan_done.at
    assert [(c.purpose, c.streamed) for c in model.calls] == [("plan", False)]
    assert [(c.purpose, c.streamed) for c in stream_model.calls] == [("plan", True)]
    assert stream_model.calls[0].output == model.calls[0].output
    # Without streaming t1 (0.6 s) starts after the whole plan (~0.8 s); streamed, it overlaps it.
    assert streamed < planned_first - 0.2, (streamed, planned_first)

    view = RunProgress()
    for event in stream_events:
        view.on_event(event)
    assert [line.state for line in view.snapshot().tasks] == [TaskState.PASSED] * 3
