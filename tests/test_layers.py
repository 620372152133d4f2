"""Layers import downward only, with absolute imports.

core -> prompts/memory -> tools -> agents -> engine -> sdk -> front ends (cli, adapters, evals, testing,
examples). Every module of the package must have a layer here: a new module fails this test until
it is placed, so nobody adds an upward import by accident.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CORE, TEXT, TOOLS, AGENTS, ENGINE, SDK, FRONT = range(7)
LAYER_NAMES = ["core", "prompts/memory", "tools", "agents", "engine", "sdk", "front ends"]

PACKAGES = {
    "atomwork.models": CORE,
    "atomwork.prompts": TEXT,
    "atomwork.memory": TEXT,
    "atomwork.tools": TOOLS,
    "atomwork.agents": AGENTS,
    "atomwork.adapters": FRONT,
    "atomwork.evals": FRONT,
    "atomwork.examples": FRONT,
}
"""Packages whose every module shares one layer."""

MODULES = {
    "atomwork.errors": CORE,
    "atomwork.redact": CORE,
    "atomwork.deadline": CORE,
    "atomwork.tracing": CORE,
    "atomwork.limits": CORE,
    "atomwork.home": CORE,
    "atomwork.settings": CORE,
    "atomwork.table": CORE,
    "atomwork.tool_result": CORE,
    "atomwork.plan": CORE,
    "atomwork.goal": CORE,
    "atomwork.terms": CORE,
    "atomwork.figures": CORE,
    "atomwork.outcome": CORE,
    "atomwork.feedback": CORE,
    "atomwork.events": CORE,
    "atomwork.result": CORE,
    "atomwork.progress": CORE,
    "atomwork.task_feed": CORE,  # tasks handed to the executor while the plan streams
    "atomwork.approval": CORE,  # approval requests, decisions and their records
    "atomwork.conversation_context": TEXT,
    "atomwork.policy": CORE,  # who may use which departments, tools, tables and columns
    "atomwork.audit": CORE,  # the append-only log of tool calls, written from a run's events
    "atomwork.governance": ENGINE,  # a session's policy, department scopes and audit log
    "atomwork.run_store": ENGINE,  # the run database: checkpointer and records (SQLite or Postgres)
    "atomwork.approval_desk": ENGINE,  # approval requests kept durably per run
    "atomwork.budget": ENGINE,  # what a run spent, and whether its budget is used up
    "atomwork.executor": ENGINE,
    "atomwork.engine": ENGINE,
    "atomwork": SDK,  # the package facade: lazily re-exports the SDK
    "atomwork.pack": SDK,  # assembles a session's departments (uses the SQL analyst agent)
    "atomwork.sdk": SDK,
    "atomwork.ray_workers": SDK,  # goals as Ray tasks, resumable on any worker
    "atomwork.streaming": SDK,
    "atomwork.conversation": SDK,
    "atomwork.cli": FRONT,
    "atomwork.repl": FRONT,
    "atomwork.terminal": FRONT,  # data made safe to print with rich (markup and control characters)
    "atomwork.testing": FRONT,
}
"""Single modules directly under ``atomwork``."""


def layer_of(module: str) -> int | None:
    if module in MODULES:
        return MODULES[module]
    for package, layer in PACKAGES.items():
        if module == package or module.startswith(package + "."):
            return layer
    return None


def package_modules() -> dict[str, Path]:
    """Every module of the installed package, by dotted name, from pyproject's package-dir."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_dir: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    modules: dict[str, Path] = {}
    for package, folder in package_dir.items():
        if package != "atomwork" and package.count(".") != 1:
            continue
        base = ROOT / folder
        for path in base.rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            # atomwork/ holds only the core modules; its subpackages mapped elsewhere win
            modules.setdefault(name, path)
    return modules


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.problem}"


def imported_modules(tree: ast.AST, known: set[str]) -> list[tuple[int, str | None]]:
    """``(line, module)`` for each atomwork import; ``module`` None for a relative import."""
    found: list[tuple[int, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "atomwork"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, None))
            elif node.module and node.module.split(".")[0] == "atomwork":
                for alias in node.names:  # `from atomwork import sdk` imports the module atomwork.sdk
                    sub = f"{node.module}.{alias.name}"
                    found.append((node.lineno, sub if sub in known else node.module))
    return found


def check_module(name: str, source: str, known: set[str]) -> list[Violation]:
    own = layer_of(name)
    if own is None:
        return [Violation(name, 1, "has no layer: add it to tests/test_layers.py")]
    problems = []
    for line, target in imported_modules(ast.parse(source), known):
        if target is None:
            problems.append(Violation(name, line, "relative import: write `from atomwork.x import y`"))
            continue
        layer = layer_of(target)
        if layer is not None and layer > own:
            problems.append(
                Violation(
                    name,
                    line,
                    f"imports {target} ({LAYER_NAMES[layer]}) from a lower layer ({LAYER_NAMES[own]})",
                )
            )
    return problems


def test_every_module_has_a_layer_and_imports_only_downward():
    modules = package_modules()
    assert "atomwork.plan" in modules and "atomwork.agents.planner" in modules  # the walk found them
    known = set(modules)
    problems = [
        str(v)
        for name, path in sorted(modules.items())
        for v in check_module(name, path.read_text(encoding="utf-8"), known)
    ]
    assert not problems, "layering violations:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("atomwork.plan", "from atomwork.tools.registry import ToolRegistry", "imports atomwork.tools"),
        ("atomwork.result", "def f():\n    from atomwork.engine import Engine", "imports atomwork.engine"),
        ("atomwork.agents.planner", "from .specialist import describe", "relative import"),
        ("atomwork.tools.base", "import atomwork.sdk", "imports atomwork.sdk"),
        ("atomwork.events", "from atomwork import sdk", "imports atomwork.sdk"),
        ("atomwork.brand_new", "import json", "has no layer"),
    ],
)
def test_the_checker_catches_upward_relative_and_unplaced_imports(module, source, expected):
    problems = check_module(module, source, {"atomwork.sdk", "atomwork.engine"})
    assert len(problems) == 1 and expected in problems[0].problem


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("atomwork.engine", "from atomwork.agents.planner import Planner\nfrom atomwork.plan import Plan"),
        ("atomwork.cli", "from atomwork.sdk import Atomwork"),
        ("atomwork.agents.planner", "from atomwork.agents.choices import Choices"),
    ],
)
def test_the_checker_accepts_downward_and_same_layer_imports(module, source):
    assert check_module(module, source, set()) == []
