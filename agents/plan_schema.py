"""JSON schemas for constrained decoding: a whole plan grounded in the registry and the live
data (:func:`plan_json_schema`), and one tool's arguments (:func:`tool_arg_schema`).

Task ids are enumerated by position, categorical values, periods, tables and columns from a
:class:`~atomwork.agents.choices.Choices`, and every free value is bounded, so constrained
decoding cannot invent a value or run away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from atomwork.agents.choices import Choices
from atomwork.errors import PlanError
from atomwork.plan import MAX_INT, MAX_LIST, MAX_TASKS, MAX_TEXT, AtomicTask
from atomwork.table import Table
from atomwork.tools.base import ChoiceSource, Tool
from atomwork.tools.registry import ToolRegistry


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return value == value  # not NaN
    if isinstance(value, str):
        try:
            float(value.replace(",", "").replace("$", "").replace("%", "").strip())
        except ValueError:
            return False
        return True
    return False


def column_choices(table: Table, numeric: bool) -> list[str]:
    """Columns of a result table usable as ``value_column`` (``numeric=True``: every non-empty value
    is a number) or as a label (``numeric=False``: the others). Key/id columns come last."""
    out: list[str] = []
    for name in table.columns:
        values = [v for v in table.column(name) if v is not None and v != ""]
        is_numeric = bool(values) and all(_is_number(v) for v in values)
        if is_numeric == numeric:
            out.append(name)
    return sorted(out, key=lambda c: bool(re.search(r"(^|_)(id|key)$", c.lower())))


_PLAIN = re.compile(r"^[A-Za-z0-9 _-]+$")

TRIE_OVER = 8
"""Closed sets larger than this are written as a prefix-factored pattern (see :func:`closed_set`)."""


def closed_set(values: Sequence[str]) -> dict[str, Any]:
    """A schema accepting exactly ``values``.

    A large set of plain words (137 periods, 40 column names) is written as a regex factored by
    common prefixes (``^(199(7(-Q[1-4]...)?...)|last_(year|quarter))$``) instead of an ``enum``:
    both accept the same strings, but llama.cpp tracks one grammar branch per ``enum`` value at
    once, and inside a plan that count multiplies with every other open alternative, while the
    factored form branches a few ways at a time."""
    unique = list(dict.fromkeys(values))
    if len(unique) <= TRIE_OVER or not all(_PLAIN.match(v) for v in unique):
        return {"enum": unique}
    return {"type": "string", "pattern": f"^{_trie(unique)}$"}


def _trie(strings: Sequence[str]) -> str:
    branches: dict[str, list[str]] = {}
    ends = False
    for text in strings:
        if text:
            branches.setdefault(text[0], []).append(text[1:])
        else:
            ends = True
    alternatives = [first + _trie(rest) for first, rest in branches.items()]
    if not alternatives:
        return ""
    if len(alternatives) == 1 and not ends:
        return alternatives[0]
    return "(" + "|".join(alternatives) + ")" + ("?" if ends else "")


def reference_args(tool: Tool) -> dict[str, bool]:
    """Arguments that take earlier tasks' outputs: name -> True for a list of references.

    A ``Table``-typed argument takes one; a list argument whose description shows ``$t``
    references (e.g. a report's inputs) takes several."""
    out: dict[str, bool] = {}
    for name, prop in tool.json_schema().get("properties", {}).items():
        if _is_table_prop(prop):
            out[name] = False
        elif prop.get("type") == "array" and "$t" in str(prop.get("description", "")):
            out[name] = True
    return out


def _is_table_prop(prop: dict[str, Any]) -> bool:
    if "$ref" in prop or prop.get("type") == "object":
        return True
    return any(_is_table_prop(option) for option in prop.get("anyOf", []))


def _bounded(prop: dict[str, Any]) -> dict[str, Any]:
    """One argument's JSON schema, simplified for constrained decoding and bounded, so no
    schema-valid value can run away: strings get ``maxLength``, numbers ``maximum``, lists ``maxItems``."""
    if "$ref" in prop or prop.get("type") == "object":
        return {
            "type": "string",
            "maxLength": 24,
            "description": "reference to an earlier task's output, like $t1",
        }
    if "anyOf" in prop:
        options = [_bounded(p) for p in prop["anyOf"] if p.get("type") != "null"]
        unique = [o for i, o in enumerate(options) if o not in options[:i]]
        if not unique:
            return {"type": "null"}
        return unique[0] if len(unique) == 1 else {"anyOf": unique}
    if "enum" in prop or "const" in prop:
        return {k: v for k, v in prop.items() if k in ("type", "enum", "const")}
    kind = prop.get("type")
    if kind == "integer":
        low = prop.get("minimum", prop["exclusiveMinimum"] + 1 if "exclusiveMinimum" in prop else None)
        high = prop.get("maximum", prop["exclusiveMaximum"] - 1 if "exclusiveMaximum" in prop else MAX_INT)
        return {"type": "integer", **({"minimum": low} if low is not None else {}), "maximum": high}
    if kind == "number":
        out: dict[str, Any] = {"type": "number"}
        for key in ("minimum", "exclusiveMinimum"):
            if key in prop:
                out[key] = prop[key]
        out["maximum"] = prop.get("maximum", prop.get("exclusiveMaximum", MAX_INT))
        return out
    if kind in ("boolean", "null"):
        return {"type": kind}
    if kind == "array":
        items = prop.get("items")
        return {
            "type": "array",
            "items": _bounded(items)
            if isinstance(items, dict)
            else {"type": "string", "maxLength": MAX_TEXT},
            **({"minItems": prop["minItems"]} if "minItems" in prop else {}),
            "maxItems": min(prop.get("maxItems", MAX_LIST), MAX_LIST),
        }
    text: dict[str, Any] = {"type": "string", "maxLength": prop.get("maxLength", MAX_TEXT)}
    if "minLength" in prop:
        text["minLength"] = prop["minLength"]
    return text


def arg_schema_for_planner(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's argument schema made friendly to constrained decoding (no live grounding).

    Table-typed arguments become strings (the planner writes a ``$tN`` reference); titles,
    defaults and ``null`` options are dropped; every value is bounded (see :func:`_bounded`)."""
    props = {name: _bounded(prop) for name, prop in schema.get("properties", {}).items()}
    return {
        "type": "object",
        "properties": props,
        "required": [n for n in schema.get("required", []) if n in props],
        "additionalProperties": False,
    }


class _ArgSchemas:
    """Builds grounded argument schemas; with ``defs`` the enums are shared through ``$defs``."""

    def __init__(
        self,
        choices: Choices | None,
        *,
        numeric_columns: Sequence[str] = (),
        label_columns: Sequence[str] = (),
        defs: dict[str, Any] | None = None,
    ) -> None:
        self.choices = choices
        self.numeric_columns = list(numeric_columns)
        self.label_columns = list(label_columns)
        self.defs = defs

    def values(self, source: ChoiceSource) -> tuple[str, list[str]]:
        """``(key, values)`` of a choice source; the key names its shared definition."""
        if source.kind == "output_column":
            return (
                ("columns-numeric", self.numeric_columns)
                if source.numeric
                else ("columns-label", self.label_columns)
            )
        values = self.choices.values(source) if self.choices is not None else []
        key = source.kind if source.kind != "column" else f"{source.table}-{source.column}"
        return "choice-" + re.sub(r"[^A-Za-z0-9]+", "-", key), values

    def enum(self, key: str, values: list[str]) -> dict[str, Any]:
        if self.defs is None:
            return {"enum": values}
        self.defs.setdefault(key, closed_set(values))
        return {"$ref": f"#/$defs/{key}"}

    def share(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A plain bounded string becomes one shared grammar rule instead of one per argument."""
        if self.defs is None or set(schema) != {"type", "maxLength"} or schema["type"] != "string":
            return schema
        key = f"text-{schema['maxLength']}"
        self.defs.setdefault(key, schema)
        return {"$ref": f"#/$defs/{key}"}

    def build(
        self, tool: Tool, *, refs: Sequence[str] | None = None, table_refs: Sequence[str] | None = None
    ) -> dict[str, Any] | None:
        """The tool's arguments; reference arguments enumerate ``refs`` (lists) / ``table_refs``
        (tables) when given. None when a required reference has nothing to point to."""
        schema = tool.json_schema()
        required = list(schema.get("required", []))
        ref_args = reference_args(tool)
        props: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            if name in ref_args:
                targets = refs if ref_args[name] else table_refs
                if targets is None:
                    props[name] = _bounded(prop)
                elif not targets:
                    if name in required:
                        return None
                elif ref_args[name]:
                    props[name] = {
                        "type": "array",
                        "items": {"enum": list(targets)},
                        "minItems": 1 if name in required else 0,
                        "maxItems": min(len(targets), MAX_TASKS),
                    }
                else:
                    props[name] = {"enum": list(targets)}
                continue
            source = tool.choices.get(name)
            key, values = self.values(source) if source is not None else ("", [])
            props[name] = self.enum(key, values) if values else self.share(_bounded(prop))
        return {
            "type": "object",
            "properties": props,
            "required": [n for n in required if n in props],
            "additionalProperties": False,
        }


def tool_arg_schema(
    tool: Tool, choices: Choices | None = None, *, input_table: Table | None = None
) -> dict[str, Any]:
    """A tool's argument schema grounded in the live data, for a specialist completing arguments at
    run time: regions, periods ... are enums from ``choices``; a column argument is an enum of
    ``input_table``'s columns (see :func:`column_choices`)."""
    numeric = column_choices(input_table, numeric=True) if input_table is not None else []
    labels = column_choices(input_table, numeric=False) if input_table is not None else []
    built = _ArgSchemas(choices, numeric_columns=numeric, label_columns=labels).build(tool)
    assert built is not None  # without refs/table_refs no argument is left unsatisfiable
    return built


def _registry_columns(registry: ToolRegistry) -> tuple[list[str], list[str]]:
    """Numeric and label columns the registry's tools can produce, in first-seen order."""
    numeric: list[str] = []
    labels: list[str] = []
    for tool in registry.tools():
        for column in tool.numeric_columns:
            if column not in numeric:
                numeric.append(column)
        for column in tool.output_columns:
            if column not in tool.numeric_columns and column not in labels:
                labels.append(column)
    return numeric, labels


def plan_json_schema(
    registry: ToolRegistry,
    *,
    max_tasks: int = 8,
    min_tasks: int = 1,
    choices: Choices | None = None,
    first_index: int = 1,
    finished: Mapping[str, Table | None] | None = None,
) -> dict[str, Any]:
    """JSON schema for constrained decoding of a plan, grounded in the registry and the live data.

    Task k (counting from 0) has id ``t<first_index + k>``; it may depend on, and reference, only
    earlier tasks and the ``finished`` ones (replanning: id -> result table). Each task is one
    branch per tool, so the arguments match the tool's schema, with categorical values, periods,
    tables and columns enumerated from ``choices`` and the tools' metadata, and every free value
    bounded. There is no ``department`` key: the tool determines it
    (:func:`tasks_from_output` fills it in).

    The reply is ``{"task_count": n, "tasks": [...]}`` with ``n`` in ``min_tasks..max_tasks``: an
    ``anyOf`` over fixed-length ``prefixItems`` tuples (llama.cpp's grammar converter supports
    ``prefixItems`` only as a fixed-length tuple), each led by its ``task_count`` so the grammar
    knows the length after a few tokens; without that lead every length stays a live alternative
    through the whole reply and multiplies the grammar's work per token. Likewise ``tool`` comes
    first in a task, and large closed sets are prefix-factored (:func:`closed_set`)."""
    most = max(1, min(max_tasks, MAX_TASKS))
    least = max(1, min(min_tasks, most))
    done = dict(finished or {})
    numeric, labels = _registry_columns(registry)
    for table in done.values():
        if table is not None:
            numeric += [c for c in column_choices(table, numeric=True) if c not in numeric]
            labels += [c for c in column_choices(table, numeric=False) if c not in labels]
    defs: dict[str, Any] = {f"text-{MAX_TEXT}": {"type": "string", "maxLength": MAX_TEXT}}
    args = _ArgSchemas(choices, numeric_columns=numeric, label_columns=labels, defs=defs)
    fixed_args = {t.name: args.build(t) for t in registry.tools() if not reference_args(t)}
    positions = 0
    for k in range(most):
        earlier = [f"t{first_index + j}" for j in range(k)]
        targets = [*done, *earlier]
        table_targets = [*(i for i, t in done.items() if t is not None), *earlier]
        defs[f"deps-{k + 1}"] = (
            {"const": []}
            if not targets
            else {"type": "array", "items": {"enum": targets}, "maxItems": len(targets)}
        )
        branches = []
        for tool in registry.tools():
            key = f"args-{_def_name(tool.name)}"
            if tool.name in fixed_args:
                defs.setdefault(key, fixed_args[tool.name])
            else:
                built = args.build(
                    tool, refs=[f"${i}" for i in targets], table_refs=[f"${i}" for i in table_targets]
                )
                if built is None:
                    continue  # nothing earlier to reference: the tool cannot be task k
                key = f"{key}-{k + 1}"
                defs[key] = built
            branches.append(
                {
                    "type": "object",
                    "properties": {
                        "tool": {"const": tool.name},
                        "id": {"const": f"t{first_index + k}"},
                        "args": {"$ref": f"#/$defs/{key}"},
                        "depends_on": {"$ref": f"#/$defs/deps-{k + 1}"},
                        "success_criteria": {"$ref": f"#/$defs/text-{MAX_TEXT}"},
                    },
                    "required": ["tool", "id", "args", "depends_on", "success_criteria"],
                    "additionalProperties": False,
                }
            )
        if not branches:
            break
        defs[f"task-{k + 1}"] = {"anyOf": branches}
        positions = k + 1
    if positions == 0:
        raise PlanError("no tool can be planned: every tool needs an earlier task's output")
    lengths = [
        {
            "type": "object",
            "properties": {
                "task_count": {"const": n},
                "tasks": {
                    "type": "array",
                    "prefixItems": [{"$ref": f"#/$defs/task-{j + 1}"} for j in range(n)],
                    "items": False,
                    "minItems": n,
                    "maxItems": n,
                },
            },
            "required": ["task_count", "tasks"],
            "additionalProperties": False,
        }
        for n in range(min(least, positions), positions + 1)
    ]
    schema = lengths[0] if len(lengths) == 1 else {"anyOf": lengths}
    return {**schema, "$defs": defs}


def tasks_from_output(raw: Any, registry: ToolRegistry) -> list[AtomicTask]:
    """The tasks of a planner reply (``{"tasks": [...]}``). A task without a ``department`` gets its
    tool's: the plan schema leaves it out, since the tool determines it."""
    items = raw.get("tasks") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise PlanError("planner output has no task list")
    tasks = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise PlanError(f"task #{index} is not an object")
        tool = item.get("tool")
        if "department" not in item and isinstance(tool, str) and tool in registry:
            item = {**item, "department": registry.get(tool).department}
        try:
            tasks.append(AtomicTask.model_validate(item))
        except ValidationError as exc:
            raise PlanError(f"task #{index} is malformed: {exc.errors()[0]['msg']}") from exc
    return tasks


def _def_name(name: str) -> str:
    # llama.cpp's converter names grammar rules after $defs keys, allowing only [A-Za-z0-9-]
    return re.sub(r"[^A-Za-z0-9]+", "-", name)
