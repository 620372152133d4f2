"""The plan: a DAG of atomic tool calls, with validation, grounding and repair.

An argument value may reference an earlier task's output: ``"$t1"`` (the whole
result), ``"$t1.table"``, ``"$t1.summary"`` or ``"$t1.data.KEY"``. A reference
implies a dependency; :func:`validate_plan` adds it when the planner forgot.

Plans are *grounded* in the live data: :func:`plan_json_schema` enumerates task ids
by position, the regions, periods, tables and columns that exist (from a
:class:`Choices`), and bounds every free value, so constrained decoding cannot
invent a value or run away. :func:`validate_plan` then repairs what the schema
cannot express (equal periods, a column the referenced table lacks, tasks that
serve no part of the goal, "then" steps without an ordering edge).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, Field, ValidationError, field_validator

from atomwork.errors import PlanError
from atomwork.tools.base import DEPARTMENTS, ChoiceSource, Table, Tool, ToolError
from atomwork.tools.periods import period_choices, previous_period, resolve_period, same_period
from atomwork.tools.registry import ToolRegistry

REF_RE = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)(?:\.(table|summary|data(?:\.[A-Za-z0-9_]+)?))?$")
MAX_TASKS = 12
MAX_TEXT = 120
"""Longest free-text value the plan schema allows (titles, success criteria ...)."""
MAX_INT = 1_000_000
MAX_LIST = 8
REPORTING = "reporting"


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


# --------------------------------------------------------------------------- goal parts


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


class GoalPart(BaseModel):
    """One requested action of a goal. ``after_previous``: the goal orders it after the part
    before ("..., then ...", "after that", "Once ..., ...") even if no data passes between them."""

    text: str
    after_previous: bool = False


_ACTION_VERBS = _word_set(
    """add aggregate alert analyse analyze answer arrange ask assess audit book break build buy calculate call
    cancel chart check choose classify compare compile compute confirm convert count create crop delete
    describe detect determine display download draft draw drill edit email estimate evaluate examine explain
    export extract fetch filter find flag forecast generate get give group highlight identify install invite
    investigate list locate look measure message monitor notify open order organize organise outline pay pick
    plan play plot post predict prepare print produce provide pull purchase rank read recognize recommend
    record remind remove rename reply report research reserve resize retrieve review run save schedule search
    select send set share show sort split start stop summarise summarize tell text track transcribe transfer
    translate turn tweet update upload validate verify visualise visualize write"""
)
_QUESTION_WORDS = frozenset({"what", "which", "who", "how", "why", "where"})
_NOUN_FOLLOWERS = frozenset({"by", "per", "of", "and", "or"})
"""A verb-like word followed by one of these is a noun ("share by region", "report of ...")."""
_MONTH_NAMES = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
)
_KEEP = "\x1f"  # stands in for a comma that must not split (dates, numbers)
_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|(?<![A-Za-z0-9])'[^']+'(?![A-Za-z0-9])")
_DATE_COMMA = re.compile(rf"\b((?:{_MONTH_NAMES})\.? \d{{1,2}}(?:st|nd|rd|th)?),(?= \d{{4}})", re.I)
_WEEKDAY_COMMA = re.compile(rf"\b((?:{_WEEKDAYS})\.?),(?= )", re.I)
_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")
_BOUNDARY = re.compile(
    r"(\s*;\s*|\s*,\s*|(?<=[?!])\s+|(?<=[a-z]{3}\.)\s+(?=[A-Z])|"
    r"\s+(?=(?:and|then|after that|afterwards|afterward|finally|also)\b))",
    re.I,
)
_CONNECTOR = re.compile(
    r"^(?:(?:and|then|also|plus|after that|afterwards|afterward|finally|subsequently|next,|please)\b,?\s*)+",
    re.I,
)
_SEQUENCE_WORD = re.compile(r"\b(?:then|after that|afterwards|afterward|finally|subsequently|next)\b", re.I)
_LEADING_ORDER = re.compile(r"^(?:once|after|as soon as)\b", re.I)


def goal_steps(goal: str) -> list[GoalPart]:
    """Split a goal into its requested actions, keeping the order the goal implies.

    A comma, semicolon or "and" starts a new part only when what follows starts with an
    action verb or a question word ("..., flag anomalies and draft a report"); so dates
    ("December 25, 2022"), numbers ("1,234"), lists ("for ASIA, EUROPE and AMERICA") and
    quoted text stay whole, and a single request is exactly one part."""
    quotes: list[str] = []

    def hide(match: re.Match[str]) -> str:
        quotes.append(match.group(0))
        return f"\x00{len(quotes) - 1}\x00"

    text = _QUOTED.sub(hide, goal.strip())
    text = _NUMBER_COMMA.sub(_KEEP, text)
    text = _DATE_COMMA.sub(lambda m: m.group(1) + _KEEP, text)
    text = _WEEKDAY_COMMA.sub(lambda m: m.group(1) + _KEEP, text)

    pieces = _BOUNDARY.split(text)
    parts: list[tuple[str, bool]] = []  # (text, after_previous)
    delimiter = pending = ""  # pending: a bare connector ("and", "After that") waiting for its clause
    for index, piece in enumerate(pieces):
        if index % 2 == 1:
            delimiter = piece if not pending else pending + piece
            continue
        if not piece.strip():
            continue
        if not parts:
            parts.append((piece.strip(), False))
            continue
        lead = _CONNECTOR.match(piece.strip())
        connector = lead.group(0) if lead else ""
        body = piece.strip()[len(connector) :].strip()
        if not body:
            pending = delimiter + piece
            continue
        pending = ""
        sequential = bool(_SEQUENCE_WORD.search(delimiter + connector)) or (
            "," in delimiter and len(parts) == 1 and bool(_LEADING_ORDER.match(parts[0][0]))
        )
        if ";" in delimiter or "?" in parts[-1][0][-1:] or sequential or _starts_clause(body):
            parts.append((body, sequential))
        else:  # a list item, a date, a trailing phrase: part of the previous part
            previous, after = parts[-1]
            parts[-1] = (previous + delimiter + piece, after)
    out = []
    for text_, after in parts:
        for i, quoted in enumerate(quotes):
            text_ = text_.replace(f"\x00{i}\x00", quoted)
        clean = text_.replace(_KEEP, ",").strip(" .;,")
        if clean:
            out.append(GoalPart(text=clean, after_previous=after))
    return out


def _starts_clause(body: str) -> bool:
    words = re.findall(r"[A-Za-z']+", body.lower())
    if not words:
        return False
    if words[0] in _QUESTION_WORDS:
        return True
    return words[0] in _ACTION_VERBS and (len(words) == 1 or words[1] not in _NOUN_FOLLOWERS)


def goal_parts(goal: str) -> list[str]:
    """The requested actions of a goal ("analyze X, flag Y and draft Z" -> 3 parts)."""
    return [part.text for part in goal_steps(goal)]


def task_limits(parts: int) -> tuple[int, int]:
    """``(min_tasks, max_tasks)`` for a goal with ``parts`` requested actions: at least one task per
    part when there are several, and room for inputs and a report, ``clamp(2 * parts + 2, 3, 12)``."""
    most = max(3, min(MAX_TASKS, 2 * parts + 2))
    return (parts if parts >= 2 else 1), most


# --------------------------------------------------------------------------- relevance terms

_STOP = _word_set(
    """a an the and or but nor of in on at to for from by per with without into over under about as is are
    was were be been being do does did done have has had i me my we our us you your it its this that these
    those there their they them he she his her what which who whom how why where when than then also please
    can could would should will shall may might must need needs want wants let make made get got give show
    find look see tell list check help some any each every all both either more most less least very much
    many few one two three data period periods quarter quarters month months monthly year years yearly
    annual week weeks day days daily last next previous current prior past region regions regional
    department departments category categories group type kind number numbers value values total totals
    overall result results table based using use uses used earlier analysis analyze analyse analyzing
    business short person model rate rates stat stats statistic statistics performance vs time times row
    rows input inputs good first second like just"""
)
_CONCEPT_WORDS = (
    "revenue sales sale sell selling sold income order orders booking bookings",
    "customer customers client clients buyer buyers account accounts",
    "expense expenses cost costs spend spending spent opex outlay payroll",
    "budget budgets forecast target targets variance actual actuals",
    "headcount employee employees staff staffing workforce hire hires hiring people personnel",
    "attrition churn turnover termination terminations leaver leavers resignation resignations retention "
    "quit",
    "campaign campaigns marketing advertising ads conversion conversions channel channels",
    "ticket tickets support csat satisfaction complaint complaints helpdesk resolution",
    "shipment shipments shipping ship shipped delivery deliveries late lateness delay delays delayed "
    "logistics fulfillment",
    "supplier suppliers vendor vendors procurement sourcing",
    "anomaly anomalies anomalous outlier outliers unusual spike spikes abnormal flag odd irregular deviation "
    "detect",
    "compare comparison versus growth change changes trend trends difference grew decline declined drop "
    "dropped increase decrease yoy qoq",
    "report reporting summary summarize summarise memo brief briefing write draft email message note writeup "
    "presentation",
    "schema column columns structure describe field fields tables",
    "sql query select",
    "top best largest biggest highest leading rank ranking",
)


def _stem(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)] + replacement
    return word


_CONCEPTS: dict[str, set[str]] = {}
for _index, _group in enumerate(_CONCEPT_WORDS):
    for _word in _group.split():
        _CONCEPTS.setdefault(_stem(_word), set()).add(f"#{_index}")


def _terms(text: str) -> set[str]:
    """Content words of ``text`` (stemmed) plus the concepts they belong to (sales ~ revenue)."""
    out: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", text.lower().replace("_", " ")):
        if word in _STOP or word.isdigit() or len(word) < 2:
            continue
        stem = _stem(word)
        out.add(stem)
        out |= _CONCEPTS.get(stem, set())
    return out


def _overlap(a: set[str], b: set[str]) -> int:
    """Shared terms, counting words with a common 6-letter prefix (anomaly ~ anomalous) as shared."""
    shared = a & b
    count = len(shared)
    rest_a = [w for w in a - shared if len(w) >= 6 and not w.startswith("#")]
    rest_b = [w for w in b - shared if len(w) >= 6 and not w.startswith("#")]
    count += sum(1 for w in rest_a if any(w[:6] == v[:6] for v in rest_b))
    return count


# --------------------------------------------------------------------------- live choices


class WarehouseLike(Protocol):
    """What :func:`warehouse_choices` reads; :class:`atomwork.tools.warehouse.Warehouse` has it."""

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> Table: ...

    def tables(self) -> list[str]: ...

    def date_range(self) -> tuple[date, date] | None: ...


ColumnValues = Callable[[str, str], Sequence[str]] | Mapping[tuple[str, str], Sequence[str]]
"""``(table, column) -> distinct values``, as a function or a mapping."""


class Choices:
    """The live values that ground a plan: distinct column values, table names, the data span.

    The planner and :func:`validate_plan` see only this object, never the warehouse; build it
    with :func:`warehouse_choices`, or from plain values (tests, other data sources)::

        Choices({("region", "r_name"): ["ASIA", "EUROPE"]}, tables=["orders"], span=(d1, d2))

    Column lookups are cached; a column with more than ``max_values`` distinct values, or one
    that cannot be read, is not enumerated (the argument stays a bounded free string).
    """

    def __init__(
        self,
        column_values: ColumnValues | None = None,
        *,
        tables: Sequence[str] = (),
        span: tuple[date, date] | None = None,
        max_values: int = 60,
    ) -> None:
        self._lookup = column_values
        self.tables = list(tables)
        self.span = span
        self.max_values = max_values
        self._cache: dict[tuple[str, str], list[str]] = {}

    def values(self, source: ChoiceSource) -> list[str]:
        """The allowed values for ``source`` (empty: not enumerable here)."""
        if source.kind == "period":
            return self.periods()
        if source.kind == "table":
            return list(self.tables)
        if source.kind != "column" or self._lookup is None:
            return []  # output columns come from the tools' metadata, not from the warehouse
        key = (source.table, source.column)
        if key not in self._cache:
            try:
                raw = self._lookup[key] if isinstance(self._lookup, Mapping) else self._lookup(*key)
                found = [str(v) for v in raw if v is not None and str(v).strip()]
            except Exception:  # a missing table or column only means "not enumerable"
                found = []
            self._cache[key] = found if len(found) <= self.max_values else []
        return list(self._cache[key])

    def periods(self) -> list[str]:
        return period_choices(*self.span) if self.span is not None else []


def warehouse_choices(warehouse: WarehouseLike, *, max_values: int = 60) -> Choices:
    """:class:`Choices` read from a warehouse (``SELECT DISTINCT`` per declared column, cached)."""

    def distinct(table: str, column: str) -> list[str]:
        quoted_table = ".".join(_quote(part) for part in table.split("."))
        rows = warehouse.fetch(
            f"SELECT DISTINCT {_quote(column)} FROM {quoted_table} WHERE {_quote(column)} IS NOT NULL "
            f"ORDER BY 1 LIMIT {max_values + 1}"
        ).rows
        return [str(r[0]) for r in rows]

    return Choices(distinct, tables=warehouse.tables(), span=warehouse.date_range(), max_values=max_values)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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


# --------------------------------------------------------------------------- argument schemas


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


# --------------------------------------------------------------------------- validation


class ValidationReport(BaseModel):
    """What :func:`validate_plan` changed (``repairs``) and dropped (``dropped``).

    ``pruned`` repeats the drops made on purpose (a task serving no part of the goal, a report
    with nothing to report on): the plan is better without them, so they need no new plan."""

    repairs: list[str] = Field(default_factory=list)
    dropped: list[str] = Field(default_factory=list)
    pruned: list[str] = Field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.repairs and not self.dropped

    @property
    def broken(self) -> list[str]:
        """Drops caused by errors in the planner's output (worth asking for a corrected plan)."""
        return [d for d in self.dropped if d not in self.pruned]

    def prune(self, message: str) -> None:
        self.dropped.append(message)
        self.pruned.append(message)


