"""The Python SDK: ``atomwork.run(goal)`` and the reusable :class:`Atomwork` session, with durable
runs (``aw.resume``, ``aw.runs``), approvals (``aw.approve``/``aw.reject``) and budgets."""

from __future__ import annotations

import json
import logging
import re
import threading
import unicodedata
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from atomwork.agents.choices import warehouse_choices
from atomwork.approval import Approval, ApprovalDecision, Approver
from atomwork.conversation import Conversation
from atomwork.conversation_context import ConversationContext
from atomwork.engine import Engine
from atomwork.errors import ConfigError, GoalError
from atomwork.events import EventHandler
from atomwork.governance import Governance
from atomwork.home import atomwork_home, private_dir, write_private
from atomwork.memory import PlanMemory
from atomwork.models import ChatModel, load_model
from atomwork.pack import build_registry, default_departments
from atomwork.plan import Plan
from atomwork.policy import Access, Policy
from atomwork.result import RunResult
from atomwork.run_store import RunRecord, RunStatus, RunStore
from atomwork.settings import RunSettings
from atomwork.streaming import RunStream
from atomwork.tools.department import Department, ToolLike
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.warehouse import Warehouse

MAX_GOAL_CHARS = 4000
MAX_RUN_FILES = 1000
"""Run records kept under ``$ATOMWORK_HOME/runs``; the oldest are deleted first."""

log = logging.getLogger("atomwork")


