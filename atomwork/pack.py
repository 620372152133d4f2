"""The departments a session works with: the default pack (the demo enterprise, with the SQL
analyst in its shared analysis department), plug-in packs, and the user's own departments and tools.
"""

from __future__ import annotations

from collections.abc import Iterable

from atomwork.agents.sql_analyst import sql_tool
from atomwork.errors import ConfigError
from atomwork.tools.department import Department, ToolLike, as_tool
from atomwork.tools.enterprise import enterprise_departments
from atomwork.tools.plugins import plugin_departments
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.warehouse import Warehouse

__all__ = ["DEFAULT_DEPARTMENT", "build_registry", "default_departments"]

DEFAULT_DEPARTMENT = "general"
"""Where loose tools that name no department go."""


def default_departments(warehouse: Warehouse, *, verify_sql: bool = True) -> list[Department]:
    """The default pack over ``warehouse``, then the installed plug-ins' departments."""
    return [
        *enterprise_departments(analysis_tools=(sql_tool(warehouse, verify=verify_sql),)),
        *plugin_departments(),
    ]


def build_registry(
    warehouse: Warehouse,
    departments: Iterable[Department | str] | None = None,
    tools: Iterable[ToolLike] = (),
    *,
    verify_sql: bool = True,
) -> ToolRegistry:
    """A session's registry, bound to ``warehouse``.

    ``departments``: None for every default department; otherwise names select default
    departments (shared ones are always kept) and :class:`Department` objects add the user's own.
    ``tools`` join the department they name, else :data:`DEFAULT_DEPARTMENT`. Tools whose tables
    ``warehouse`` lacks are left out."""
    pack = default_departments(warehouse, verify_sql=verify_sql)
    chosen = list(departments) if departments is not None else None
    if chosen is None:
        selected = pack
    else:
        wrong = [repr(d) for d in chosen if not isinstance(d, Department | str)]
        if wrong:
            raise ConfigError(f"departments are Department objects or names, not {', '.join(wrong)}")
        names = {d for d in chosen if isinstance(d, str)}
        unknown = sorted(names - {d.name for d in pack})
        if unknown:
            raise ConfigError(
                f"unknown department(s): {', '.join(unknown)}; "
                f"known departments: {', '.join(d.name for d in pack)}"
            )
        selected = [d for d in pack if d.name in names or d.shared]
        selected += [d for d in chosen if isinstance(d, Department)]
    registry = ToolRegistry(departments=selected)
    for item in tools:
        loose = as_tool(item)
        if not loose.department:
            loose = loose.model_copy(update={"department": DEFAULT_DEPARTMENT})
        registry.register(loose)
    return registry.bound_to(warehouse)
