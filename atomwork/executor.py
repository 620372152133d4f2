"""Dependency-driven parallel execution of a plan's tasks.

Each task starts as soon as its own dependencies have passed evaluation, not when
a whole "layer" of the DAG is done: a slow branch never holds back unrelated work.
Each worker runs the task with its department's specialist and then evaluates the
output, so a dependent only ever sees evaluated, passing inputs. A task whose
dependency failed is skipped (and left for the replanner). A task whose tool waits for a person's
approval holds back only its own dependents. Each final outcome is handed to ``on_outcome`` the
moment it is known (the engine persists it there), and each step is reported as a typed event:
:class:`TaskStarted`, :class:`TaskFinished`, :class:`TaskEvaluated`, :class:`TaskSkipped`,
:class:`ApprovalRequested`.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from atomwork import tracing
from atomwork.agents.evaluator import Evaluator
from atomwork.agents.specialist import Specialist
from atomwork.events import (
    ApprovalRequested,
    EventHandler,
    TaskEvaluated,
    TaskFinished,
    TaskSkipped,
    TaskStarted,
)
from atomwork.models.attribution import call_scope
from atomwork.models.base import Usage
from atomwork.outcome import TaskOutcome, TaskStatus, now
from atomwork.plan import AtomicTask, Plan
from atomwork.task_feed import TaskFeed
from atomwork.tracing import Attr, SpanName


def execute(
    plan: Plan,
    outcomes: dict[str, TaskOutcome],
    *,
    specialists: dict[str, Specialist],
    evaluator: Evaluator,
    goal: str,
    round_: int,
    emit: EventHandler,
    max_workers: int = 4,
    cancel: threading.Event | None = None,
    stop: Callable[[], bool] | None = None,
    on_outcome: Callable[[TaskOutcome], None] | None = None,
    task_usage: Callable[[str], Usage] | None = None,
    feed: TaskFeed | None = None,
) -> dict[str, TaskOutcome]:
    """Run every task of ``plan`` that has no outcome yet; return the new outcomes.

    ``outcomes`` holds earlier rounds' results (read-only here): finished tasks are
    referenced, never re-run. Once ``cancel`` is set or ``stop()`` is true (the run's budget is
    spent) no task is started any more: the running ones finish and the tasks never started get no
    outcome. A task left ``awaiting_approval`` is returned as such; its dependents get no outcome.
    ``on_outcome`` gets each final outcome as soon as it is known; ``task_usage(task_id)`` is what
    the task's model calls spent (they run inside a call scope naming the task). ``feed``: tasks
    still arriving while the plan is written (the streaming planner); they run like ``plan``'s, and
    the call returns once the feed is closed and nothing runs any more.
    """
    new: dict[str, TaskOutcome] = {}

    def pending() -> list[AtomicTask]:
        arrived = feed.tasks() if feed is not None else []
        return [t for t in [*plan.tasks, *arrived] if t.id not in outcomes]

    todo = pending()
    if not todo and feed is None:
        return new

    def visible() -> dict[str, TaskOutcome]:
        return {**outcomes, **new}

    def stopping() -> bool:
        return (cancel is not None and cancel.is_set()) or (stop is not None and stop())

    def settle(outcome: TaskOutcome) -> None:
        if on_outcome is not None:
            on_outcome(outcome)

    def run_one(task: AtomicTask) -> TaskOutcome:
        with call_scope(task_id=task.id):
            emit(TaskStarted(task=task, round=round_))
            specialist = specialists.get(task.department)
            if specialist is None:
                outcome = TaskOutcome(
                    task=task,
                    status=TaskStatus.FAILED,
                    round=round_,
                    error=f"no {task.department!r} specialist is enabled for this run",
                    started_at=now(),
                    finished_at=now(),
                )
            else:
                outcome = specialist.run(task, visible(), goal, round_)
            if outcome.status == TaskStatus.AWAITING_APPROVAL and outcome.approval is not None:
                emit(ApprovalRequested(task=task, approval=outcome.approval, round=round_))
                return outcome  # not final: it runs once a person decides
            emit(TaskFinished(outcome=outcome.model_copy()))  # a snapshot: the evaluation is set below
            if outcome.status != TaskStatus.REJECTED:  # a refusal is a person's verdict, not a score
                outcome.evaluation = evaluator.evaluate_task(outcome, goal)
                emit(TaskEvaluated(task_id=task.id, evaluation=outcome.evaluation))
        if task_usage is not None:
            outcome.usage = task_usage(task.id)
        settle(outcome)
        return outcome

    def traced(task: AtomicTask) -> TaskOutcome:
        attributes = {Attr.TASK_ID: task.id, Attr.TOOL: task.tool, Attr.DEPARTMENT: task.department}
        with tracing.span(SpanName.TASK, {**attributes, Attr.ROUND: round_}) as span:
            outcome = run_one(task)
            table = outcome.result.table if outcome.result is not None else None
            tracing.set_attributes(
                span, {Attr.STATUS: outcome.status, Attr.ROWS: len(table.rows) if table else None}
            )
            if outcome.finished and not outcome.ok:
                reason = outcome.error or (outcome.evaluation.reason if outcome.evaluation else "")
                tracing.mark_failed(span, reason or outcome.status)
        return outcome

    running: dict[Future[TaskOutcome], str] = {}
    workers = max(1, max_workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="atomwork-task") as pool:
        while True:
            # Taken before reading the feed, so a task added meanwhile wakes the wait below.
            more = feed.changed() if feed is not None and not feed.closed else None
            todo = pending()
            for task in todo if not stopping() else ():
                if task.id in new or task.id in running.values():
                    continue
                if len(running) >= workers:
                    break  # started only when a worker is free, so a stop holds it back
                deps = [visible().get(d) for d in task.depends_on]
                if any(d is not None and d.finished and not d.ok for d in deps):
                    failed = [d.task.id for d in deps if d is not None and d.finished and not d.ok]
                    new[task.id] = _skipped(task, round_, failed)
                    emit(TaskSkipped(task=task, failed_dependencies=failed, round=round_))
                    settle(new[task.id])
                elif all(d is not None and d.ok for d in deps):
                    # A copy of the context per task: the run's call scope (and trace) go along.
                    context = contextvars.copy_context()
                    running[pool.submit(context.run, traced, task)] = task.id
            if not running and more is None:
                break
            waiting: list[Future[Any]] = [*running, *([more] if more is not None else [])]
            finished, _ = wait(waiting, return_when=FIRST_COMPLETED)
            for future in finished:
                if future is more:
                    continue
                task_id = running.pop(future)
                new[task_id] = future.result()
    if stopping() or any(o.status == TaskStatus.AWAITING_APPROVAL for o in new.values()):
        return new  # the tasks not started wait for the approval (or for a resume)
    for task in todo:  # dependencies that never appeared (cannot happen for a validated plan)
        if task.id not in new:
            missing = [d for d in task.depends_on if d not in visible()]
            new[task.id] = _skipped(task, round_, missing)
            emit(TaskSkipped(task=task, failed_dependencies=missing, round=round_))
            settle(new[task.id])
    return new


def _skipped(task: AtomicTask, round_: int, failed_deps: list[str]) -> TaskOutcome:
    return TaskOutcome(
        task=task,
        status=TaskStatus.SKIPPED,
        round=round_,
        error=f"skipped: dependency {', '.join(failed_deps)} did not pass",
        started_at=now(),
        finished_at=now(),
    )
