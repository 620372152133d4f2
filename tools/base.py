"""The tool contract: a typed, named function that belongs to one department.

A :class:`Tool` takes validated keyword arguments (its ``args_model``) and returns a
:class:`ToolResult`: a short text summary plus, optionally, a table. Tables travel between
tasks, so a later task can reference an earlier table. Write tools with
:func:`atomwork.tools.tool`; build a ``Tool(...)`` by hand only when a decorator does not fit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from atomwork.errors import ToolError
from atomwork.policy import Access
from atomwork.table import Table
from atomwork.tool_result import Attempt, Draft, Provenance, ToolResult
from atomwork.tools.context import RunContext
from atomwork.tools.warehouse import Warehouse

__all__ = [
    "Attempt",
    "ChoiceSource",
    "Draft",
    "Provenance",
    "Table",
    "Tool",
    "ToolError",
    "ToolOutput",
    "ToolResult",
    "as_result",
]

ToolOutput = ToolResult | Table | str
"""What a tool function may return: a full result, or a table or text that becomes one."""


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
    """A department tool. ``fn`` is called with the validated arguments (after a
    :class:`RunContext` when ``takes_ctx``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = Field(min_length=1, pattern=r"^\S+$")
    description: str
    args_model: type[BaseModel]
    fn: Callable[..., Any]
    department: str = ""
    """The owning department's name; set when the tool is put in a :class:`Department`."""
    takes_ctx: bool = False
    """``fn`` takes a :class:`RunContext` as its first argument."""
    requires_approval: bool = False
    """A person must approve each call before it runs (tools that change things)."""
    tables: tuple[str, ...] = ()
    """Warehouse tables the tool reads; on a warehouse without them the tool is hidden."""
    choices: dict[str, ChoiceSource] = Field(default_factory=dict)
    """Per argument, where its allowed values come from (plan-time grounding)."""
    output_columns: list[str] = Field(default_factory=list)
    """Every column the result table can have (all variants); empty when unknown."""
    numeric_columns: list[str] = Field(default_factory=list)
    """The numeric ones among ``output_columns``, the most useful first."""
    warehouse: Warehouse | None = Field(default=None, exclude=True, repr=False)
    """The warehouse its run context gets; set by :meth:`bind` for a session's registry."""

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

    def available_in(self, warehouse: Warehouse) -> bool:
        """Whether ``warehouse`` has what the tool reads: its tables, and dates for a period argument."""
        if not all(warehouse.has_table(t) for t in self.tables):
            return False
        needs_dates = any(source.kind == "period" for source in self.choices.values())
        return not needs_dates or warehouse.date_range() is not None

    def refusal(self, access: Access | None) -> str | None:
        """Why ``access``'s user may not call this tool (its department, its name, or a table it
        reads), or None when they may."""
        if access is None:
            return None
        found = access.tool_refusal(self.name, self.department)
        for table in self.tables if found is None else ():
            found = found or access.table_refusal(table)
        return found

    def bind(self, warehouse: Warehouse) -> Tool:
        """A copy whose run context gets ``warehouse`` when the caller's has none."""
        return self.model_copy(update={"warehouse": warehouse})

    def context(self, **fields: Any) -> RunContext:
        """A run context for one call of this tool: ``fields`` plus the bound warehouse."""
        fields.setdefault("warehouse", self.warehouse)
        return RunContext(**fields)

    def invoke(self, args: dict[str, Any], ctx: RunContext | None = None) -> ToolResult:
        """Validate ``args`` and call the tool (with ``ctx``, or :meth:`context`, if it takes one).

        Validated values keep their types (a ``Table`` argument arrives as a Table)."""
        validated = self.validate_args(args)
        kwargs = {name: getattr(validated, name) for name in type(validated).model_fields}
        if self.takes_ctx:
            output = self.fn(ctx if ctx is not None else self.context(), **kwargs)
        else:
            output = self.fn(**kwargs)
        return as_result(output, self.name)

    def __call__(self, *args: Any, **kwargs: Any) -> ToolResult:
        """Call the tool like its function (arguments validated; a RunContext from :meth:`context`)."""
        names = list(self.args_model.model_fields)
        if len(args) > len(names):
            raise ToolError(f"tool {self.name!r} takes {len(names)} arguments, got {len(args)}")
        twice = sorted(set(names[: len(args)]) & set(kwargs))
        if twice:
            raise ToolError(f"tool {self.name!r} got argument(s) {', '.join(twice)} twice")
        return self.invoke({**dict(zip(names, args, strict=False)), **kwargs})


def as_result(output: Any, tool_name: str) -> ToolResult:
    """A tool's return value as a :class:`ToolResult`: a table gets a summary of its shape, text
    becomes the summary; anything else is a ToolError."""
    if isinstance(output, ToolResult):
        return output
    if isinstance(output, Table):
        return ToolResult(summary=table_summary(output), table=output)
    if isinstance(output, str):
        return ToolResult(summary=output)
    raise ToolError(
        f"tool {tool_name!r} returned {type(output).__name__}; return a ToolResult, a Table or a str"
    )


def table_summary(table: Table) -> str:
    """``N row(s) with columns a, b; first row: a=1, b=2`` (the first row only for narrow tables)."""
    head = ""
    if table.rows and len(table.columns) <= 6:
        head = "; first row: " + ", ".join(
            f"{c}={v}" for c, v in zip(table.columns, table.rows[0], strict=True)
        )
    return f"{len(table.rows)} row(s) with columns {', '.join(table.columns)}{head}."
