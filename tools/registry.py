"""A registry of tools, grouped by department."""

from __future__ import annotations

from collections.abc import Iterable

from atomwork.tools.base import DEPARTMENTS, Tool

from atomwork.errors import ConfigError


class ToolRegistry:
    """Holds the tools a run may use. Tool names are unique across departments."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.register(tool)

    def register(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ConfigError(f"tool {tool.name!r} is registered twice")
        if tool.department not in DEPARTMENTS:
            raise ConfigError(f"tool {tool.name!r} has unknown department {tool.department!r}")
        self._tools[tool.name] = tool

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
        present = {t.department for t in self._tools.values()}
        return [d for d in DEPARTMENTS if d in present]

    def for_department(self, department: str) -> list[Tool]:
        return [t for t in self.tools() if t.department == department]

    def restricted_to(self, departments: Iterable[str]) -> ToolRegistry:
        """A registry with only the given departments' tools (shared specialists always kept)."""
        wanted = set(departments)
        unknown = sorted(wanted - set(DEPARTMENTS))
        if unknown:
            raise ConfigError(
                f"unknown department(s): {', '.join(unknown)}; known departments: {', '.join(DEPARTMENTS)}"
            )
        wanted |= {"analysis", "reporting"}
        return ToolRegistry(t for t in self.tools() if t.department in wanted)

    def catalog(self) -> str:
        """A compact text catalog of tools for prompts: one line per tool with its arguments."""
        lines = []
        for tool in self.tools():
            props = tool.json_schema().get("properties", {})
            required = set(tool.json_schema().get("required", []))
            args = ", ".join(f"{name}{'' if name in required else '?'}" for name in props)
            lines.append(f"- {tool.name} [{tool.department}]({args}): {tool.description}")
        return "\n".join(lines)
