"""The session each Ray worker builds for tests/test_ray.py: four slow steps, one at a time, on a
scripted model; each step logs when it starts and ends, with the worker's pid, so the test can kill
the worker in the middle of a step and count what ran where."""

from __future__ import annotations

import os
import time
from pathlib import Path

from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings
from atomwork.testing import FunctionModel, ModelCallInfo, Purpose, Reply
from atomwork.tools import tool

LOG_ENV = "ATOMWORK_TEST_LOG"
PAUSE_ENV = "ATOMWORK_TEST_PAUSE"
WAREHOUSE_ENV = "ATOMWORK_TEST_WAREHOUSE"
GOAL = "Run the four slow steps of the books close"
STEPS = ["t1", "t2", "t3", "t4"]
PLAN = {
    "tasks": [
        {
            "id": step,
            "tool": "slow_step",
            "department": "operations",
            "args": {"label": step},
            "depends_on": [],
            "success_criteria": "the step is done",
        }
        for step in STEPS
    ]
}
SETTINGS = RunSettings(max_workers=1, max_replans=0, answer_with_model=False, single_question_fast_path=False)


def _log(event: str, label: str) -> None:
    with Path(os.environ[LOG_ENV]).open("a", encoding="utf-8") as log:
        log.write(f"{event} {label} {os.getpid()}\n")


@tool(department="operations")
def slow_step(label: str) -> str:
    """Do one slow step of the close and log it.

    Args:
        label: which step
    """
    _log("start", label)
    time.sleep(float(os.environ.get(PAUSE_ENV, "0.5")))
    _log("done", label)
    return f"step {label} done"


def _plan(info: ModelCallInfo) -> Reply:
    if info.purpose is Purpose.PLAN:
        return PLAN
    raise AssertionError(f"unexpected {info.purpose} call")


def session() -> Atomwork:
    """A worker's session; the run database is the worker's ``ATOMWORK_CHECKPOINT_URL``."""
    return Atomwork(
        model=FunctionModel(_plan),
        warehouse=os.environ[WAREHOUSE_ENV],
        departments=[],
        tools=[slow_step],
        settings=SETTINGS,
        memory=False,
        save_runs=False,
        runs=os.environ["ATOMWORK_CHECKPOINT_URL"],
    )


def logged(path: Path) -> list[tuple[str, str, int]]:
    """``(event, step, pid)`` for each line of the log."""
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(event, label, int(pid)) for event, label, pid in lines]
