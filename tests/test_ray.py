"""Goals on a real local Ray cluster with the run state in a real Postgres (pgserver): a worker killed
in the middle of a goal is replaced, and the goal is resumed on the new worker without running any
finished task again."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomwork.models.guard import BLOCK_ENV
from atomwork.outcome import StopReason, TaskStatus
from atomwork.ray_workers import RayWorkers
from atomwork.run_store import RunStatus, RunStore

from . import ray_session

ray = pytest.importorskip("ray", reason="Ray is installed with the 'ray' extra (scripts/dev.sh does)")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Postgres server for this module (pgserver ships the binaries in its wheel)."""
    pgserver = pytest.importorskip("pgserver")
    try:
        server = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    except Exception as exc:  # pragma: no cover - a machine where postgres cannot start
        pytest.skip(f"Postgres could not start here: {type(exc).__name__}: {exc}")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="module")
def workers(postgres_url: str, warehouse_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    log = tmp_path_factory.mktemp("ray") / "steps.log"
    env = {
        "ATOMWORK_HOME": os.environ["ATOMWORK_HOME"],
        "ATOMWORK_CHECKPOINT_URL": postgres_url,
        ray_session.LOG_ENV: str(log),
        ray_session.PAUSE_ENV: "1.0",
        ray_session.WAREHOUSE_ENV: str(warehouse_path),
        BLOCK_ENV: "1",
        "PYTHONPATH": str(ROOT),  # the workers import the session factory from tests/
    }
    # Two CPUs: one goal at a time, and room for the worker that replaces a dead one.
    pool = RayWorkers(
        ray_session.session,
        max_retries=2,
        init={
            "num_cpus": 2,
            "include_dashboard": False,
            "log_to_driver": False,
            "runtime_env": {"env_vars": env},
        },
    )
    try:
        yield pool, log
    finally:
        pool.shutdown()


def test_a_goal_is_resumed_on_another_worker_after_its_worker_is_killed(workers, postgres_url):
    pool, log = workers
    handle = pool.submit(ray_session.GOAL)
    deadline = time.monotonic() + 120
    killed: tuple[str, int] | None = None
    while killed is None:
        assert time.monotonic() < deadline, (
            f"the goal never reached its third step: {ray_session.logged(log)}"
        )
        entries = ray_session.logged(log)
        done = [label for event, label, _ in entries if event == "done"]
        running = [(label, pid) for event, label, pid in entries if event == "start" and label not in done]
        if len(done) >= 2 and running:
            killed = running[0]
            os.kill(killed[1], signal.SIGKILL)  # the worker dies in the middle of a step
        time.sleep(0.05)

    result = pool.result(handle, timeout=180)

    assert result.run_id == handle.run_id and result.stop_reason == StopReason.COMPLETED
    assert [result.outcomes[s].status for s in ray_session.STEPS] == [TaskStatus.DONE] * 4
    entries = ray_session.logged(log)
    done = [label for event, label, _ in entries if event == "done"]
    assert sorted(done) == ray_session.STEPS  # every step finished exactly once
    step, first_pid = killed
    starts = [pid for event, label, pid in entries if event == "start" and label == step]
    assert len(starts) == 2 and starts[0] == first_pid != starts[1]  # re-run on another worker
    finished_first = {label for event, label, pid in entries if event == "done" and pid == first_pid}
    assert len(finished_first) >= 2 and step not in finished_first
    # The run's state is in Postgres: any worker (or this process) can read it.
    with RunStore.open(postgres_url) as store:
        record = store.record(handle.run_id)
        assert record is not None and record.status == RunStatus.FINISHED
        assert set(store.outcomes(handle.run_id)) == set(ray_session.STEPS)


def test_goals_run_side_by_side_on_the_cluster(workers):
    pool, _ = workers
    results = pool.map([ray_session.GOAL, ray_session.GOAL])
    assert [r.stop_reason for r in results] == [StopReason.COMPLETED] * 2
    assert len({r.run_id for r in results}) == 2
