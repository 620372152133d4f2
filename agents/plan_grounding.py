"""Grounding a plan's arguments in the live data: categorical values respelled as the data spells
them (or dropped), periods outside the data dropped, a period compared with itself moved back,
and column arguments pointed at a column the referenced table has.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from atomwork.agents.choices import Choices
from atomwork.agents.plan_schema import column_choices
from atomwork.errors import ToolError
from atomwork.plan import AtomicTask, ValidationReport, parse_ref
from atomwork.table import Table
from atomwork.terms import relevance_terms, term_overlap
from atomwork.tools.base import Tool
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.warehouse.periods import previous_period, resolve_period, same_period

_MEANS_ALL = frozenset({"", "all", "any", "none", "total", "overall", "everything", "all regions"})


def _norm(value: str) -> str:
    return " ".join(value.replace("_", " ").split()).lower()


def _required(tool: Tool) -> set[str]:
    return set(tool.json_schema().get("required", []))


def ground_args(task: AtomicTask, tool: Tool, choices: Choices, report: ValidationReport) -> None:
    """Categorical values, tables and periods checked against the live data."""
    for name, source in tool.choices.items():
        value = task.args.get(name)
        if not isinstance(value, str) or parse_ref(value) is not None or source.kind == "output_column":
            continue
        why = ""
        if source.kind == "period":
            if choices.span is None:
                continue
            earliest, latest = choices.span
            try:
                start, end, _ = resolve_period(value, latest, earliest=earliest)
            except ToolError:
                why = f"unrecognised period {value!r}"
            else:
                if start <= latest and end >= earliest:
                    continue
                why = f"period {value!r}, outside the data ({earliest} to {latest})"
        else:
            known = choices.values(source)
            if not known:
                continue
            wanted = _norm(value)
            found = next((k for k in known if _norm(k) == wanted), None)
            if found is None:
                close = difflib.get_close_matches(wanted, [_norm(k) for k in known], n=1, cutoff=0.85)
                found = next((k for k in known if close and _norm(k) == close[0]), None)
            if found == value:
                continue
            if found is not None:
                report.repairs.append(f"task {task.id}: {tool.name}.{name} {value!r} -> {found!r}")
                task.args[name] = found
                continue
            if name not in _required(tool) and wanted in _MEANS_ALL:
                report.repairs.append(f"task {task.id}: {tool.name}.{name} {value!r} means all: left out")
                del task.args[name]
                continue
            shown = ", ".join(known[:8]) + (" ..." if len(known) > 8 else "")
            why = f"unknown {name} {value!r} (known: {shown})"
        report.repairs.append(f"task {task.id}: dropped {why} for {tool.name}.{name}")
        del task.args[name]


def repair_equal_periods(task: AtomicTask, tool: Tool, choices: Choices, report: ValidationReport) -> None:
    """A tool taking two periods (compare_periods) given the same one twice: the first becomes the
    period of the same kind just before the second (1997-Q3 vs 1997-Q3 -> 1997-Q2 vs 1997-Q3)."""
    names = [
        n
        for n in tool.args_model.model_fields
        if (s := tool.choices.get(n)) is not None
        and s.kind == "period"
        and isinstance(task.args.get(n), str)
        and parse_ref(task.args[n]) is None
    ]
    if len(names) < 2:
        return
    first, second = names[0], names[1]
    today, earliest = choices.span[1] if choices.span else None, choices.span[0] if choices.span else None
    if not same_period(task.args[first], task.args[second], today, earliest=earliest):
        return
    prev = previous_period(task.args[second], today, earliest=earliest)
    same = task.args[first]
    if prev is None:
        del task.args[first]
        report.repairs.append(
            f"task {task.id}: {tool.name} compared {same!r} with itself; dropped {first} for the specialist"
        )
    else:
        task.args[first] = prev
        report.repairs.append(
            f"task {task.id}: {tool.name} compared {same!r} with itself; {first} -> {prev!r}"
        )


def _columns_of(
    task_id: str,
    by_id: Mapping[str, AtomicTask],
    registry: ToolRegistry,
    tables: Mapping[str, Table],
    numeric: bool,
) -> list[str] | None:
    """Columns a referenced task's table has (numeric ones, or the labels); None when unknown."""
    if task_id in tables:
        return column_choices(tables[task_id], numeric)
    if task_id not in by_id:
        return None
    producer = registry.get(by_id[task_id].tool)
    if not producer.output_columns:
        return None
    if numeric:
        return list(producer.numeric_columns)
    return [c for c in producer.output_columns if c not in producer.numeric_columns]


def _closest_column(value: str, columns: Sequence[str]) -> str | None:
    """The column ``value`` most likely means: same name, same concept (sales ~ revenue), or close."""
    wanted = _norm(value)
    for column in columns:
        if _norm(column) == wanted:
            return column
    terms = relevance_terms(value)
    scored = [(term_overlap(terms, relevance_terms(c)), -i, c) for i, c in enumerate(columns)]
    best = max(scored, default=(0, 0, ""))
    if best[0] > 0:
        return best[2]
    close = difflib.get_close_matches(wanted, [_norm(c) for c in columns], n=1, cutoff=0.6)
    return next((c for c in columns if close and _norm(c) == close[0]), None)


def repair_columns(
    tasks: list[AtomicTask], registry: ToolRegistry, tables: Mapping[str, Table], report: ValidationReport
) -> None:
    """A column argument must name a column of the table it reads (value_column=sales -> revenue)."""
    by_id = {t.id: t for t in tasks}
    for task in tasks:
        tool = registry.get(task.tool)
        for name, source in tool.choices.items():
            value = task.args.get(name)
            ref = parse_ref(task.args.get(source.ref_arg))
            if source.kind != "output_column" or not isinstance(value, str) or ref is None:
                continue
            columns = _columns_of(ref[0], by_id, registry, tables, source.numeric)
            if columns is None or value in columns:
                continue
            fixed = _closest_column(value, columns)
            if fixed is None and name in _required(tool) and columns:
                fixed = columns[0]
            where = f"the output of {ref[0]} (columns: {', '.join(columns) or 'none'})"
            if fixed is None:
                del task.args[name]
                report.repairs.append(f"task {task.id}: dropped {tool.name}.{name} {value!r}, not in {where}")
            else:
                task.args[name] = fixed
                report.repairs.append(f"task {task.id}: {tool.name}.{name} {value!r} -> {fixed!r} ({where})")


def ground_columns(args: dict[str, Any], tool: Tool) -> list[str]:
    """At run time, with the referenced tables in hand: a column argument that names no column of
    its table becomes the closest one, or the only candidate; returns what was changed. (A planned
    ``ask_warehouse`` table's columns are known only once its query ran.)"""
    changed = []
    for name, source in tool.choices.items():
        value, table = args.get(name), args.get(source.ref_arg)
        if source.kind != "output_column" or not isinstance(value, str) or not isinstance(table, Table):
            continue
        columns = column_choices(table, source.numeric)
        if value in columns or not columns:
            continue
        fixed = _closest_column(value, columns) or (columns[0] if len(columns) == 1 else None)
        if fixed is not None:
            args[name] = fixed
            changed.append(f"{name} {value!r} -> {fixed!r}")
    return changed
