"""Durable runs for real: a run in a subprocess is killed with SIGKILL after some tasks finished,
then resumed in a fresh session; every task that had finished ran exactly once. The same on a real
Postgres server the test starts itself (pgserver), and the CLI's ``runs`` and ``resume``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from atomwork.cli import main
from atomwork.errors import ConfigError, ModelError, PlanError
from atomwork.events import Event, RunResumed, TaskStarted
from atomwork.models.guard import BLOCK_ENV
from atomwork.outcome import StopReason, TaskStatus
from atomwork.run_store import CHECKPOINT_URL_ENV, RunBusy, RunStatus, RunStore
from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings
from atomwork.testing import FunctionModel, ModelCallInfo, ScriptedModel

from . import durable_worker as worker

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Postgres server for this module (pgserver ships the binaries in its wheel)."""
    try:
        import pgserver
    except ImportError as exc:  # pragma: no cover - pgserver is a dev dependency
        pytest.skip(f"pgserver is not installed: {exc}")
    folder = tmp_path_factory.mktemp("pg")
    try:
        server = pgserver.get_server(folder, cleanup_mode="stop")
    except Exception as exc:  # pragma: no cover - a machine where postgres cannot start
        detail = getattr(exc, "stderr", None) or getattr(exc, "output", None) or ""
        pytest.skip(f"Postgres could not start here: {type(exc).__name__}: {exc} {detail}".strip())
    yield server.get_uri()
    server.cleanup()


def kill_mid_run(home: Path, warehouse: Path, log: Path, env: dict[str, str]) -> tuple[str, set[str]]:
    """Start the worker's run, SIGKILL it once two tasks are stored as finished; return the run id
    and the tasks stored as finished at the kill."""
    environ = {
        **os.environ,
        "ATOMWORK_HOME": str(home),
        worker.LOG_ENV: str(log),
        worker.PAUSE_ENV: "0.6",
        BLOCK_ENV: "1",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "durable_worker.py"), str(warehouse)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = RunStore.open(env.get(CHECKPOINT_URL_ENV) or f"sqlite:///{home / 'runs.sqlite'}")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, f"the run ended before it was killed: {proc.communicate()}"
            records = runs.runs()
            finished = set(runs.outcomes(records[0].run_id)) if records else set()
            # Killed between two tasks' ends: the log and the store agree on what finished.
            if len(finished) >= 2 and set(worker.logged(log)) == finished:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(10)
                break
            time.sleep(0.02)
        else:
            proc.kill()
            raise AssertionError(f"two tasks never finished: {proc.communicate()}")
        record = runs.runs()[0]
        assert record.status == RunStatus.RUNNING and record.interrupted  # its process is gone
        return record.run_id, set(runs.outcomes(record.run_id))
    finally:
        runs.close()


