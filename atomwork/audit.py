"""The audit log: one JSON line per tool call, refused ones included, appended to
``$ATOMWORK_HOME/audit.jsonl`` (owner-only, never rewritten).

A line says which run and user, which tool with which arguments, what came of it (status,
error, row count and a SHA-256 of the result) and when. :class:`AuditTrail` writes a run's
lines from its events (:class:`~atomwork.events.TaskFinished`, :class:`~atomwork.events.TaskRefused`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atomwork.errors import ConfigError, PermissionDenied
from atomwork.events import Event, RunResumed, RunStarted, TaskFinished, TaskRefused
from atomwork.home import atomwork_home
from atomwork.outcome import TaskOutcome, now
from atomwork.plan import AtomicTask

__all__ = ["AuditLog", "AuditRecord", "AuditTrail", "default_audit_path", "result_hash"]

log = logging.getLogger("atomwork.audit")

REFUSED = "refused"
"""The status of a call the access policy did not allow (at plan validation or at run time)."""


def default_audit_path() -> Path:
    return atomwork_home() / "audit.jsonl"


class AuditRecord(BaseModel):
    """One tool call."""

    model_config = ConfigDict(frozen=True)

    time: datetime = Field(default_factory=now)
    run_id: str
    user: str | None
    tool: str
    department: str
    task_id: str
    args: dict[str, Any]
    status: str
    """``done``, ``failed``, ``refused``, or the task's other status (``rejected`` ...)."""
    rows: int | None = None
    """Rows of the result table (None: no table)."""
    result_hash: str | None = None
    """SHA-256 of the result as JSON (None: no result)."""
    error: str | None = None

    @classmethod
    def of_outcome(cls, run_id: str, user: str | None, outcome: TaskOutcome) -> AuditRecord:
        result = outcome.result
        refused = outcome.error_type == PermissionDenied.__name__
        return cls(
            time=outcome.finished_at or now(),
            run_id=run_id,
            user=user,
            tool=outcome.task.tool,
            department=outcome.task.department,
            task_id=outcome.task.id,
            args=outcome.resolved_args or outcome.task.args,
            status=REFUSED if refused else str(outcome.status),
            rows=len(result.table.rows) if result is not None and result.table is not None else None,
            result_hash=result_hash(result) if result is not None else None,
            error=outcome.error,
        )

    @classmethod
    def of_refusal(cls, run_id: str, user: str | None, task: AtomicTask, reason: str) -> AuditRecord:
        return cls(
            run_id=run_id,
            user=user,
            tool=task.tool,
            department=task.department,
            task_id=task.id,
            args=task.args,
            status=REFUSED,
            error=reason,
        )


def result_hash(result: BaseModel) -> str:
    """SHA-256 of ``result``'s JSON: the same result always hashes the same."""
    return hashlib.sha256(result.model_dump_json().encode("utf-8")).hexdigest()


class AuditLog:
    """An append-only JSONL file, readable by its owner only. Safe to share between threads.

    :meth:`open` checks that the file can be written, so a session fails at its start (one
    :class:`ConfigError` line) rather than running tools it cannot account for."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path | None = None) -> AuditLog:
        audit = cls(path if path is not None else default_audit_path())
        try:
            audit.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(audit._descriptor())
        except OSError as exc:
            raise ConfigError(f"cannot write the audit log {audit.path}: {exc.strerror or exc}") from None
        return audit

    def _descriptor(self) -> int:
        # O_APPEND: every write lands at the end, whoever else has the file open.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # also for a file made before with a looser mode
        return fd

    def append(self, record: AuditRecord) -> None:
        """Add one line (a single write, so concurrent writers never interleave within a line)."""
        line = (record.model_dump_json() + "\n").encode("utf-8")
        with self._lock:
            fd = self._descriptor()
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def records(self) -> list[AuditRecord]:
        """Every record, oldest first (a line that does not parse is skipped with a warning)."""
        if not self.path.exists():
            return []
        found = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found.append(AuditRecord.model_validate(json.loads(line)))
            except (ValueError, ValidationError):
                log.warning("audit log %s: line %d is not a record; skipped", self.path, number)
        return found


class AuditTrail:
    """Writes one run's tool calls to an :class:`AuditLog`, from the run's events.

    A line that cannot be written is reported (logged) and the run goes on: the tool call has
    already happened, and losing its result too would help nobody."""

    def __init__(self, log_: AuditLog, user: str | None) -> None:
        self.log = log_
        self.user = user
        self.run_id = ""

    def __call__(self, event: Event) -> None:
        record: AuditRecord | None = None
        if isinstance(event, RunStarted | RunResumed):
            self.run_id = event.run_id
        elif isinstance(event, TaskFinished):
            record = AuditRecord.of_outcome(self.run_id, self.user, event.outcome)
        elif isinstance(event, TaskRefused):
            record = AuditRecord.of_refusal(self.run_id, self.user, event.task, event.reason)
        if record is None:
            return
        try:
            self.log.append(record)
        except OSError as exc:
            log.error("could not write the audit log %s: %s", self.log.path, exc.strerror or exc)