def validate_plan(
    plan: Plan,
    registry: ToolRegistry,
    *,
    known_ids: set[str] | frozenset[str] = frozenset(),
    reserved_ids: set[str] | frozenset[str] = frozenset(),
    choices: Choices | None = None,
    known_tables: Mapping[str, Table] | None = None,
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
        if _repair_tool(task, registry, report):
            _repair_args(task, registry, report)
            if choices is not None:
                _ground_args(task, registry.get(task.tool), choices, report)
                _repair_equal_periods(task, registry.get(task.tool), choices, report)
            kept.append(task)
    tasks = kept
    _repair_dependencies(tasks, known, report)
    tasks = _break_cycles(tasks, report)
    if not tasks:
        raise PlanError("no runnable task left after validation", report.dropped)
    _repair_columns(tasks, registry, tables, report)
    tasks = _fill_report_inputs(tasks, registry, tables, report)
    tasks = _prune_unrelated(tasks, registry, plan.goal, report)
    _order_steps(tasks, registry, plan.goal, report)
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


# --------------------------------------------------------------------------- grounding repairs

_MEANS_ALL = frozenset({"", "all", "any", "none", "total", "overall", "everything", "all regions"})


def _norm(value: str) -> str:
    return " ".join(value.replace("_", " ").split()).lower()


def _required(tool: Tool) -> set[str]:
    return set(tool.json_schema().get("required", []))


def _ground_args(task: AtomicTask, tool: Tool, choices: Choices, report: ValidationReport) -> None:
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


def _repair_equal_periods(task: AtomicTask, tool: Tool, choices: Choices, report: ValidationReport) -> None:
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
    terms = _terms(value)
    scored = [(_overlap(terms, _terms(c)), -i, c) for i, c in enumerate(columns)]
    best = max(scored, default=(0, 0, ""))
    if best[0] > 0:
        return best[2]
    close = difflib.get_close_matches(wanted, [_norm(c) for c in columns], n=1, cutoff=0.6)
    return next((c for c in columns if close and _norm(c) == close[0]), None)


def _repair_columns(
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


# --------------------------------------------------------------------------- goal checks


def _is_report(task: AtomicTask, registry: ToolRegistry) -> bool:
    return registry.get(task.tool).department == REPORTING


def _fill_report_inputs(
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
    terms = _terms(tool.name) | _terms(tool.department)
    if not _terms(tool.name):
        terms |= _terms(tool.description)
    if tool.department == REPORTING:
        return terms
    schema = tool.json_schema().get("properties", {})
    for name, value in task.args.items():
        source = tool.choices.get(name)
        categorical = "enum" in schema.get(name, {}) or (source is not None and source.kind != "period")
        if categorical and isinstance(value, str) and parse_ref(value) is None:
            terms |= _terms(value)
    return terms


def _prune_unrelated(
    tasks: list[AtomicTask], registry: ToolRegistry, goal: str, report: ValidationReport
) -> list[AtomicTask]:
    """Drop tasks that serve no part of the goal: they share no word or concept with it and feed no
    task that does. A report's inputs count as serving it only when no data task matches the goal
    on its own (then "attrition" is not kept just because the report of a sales goal cites it)."""
    wanted = _terms(goal)
    if len(tasks) < 2 or not wanted:
        return tasks
    direct = {t.id for t in tasks if _overlap(wanted, _task_terms(t, registry)) > 0}
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


def _without_refs(value: Any, dropped: set[str]) -> Any:
    if isinstance(value, list):
        return [v for v in value if (r := parse_ref(v)) is None or r[0] not in dropped]
    return value


def _order_steps(
    tasks: list[AtomicTask], registry: ToolRegistry, goal: str, report: ValidationReport
) -> None:
    """Goal parts joined by "then" / "after that" / "once ..." run in order: when the plan has one
    task per part, in the parts' order, each such task depends on the task before it."""
    steps = goal_steps(goal)
    if len(steps) < 2 or len(steps) != len(tasks) or not any(s.after_previous for s in steps[1:]):
        return
    part_terms = [_terms(s.text) for s in steps]
    for index, task in enumerate(tasks):
        scores = [_overlap(_task_terms(task, registry), terms) for terms in part_terms]
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
