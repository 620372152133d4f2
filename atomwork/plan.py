"""The plan: a DAG of atomic tool calls, with validation and repair.

An argument value may reference an earlier task's output: ``"$t1"`` (the whole
result), ``"$t1.table"``, ``"$t1.summary"`` or ``"$t1.data.KEY"``. A reference
implies a dependency; :func:`validate_plan` adds it when the planner forgot.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field, field_validator

from atomwork.errors import PlanError
from atomwork.tools.base import DEPARTMENTS
from atomwork.tools.registry import ToolRegistry

REF_RE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(?:\.(table|summary|data(?:\.[A-Za-z0-9_]+)?))?$")
MAX_TASKS = 12


class AtomicTask(BaseModel):
    """One tool call owned by one department."""

    id: str = Field(description="Short unique id, e.g. t1")
    department: str = Field(description="Department whose specialist runs the task")
    tool: str = Field(description="Name of the tool to call")
    args: dict[str, Any] = Field(default_factory=dict, description="Tool arguments; '$t1' references")
    depends_on: list[str] = Field(default_factory=list)
    success_criteria: str = Field(default="", description="What a good output looks like")

    def references(self) -> set[str]:
        """Ids of tasks referenced from ``args``."""
        return {ref for ref, _ in iter_refs(self.args)}


class Plan(BaseModel):
    """A goal and the DAG of tasks that achieves it."""

    goal: str
    tasks: list[AtomicTask]

    @field_validator("goal")
    @classmethod
    def _goal_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("goal must not be empty")
        return value.strip()

    def task(self, task_id: str) -> AtomicTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def ids(self) -> list[str]:
        return [t.id for t in self.tasks]

    def ready(self, done: set[str], started: set[str]) -> list[AtomicTask]:
        """Tasks not yet started whose dependencies are all done."""
        return [t for t in self.tasks if t.id not in started and set(t.depends_on) <= done]

    def dependents_closure(self, task_ids: set[str]) -> set[str]:
        """``task_ids`` plus every task that depends on them, transitively."""
        closed = set(task_ids)
        changed = True
        while changed:
            changed = False
            for task in self.tasks:
                if task.id not in closed and closed & set(task.depends_on):
                    closed.add(task.id)
                    changed = True
        return closed


def parse_ref(value: Any) -> tuple[str, str | None] | None:
    """``"$t1.table"`` -> ``("t1", "table")``; anything else -> None."""
    if not isinstance(value, str):
        return None
    match = REF_RE.match(value.strip())
    if match is None:
        return None
    return match.group(1), match.group(2)


def iter_refs(value: Any) -> Iterator[tuple[str, str | None]]:
    """Every reference inside a (nested) argument value."""
    ref = parse_ref(value)
    if ref is not None:
        yield ref
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from iter_refs(item)


class ValidationReport(BaseModel):
    """What :func:`validate_plan` changed (``repairs``) and dropped (``dropped``)."""

    repairs: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.repairs and not self.dropped


def validate_plan(
    plan: Plan,
    registry: ToolRegistry,
    *,
    known_ids: set[str] | frozenset[str] = frozenset(),
    reserved_ids: set[str] | frozenset[str] = frozenset(),
) -> tuple[Plan, ValidationReport]:
    """Check a plan against the tool registry and repair what can be repaired.

    Repairs: unknown tool names close to a real one, wrong departments, duplicate
    ids, missing dependencies implied by references, dependencies on unknown
    tasks, arguments the tool does not take or of the wrong type (dropped, so the
    specialist asks the model for them), cycles made of ``depends_on`` edges alone.
    Tasks that cannot be repaired (unknown tool, reference to a missing task, a
    cycle through references) are dropped with everything that depends on them.
    ``known_ids`` are ids of tasks finished earlier (replanning): they may be
    referenced but are not part of this plan. ``reserved_ids`` (e.g. of failed
    tasks) may not be reused: a task claiming one is renamed, and references to
    it inside this plan follow the new name.

    Raises :class:`PlanError` when nothing runnable is left.
    """
    report = ValidationReport()
    if not plan.tasks:
        raise PlanError("the plan has no tasks")
    if len(plan.tasks) > MAX_TASKS:
        report.repairs.append(f"plan had {len(plan.tasks)} tasks; kept the first {MAX_TASKS}")
    tasks = [t.model_copy(deep=True) for t in plan.tasks[:MAX_TASKS]]

    _repair_ids(tasks, known_ids, set(reserved_ids) - set(known_ids), report)
    kept: list[AtomicTask] = []
    for task in tasks:
        if _repair_tool(task, registry, report):
            _repair_args(task, registry, report)
            kept.append(task)
    tasks = kept
    _repair_dependencies(tasks, known_ids, report)
    tasks = _break_cycles(tasks, report)
    if not tasks:
        raise PlanError("no runnable task left after validation", report.dropped)
    return Plan(goal=plan.goal, tasks=tasks), report


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
            task.args = _rename_refs(task.args, follow)
            task.depends_on = [follow.get(d, d) for d in task.depends_on]


def _rename_refs(value: Any, mapping: dict[str, str]) -> Any:
    ref = parse_ref(value)
    if ref is not None:
        task_id, part = ref
        return f"${mapping.get(task_id, task_id)}" + (f".{part}" if part else "")
    if isinstance(value, dict):
        return {k: _rename_refs(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_refs(v, mapping) for v in value]
    return value


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
        why = "unknown department" if task.department not in DEPARTMENTS else "department"
        report.repairs.append(
            f"task {task.id}: {why} {task.department!r} -> {owner!r} (owner of {task.tool})"
        )
        task.department = owner
    return True


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
            if old.tool == task.tool and old.args == _rename_refs(task.args, same):
                same[task.id] = old_id
                report.repairs.append(f"task {task.id}: repeats finished task {old_id}; reusing its output")
                break
    kept = []
    for task in plan.tasks:
        if task.id in same:
            continue
        task.args = _rename_refs(task.args, same)
        task.depends_on = [d for d in task.depends_on if d not in same]
        kept.append(task)
    if not kept:
        raise PlanError("replanning proposed only work that is already done")
    return Plan(goal=plan.goal, tasks=kept)


def arg_schema_for_planner(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's argument schema made friendly to constrained decoding.

    Table-typed arguments become strings (the planner writes a ``$tN`` reference);
    titles and defaults are dropped to keep the grammar small.
    """
    props: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        props[name] = _simplify(prop, schema.get("$defs", {}))
    return {
        "type": "object",
        "properties": props,
        "required": [n for n in schema.get("required", []) if n in props],
        "additionalProperties": False,
    }


