"""Checking a plan against its goal: reports get inputs, tasks that serve no part of the goal are
dropped, and parts the goal orders ("..., then ...") run in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from atomwork.agents.plan_schema import reference_args
from atomwork.goal import goal_steps, joint_breakdown
from atomwork.plan import AtomicTask, ValidationReport, parse_ref
from atomwork.table import Table
from atomwork.terms import relevance_terms, term_overlap
from atomwork.tools.base import Tool
from atomwork.tools.registry import ToolRegistry


def _is_report(task: AtomicTask, registry: ToolRegistry) -> bool:
    return registry.writes_report(task.tool)


def fill_report_inputs(
    tasks: list[AtomicTask], registry: ToolRegistry, tables: Mapping[str, Table], report: ValidationReport
) -> list[AtomicTask]:
    """A report with no ``$t`` input reports on every earlier data task (or on the finished ones);
    with nothing to report on it is dropped, unless it is the only task."""
    kept: list[AtomicTask] = []
    for task in tasks:
        tool = registry.get(task.tool)
        lists = [n for n, many in reference_args(tool).items() if many]
        if not _is_report(task, registry) or not lists or task.references():
            kept.append(task)
            continue
        sources = [t.id for t in kept if not _is_report(t, registry)] or list(tables)
        if sources:
            task.args[lists[0]] = [f"${i}" for i in sources]
            task.depends_on = [
                *task.depends_on,
                *(i for i in sources if i not in task.depends_on and i not in tables),
            ]
            report.repairs.append(
                f"task {task.id}: {tool.name} had no inputs; it now reports on {', '.join(sources)}"
            )
            kept.append(task)
        elif len(tasks) == 1:
            kept.append(task)
        else:
            report.prune(f"task {task.id}: {tool.name} has no earlier result to report on")
    return kept


def _task_terms(task: AtomicTask, registry: ToolRegistry) -> set[str]:
    """What a task is about: its tool's name and department, its categorical argument values, and
    (for a tool whose name says nothing) its description. Free text the model wrote (titles,
    criteria) does not count: it echoes the goal whatever the task does."""
    tool = registry.get(task.tool)
    terms = relevance_terms(tool.name) | relevance_terms(tool.department)
    if not relevance_terms(tool.name):
        terms |= relevance_terms(tool.description)
    if registry.writes_report(tool.name):
        return terms
    schema = tool.json_schema().get("properties", {})
    for name, value in task.args.items():
        source = tool.choices.get(name)
        categorical = "enum" in schema.get(name, {}) or (source is not None and source.kind != "period")
        if categorical and isinstance(value, str) and parse_ref(value) is None:
            terms |= relevance_terms(value)
    return terms


def prune_unrelated(
    tasks: list[AtomicTask], registry: ToolRegistry, goal: str, report: ValidationReport
) -> list[AtomicTask]:
    """Drop tasks that serve no part of the goal: they share no word or concept with it and feed no
    task that does. A report's inputs count as serving it only when no data task matches the goal
    on its own (then "attrition" is not kept just because the report of a sales goal cites it)."""
    wanted = relevance_terms(goal)
    if len(tasks) < 2 or not wanted:
        return tasks
    direct = {t.id for t in tasks if term_overlap(wanted, _task_terms(t, registry)) > 0}
    if not direct:
        return tasks  # the goal's words match no task: nothing to judge by
    data_matched = any(not _is_report(t, registry) for t in tasks if t.id in direct)
    relevant = set(direct)
    for task in reversed(tasks):  # topological order reversed: consumers before their inputs
        if task.id in relevant and not (data_matched and _is_report(task, registry)):
            relevant |= task.references() | set(task.depends_on)
    dropped = {t.id for t in tasks if t.id not in relevant}
    if not dropped:
        return tasks
    kept = []
    for task in tasks:
        if task.id in dropped:
            report.prune(f"task {task.id}: {task.tool} serves no part of the goal")
            continue
        task.args = {k: _without_refs(v, dropped) for k, v in task.args.items()}
        task.depends_on = [d for d in task.depends_on if d not in dropped]
        kept.append(task)
    return kept


def never_pruned(tasks: list[AtomicTask], registry: ToolRegistry, goal: str) -> set[str]:
    """Ids of ``tasks`` (the beginning of a plan) that :func:`prune_unrelated` keeps whatever tasks
    follow: data tasks that serve the goal themselves, and every task they read from. The streaming
    planner starts only these before the plan is complete."""
    wanted = relevance_terms(goal)
    if not wanted:
        return {t.id for t in tasks}  # nothing to judge by: nothing is ever pruned
    keep: set[str] = set()
    for task in reversed(tasks):  # consumers before their inputs
        if not _is_report(task, registry) and term_overlap(wanted, _task_terms(task, registry)) > 0:
            keep.add(task.id)
        if task.id in keep:
            keep |= task.references() | set(task.depends_on)
    return keep


def _without_refs(value: Any, dropped: set[str]) -> Any:
    if isinstance(value, list):
        return [v for v in value if (r := parse_ref(v)) is None or r[0] not in dropped]
    return value


def order_steps(tasks: list[AtomicTask], registry: ToolRegistry, goal: str, report: ValidationReport) -> None:
    """Goal parts joined by "then" / "after that" / "once ..." run in order: when the plan has one
    task per part, in the parts' order, each such task depends on the task before it."""
    steps = goal_steps(goal)
    if len(steps) < 2 or len(steps) != len(tasks) or not any(s.after_previous for s in steps[1:]):
        return
    part_terms = [relevance_terms(s.text) for s in steps]
    for index, task in enumerate(tasks):
        scores = [term_overlap(_task_terms(task, registry), terms) for terms in part_terms]
        if max(scores) > scores[index]:
            return  # this task answers another part: the plan does not follow the parts' order
    by_id = {t.id: t for t in tasks}
    for index in range(1, len(tasks)):
        before, task = tasks[index - 1], tasks[index]
        if steps[index].after_previous and before.id not in _ancestors(task, by_id):
            task.depends_on.append(before.id)
            report.repairs.append(
                f'task {task.id}: runs after {before.id}, as the goal orders ("{steps[index].text}")'
            )


