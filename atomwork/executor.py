"""Dependency-driven parallel execution of a plan's tasks.

Each task starts as soon as its own dependencies have passed evaluation, not when
a whole "layer" of the DAG is done: a slow branch never holds back unrelated work.
Each worker runs the task with its department's specialist and then evaluates the
output, so a dependent only ever sees evaluated, passing inputs. A task whose
dependency failed is skipped (and left for the replanner). Each step is reported as a typed
event: :class:`TaskStarted`, :class:`TaskFinished`, :class:`TaskEvaluated`, :class:`TaskSkipped`.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from atomwork.agents.evaluator import Evaluator
from atomwork.agents.specialist import Specialist
from atomwork.events import EventHandler, TaskEvaluated, TaskFinished, TaskSkipped, TaskStarted
from atomwork.outcome import TaskOutcome, TaskStatus, now
from atomwork.plan import AtomicTask, Plan


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
) -> dict[str, TaskOutcome]:
    """Run every task of ``plan`` that has no outcome yet; return the new outcomes.

    ``outcomes`` holds earlier rounds' results (read-only here): finished tasks are
    referenced, never re-run. Once ``cancel`` is set no task is started any more: the running
    ones finish and the tasks never started get no outcome.
    """
    new: dict[str, TaskOutcome] = {}
    todo = [t for t in plan.tasks if t.id not in outcomes]
    if not todo:
        return new

    def visible() -> dict[str, TaskOutcome]:
        return {**outcomes, **new}

    def run_one(task: AtomicTask) -> TaskOutcome:
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
        emit(TaskFinished(outcome=outcome.model_copy()))  # a snapshot: the evaluation is set below
        outcome.evaluation = evaluator.evaluate_task(outcome, goal)
        emit(TaskEvaluated(task_id=task.id, evaluation=outcome.evaluation))
        return outcome

    running: dict[Future[TaskOutcome], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="atomwork-task") as pool:
        while True:
            for task in todo if cancel is None or not cancel.is_set() else ():
                if task.id in new or task.id in running.values():
                    continue
                deps = [visible().get(d) for d in task.depends_on]
                if any(d is not None and not d.ok and d.status != TaskStatus.RUNNING for d in deps):
                    failed = [d.task.id for d in deps if d is not None and not d.ok]
                    new[task.id] = _skipped(task, round_, failed)
                    emit(TaskSkipped(task=task, failed_dependencies=failed, round=round_))
                elif all(d is not None and d.ok for d in deps):
                    running[pool.submit(run_one, task)] = task.id
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                task_id = running.pop(future)
                new[task_id] = future.result()
    if cancel is not None and cancel.is_set():
        return new
    for task in todo:  # dependencies that never appeared (cannot happen for a validated plan)
        if task.id not in new:
            missing = [d for d in task.depends_on if d not in visible()]
            new[task.id] = _skipped(task, round_, missing)
            emit(TaskSkipped(task=task, failed_dependencies=missing, round=round_))
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
