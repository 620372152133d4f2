"""The Python SDK: ``atomwork.run(goal)`` and the reusable :class:`Atomwork` session."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from atomwork.agents.choices import warehouse_choices
from atomwork.conversation import Conversation
from atomwork.conversation_context import ConversationContext
from atomwork.engine import Engine
from atomwork.errors import GoalError
from atomwork.events import EventHandler
from atomwork.home import atomwork_home
from atomwork.memory import PlanMemory
from atomwork.models import ChatModel, load_model
from atomwork.pack import build_registry
from atomwork.plan import Plan
from atomwork.result import RunResult
from atomwork.settings import RunSettings
from atomwork.streaming import RunStream
from atomwork.tools.approval import Approver
from atomwork.tools.department import Department, ToolLike
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

    ``settings`` are the session's run settings; ``run(goal, settings=...)`` overrides them for
    one run. ``departments``: None for the whole default pack; names select default departments
    (the shared analysis and reporting ones are always kept) and :class:`Department` objects add
    your own; ``tools`` are loose tools (see :func:`atomwork.pack.build_registry`). ``verify_sql``
    configures the SQL tool; ``save_runs`` and ``memory`` keep run records and plans that worked
    under ``$ATOMWORK_HOME``.

    >>> with Atomwork(settings=RunSettings(max_replans=1)) as aw:   # embedded model, demo warehouse
    ...     result = aw.run("revenue by region for 1997")
    """

    def __init__(
        self,
        *,
        model: str | ChatModel | None = None,
        warehouse: str | Path | Warehouse | None = None,
        departments: Iterable[Department | str] | None = None,
        tools: Iterable[ToolLike] = (),
        settings: RunSettings | None = None,
        verify_sql: bool = True,
        save_runs: bool = True,
        memory: bool | str | Path = True,
        approve: Approver | None = None,
    ) -> None:
        self.approve = approve
        """Asked before each call of a tool that requires approval; None refuses such calls."""
        self.warehouse = warehouse if isinstance(warehouse, Warehouse) else Warehouse.open(warehouse)
        chosen = list(departments) if departments is not None else None
        self.registry = build_registry(self.warehouse, chosen, tools, verify_sql=verify_sql)
        # The user's departments may hold connections (MCP servers); they end with the session.
        self._owned_departments = [d for d in chosen or [] if isinstance(d, Department)]
        # Values the planner may choose from (regions, periods, tables), read once per session.
        self.choices = warehouse_choices(self.warehouse)
        self.model = load_model(model)
        self.settings = settings if settings is not None else RunSettings()
        self.save_runs = save_runs
        self.memory: PlanMemory | None = None
        if memory is not False:
            self.memory = PlanMemory(atomwork_home() / "memory" if memory is True else Path(memory))

    def data_range(self) -> str:
        span = self.warehouse.date_range()
        return f"{span[0]} to {span[1]}" if span else "the dates present in the warehouse"

    def run(
        self,
        goal: str,
        *,
        settings: RunSettings | None = None,
        on_event: EventHandler | None = None,
        context: ConversationContext | None = None,
        cancel: threading.Event | None = None,
        departments: Iterable[str] | None = None,
        user: str | None = None,
    ) -> RunResult:
        """Plan, execute, evaluate and (boundedly) replan ``goal``; return the typed result.

        ``settings`` replaces the session's settings for this run; ``on_event`` gets each typed
        event (:mod:`atomwork.events`) as it happens. ``context``: the conversation a follow-up
        belongs to (see :meth:`chat`). ``cancel``: once set, no new task starts and the run ends
        ``cancelled`` with what finished. ``departments`` narrows the session's for this run.
        ``user``: who asked (tools see it in their run context, approvals name it)."""
        text = check_goal(goal)
        registry = self.registry.restricted_to(departments) if departments is not None else self.registry
        engine = Engine(
            self.model,
            registry,
            settings=settings if settings is not None else self.settings,
            data_range=self.data_range(),
            planner_examples=self.memory.examples(text) if self.memory is not None else "",
            choices=self.choices,
            on_event=on_event,
            approve=self.approve,
            user=user,
        )
        result = engine.run(text, run_id=uuid.uuid4().hex[:12], context=context, cancel=cancel)
        if self.save_runs:
            save_run(result)
        # A follow-up ("now only for ASIA") is no example for planning a goal on its own.
        if self.memory is not None and result.ok and not (context and context.is_follow_up):
            kept = [o.task for o in result.outcomes.values() if o.ok]
            self.memory.remember(result.run_id, Plan(goal=text, tasks=kept))
        return result

    # -- async, streaming and conversations (see atomwork.streaming, atomwork.conversation) --------
    def stream(self, goal: str, *, settings: RunSettings | None = None) -> RunStream:
        """``async for event in aw.stream(goal)``: the run's typed events as they happen; then
        ``await stream.result()``. Leaving the loop early stops the run from starting new tasks."""
        text = check_goal(goal)  # a bad goal fails here, not inside the worker thread
        return RunStream(
            lambda on_event, cancel: self.run(text, settings=settings, on_event=on_event, cancel=cancel)
        )

    async def arun(self, goal: str, *, settings: RunSettings | None = None) -> RunResult:
        """``await aw.arun(goal)``: :meth:`run` without blocking the event loop. Cancelling the
        awaiting task stops the run and returns what finished (``stop_reason == "cancelled"``)."""
        return await self.stream(goal, settings=settings).result()

    def chat(
        self, *, departments: Iterable[str] | None = None, settings: RunSettings | None = None
    ) -> Conversation:
        """A :class:`Conversation`: goals planned with the earlier goals, plans and tables."""
        return Conversation(self, departments=departments, settings=settings)

    def close(self) -> None:
        self.model.close()
        self.warehouse.close()
        for department in self._owned_departments:
            department.close()

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
    departments: Iterable[Department | str] | None = None,
    tools: Iterable[ToolLike] = (),
    settings: RunSettings | None = None,
    on_event: EventHandler | None = None,
    verify_sql: bool = True,
    save_runs: bool = True,
    memory: bool | str | Path = True,
) -> RunResult:
    """Run one goal end to end and return a :class:`RunResult`.

    ``model``: ``None``/``"embedded"`` (llama.cpp, the default embedded Qwen2.5-Coder),
    ``"embedded:0.5b"``, ``"embedded:1.5b"``, ``"gguf:PATH"``,
    ``"vllm:http://HOST:PORT/v1"`` or a :class:`ChatModel`. ``warehouse``: ``None`` for
    the seeded demo warehouse, or a path to your own DuckDB/SQLite file. ``settings``: see
    :class:`RunSettings`; the other options are :class:`Atomwork`'s.
    """
    text = check_goal(goal)  # fail fast, before loading a model
    owns_model = not isinstance(model, ChatModel)
    session = Atomwork(
        model=model,
        warehouse=warehouse,
        departments=departments,
        tools=tools,
        settings=settings,
        verify_sql=verify_sql,
        save_runs=save_runs,
        memory=memory,
    )
    try:
        return session.run(text, on_event=on_event)
    finally:
        if owns_model:
            session.model.close()
        if not isinstance(warehouse, Warehouse):
            session.warehouse.close()
