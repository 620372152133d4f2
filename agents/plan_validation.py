"""Checking a drafted plan against the tools and repairing it: ids, tools, arguments,
dependencies and cycles, then grounding (:mod:`~atomwork.agents.plan_grounding`) and goal
checks (:mod:`~atomwork.agents.plan_goal_checks`). Entry point: :func:`validate_plan`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

from atomwork.agents.choices import Choices
from atomwork.agents.plan_goal_checks import (
    fill_report_inputs,
    order_steps,
    prune_unrelated,
    route_joint_breakdown,
)
from atomwork.agents.plan_grounding import ground_args, repair_columns, repair_equal_periods
from atomwork.agents.sql_analyst import ASK_TOOL
from atomwork.errors import PlanError
from atomwork.plan import MAX_TASKS, AtomicTask, Plan, RefusedTask, ValidationReport, iter_refs, rename_refs
from atomwork.policy import Access
from atomwork.table import Table
from atomwork.tools.registry import ToolRegistry


def validate_plan(
    plan: Plan,
    registry: ToolRegistry,
    *,
    known_ids: set[str] | frozenset[str] = frozenset(),
    reserved_ids: set[str] | frozenset[str] = frozenset(),
    choices: Choices | None = None,
    known_tables: Mapping[str, Table] | None = None,
    access: Access | None = None,
) -> tuple[Plan, ValidationReport]:
    """Check a plan against the tool registry and the live data, and repair what can be repaired.

    Structural repairs: unknown tool names close to a real one, wrong departments, duplicate
    ids, missing dependencies implied by references, dependencies on unknown tasks, arguments
    the tool does not take or of the wrong type (dropped, so the specialist asks the model for
    them), cycles made of ``depends_on`` edges alone. Tasks that cannot be repaired (unknown
    tool, reference to a missing task, a cycle through references) are dropped with everything
    that depends on them.

    Grounding (with ``choices``): a categorical value is respelled as the data spells it or
    dropped when unknown ("sales" is no table; "LATAM" no region); a period the data does not
    cover is dropped; two equal periods of one task (comparing 1997-Q3 with itself) become the
    preceding period and the given one. A column argument (``value_column``) missing from the
    referenced task's output is replaced by the closest column.

    Goal checks: a report task with no inputs gets every earlier data task as input (or is
    dropped); a task that serves no part of ``plan.goal`` is dropped, unless its output feeds a
    task that does (the last task is never dropped this way); when the goal orders its parts
    ("check X, then send Y") and the plan has one task per part in that order, each such task
    depends on the one before.

    ``known_ids`` are ids of tasks finished earlier (replanning): they may be referenced but
    are not part of this plan; ``known_tables`` holds their result tables. ``reserved_ids``
    (e.g. of failed tasks) may not be reused: a task claiming one is renamed, and references
    to it inside this plan follow the new name.

    Permissions (with ``access``): a task whose tool the user may not call (its department, the
    tool itself, or a table it reads) is refused: dropped, with the reason, and listed in
    ``report.refused``.

    Raises :class:`PlanError` when nothing runnable is left.
    """
    report = ValidationReport()
    tables = dict(known_tables or {})
    known = set(known_ids) | set(tables)
    if not plan.tasks:
        raise PlanError("the plan has no tasks")
    if len(plan.tasks) > MAX_TASKS:
        report.repairs.append(f"plan had {len(plan.tasks)} tasks; kept the first {MAX_TASKS}")
    tasks = [t.model_copy(deep=True) for t in plan.tasks[:MAX_TASKS]]

    _repair_ids(tasks, known, set(reserved_ids) - known, report)
    kept: list[AtomicTask] = []
    for task in tasks:
        if _repair_tool(task, registry, report) and _permitted(task, registry, access, report):
            _repair_args(task, registry, report)
            if choices is not None:
                ground_args(task, registry.get(task.tool), choices, report)
                repair_equal_periods(task, registry.get(task.tool), choices, report)
            kept.append(task)
    tasks = kept
    if not tasks and report.refused:
        raise PlanRefused(report.refused)
    _repair_dependencies(tasks, known, report)
    tasks = _break_cycles(tasks, report)
    if not tasks:
        raise PlanError("no runnable task left after validation", report.dropped)
    if access is None or ASK_TOOL not in registry or registry.get(ASK_TOOL).refusal(access) is None:
        route_joint_breakdown(tasks, registry, plan.goal, report, ask_tool=ASK_TOOL)
    repair_columns(tasks, registry, tables, report)
    tasks = fill_report_inputs(tasks, registry, tables, report)
    tasks = prune_unrelated(tasks, registry, plan.goal, report)
    order_steps(tasks, registry, plan.goal, report)
    return Plan(goal=plan.goal, tasks=tasks), report


class PlanRefused(PlanError):
    """Every task of the plan was refused by the access policy; ``refused`` says which and why."""

    def __init__(self, refused: list[RefusedTask]) -> None:
        reasons = list(dict.fromkeys(r.reason for r in refused))
        super().__init__("refused by the access policy", reasons)
        self.refused = refused


def _repair_ids(
    tasks: list[AtomicTask],
    known_ids: set[str] | frozenset[str],
    reserved: set[str],
    report: ValidationReport,
) -> None:
    seen: set[str] = set(known_ids) | reserved
    counter = len(seen) + 1
    follow: dict[str, str] = {}
    for task in tasks:
        original = task.id
        clean = re.sub(r"[^A-Za-z0-9_]", "_", task.id.strip())
        if not clean or not (clean[0].isalpha() or clean[0] == "_"):
            clean = f"t{clean}" if clean else ""
        if not clean or clean in seen:
            while f"t{counter}" in seen:
                counter += 1
            clean = f"t{counter}"
        if clean != original:
            report.repairs.append(f"task id {original!r} renamed to {clean!r}")
            if original.strip() in reserved and original.strip() not in follow:
                follow[original.strip()] = clean
        task.id = clean
        seen.add(clean)
    if follow:
        for task in tasks:
            task.args = rename_refs(task.args, follow)
            task.depends_on = [follow.get(d, d) for d in task.depends_on]


def _repair_tool(task: AtomicTask, registry: ToolRegistry, report: ValidationReport) -> bool:
    name = task.tool.strip()
    if name not in registry:
        candidates = [name, name.split(".")[-1], name.split("/")[-1], name.lower().replace(" ", "_")]
        fixed = next((c for c in candidates if c in registry), None)
        if fixed is None:
            close = difflib.get_close_matches(candidates[-1], registry.names(), n=1, cutoff=0.75)
            fixed = close[0] if close else None
        if fixed is None:
            report.dropped.append(f"task {task.id}: unknown tool {task.tool!r}")
            return False
        report.repairs.append(f"task {task.id}: tool {task.tool!r} -> {fixed!r}")
        task.tool = fixed
    owner = registry.get(task.tool).department
    if task.department != owner:
        why = "unknown department" if task.department not in registry.departments() else "department"
        report.repairs.append(
            f"task {task.id}: {why} {task.department!r} -> {owner!r} (owner of {task.tool})"
        )
        task.department = owner
    return True


def _permitted(
    task: AtomicTask, registry: ToolRegistry, access: Access | None, report: ValidationReport
) -> bool:
    reason = registry.get(task.tool).refusal(access)
    if reason is None:
        return True
    # Not a broken plan: asking the model again would only look for a way around the refusal.
    report.prune(f"task {task.id}: refused: {reason}")
    report.refused.append(RefusedTask(task=task.model_copy(deep=True), reason=reason))
    return False


def _repair_args(task: AtomicTask, registry: ToolRegistry, report: ValidationReport) -> None:
    tool = registry.get(task.tool)
    fields = tool.args_model.model_fields
    for name in list(task.args):
        if name not in fields:
            report.repairs.append(f"task {task.id}: dropped argument {name!r} that {tool.name} does not take")
            del task.args[name]
            continue
        value = task.args[name]
        if any(True for _ in iter_refs(value)):
            continue  # checked with the dependencies, typed when resolved
        if not tool.accepts(name, value):
            report.repairs.append(f"task {task.id}: dropped invalid value {value!r} for {tool.name}.{name}")
            del task.args[name]


def _repair_dependencies(
    tasks: list[AtomicTask], known_ids: set[str] | frozenset[str], report: ValidationReport
) -> None:
    """Fix ``depends_on`` and drop tasks whose references cannot be satisfied (transitively)."""
    changed = True
    while changed:
        changed = False
        ids = {t.id for t in tasks}
        for task in list(tasks):
            missing = sorted(ref for ref in task.references() if ref not in ids and ref not in known_ids)
            if task.id in task.references():
                missing.append(task.id)
            if missing:
                report.dropped.append(
                    f"task {task.id}: references missing or own output {', '.join(missing)}"
                )
                tasks.remove(task)
                changed = True
    ids = {t.id for t in tasks}
    for task in tasks:
        deps: list[str] = []
        for dep in task.depends_on:
            if dep in known_ids:
                continue  # already finished: no edge needed
            if dep not in ids or dep == task.id:
                report.repairs.append(f"task {task.id}: removed dependency on unknown task {dep!r}")
                continue
            if dep not in deps:
                deps.append(dep)
        for ref in sorted(task.references()):
            if ref in ids and ref not in deps:
                report.repairs.append(f"task {task.id}: added dependency on {ref} (referenced in args)")
                deps.append(ref)
        task.depends_on = deps


def _break_cycles(tasks: list[AtomicTask], report: ValidationReport) -> list[AtomicTask]:
    """Order tasks topologically; break cycles made of plain ``depends_on`` edges."""
    while True:
        order, stuck = _toposort(tasks)
        if not stuck:
            return order
        by_id = {t.id: t for t in tasks}
        removed = False
        for task_id in sorted(stuck):
            task = by_id[task_id]
            refs = task.references()
            soft = [d for d in task.depends_on if d in stuck and d not in refs]
            if soft:
                task.depends_on = [d for d in task.depends_on if d not in soft]
                report.repairs.append(
                    f"task {task_id}: removed dependency on {', '.join(soft)} to break a cycle"
                )
                removed = True
                break
        if not removed:
            report.dropped.append(f"tasks {', '.join(sorted(stuck))}: cyclic references between outputs")
            dropped = {t.id for t in tasks if t.id in stuck}
            tasks = [t for t in tasks if t.id not in dropped]
            _repair_dependencies(tasks, frozenset(), report)


def _toposort(tasks: list[AtomicTask]) -> tuple[list[AtomicTask], set[str]]:
    """Kahn's algorithm keeping the original order among ready tasks; returns (order, ids in cycles)."""
    remaining = {t.id: set(t.depends_on) for t in tasks}
    order: list[AtomicTask] = []
    done: set[str] = set()
    progress = True
    while remaining and progress:
        progress = False
        for task in tasks:
            if task.id in remaining and remaining[task.id] <= done:
                order.append(task)
                done.add(task.id)
                del remaining[task.id]
                progress = True
    return order, set(remaining)


def drop_repeated_work(plan: Plan, finished: dict[str, AtomicTask], report: ValidationReport) -> Plan:
    """Replanning: drop new tasks that repeat a finished task (same tool and arguments).

    References to a dropped task are pointed at the finished one, which is kept.
    Raises :class:`PlanError` when nothing new is left.
    """
    same: dict[str, str] = {}
    for task in plan.tasks:
        for old_id, old in finished.items():
            if old.tool == task.tool and old.args == rename_refs(task.args, same):
                same[task.id] = old_id
                report.repairs.append(f"task {task.id}: repeats finished task {old_id}; reusing its output")
                break
    kept = []
    for task in plan.tasks:
        if task.id in same:
            continue
        task.args = rename_refs(task.args, same)
        task.depends_on = [d for d in task.depends_on if d not in same]
        kept.append(task)
    if not kept:
        raise PlanError("replanning proposed only work that is already done")
    return Plan(goal=plan.goal, tasks=kept)
