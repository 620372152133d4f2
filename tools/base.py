"""The tool contract: a typed, named function that belongs to one department.

A :class:`Tool` takes validated keyword arguments (its ``args_model``) and
returns a :class:`ToolResult`: a short text summary plus, optionally, a table.
Tables travel between tasks, so a later task can reference an earlier table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from atomwork.errors import ToolError

__all__ = ["DEPARTMENTS", "ChoiceSource", "Provenance", "Table", "Tool", "ToolError", "ToolResult"]

DEPARTMENTS: tuple[str, ...] = (
    "sales",
    "finance",
    "hr",
    "marketing",
    "support",
    "operations",
    "analysis",
    "reporting",
)
"""Departments known to atomwork. ``analysis`` and ``reporting`` are shared
specialists (statistics over earlier results, writing the final report)."""


class Table(BaseModel):
    """A small result table: column names and rows of JSON-compatible values."""

    columns: list[str]
    rows: list[list[Any]] = Field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]

    def column(self, name: str) -> list[Any]:
        if name not in self.columns:
            raise ToolError(f"column {name!r} not in table (columns: {', '.join(self.columns)})")
        idx = self.columns.index(name)
        return [row[idx] for row in self.rows]

    def to_markdown(self, max_rows: int = 20) -> str:
        head = "| " + " | ".join(self.columns) + " |"
        sep = "| " + " | ".join("---" for _ in self.columns) + " |"
        body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in self.rows[:max_rows]]
        more = [f"... ({len(self.rows) - max_rows} more rows)"] if len(self.rows) > max_rows else []
        return "\n".join([head, sep, *body, *more])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


class Attempt(BaseModel):
    """One query a model wrote for a result, kept so the verifier itself can be measured."""

    sql: str
    table: Table | None = None
    error: str | None = None
    problems: list[str] = Field(default_factory=list)


class Provenance(BaseModel):
    """How a result was obtained, for tools whose output a model wrote (e.g. SQL)."""

    sql: str | None = None
    attempts: list[Attempt] = Field(default_factory=list)
    verified: bool = False
    """True when independent checks agree that the result answers the question."""
    notes: list[str] = Field(default_factory=list)
    """How it was verified, or why it could not be."""


class ToolResult(BaseModel):
    """What a tool returns: a one-paragraph summary and an optional table."""

    summary: str
    table: Table | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    empty_is_answer: bool = False
    """An empty table is itself the finding (e.g. no anomalies), not a failure."""
    provenance: Provenance | None = None
    """Set by tools whose output depends on a model; None for deterministic tool code."""


class ChoiceSource(BaseModel):
    """Where the allowed values of one tool argument come from, read when a plan is grounded.

    ``column``: the distinct values of ``table.column`` in the warehouse (regions, channels ...);
    ``period``: the periods the data covers; ``table``: the warehouse's table names;
    ``output_column``: a column of the table passed in argument ``ref_arg`` (``numeric`` ones only
    when set), known from the producing tool's ``output_columns``.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["column", "period", "table", "output_column"] = "column"
    table: str = ""
    column: str = ""
    ref_arg: str = ""
    numeric: bool = False


class Tool(BaseModel):
    """A department tool. ``fn`` is called with the validated arguments."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    department: str
    description: str
    args_model: type[BaseModel]
    fn: Callable[..., ToolResult]
    needs_llm: bool = False
    """True when the tool itself calls the model (e.g. drafting text)."""
    choices: dict[str, ChoiceSource] = Field(default_factory=dict)
    """Per argument, where its allowed values come from (plan-time grounding)."""
    output_columns: list[str] = Field(default_factory=list)
    """Every column the result table can have (all variants); empty when unknown."""
    numeric_columns: list[str] = Field(default_factory=list)
    """The numeric ones among ``output_columns``, the most useful first."""

    def json_schema(self) -> dict[str, Any]:
        return self.args_model.model_json_schema()

    def validate_args(self, args: dict[str, Any]) -> BaseModel:
        try:
            return self.args_model.model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'args'}: {err['msg']}" for err in exc.errors()
            )
            raise ToolError(f"bad arguments for tool {self.name!r}: {problems}") from exc

    def accepts(self, name: str, value: Any) -> bool:
        """Whether the tool takes argument ``name`` and ``value`` fits its type."""
        field = self.args_model.model_fields.get(name)
        if field is None:
            return False
        try:
            TypeAdapter(field.annotation or Any).validate_python(value)
        except ValidationError:
            return False
        return True

    def missing_required(self, args: dict[str, Any]) -> list[str]:
        """Names of required arguments absent from ``args``."""
        required = self.json_schema().get("required", [])
        return [name for name in required if name not in args]

    def invoke(self, args: dict[str, Any], **context: Any) -> ToolResult:
        """Validate ``args`` and call the tool; ``context`` (e.g. ``llm``) is passed through.

        Validated values keep their types (a ``Table`` argument arrives as a Table)."""
        validated = self.validate_args(args)
        result = self.fn(
            **{name: getattr(validated, name) for name in type(validated).model_fields}, **context
        )
        if not isinstance(result, ToolResult):
            raise ToolError(f"tool {self.name!r} returned {type(result).__name__}, not a ToolResult")
        return result

    def __call__(self, **kwargs: Any) -> ToolResult:
        return self.invoke(kwargs)
