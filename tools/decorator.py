"""``@tool``: a :class:`Tool` from a typed function, written once.

The name is the function's, the description its docstring's summary, and the arguments its
parameters: types from the hints, constraints from ``Annotated[..., Field(...)]`` or a ``Field``
default, descriptions from the docstring's Args section. A first parameter ``ctx: RunContext``
is passed the run context and is not an argument. A :class:`ChoiceSource` in an argument's
``Annotated`` metadata says where its allowed values come from (grounding).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, overload

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

from atomwork.errors import ConfigError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.base import ChoiceSource, Tool
from atomwork.tools.context import RunContext
from atomwork.tools.docstring import parse_docstring

__all__ = ["tool"]

_OUTPUTS = (ToolResult, Table, str)


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    department: str = "",
    requires_approval: bool = False,
    tables: Iterable[str] = (),
    choices: Mapping[str, ChoiceSource] | None = None,
    output_columns: Iterable[str] = (),
    numeric_columns: Iterable[str] = (),
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    department: str = "",
    requires_approval: bool = False,
    tables: Iterable[str] = (),
    choices: Mapping[str, ChoiceSource] | None = None,
    output_columns: Iterable[str] = (),
    numeric_columns: Iterable[str] = (),
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a tool of a typed function; use bare (``@tool``) or with options (``@tool(...)``).

    ``department``: where the tool goes when given loose (a :class:`Department` sets it too).
    ``requires_approval``: a person approves each call. ``tables``: the warehouse tables it reads
    (hidden on a warehouse without them). ``choices``, ``output_columns``, ``numeric_columns``:
    grounding metadata (see :class:`Tool`; numeric columns count as output columns). The
    function returns a :class:`ToolResult`, a :class:`Table` or a ``str``.
    """

    def make(func: Callable[..., Any]) -> Tool:
        return _build(
            func,
            name=name,
            description=description,
            department=department,
            requires_approval=requires_approval,
            tables=tuple(tables),
            choices=dict(choices or {}),
            # Numeric columns are output columns too: name each once.
            output_columns=list(dict.fromkeys([*output_columns, *numeric_columns])),
            numeric_columns=list(numeric_columns),
        )

    return make(fn) if fn is not None else make


def _build(
    func: Callable[..., Any],
    *,
    name: str | None,
    description: str | None,
    department: str,
    requires_approval: bool,
    tables: tuple[str, ...],
    choices: dict[str, ChoiceSource],
    output_columns: list[str],
    numeric_columns: list[str],
) -> Tool:
    label = getattr(func, "__qualname__", repr(func))
    if inspect.iscoroutinefunction(func):
        raise ConfigError(f"tool {label}: async functions are not supported; write a plain function")
    try:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
    except (TypeError, ValueError, NameError) as exc:
        raise ConfigError(f"tool {label}: cannot read its signature and type hints ({exc})") from None
    doc = parse_docstring(inspect.getdoc(func))
    params = list(signature.parameters.values())
    takes_ctx = bool(params) and _is_context(hints.get(params[0].name))
    fields: dict[str, Any] = {}
    for param in params[1:] if takes_ctx else params:
        hint = hints.get(param.name, inspect.Parameter.empty)
        if _is_context(hint):
            raise ConfigError(f"tool {label}: the RunContext parameter must come first")
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ConfigError(f"tool {label}: parameter {param.name!r} must be a plain keyword parameter")
        if hint is inspect.Parameter.empty:
            raise ConfigError(f"tool {label}: parameter {param.name!r} has no type hint")
        hint, found = _split_choices(hint)
        if found is not None:
            choices.setdefault(param.name, found)
        default = ... if param.default is inspect.Parameter.empty else param.default
        text = doc.args.get(param.name)
        if text and not _has_description(hint, default):
            hint = Annotated[hint, Field(description=text)]
        fields[param.name] = (hint, default)
    unknown = sorted(set(choices) - set(fields))
    if unknown:
        raise ConfigError(f"tool {label}: choices name unknown argument(s) {', '.join(unknown)}")
    _check_return(label, hints.get("return", inspect.Parameter.empty))
    tool_name = name or func.__name__
    try:
        args_model: type[BaseModel] = create_model(
            _model_name(tool_name), __config__=ConfigDict(arbitrary_types_allowed=True), **fields
        )
    except (TypeError, ValueError) as exc:  # an unsupported type or a bad Field
        raise ConfigError(f"tool {label}: {str(exc).splitlines()[0]}") from None
    text = description if description is not None else doc.description
    if not text:
        raise ConfigError(f"tool {label} has no description: give it a docstring or description=...")
    return Tool(
        name=tool_name,
        description=text,
        args_model=args_model,
        fn=func,
        department=department,
        takes_ctx=takes_ctx,
        requires_approval=requires_approval,
        tables=tables,
        choices=choices,
        output_columns=output_columns,
        numeric_columns=numeric_columns,
    )


def _is_context(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, RunContext)


def _split_choices(hint: Any) -> tuple[Any, ChoiceSource | None]:
    """The hint without its ChoiceSource metadata (pydantic would read it as a type), and that source."""
    if typing.get_origin(hint) is not Annotated:
        return hint, None
    base, *meta = typing.get_args(hint)
    found = [m for m in meta if isinstance(m, ChoiceSource)]
    rest = [m for m in meta if not isinstance(m, ChoiceSource)]
    if len(found) > 1:
        raise ConfigError(f"an argument has {len(found)} ChoiceSources; give at most one")
    stripped = Annotated[(base, *rest)] if rest else base
    return stripped, found[0] if found else None


def _has_description(hint: Any, default: Any) -> bool:
    infos = [m for m in typing.get_args(hint)[1:] if isinstance(m, FieldInfo)]
    if typing.get_origin(hint) is Annotated and any(i.description for i in infos):
        return True
    return isinstance(default, FieldInfo) and bool(default.description)


def _check_return(label: str, hint: Any) -> None:
    if hint is inspect.Parameter.empty:
        return  # checked on each call instead
    members = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    if not all(isinstance(m, type) and issubclass(m, _OUTPUTS) for m in members):
        raise ConfigError(f"tool {label} must return ToolResult, Table or str, not {hint!r}")


def _model_name(tool_name: str) -> str:
    return "".join(part.capitalize() for part in tool_name.replace("-", "_").split("_")) + "Args"
