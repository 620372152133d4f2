"""The tools a run may use, grouped by department; tool names are unique across departments."""

from __future__ import annotations

from collections.abc import Iterable

from atomwork.errors import ConfigError
from atomwork.policy import Access, DepartmentScope, table_key
from atomwork.tools.base import Tool
from atomwork.tools.department import Department
from atomwork.tools.warehouse import Warehouse

__all__ = ["ToolRegistry"]


class ToolRegistry:
    """Holds departments and their tools.

    ``ToolRegistry(departments=[...])`` is the usual form; loose ``tools`` join the department they
    name (a plain department is made for a name no given department has)."""

    def __init__(self, tools: Iterable[Tool] = (), *, departments: Iterable[Department] = ()) -> None:
        self._departments: dict[str, Department] = {}
        self._tools: dict[str, Tool] = {}
        for department in departments:
            self.add(department)
        for tool in tools:
            self.register(tool)

    def add(self, department: Department) -> None:
        """Add a department and its tools (a department already present gains the tools)."""
        known = self._departments.get(department.name)
        if known is not None and (
            known.shared != department.shared or known.writes_report != department.writes_report
        ):
            raise ConfigError(f"department {department.name!r} is defined twice with different flags")
        for tool in department.tools:
            self._check_new(tool)
        self._departments[department.name] = (
            department if known is None else known.with_tools(department.tools)
        )
        for tool in department.tools:
            self._tools[tool.name] = tool

    def register(self, tool: Tool) -> None:
        """Add one tool to the department it names (made if new)."""
        if not tool.department:
            raise ConfigError(f"tool {tool.name!r} names no department; put it in a Department")
        self._check_new(tool)
        known = self._departments.get(tool.department)
        self._departments[tool.department] = (
            known.with_tools([tool]) if known is not None else Department(tool.department, tools=[tool])
        )
        self._tools[tool.name] = tool

    def _check_new(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ConfigError(
                f"tool {tool.name!r} is registered twice (departments {self._tools[tool.name].department!r} "
                f"and {tool.department!r})"
            )

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise ConfigError(f"unknown tool {name!r}; known tools: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._tools)

    def tools(self) -> list[Tool]:
        return [self._tools[n] for n in self.names()]

    def departments(self) -> list[str]:
        """Names of the departments that have tools, in the order they were added."""
        return [name for name, d in self._departments.items() if d.tools]

    def department(self, name: str) -> Department:
        try:
            return self._departments[name]
        except KeyError:
            raise ConfigError(
                f"unknown department {name!r}; known departments: {', '.join(self.departments())}"
            ) from None

    def for_department(self, department: str) -> list[Tool]:
        return [t for t in self.tools() if t.department == department]

    def writes_report(self, tool_name: str) -> bool:
        """Whether the tool's department writes the run's report."""
        return self.department(self.get(tool_name).department).writes_report

    def report_departments(self) -> list[str]:
        return [d for d in self.departments() if self._departments[d].writes_report]

    def restricted_to(self, departments: Iterable[str] | str) -> ToolRegistry:
        """A registry with only the given departments (shared departments always kept); one name
        may be given as a string."""
        if not isinstance(departments, str) and not isinstance(departments, Iterable):
            raise ConfigError(f"departments must be a list of names, got {type(departments).__name__}")
        names = [departments] if isinstance(departments, str) else list(departments)
        wrong = [repr(n) for n in names if not isinstance(n, str)]
        if wrong:
            raise ConfigError(f"department names are text, not {', '.join(wrong)}")
        wanted = set(names)
        unknown = sorted(wanted - set(self.departments()))
        if unknown:
            raise ConfigError(
                f"unknown department(s): {', '.join(unknown)}; "
                f"known departments: {', '.join(self.departments())}"
            )
        return ToolRegistry(
            departments=[d for d in self._departments.values() if d.name in wanted or d.shared]
        )

    def scopes(self) -> list[DepartmentScope]:
        """Each department as the access policy sees it: shared or not, and the tables its tools read."""
        return [
            DepartmentScope(
                name=d.name,
                shared=d.shared,
                tables=frozenset(table_key(t) for tool in d.tools for t in tool.tables),
            )
            for d in self._departments.values()
            if d.tools
        ]

    def permitted(self, access: Access | None) -> ToolRegistry:
        """The tools ``access``'s user may call (see :meth:`Tool.refusal`); all of them for None."""
        if access is None:
            return self
        return ToolRegistry(
            departments=[
                d.model_copy(update={"tools": tuple(t for t in d.tools if t.refusal(access) is None)})
                for d in self._departments.values()
            ]
        )

    def bound_to(self, warehouse: Warehouse) -> ToolRegistry:
        """The tools ``warehouse`` supports (see :meth:`Tool.available_in`), bound to it."""
        return ToolRegistry(
            departments=[
                d.model_copy(
                    update={"tools": tuple(t.bind(warehouse) for t in d.tools if t.available_in(warehouse))}
                )
                for d in self._departments.values()
            ]
        )

    def catalog(self) -> str:
        """A compact text catalog of tools for prompts: one line per tool with its arguments."""
        lines = []
        for tool in self.tools():
            props = tool.json_schema().get("properties", {})
            required = set(tool.json_schema().get("required", []))
            args = ", ".join(f"{name}{'' if name in required else '?'}" for name in props)
            lines.append(f"- {tool.name} [{tool.department}]({args}): {tool.description}")
        return "\n".join(lines)
