"""Bad input gets a clear error: SDK raises AtomworkError, the CLI prints one line and exits 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

import atomwork
from atomwork.cli import main
from atomwork.errors import ConfigError, GoalError, ModelError
from atomwork.models import ScriptedModel
from atomwork.result import StopReason

from .fakes import task


@pytest.mark.parametrize("goal", ["", "   \n", None, 42])
def test_empty_or_non_text_goal(goal):
    with pytest.raises(GoalError):
        atomwork.run(goal)  # type: ignore[arg-type]


def test_unknown_department(warehouse):
    model = ScriptedModel({})
    with pytest.raises(ConfigError, match=r"unknown department.*astrology"):
        atomwork.run("revenue", model=model, warehouse=warehouse, departments=["sales", "astrology"])
    assert model.calls == []  # rejected before any model call


def test_sdk_run_with_scripted_model_on_real_warehouse(warehouse, atomwork_home):
    plan = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1997"})]}
    good = {"reason": "fine", "score": 9}
    model = ScriptedModel(
        {"plan": [plan], "score": [good], "score_final": [good], "answer": ["Revenue shown."]}
    )
    # An analysis goes through the planner (a plain question would go straight to SQL).
    goal = "Analyze revenue by region for 1997"
    result = atomwork.run(goal, model=model, warehouse=warehouse)
    assert result.stop_reason == StopReason.COMPLETED
    table = result.tables["t1"]
    assert len(table.rows) == 5  # the five TPC-H regions
    assert (atomwork_home / "runs" / f"{result.run_id}.json").exists()
    # the completed plan is remembered and shown to the planner next time
    again = ScriptedModel({"plan": [plan], "score": [good], "score_final": [good], "answer": ["ok"]})
    atomwork.run(goal, model=again, warehouse=warehouse)
    assert "Past goal that worked" in next(c.prompt for c in again.calls if c.purpose == "plan")


def _cli(*args: str, env_home) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "ATOMWORK_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "atomwork.cli", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_empty_goal_is_one_clear_line(atomwork_home):
    proc = _cli("run", "  ", env_home=atomwork_home)
    assert proc.returncode == 2
    assert "goal is empty" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.model_requests
def test_cli_broken_model_endpoint_is_one_clear_line(atomwork_home, warehouse_path):
    proc = _cli(
        "run",
        "revenue by region",
        "--model",
        "vllm:http://127.0.0.1:9/v1",
        "--warehouse",
        str(warehouse_path),
        env_home=atomwork_home,
    )
    assert proc.returncode == 2
    assert "cannot reach the model endpoint http://127.0.0.1:9/v1" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_cli_unknown_department(atomwork_home, warehouse_path):
    code = main(["tools", "--departments", "sales,astrology", "--warehouse", str(warehouse_path)])
    assert code == 2


def test_cli_bad_model_spec(atomwork_home, warehouse_path, capsys):
    code = main(["run", "revenue", "--model", "gpt-7", "--warehouse", str(warehouse_path)])
    assert code == 2
    assert "bad model spec" in capsys.readouterr().out


@pytest.mark.model_requests
def test_model_error_type_for_unreachable_endpoint():
    with pytest.raises(ModelError):
        atomwork.run("revenue", model="vllm:http://127.0.0.1:9/v1")
