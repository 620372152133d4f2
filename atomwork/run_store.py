"""Where runs are kept while they go on, so a killed process loses no finished work.

One database holds both halves: LangGraph's checkpointer (the run graph's state after every step,
and its approval interrupts) and a LangGraph store with atomwork's own records, written the moment
they happen: a :class:`RunRecord` per run, each task's :class:`TaskOutcome` as soon as it is
evaluated, each :class:`Approval` and the latest :class:`RunResult`. SQLite under
``$ATOMWORK_HOME`` by default; Postgres when ``ATOMWORK_CHECKPOINT_URL`` (or ``url``) names one,
so any worker sharing the database can resume a run (see :meth:`RunStore.claim`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import socket
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from langgraph.store.sqlite import SqliteStore
from pydantic import BaseModel, Field, ValidationError

from atomwork.approval import Approval, ApprovalDecision, ApprovalRequest
from atomwork.conversation_context import ConversationContext, EarlierTurn
from atomwork.errors import AtomworkError, ConfigError
from atomwork.home import atomwork_home
from atomwork.models.base import Usage, UsageTotals
from atomwork.models.purpose import Purpose
from atomwork.outcome import Evaluation, StopReason, TaskOutcome, TaskStatus, now
from atomwork.plan import AtomicTask, Plan
from atomwork.redact import redact
from atomwork.result import RunResult
from atomwork.settings import RunSettings
from atomwork.table import Table
from atomwork.tool_result import ToolResult

__all__ = ["CHECKPOINT_URL_ENV", "RunBusy", "RunRecord", "RunStatus", "RunStore", "checkpoint_serde"]

CHECKPOINT_URL_ENV = "ATOMWORK_CHECKPOINT_URL"
"""``postgresql://USER:PASSWORD@HOST/DB`` keeps runs in Postgres; ``sqlite:///PATH`` in that file."""

_ROOT = "atomwork"


class RunBusy(AtomworkError):
    """Another process (or thread) is working on the run right now."""


class RunStatus(StrEnum):
    RUNNING = "running"
    """Being worked on, or its process died (``atomwork resume`` continues it)."""
    PAUSED = "paused"
    """Waiting for a person to approve or reject a tool call."""
    FINISHED = "finished"
    """Ended with a stop reason; its result is kept."""
    FAILED = "failed"
    """Ended by an error (planning failed, the model was unusable); the error is kept."""


class RunRecord(BaseModel):
    """One run as ``atomwork runs`` lists it; updated as the run goes on."""

    run_id: str
    goal: str
    status: RunStatus = RunStatus.RUNNING
    stop_reason: StopReason | None = None
    error: str | None = None
    """Why a failed run failed (one line)."""
    model: str = ""
    user: str | None = None
    departments: list[str] | None = None
    """The departments the run was narrowed to (None: the session's); a resume keeps them."""
    settings: RunSettings = Field(default_factory=RunSettings)
    follow_up: bool = False
    """The goal followed up an earlier one in a conversation (its plan is no example for memory)."""
    started_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    finished_at: datetime | None = None
    work_seconds: float = 0.0
    """Time spent working on the run across resumes (paused time excluded); the seconds budget."""
    usage: Usage = Field(default_factory=Usage)
    """Model calls and tokens of the run so far, across resumes."""
    tasks_finished: int = 0
    pending: list[str] = Field(default_factory=list)
    """Tasks waiting for an approval."""
    host: str = Field(default_factory=socket.gethostname)
    pid: int = Field(default_factory=os.getpid)
    """The process working on the run, so a run whose process died can be told from a live one."""

    @property
    def interrupted(self) -> bool:
        """A run marked running whose process on this host is gone (killed): resume it."""
        if self.status != RunStatus.RUNNING or self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def checkpoint_serde() -> JsonPlusSerializer:
    """The checkpointer's serializer, allowed to rebuild atomwork's own types only (a checkpoint
    database that someone else can write must not be able to name any class to construct)."""
    types: list[type] = [
        AtomicTask,
        Approval,
        ApprovalDecision,
        ApprovalRequest,
        ConversationContext,
        EarlierTurn,
        Evaluation,
        Plan,
        Purpose,
        StopReason,
        Table,
        TaskOutcome,
        TaskStatus,
        ToolResult,
        Usage,
        UsageTotals,
    ]
    return JsonPlusSerializer(allowed_msgpack_modules=[(t.__module__, t.__name__) for t in types])


