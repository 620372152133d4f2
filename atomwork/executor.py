"""Dependency-driven parallel execution of a plan's tasks.

Each task starts as soon as its own dependencies have passed evaluation, not when
a whole "layer" of the DAG is done: a slow branch never holds back unrelated work.
Each worker runs the task with its department's specialist and then evaluates the
output, so a dependent only ever sees evaluated, passing inputs. A task whose
dependency failed is skipped (and left for the replanner).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from atomwork.agents.evaluator import Evaluator
from atomwork.agents.specialist import Specialist
from atomwork.plan import AtomicTask, Plan
from atomwork.result import Event, EventKind, TaskOutcome, TaskStatus, now

EventSink = Callable[[Event], None]


def execute(
    plan: Plan,
    outcomes: dict[str, TaskOutcome],
    *,
    specialists: dict[str, Specialist],
    evaluator: Evaluator,
    goal: str,
    round_: int,
    emit: EventSink,
    max_workers: int = 4,
) -> dict[str, TaskOutcome]:
    """Run every task of ``plan`` that has no outcome yet; return the new outcomes.

    ``outcomes`` holds earlier rounds' results (read-only here): finished tasks are
    referenced, never re-run.
    """
    new: dict[str, TaskOutcome] = {}
    todo = [t for t in plan.tasks if t.id not in outcomes]
    if not todo:
        return new

    def visible() -> dict[str, TaskOutcome]:
        return {**outcomes, **new}

    def run_one(task: AtomicTask) -> TaskOutcome:
        emit(Event(kind=EventKind.TASK_STARTED, task_id=task.id, message=f"{task.department}: {task.tool}"))
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
        emit(Event(kind=EventKind.TASK_FINISHED, task_id=task.id, message=outcome.error or outcome.status))
        outcome.evaluation = evaluator.evaluate_task(outcome, goal)
        verdict = "passed" if outcome.evaluation.passed else "failed"
        emit(
            Event(
                kind=EventKind.TASK_EVALUATED,
                task_id=task.id,
                message=f"{verdict} (score {outcome.evaluation.score:.1f}): {outcome.evaluation.reason}",
            )
        )
        return outcome

    running: dict[Future[TaskOutcome], str] = {}
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="atomwork-task") as pool:
        while True:
            for task in todo:
                if task.id in new or task.id in running.values():
                    continue
                deps = [visible().get(d) for d in task.depends_on]
                if any(d is not None and not d.ok and d.status != TaskStatus.RUNNING for d in deps):
                    new[task.id] = _skipped(
                        task, round_, [d.task.id for d in deps if d is not None and not d.ok]
                    )
                    emit(
                        Event(kind=EventKind.TASK_FINISHED, task_id=task.id, message=new[task.id].error or "")
                    )
                elif all(d is not None and d.ok for d in deps):
                    running[pool.submit(run_one, task)] = task.id
            if not running:
                break
            finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in finished:
                task_id = running.pop(future)
                new[task_id] = future.result()
    for task in todo:  # dependencies that never appeared (cannot happen for a validated plan)
        if task.id not in new:
            new[task.id] = _skipped(task, round_, [d for d in task.depends_on if d not in visible()])
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