def check_goal(goal: Any) -> str:
    if not isinstance(goal, str):
        raise GoalError(f"the goal must be text, got {type(goal).__name__}")
    text = goal.strip()
    # Control, format (zero-width, bidi) and separator characters alone say nothing.
    if not any(unicodedata.category(c)[0] not in "CZ" for c in text):
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
    under ``$ATOMWORK_HOME`` (plans per user: one user's goals are never another's examples).

    ``policy``: the access policy (a :class:`Policy` or its file; default ``$ATOMWORK_POLICY``),
    enforced at plan validation and where tools run; ``user``: who runs goals (``run(user=...)``
    overrides it). ``audit`` logs every tool call to ``$ATOMWORK_HOME/audit.jsonl`` (or the path
    given; False: no log).

    Runs are durable: ``runs`` is where they are kept (a :class:`RunStore`, a database URL, or None
    for ``$ATOMWORK_CHECKPOINT_URL``, else ``$ATOMWORK_HOME/runs.sqlite``; with ``save_runs=False``
    they are kept in memory for this session only). ``resume(run_id)`` continues a run that was
    killed or paused; ``approve``/``reject`` decide a tool call waiting for approval and continue
    the run. ``auto_approve`` may decide such calls at once (True/False; None leaves them to a person).

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
        auto_approve: Approver | None = None,
        runs: RunStore | str | None = None,
        policy: Policy | str | Path | None = None,
        user: str | None = None,
        audit: bool | str | Path = True,
    ) -> None:
        _check_types(model=model, warehouse=warehouse, settings=settings, memory=memory, user=user)
        self.user = user
        """Who runs goals when ``run`` names nobody (the policy's ``default`` roles for None)."""
        self.auto_approve = auto_approve
        """Asked first about each call of a tool that requires approval (None: a person decides)."""
        self.warehouse = warehouse if isinstance(warehouse, Warehouse) else Warehouse.open(warehouse)
        chosen = _department_list(departments)
        self.registry = build_registry(self.warehouse, chosen, tools, verify_sql=verify_sql)
        # The user's departments may hold connections (MCP servers); they end with the session.
        self._owned_departments = [d for d in chosen or [] if isinstance(d, Department)]
        everything = self.registry
        if chosen is not None:  # what the left-out departments read is what the policy keeps from SQL
            pack = [d.name for d in default_departments(self.warehouse, verify_sql=verify_sql)]
            everything = build_registry(
                self.warehouse, [*pack, *self._owned_departments], tools, verify_sql=verify_sql
            )
        self.governance = Governance.open(policy=policy, audit=audit, everything=everything)
        # Values the planner may choose from (regions, periods, tables), read once per session.
        self.choices = warehouse_choices(self.warehouse)
        self.model = load_model(model)
        self.settings = settings if settings is not None else RunSettings()
        self.save_runs = save_runs
        self._owns_runs = not isinstance(runs, RunStore)
        if isinstance(runs, RunStore):
            self.runs_store = runs
        else:
            self.runs_store = RunStore.open(runs) if save_runs or runs is not None else RunStore.in_memory()
        self._decide_lock = threading.Lock()
        self.memory: PlanMemory | None = None
        if memory is not False:
            try:
                self.memory = PlanMemory(atomwork_home() / "memory" if memory is True else Path(memory))
            except ConfigError as exc:  # a damaged or unwritable store costs the examples, not the run
                log.warning("%s; running without plan memory", exc)

    def access(
        self, user: str | None = None, departments: Iterable[str] | str | None = None
    ) -> Access | None:
        """What ``user`` (default: the session's) may use and read in a run over ``departments``
        (default: the session's); None when nothing limits them."""
        chosen = _names(departments)
        registry = self.registry.restricted_to(chosen) if chosen is not None else self.registry
        return self.governance.access(user if user is not None else self.user, registry)

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
        departments: Iterable[str] | str | None = None,
        user: str | None = None,
        run_id: str | None = None,
    ) -> RunResult:
        """Plan, execute, evaluate and (boundedly) replan ``goal``; return the typed result.

        ``settings`` replaces the session's settings for this run; ``on_event`` gets each typed
        event (:mod:`atomwork.events`) as it happens. ``context``: the conversation a follow-up
        belongs to (see :meth:`chat`). ``cancel``: once set, no new task starts and the run ends
        ``cancelled`` with what finished. ``departments`` narrows the session's for this run.
        ``user``: who asked (tools see it in their run context, approvals name it, the policy
        decides what they may do); default: the session's. ``run_id``: the id to keep the run
        under (default: a fresh one), so whoever submitted it can :meth:`resume` it by that id."""
        text = check_goal(goal)
        if settings is not None and not isinstance(settings, RunSettings):
            raise ConfigError(f"settings must be a RunSettings, got {type(settings).__name__}")
        if user is not None and not isinstance(user, str):
            raise ConfigError(f"user must be text, got {type(user).__name__}")
        chosen = _names(departments)
        user = user if user is not None else self.user
        engine = self._engine(text, settings or self.settings, on_event, chosen, user)
        result = engine.run(
            text,
            run_id=_new_run_id(run_id),
            context=context,
            cancel=cancel,
            departments=chosen,
        )
        return self._finished(result, follow_up=bool(context and context.is_follow_up), user=user)

    def _engine(
        self,
        goal: str,
        settings: RunSettings,
        on_event: EventHandler | None,
        departments: list[str] | None,
        user: str | None,
    ) -> Engine:
        registry = self.registry.restricted_to(departments) if departments is not None else self.registry
        access = self.governance.access(user, registry)
        return Engine(
            self.model,
            registry,
            settings=settings,
            data_range=self.data_range(),
            planner_examples=self._examples(goal, user, registry, access),
            choices=self.choices,
            on_event=on_event,
            approve=self.auto_approve,
            user=user,
            runs=self.runs_store,
            access=access,
            audit=self.governance.audit,
        )

    def _examples(self, goal: str, user: str | None, registry: ToolRegistry, access: Access | None) -> str:
        """The user's own past plans that fit ``goal`` and use only tools they may call."""
        if self.memory is None:
            return ""
        try:
            return self.memory.examples(goal, scope=user or "", tools=set(registry.permitted(access).names()))
        except ConfigError as exc:
            log.warning("%s; planning without past plans", exc)
            return ""

    def _finished(self, result: RunResult, *, follow_up: bool, user: str | None) -> RunResult:
        if self.save_runs:
            try:
                save_run(result)
            except OSError as exc:  # the answer is still the user's; losing it too would help nobody
                log.warning("the run record could not be saved under %s: %s", runs_dir(), exc.strerror or exc)
        # A follow-up ("now only for ASIA") is no example for planning a goal on its own.
        if self.memory is not None and result.ok and not follow_up:
            kept = [o.task for o in result.outcomes.values() if o.ok]
            try:
                self.memory.remember(result.run_id, Plan(goal=result.goal, tasks=kept), scope=user or "")
            except ConfigError as exc:
                log.warning("%s; the plan was not remembered", exc)
        return result

    # -- durable runs and approvals ------------------------------------------------------------
    def resume(
        self,
        run_id: str,
        *,
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
        settings: RunSettings | None = None,
    ) -> RunResult:
        """Continue the run ``run_id`` (killed, failed, or paused for an approval) from its last
        checkpoint, with the settings, departments and user it started with (``settings``
        replaces its settings, e.g. a larger budget). Finished tasks are never run again; a run
        that has ended returns its result. The session must offer the run's tools."""
        record = self._record(run_id)
        engine = self._engine(
            record.goal, settings or record.settings, on_event, record.departments, record.user
        )
        result = engine.resume(run_id, cancel=cancel)
        if record.status == RunStatus.FINISHED:
            return result  # it had ended: nothing new to save or remember
        return self._finished(result, follow_up=record.follow_up, user=record.user)

    def approve(
        self,
        run_id: str,
        task_id: str,
        *,
        by: str,
        note: str = "",
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Approve the call ``task_id`` of run ``run_id`` waits for (see ``result.pending``), as
        ``by``, and continue the run; returns its result (paused again if other calls still wait).
        The decision, who and when are kept with the run."""
        return self._decide(run_id, task_id, True, by, note, on_event, cancel)

    def reject(
        self,
        run_id: str,
        task_id: str,
        *,
        by: str,
        note: str = "",
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Reject the call ``task_id`` of run ``run_id`` waits for, as ``by``, and continue the run:
        the task ends ``rejected``, its dependents are skipped, nothing is planned around it, and
        the run ends ``rejected`` unless other work failed."""
        return self._decide(run_id, task_id, False, by, note, on_event, cancel)

    def _decide(
        self,
        run_id: str,
        task_id: str,
        approved: bool,
        by: str,
        note: str,
        on_event: EventHandler | None,
        cancel: threading.Event | None,
    ) -> RunResult:
        self._record(run_id)
        decision = ApprovalDecision(approved=approved, by=by, note=note)
        with self._decide_lock:
            waiting = self.runs_store.approval(run_id, task_id)
            if waiting is None:
                pending = [a.task_id for a in self.runs_store.approvals(run_id).values() if a.pending]
                raise GoalError(
                    f"run {run_id} has no call {task_id!r} waiting for approval"
                    + (f" (waiting: {', '.join(pending)})" if pending else " (nothing waits)")
                )
            if waiting.decision is not None:
                raise GoalError(f"{task_id} of run {run_id} was already {waiting.decision.describe()}")
            self.runs_store.save_approval(run_id, waiting.model_copy(update={"decision": decision}))
        # A run under way in this session takes the decision up itself; resume waits for it first.
        return self.resume(run_id, on_event=on_event, cancel=cancel)

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The latest runs, newest first: status, stop reason, times and tokens."""
        return self.runs_store.runs(limit)

    def result(self, run_id: str) -> RunResult:
        """The run's latest result (paused or final) from the run database."""
        self._record(run_id)
        found = self.runs_store.result(run_id)
        if found is None:
            raise GoalError(f"run {run_id} has no result yet (it is running, or it failed before one)")
        return found

    def approvals(self, run_id: str) -> list[Approval]:
        """Every call of the run that needed approval, with who decided what and when."""
        self._record(run_id)
        return list(self.runs_store.approvals(run_id).values())

    def _record(self, run_id: str) -> RunRecord:
        if not isinstance(run_id, str) or not run_id:
            raise GoalError(f"a run id is text, got {run_id!r}")
        found = self.runs_store.record(run_id)
        if found is None:
            where = self.runs_store.where
            raise GoalError(f"there is no run {run_id!r} in {where} (atomwork runs lists them)")
        return found

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
        if self._owns_runs:
            self.runs_store.close()
        for department in self._owned_departments:
            department.close()

    def __enter__(self) -> Atomwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def runs_dir() -> Path:
    return atomwork_home() / "runs"


_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def save_run(result: RunResult, *, keep: int = MAX_RUN_FILES) -> Path:
    """Write the run record as JSON under ``$ATOMWORK_HOME/runs`` (atomically, owner-only), then
    delete the oldest records beyond ``keep``. OSError when the folder cannot be written."""
    folder = private_dir(runs_dir())
    target = folder / f"{_checked_run_id(result.run_id)}.json"
    write_private(target, result.model_dump_json(indent=2))
    records = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    for old in records[: max(0, len(records) - keep)]:
        old.unlink(missing_ok=True)
    return target


def load_run(run_id: str) -> RunResult:
    """A saved run record; a bad id, a missing or a damaged record is one ConfigError line."""
    path = runs_dir() / f"{_checked_run_id(run_id)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no saved run {run_id!r} under {runs_dir()}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"the run record {path} cannot be read: {exc}") from None
    try:
        return RunResult.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"the run record {path} is damaged: {exc.errors()[0]['msg']}") from None


