"""The Python SDK: ``atomwork.run(goal)`` and the reusable :class:`Atomwork` session."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from atomwork.agents.sql_analyst import sql_tool
from atomwork.engine import Engine
from atomwork.errors import GoalError
from atomwork.home import atomwork_home
from atomwork.memory import PlanMemory
from atomwork.models import ChatModel, load_model
from atomwork.plan import Plan, warehouse_choices
from atomwork.result import Event, RunResult
from atomwork.tools.departments import build_department_tools
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.reporting import reporting_tools
from atomwork.tools.warehouse import Warehouse

MAX_GOAL_CHARS = 4000


def check_goal(goal: Any) -> str:
    if not isinstance(goal, str):
        raise GoalError(f"the goal must be text, got {type(goal).__name__}")
    text = goal.strip()
    if not text:
        raise GoalError("the goal is empty: describe what you want, e.g. 'revenue by region last quarter'")
    if len(text) > MAX_GOAL_CHARS:
        raise GoalError(f"the goal is {len(text)} characters long; keep it under {MAX_GOAL_CHARS}")
    return text


class Atomwork:
    """A session: one model, one warehouse, one tool registry, many goals.

    >>> with Atomwork() as aw:                      # embedded model, default warehouse
    ...     result = aw.run("revenue by region for 1997")
    """

    def __init__(
        self,
        *,
        model: str | ChatModel | None = None,
        warehouse: str | Path | Warehouse | None = None,
        departments: Iterable[str] | None = None,
        max_replans: int = 2,
        max_workers: int = 4,
        threshold: float = 0.5,
        score_tasks_with_model: bool = False,
        score_final_with_model: bool = False,
        answer_with_model: bool = True,
        verify_sql: bool = True,
        save_runs: bool = True,
        memory: bool | str | Path = True,
    ) -> None:
        registry_departments = list(departments) if departments is not None else None
        self.warehouse = warehouse if isinstance(warehouse, Warehouse) else Warehouse.open(warehouse)
        registry = ToolRegistry(
            [
                *build_department_tools(self.warehouse),
                sql_tool(self.warehouse, verify=verify_sql),
                *reporting_tools(),
            ]
        )
        if registry_departments is not None:
            registry = registry.restricted_to(registry_departments)
        self.registry = registry
        # Values the planner may choose from (regions, periods, tables), read once per session.
        self.choices = warehouse_choices(self.warehouse)
        self.model = load_model(model)
        self.max_replans = max_replans
        self.max_workers = max_workers
        self.threshold = threshold
        self.score_tasks_with_model = score_tasks_with_model
        self.score_final_with_model = score_final_with_model
        self.answer_with_model = answer_with_model
        self.save_runs = save_runs
        self.memory: PlanMemory | None = None
        if memory is not False:
            self.memory = PlanMemory(atomwork_home() / "memory" if memory is True else Path(memory))

    def data_range(self) -> str:
        span = self.warehouse.date_range()
        return f"{span[0]} to {span[1]}" if span else "the dates present in the warehouse"

    def run(self, goal: str, *, on_event: Callable[[Event], None] | None = None) -> RunResult:
        """Plan, execute, evaluate and (boundedly) replan ``goal``; return the typed result."""
        text = check_goal(goal)
        engine = Engine(
            self.model,
            self.registry,
            data_range=self.data_range(),
            max_replans=self.max_replans,
            max_workers=self.max_workers,
            threshold=self.threshold,
            score_tasks_with_model=self.score_tasks_with_model,
            score_final_with_model=self.score_final_with_model,
            answer_with_model=self.answer_with_model,
            planner_examples=self.memory.examples(text) if self.memory is not None else "",
            choices=self.choices,
            on_event=on_event,
        )
        result = engine.run(text, run_id=uuid.uuid4().hex[:12])
        if self.save_runs:
            save_run(result)
        if self.memory is not None and result.ok:
            kept = [o.task for o in result.outcomes.values() if o.ok]
            self.memory.remember(result.run_id, Plan(goal=text, tasks=kept))
        return result

    def close(self) -> None:
        self.model.close()
        self.warehouse.close()

    def __enter__(self) -> Atomwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def runs_dir() -> Path:
    return atomwork_home() / "runs"


def save_run(result: RunResult) -> Path:
    """Write the run record as JSON under ``$ATOMWORK_HOME/runs`` (atomically)."""
    folder = runs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{result.run_id}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    tmp.replace(target)
    return target


def load_run(run_id: str) -> RunResult:
    path = runs_dir() / f"{run_id}.json"
    return RunResult.model_validate(json.loads(path.read_text(encoding="utf-8")))


def run(
    goal: str,
    *,
    model: str | ChatModel | None = None,
    warehouse: str | Path | Warehouse | None = None,
    departments: Iterable[str] | None = None,
    max_replans: int = 2,
    on_event: Callable[[Event], None] | None = None,
    **options: Any,
) -> RunResult:
    """Run one goal end to end and return a :class:`RunResult`.

    ``model``: ``None``/``"embedded"`` (llama.cpp, the default embedded Qwen2.5-Coder),
    ``"embedded:0.5b"``, ``"embedded:1.5b"``, ``"gguf:PATH"``,
    ``"vllm:http://HOST:PORT/v1"`` or a :class:`ChatModel`. ``warehouse``: ``None`` for
    the seeded demo warehouse, or a path to your own DuckDB/SQLite file.
    """
    text = check_goal(goal)  # fail fast, before loading a model
    owns_model = not isinstance(model, ChatModel)
    session = Atomwork(
        model=model, warehouse=warehouse, departments=departments, max_replans=max_replans, **options
    )
    try:
        return session.run(text, on_event=on_event)
    finally:
        if owns_model:
            session.model.close()
        if not isinstance(warehouse, Warehouse):
            session.warehouse.close()
