"""A run to kill, for tests/test_durable.py: four slow steps, one at a time, each logged to a file
the moment it ends, on a scripted model. ``python tests/durable_worker.py WAREHOUSE`` runs it (the
run database is $ATOMWORK_HOME's, or $ATOMWORK_CHECKPOINT_URL's); the test imports the rest."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings
from atomwork.testing import ScriptedModel
from atomwork.tools import tool

LOG_ENV = "ATOMWORK_TEST_LOG"
PAUSE_ENV = "ATOMWORK_TEST_PAUSE"
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


@tool(department="operations")
def slow_step(label: str) -> str:
    """Do one slow step of the close and log it.

    Args:
        label: which step
    """
    time.sleep(float(os.environ.get(PAUSE_ENV, "0.5")))
    with Path(os.environ[LOG_ENV]).open("a", encoding="utf-8") as log:
        log.write(label + "\n")
    return f"step {label} done"


def session(model: ScriptedModel, warehouse: str | Path) -> Atomwork:
    return Atomwork(
        model=model, warehouse=warehouse, departments=[], tools=[slow_step], settings=SETTINGS, memory=False
    )


def logged(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


if __name__ == "__main__":
    with session(ScriptedModel({"plan": [PLAN]}), sys.argv[1]) as aw:
        print(aw.run(GOAL).stop_reason)
