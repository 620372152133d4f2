"""Goals as Ray tasks: any worker of a Ray cluster runs any goal, and a goal whose worker died is taken
up by another worker, which resumes it from the shared run database instead of starting over.

Ray is the queue and the cluster; the run state is the :class:`~atomwork.run_store.RunStore` every
worker opens (Postgres through ``ATOMWORK_CHECKPOINT_URL`` on a cluster), so a resumed goal re-runs
none of its finished tasks. ``ray.init()`` starts a local cluster on this machine; set
``ATOMWORK_RAY_ADDRESS`` (or pass ``address``) to join a running one.

>>> workers = RayWorkers(SessionSpec(model="vllm:http://gpu-1:8000/v1"))
>>> results = workers.map(["revenue by region for 1997", "attrition by department"])
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atomwork.errors import AtomworkError, ConfigError
from atomwork.result import RunResult
from atomwork.run_store import RunBusy
from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings

__all__ = ["RAY_ADDRESS_ENV", "GoalHandle", "RayWorkers", "SessionSpec", "WorkerDied"]

RAY_ADDRESS_ENV = "ATOMWORK_RAY_ADDRESS"
"""``ray://HOST:10001`` or ``HOST:6379`` joins that Ray cluster; unset, a local one is started."""

CLAIM_WAIT_S = 120.0
"""How long a worker waits for a run another worker still holds (a dead holder's database claim
ends when its connection does)."""


class WorkerDied(AtomworkError):
    """A goal's workers died more often than the retries allow; the run can still be resumed."""


class SessionSpec(BaseModel):
    """How each worker builds its :class:`Atomwork` session (once per worker process): the model
    spec, the warehouse, the departments, the run settings and the run database (None: the
    worker's ``ATOMWORK_CHECKPOINT_URL``). Any picklable callable returning a session works too."""

    model_config = ConfigDict(frozen=True)

    model: str | None = None
    warehouse: str | None = None
    departments: list[str] | None = None
    settings: RunSettings = Field(default_factory=RunSettings)
    runs: str | None = None

    def __call__(self) -> Atomwork:
        return Atomwork(
            model=self.model,
            warehouse=self.warehouse,
            departments=self.departments,
            settings=self.settings,
            runs=self.runs,
            memory=False,
        )


SessionFactory = Callable[[], Atomwork]


class GoalHandle(BaseModel):
    """A goal submitted to the cluster: its run id (to resume it anywhere) and Ray's reference."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    run_id: str
    goal: str | None
    """None for a resumed run."""
    ref: Any = Field(exclude=True, repr=False)


_sessions: dict[str, Atomwork] = {}
_sessions_lock = threading.Lock()


def _session(key: str, factory: SessionFactory) -> Atomwork:
    """This worker's session for ``key``, built on first use and kept (models load once)."""
    with _sessions_lock:
        if key not in _sessions:
            _sessions[key] = factory()
        return _sessions[key]


def _work(key: str, factory: SessionFactory, goal: str | None, run_id: str, user: str | None) -> str:
    """A goal on one worker: resumed when the run database knows ``run_id`` (an earlier worker died
    on it), run from the start otherwise. Returns the :class:`RunResult` as JSON."""
    session = _session(key, factory)
    deadline = time.monotonic() + CLAIM_WAIT_S
    while True:
        try:
            if session.runs_store.record(run_id) is not None:
                result = session.resume(run_id)
            elif goal is None:
                raise ConfigError(f"run {run_id} is not in the run database {session.runs_store.where}")
            else:
                result = session.run(goal, run_id=run_id, user=user)
            return result.model_dump_json()
        except RunBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


class RayWorkers:
    """Runs goals as Ray tasks on a local or remote Ray cluster.

    ``session`` builds each worker's session (a :class:`SessionSpec`, or any picklable callable).
    ``address``: the cluster (default ``$ATOMWORK_RAY_ADDRESS``, else a local cluster started with
    ``init`` as extra ``ray.init`` arguments, e.g. ``num_cpus``). A worker that dies mid-goal is
    replaced and the goal resumed, up to ``max_retries`` times; ``cpus_per_goal`` is what Ray
    reserves for one goal (its tasks run on threads inside it)."""

    def __init__(
        self,
        session: SessionFactory,
        *,
        address: str | None = None,
        max_retries: int = 3,
        cpus_per_goal: float = 1.0,
        init: dict[str, Any] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("Ray is not installed; run: pip install 'atomwork[ray]'") from None
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            target = address or os.environ.get(RAY_ADDRESS_ENV) or None
            ray.init(address=target, **(init or {}))
        self._key = uuid.uuid4().hex
        self._factory = session
        self._remote = ray.remote(_work).options(max_retries=max_retries, num_cpus=cpus_per_goal)

    def submit(self, goal: str, *, run_id: str | None = None, user: str | None = None) -> GoalHandle:
        """Queue ``goal`` on the cluster; ``run_id`` default: a fresh one."""
        run_id = run_id or uuid.uuid4().hex[:12]
        ref = self._remote.remote(self._key, self._factory, goal, run_id, user)
        return GoalHandle(run_id=run_id, goal=goal, ref=ref)

    def resume(self, run_id: str) -> GoalHandle:
        """Queue the resumption of ``run_id`` (e.g. after all its workers died) on any worker."""
        ref = self._remote.remote(self._key, self._factory, None, run_id, None)
        return GoalHandle(run_id=run_id, goal=None, ref=ref)

    def result(self, handle: GoalHandle, *, timeout: float | None = None) -> RunResult:
        """Wait for a goal's :class:`RunResult`; its atomwork error (a bad goal, an unreachable
        model) is raised as is."""
        exceptions = self._ray.exceptions
        try:
            text = self._ray.get(handle.ref, timeout=timeout)
        except exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            if isinstance(cause, AtomworkError):
                raise cause from None
            raise
        except (exceptions.WorkerCrashedError, exceptions.NodeDiedError) as exc:
            raise WorkerDied(
                f"the workers of run {handle.run_id} kept dying ({type(exc).__name__}); "
                f"resume it with RayWorkers.resume({handle.run_id!r})"
            ) from exc
        return RunResult.model_validate_json(text)

    def run(self, goal: str, *, run_id: str | None = None, user: str | None = None) -> RunResult:
        return self.result(self.submit(goal, run_id=run_id, user=user))

    def map(self, goals: Iterable[str], *, user: str | None = None) -> list[RunResult]:
        """Every goal at once across the cluster; results in the goals' order."""
        handles = [self.submit(goal, user=user) for goal in goals]
        return [self.result(handle) for handle in handles]

    def shutdown(self) -> None:
        """Stop the local cluster this object started (a joined cluster is left running)."""
        if self._owns_ray and self._ray.is_initialized():
            self._ray.shutdown()

    def __enter__(self) -> RayWorkers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