def _checked_run_id(run_id: Any) -> str:
    # A run id names a file: no separators or dots, so it cannot point outside the runs folder.
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise ConfigError(f"bad run id {run_id!r}: use letters, digits, '_' or '-'")
    return run_id


def _department_list(departments: Any) -> list[Department | str] | None:
    """``departments`` as a list: one name may be given as a string (not split into letters)."""
    if departments is None:
        return None
    if isinstance(departments, str | Department):
        return [departments]
    if not isinstance(departments, Iterable):
        kind = type(departments).__name__
        raise ConfigError(f"departments must be a list of names or Departments, got {kind}")
    return list(departments)


def _names(departments: Any) -> list[str] | None:
    """A run's department names (one may be given as a string)."""
    chosen = _department_list(departments)
    if chosen is not None and not all(isinstance(d, str) for d in chosen):
        raise ConfigError("a run's departments are names of the session's departments")
    return [d for d in chosen if isinstance(d, str)] if chosen is not None else None


def _check_types(**given: Any) -> None:
    """A one-line ConfigError for an argument of the wrong type (not a raw AttributeError later)."""
    expected: dict[str, tuple[type, ...]] = {
        "model": (str, ChatModel),
        "warehouse": (str, Path, Warehouse),
        "settings": (RunSettings,),
        "memory": (bool, str, Path),
        "user": (str,),
    }
    for name, value in given.items():
        if value is not None and not isinstance(value, expected[name]):
            kinds = " or ".join(t.__name__ for t in expected[name])
            raise ConfigError(f"{name} must be {kinds}, got {type(value).__name__}")


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
        session.runs_store.close()
        if owns_model:
            session.model.close()
        if not isinstance(warehouse, Warehouse):
            session.warehouse.close()


_RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _new_run_id(run_id: str | None) -> str:
    """``run_id`` checked (a worker that may resume the run later picks it), or a fresh one."""
    if run_id is None:
        return uuid.uuid4().hex[:12]
    if not isinstance(run_id, str) or not _RUN_ID.match(run_id):
        raise ConfigError(f"a run id is 1-64 letters, digits, '-' or '_', got {run_id!r}")
    return run_id