def _simplify(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop or prop.get("type") == "object":
        return {"type": "string", "description": "reference to an earlier task's output, like $t1"}
    if "anyOf" in prop:
        options = [_simplify(p, defs) for p in prop["anyOf"]]
        unique = [o for i, o in enumerate(options) if o not in options[:i]]
        return unique[0] if len(unique) == 1 else {"anyOf": unique}
    out = {k: v for k, v in prop.items() if k in ("type", "enum", "const", "items", "minimum", "maximum")}
    if "items" in out and isinstance(out["items"], dict):
        out["items"] = _simplify(out["items"], defs)
    return out or {"type": "string"}


def plan_json_schema(registry: ToolRegistry, *, max_tasks: int = 8, min_tasks: int = 1) -> dict[str, Any]:
    """JSON schema for constrained decoding of a plan: one branch per tool, so the
    department matches the tool and the arguments match the tool's schema."""
    branches = []
    for tool in registry.tools():
        branches.append(
            {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "tool": {"const": tool.name},
                    "department": {"const": tool.department},
                    "args": arg_schema_for_planner(tool.json_schema()),
                    "depends_on": {"type": "array", "items": {"type": "string"}},
                    "success_criteria": {"type": "string"},
                },
                "required": ["id", "tool", "department", "args", "depends_on", "success_criteria"],
                "additionalProperties": False,
            }
        )
    return {
        "type": "object",
        "properties": {
            "tasks": {
                "type": "array",
                "items": {"anyOf": branches},
                "minItems": max(1, min(min_tasks, max_tasks)),
                "maxItems": max_tasks,
            }
        },
        "required": ["tasks"],
        "additionalProperties": False,
    }