def _ancestors(task: AtomicTask, by_id: Mapping[str, AtomicTask]) -> set[str]:
    seen: set[str] = set()
    stack = list(task.depends_on)
    while stack:
        current = stack.pop()
        if current in seen or current not in by_id:
            continue
        seen.add(current)
        stack.extend(by_id[current].depends_on)
    return seen


def _label_columns(task: AtomicTask, tool: Tool) -> list[str] | None:
    """The label columns a data task's table will have, as far as its tool declares them; an
    argument choosing among them (``group_by``) leaves the chosen one. None: not declared."""
    labels = [c for c in tool.output_columns if c not in tool.numeric_columns]
    if not labels:
        return None
    for name, prop in tool.json_schema().get("properties", {}).items():
        options = prop.get("enum") or []
        if len(options) >= 2 and set(options) <= set(labels):
            chosen = task.args.get(name, prop.get("default"))
            labels = [c for c in labels if c not in options or c == chosen]
    return labels


def route_joint_breakdown(
    tasks: list[AtomicTask], registry: ToolRegistry, goal: str, report: ValidationReport, *, ask_tool: str
) -> None:
    """A goal asking for one table by two dimensions ("departures by department and quarter") gets
    it from the SQL analyst when no planned data task's tool returns both: department tools
    group by one thing, and separate tables per dimension cannot show a spike in one cell. The
    data task closest to the breakdown is replaced in place (its id, so its readers follow)."""
    joint = joint_breakdown(goal)
    if joint is None or ask_tool not in registry or any(t.tool == ask_tool for t in tasks):
        return
    part, wanted = joint
    scored: list[tuple[int, int, AtomicTask]] = []
    for index, task in enumerate(tasks):
        if task.references() or registry.writes_report(task.tool):
            continue  # works on earlier results, not on the warehouse
        labels = _label_columns(task, registry.get(task.tool))
        if labels is None:
            return  # a tool that does not say what it returns may well return both
        covered = sum(any(d in c for c in labels) for d in wanted)
        if covered == len(wanted):
            return
        scored.append((covered, -index, task))
    if not scored:
        return
    _, _, replaced = max(scored, key=lambda item: item[:2])
    ask = registry.get(ask_tool)
    report.repairs.append(
        f"task {replaced.id}: {replaced.tool} returns no table by {' and '.join(wanted)}; "
        f"{ask_tool} answers {part!r} instead"
    )
    replaced.tool, replaced.department = ask_tool, ask.department
    replaced.args = {"question": part}
    replaced.depends_on = []