class RunStore:
    """A run database: the checkpointer the run graph is compiled with, and atomwork's records.

    ``RunStore.open()`` picks the database (``url``, else ``$ATOMWORK_CHECKPOINT_URL``, else
    ``$ATOMWORK_HOME/runs.sqlite``); ``RunStore.in_memory()`` keeps runs for the process only.
    Thread-safe; close it when done."""

    def __init__(
        self,
        checkpointer: BaseCheckpointSaver[Any],
        store: BaseStore,
        *,
        where: str,
        lock_dir: Path | None = None,
        pool: Any = None,
        closers: tuple[Any, ...] = (),
    ) -> None:
        self.checkpointer = checkpointer
        self.store = store
        self.where = where
        """Where runs are kept, for messages (no password)."""
        self._lock_dir = lock_dir
        self._pool = pool
        self._closers = closers
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None = None) -> RunStore:
        url = url or os.environ.get(CHECKPOINT_URL_ENV) or None
        if url is None:
            return cls.sqlite(atomwork_home() / "runs.sqlite")
        if url.startswith(("postgresql://", "postgres://")):
            return cls.postgres(url)
        if url.startswith("sqlite:///"):
            return cls.sqlite(Path(url.removeprefix("sqlite:///")).expanduser())
        raise ConfigError(
            f"{CHECKPOINT_URL_ENV} must be postgresql://... or sqlite:///PATH, not {redact(url)!r}"
        )

    @classmethod
    def in_memory(cls) -> RunStore:
        return cls(InMemorySaver(serde=checkpoint_serde()), InMemoryStore(), where="memory")

    @classmethod
    def sqlite(cls, path: Path) -> RunStore:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            saver_conn = _sqlite_connect(path)
            store_conn = _sqlite_connect(path)
            saver = SqliteSaver(saver_conn, serde=checkpoint_serde())
            saver.setup()
            store = SqliteStore(store_conn)
            store.setup()
        except (OSError, sqlite3.Error) as exc:
            raise ConfigError(f"cannot keep runs in {path}: {exc}") from None
        return cls(
            saver,
            store,
            where=str(path),
            lock_dir=path.with_name(path.name + ".locks"),
            closers=(saver_conn, store_conn),
        )

    @classmethod
    def postgres(cls, url: str) -> RunStore:
        # Imported here: Postgres is optional at run time (psycopg needs libpq).
        from langgraph.checkpoint.postgres import PostgresSaver
        from langgraph.store.postgres import PostgresStore
        from psycopg import OperationalError
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool, PoolTimeout

        pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=16,
            kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
            open=False,
        )
        try:
            pool.open(wait=True, timeout=15)
            saver = PostgresSaver(pool, serde=checkpoint_serde())
            saver.setup()
            store = PostgresStore(pool)
            store.setup()
        except (PoolTimeout, OperationalError) as exc:
            pool.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"cannot reach the run database {redact(url)}: {redact(first)}") from None
        return cls(saver, store, where=redact(url), pool=pool, closers=(pool,))

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for closer in self._closers:
            with contextlib.suppress(Exception):  # closing twice, or a connection already gone
                closer.close()
        self._closers = ()

    # -- claiming a run -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def claim(self, run_id: str, *, wait: bool = True) -> Iterator[None]:
        """Work on ``run_id`` alone: in this process (``wait``: until the current holder is done,
        else :class:`RunBusy` at once) and across processes and hosts sharing the database
        (:class:`RunBusy` at once: another worker is on it). A killed holder's claim ends with it."""
        with self._locks_guard:
            local = self._locks.setdefault(run_id, threading.Lock())
        if not local.acquire(blocking=wait):
            raise RunBusy(f"run {run_id} is being worked on in this process")
        try:
            with self._process_claim(run_id):
                yield
        finally:
            local.release()

    @contextlib.contextmanager
    def _process_claim(self, run_id: str) -> Iterator[None]:
        busy = RunBusy(f"run {run_id} is being worked on by another process ({self.where})")
        if self._pool is not None:
            key = zlib.crc32(f"atomwork-run:{run_id}".encode()) - 2**31  # a signed 32-bit key
            with self._pool.connection() as conn:
                row = conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (key,)).fetchone()
                if not row or not row["got"]:
                    raise busy
                try:
                    yield
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return
        if self._lock_dir is None:
            yield
            return
        self._lock_dir.mkdir(parents=True, exist_ok=True)
        with open(self._lock_dir / f"{_safe_id(run_id)}.lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- run records ----------------------------------------------------------------------------
    def save_record(self, record: RunRecord) -> None:
        record.updated_at = now()
        self.store.put((_ROOT, "runs"), record.run_id, record.model_dump(mode="json"), index=False)

    def record(self, run_id: str) -> RunRecord | None:
        item = self.store.get((_ROOT, "runs"), _safe_id(run_id))
        return RunRecord.model_validate(item.value) if item is not None else None

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The latest ``limit`` runs, newest first (a record that no longer reads is left out)."""
        found: list[RunRecord] = []
        for value in self._all((_ROOT, "runs")):
            with contextlib.suppress(ValidationError):
                found.append(RunRecord.model_validate(value))
        found.sort(key=lambda r: r.started_at, reverse=True)
        return found[:limit]

    # -- task outcomes, approvals and results --------------------------------------------------------
    def save_outcome(self, run_id: str, outcome: TaskOutcome) -> None:
        """Keep a task's final outcome; a run resumed later never runs that task again."""
        self.store.put(
            (_ROOT, "outcomes", run_id), outcome.task.id, outcome.model_dump(mode="json"), index=False
        )

    def outcomes(self, run_id: str) -> dict[str, TaskOutcome]:
        return {
            o.task.id: o
            for o in (TaskOutcome.model_validate(v) for v in self._all((_ROOT, "outcomes", run_id)))
        }

    def save_approval(self, run_id: str, approval: Approval) -> None:
        self.store.put(
            (_ROOT, "approvals", run_id), approval.task_id, approval.model_dump(mode="json"), index=False
        )

    def approval(self, run_id: str, task_id: str) -> Approval | None:
        item = self.store.get((_ROOT, "approvals", run_id), task_id)
        return Approval.model_validate(item.value) if item is not None else None

    def approvals(self, run_id: str) -> dict[str, Approval]:
        found = [Approval.model_validate(v) for v in self._all((_ROOT, "approvals", run_id))]
        return {a.task_id: a for a in sorted(found, key=lambda a: a.requested_at)}

    def save_result(self, result: RunResult) -> None:
        self.store.put((_ROOT, "results"), result.run_id, result.model_dump(mode="json"), index=False)

    def result(self, run_id: str) -> RunResult | None:
        """The run's latest result (the paused one while it waits for an approval)."""
        item = self.store.get((_ROOT, "results"), _safe_id(run_id))
        return RunResult.model_validate(item.value) if item is not None else None

    def _all(self, namespace: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        offset, page = 0, 100
        while True:
            items = self.store.search(namespace, limit=page, offset=offset)
            for item in items:
                if item.namespace == namespace:  # a prefix search: leave deeper namespaces out
                    yield item.value
            if len(items) < page:
                return
            offset += page


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    # Autocommit, shared across threads (each saver serialises its use with its own lock); WAL so
    # a reader (``atomwork runs``) never waits for a run writing its checkpoints.
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


_RUN_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _safe_id(run_id: str) -> str:
    """A run id as given by a person: letters, digits, ``_.-`` (never a path)."""
    if not _RUN_ID.fullmatch(run_id) or run_id.strip(".") == "":
        raise ConfigError(f"{run_id!r} is not a run id (atomwork runs lists them)")
    return run_id