def resume_and_check(
    run_id: str, finished: set[str], warehouse: Path, log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(worker.LOG_ENV, str(log))
    monkeypatch.setenv(worker.PAUSE_ENV, "0.05")
    assert finished < set(worker.STEPS), "the kill came too late to leave work to resume"
    assert sorted(worker.logged(log)) == sorted(finished)  # each finished task ran once so far
    # A fresh session (strict model with no reply: a resume must not plan again) continues it.
    with worker.session(ScriptedModel(), warehouse) as aw:
        result = aw.resume(run_id)
        assert aw.runs()[0].status == RunStatus.FINISHED
    assert result.stop_reason == StopReason.COMPLETED, result.answer
    assert all(result.outcomes[s].ok for s in worker.STEPS)
    started = [e.task.id for e in result.events if isinstance(e, TaskStarted)]
    assert not set(started) & finished  # no finished task started again
    assert isinstance(result.events[0], RunResumed) and set(result.events[0].outcomes) >= finished
    ran = worker.logged(log)
    assert sorted(set(ran)) == worker.STEPS
    for step in finished:
        assert ran.count(step) == 1, f"{step} finished before the kill and ran again: {ran}"
    assert len(ran) <= len(worker.STEPS) + 1  # at most the task cut short by the kill ran twice


def test_a_killed_run_resumes_without_running_finished_tasks_again(
    tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "steps.log"
    run_id, finished = kill_mid_run(tmp_path / "home", warehouse_path, log, {})
    monkeypatch.setenv("ATOMWORK_HOME", str(tmp_path / "home"))
    resume_and_check(run_id, finished, warehouse_path, log, monkeypatch)


def test_a_killed_run_resumes_from_postgres(
    tmp_path: Path, warehouse_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_url
    monkeypatch.setenv("ATOMWORK_HOME", str(tmp_path / "home"))
    log = tmp_path / "steps.log"
    run_id, finished = kill_mid_run(tmp_path / "home", warehouse_path, log, {CHECKPOINT_URL_ENV: url})
    monkeypatch.setenv(CHECKPOINT_URL_ENV, url)
    resume_and_check(run_id, finished, warehouse_path, log, monkeypatch)
    with RunStore.open(url) as runs:  # nothing was kept in the SQLite file instead
        assert runs.record(run_id) is not None and runs.where.startswith("postgresql://")
    assert not (tmp_path / "home" / "runs.sqlite").exists()


def test_one_worker_at_a_time_works_on_a_run(tmp_path: Path, postgres_url: str) -> None:
    for url in (f"sqlite:///{tmp_path / 'runs.sqlite'}", postgres_url):
        with RunStore.open(url) as first, RunStore.open(url) as second:
            with first.claim("r1"):
                with pytest.raises(RunBusy, match="another process"), second.claim("r1"):
                    pass
                with second.claim("r2"):  # another run is free
                    pass
            with second.claim("r1"):  # free again once released
                pass


def test_a_run_that_fails_at_planning_leaves_a_record_and_the_cli_lists_runs(
    warehouse_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(info: ModelCallInfo) -> str:
        raise ModelError("the model endpoint refused the request")

    settings = RunSettings(single_question_fast_path=False)
    model = FunctionModel(broken)
    with Atomwork(model=model, warehouse=warehouse_path, memory=False, settings=settings) as aw:
        with pytest.raises(PlanError, match="refused the request"):
            aw.run("Analyze revenue by region for 1997 and flag unusual regions")
        failed = aw.runs()[0]
    assert failed.status == RunStatus.FAILED and "refused the request" in (failed.error or "")
    assert failed.goal.startswith("Analyze revenue by region for 1997")
    assert main(["runs"]) == 0
    listed = capsys.readouterr().out
    assert failed.run_id in listed and "failed" in listed


def test_cli_resume_prints_an_ended_run_and_runs_shows_its_tokens(
    warehouse_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = {
        "tasks": [
            {"id": "t1", "tool": "sales_by_region", "department": "sales", "args": {"period": "1997"},
             "depends_on": [], "success_criteria": "revenue per region"}
        ]
    }  # fmt: skip
    settings = RunSettings(single_question_fast_path=False, answer_with_model=False)
    model = ScriptedModel({"plan": [plan]})
    with Atomwork(model=model, warehouse=warehouse_path, memory=False, settings=settings) as aw:
        done = aw.run("Analyze revenue by region for 1997")
    assert done.stop_reason == StopReason.COMPLETED
    assert main(["runs"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if done.run_id in line)
    assert "completed" in row and f"{done.usage.total_tokens:,}" in row
    # Resuming a run that ended shows its result, with no model call (the scripted file is empty).
    replies = tmp_path / "none.json"
    replies.write_text("{}", encoding="utf-8")
    code = main(["resume", done.run_id, "--model", f"scripted:{replies}", "--warehouse", str(warehouse_path)])
    out = capsys.readouterr().out
    assert code == 0 and "stop reason: completed" in out and done.run_id in out
    assert main(["resume", "nope", "--model", f"scripted:{replies}"]) == 2
    assert "there is no run 'nope'" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="not a run id"), RunStore.open() as runs:
        runs.record("../../etc/passwd")


def test_each_outcome_is_stored_the_moment_it_is_evaluated(
    warehouse_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the run goes on, the store already holds every task evaluated so far."""
    seen: dict[str, set[str]] = {}
    with RunStore.open(f"sqlite:///{tmp_path / 'runs.sqlite'}") as runs:

        def watch(event: Event) -> None:
            if isinstance(event, TaskStarted):
                record = runs.runs()[0]
                seen[event.task.id] = set(runs.outcomes(record.run_id))

        monkeypatch.setenv(worker.LOG_ENV, str(tmp_path / "log"))
        monkeypatch.setenv(worker.PAUSE_ENV, "0")
        model = ScriptedModel({"plan": [worker.PLAN]})
        with Atomwork(
            model=model, warehouse=warehouse_path, departments=[], tools=[worker.slow_step],
            settings=worker.SETTINGS, memory=False, runs=runs,
        ) as aw:  # fmt: skip
            result = aw.run(worker.GOAL, on_event=watch)
        assert result.stop_reason == StopReason.COMPLETED
        # One worker: each task starts after the one before it was evaluated and stored.
        assert seen == {"t1": set(), "t2": {"t1"}, "t3": {"t1", "t2"}, "t4": {"t1", "t2", "t3"}}
        stored = runs.outcomes(result.run_id)
        assert all(o.status == TaskStatus.DONE and o.evaluation is not None for o in stored.values())
