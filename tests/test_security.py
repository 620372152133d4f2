"""The security findings of issue 8, each with a test that failed before its fix: SQLite escapes,
memory shared between users, a damaged home folder, markup and escape codes in data, and the
low ones (``now()``, invisible goals, a department string, bad argument types, ``load_run``, file
modes, unbounded growth). Permissions and prompt injection have their own files."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import stat
import time
import tomllib
from pathlib import Path

import pytest
from rich.console import Console

from atomwork.cli import main, print_result
from atomwork.errors import ConfigError, GoalError
from atomwork.memory import PlanMemory
from atomwork.models import ScriptedModel
from atomwork.plan import AtomicTask, Plan
from atomwork.sdk import Atomwork, check_goal, load_run, runs_dir, save_run
from atomwork.settings import RunSettings
from atomwork.table import Table
from atomwork.tools import Department, tool
from atomwork.tools.warehouse import Warehouse, WarehouseError

from .fakes import task

ROOT = Path(__file__).resolve().parents[1]
REVENUE_PLAN = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1997"})]}
QUIET = RunSettings(max_replans=0, answer_with_model=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("ATOMWORK_HOME", str(folder))
    return folder


def sqlite_file(path: Path, rows: list[tuple[str, int]]) -> Path:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE t (name TEXT, v INTEGER)")
        con.executemany("INSERT INTO t VALUES (?, ?)", rows)
    return path


# -- High: a SQLite warehouse -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM sqlite_scan('{secret}', 't')",
        "SELECT * FROM t WHERE v IN (SELECT v FROM sqlite_scan('{secret}', 't'))",
        "WITH s AS (SELECT * FROM sqlite_attach('{secret}')) SELECT * FROM s",
        "SELECT * FROM sqlite_query('userdb', 'SELECT name, v FROM t')",
        "SELECT * FROM main.range(3)",  # allowed names only unqualified: no other catalog's function
    ],
)
def test_a_sqlite_warehouse_reads_no_other_file(tmp_path: Path, sql: str) -> None:
    secret = sqlite_file(tmp_path / "secret.sqlite", [("TOPSECRET", 42)])
    with Warehouse.open(sqlite_file(tmp_path / "wh.sqlite", [("a", 1)])) as wh:
        with pytest.raises(WarehouseError, match=r"table function \w+\(\) is not allowed"):
            wh.query(sql.format(secret=secret))
        assert wh.tables() == ["t"]  # nothing was attached
        assert wh.query("SELECT * FROM range(2)").rows == [[0], [1]]  # allowed ones still work


def test_a_sales_session_on_sqlite_cannot_reach_other_files(tmp_path: Path, home: Path) -> None:
    secret = sqlite_file(tmp_path / "secret.sqlite", [("TOPSECRET", 42)])
    plan = {
        "tasks": [task("t1", "sql_query", "analysis", {"sql": f"SELECT * FROM sqlite_scan('{secret}', 't')"})]
    }
    with Atomwork(
        model=ScriptedModel({"plan": [plan]}),
        warehouse=sqlite_file(tmp_path / "wh.sqlite", [("a", 1)]),
        departments=["sales"],
        settings=QUIET,
    ) as aw:
        result = aw.run("Analyze t with SQL")
    assert "TOPSECRET" not in result.model_dump_json()
    assert "sqlite_scan() is not allowed" in (result.outcomes["t1"].error or "")
    assert not any("TOPSECRET" in p.read_text() for p in home.rglob("*.json"))


def test_every_statement_on_a_sqlite_warehouse_can_be_interrupted(tmp_path: Path) -> None:
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    with Warehouse.open(sqlite_file(tmp_path / "wh.sqlite", [("a", 1)])) as wh:
        started = time.monotonic()
        with pytest.raises(WarehouseError, match=r"ran longer than 0\.5s and was stopped"):
            wh.run_query(endless, timeout=0.5)
        assert time.monotonic() - started < 5


# -- Medium: memory poisoning --------------------------------------------------------------------


def test_plan_memory_is_kept_per_user(warehouse, home: Path) -> None:
    """One user's goals and plans (SQL included) are never another user's planner examples."""
    goal = "Analyze revenue by region for 1997"
    aw = Atomwork(model=ScriptedModel({"plan": [REVENUE_PLAN]}), warehouse=warehouse, settings=QUIET)
    assert aw.run(goal, user="alice").ok
    for user, sees in (("bob", False), (None, False), ("alice", True)):
        aw.model = ScriptedModel({"plan": [REVENUE_PLAN]})
        aw.run(goal, user=user)
        prompt = aw.model.calls[0].prompt  # type: ignore[attr-defined]
        assert ("Past goal that worked" in prompt) is sees, user


# -- Medium: a damaged home folder ---------------------------------------------------------------


def test_a_corrupt_plan_memory_costs_the_examples_not_the_run(warehouse, home: Path, caplog) -> None:
    memory = home / "memory"
    memory.mkdir(parents=True)
    (memory / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="atomwork"):
        aw = Atomwork(model=ScriptedModel({"plan": [REVENUE_PLAN]}), warehouse=warehouse, settings=QUIET)
    assert aw.memory is None and "running without plan memory" in caplog.text
    assert aw.run("Analyze revenue by region for 1997").ok


def test_a_bad_memory_entry_is_skipped(tmp_path: Path, caplog) -> None:
    memory = PlanMemory(tmp_path / "memory")
    good = Plan(
        goal="revenue by region", tasks=[AtomicTask(id="t1", department="sales", tool="sales_by_region")]
    )
    memory.remember("r1", good)
    memory._collection("").upsert(
        ids=["r2"], documents=["revenue by region!"], metadatas=[{"plan": "{broken"}]
    )
    with caplog.at_level(logging.WARNING, logger="atomwork.memory"):
        assert memory.recall("revenue by region", k=2) == [good]
    assert "damaged entry was skipped" in caplog.text


def test_an_unwritable_runs_folder_loses_no_result(
    warehouse, warehouse_path, home: Path, tmp_path, capsys
) -> None:
    home.mkdir(parents=True)
    (home / "runs").write_text("a file where the runs folder should be", encoding="utf-8")
    aw = Atomwork(model=ScriptedModel({"plan": [REVENUE_PLAN]}), warehouse=warehouse, settings=QUIET)
    result = aw.run("Analyze revenue by region for 1997")
    assert result.ok and len(result.tables["t1"].rows) == 5
    # the CLI prints the answer and exits 0 ("done"), not 1 ("work still failing")
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({"plan": [REVENUE_PLAN]}), encoding="utf-8")
    code = main(
        [
            "run",
            "Analyze revenue by region for 1997",
            "--model",
            f"scripted:{replies}",
            "--max-replans",
            "0",
            "--warehouse",
            str(warehouse_path),
        ]
    )
    out = capsys.readouterr()
    assert code == 0 and "ASIA" in out.out and "Traceback" not in out.out + out.err


def test_a_home_where_nothing_can_be_written(warehouse, tmp_path: Path, monkeypatch, caplog) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("ATOMWORK_HOME", str(blocker / "home"))  # every write under it fails
    with caplog.at_level(logging.WARNING, logger="atomwork"):
        aw = Atomwork(
            model=ScriptedModel({"plan": [REVENUE_PLAN]}),
            warehouse=warehouse,
            settings=QUIET,
            runs=f"sqlite:///{tmp_path / 'runs.sqlite'}",  # the run database lives elsewhere
        )
        result = aw.run("Analyze revenue by region for 1997")
    assert result.ok and len(result.tables["t1"].rows) == 5
    assert "running without plan memory" in caplog.text and "tool calls are not audited" in caplog.text
    assert "the run record could not be saved" in caplog.text


# -- Medium: markup and escape codes in data -------------------------------------------------------

HOSTILE = [
    "[/bold] closes what it never opened",
    "[link=https://evil.example]your invoice[/link]",
    "\x1b]0;pwned\x07title and \x1b[2Jclear screen",
]


def test_markup_and_escape_codes_in_data_are_shown_not_obeyed(warehouse, home: Path) -> None:
    @tool
    def hostile_names() -> Table:
        """Customer names as some data has them."""
        return Table(columns=["name [b]", "n"], rows=[[name, i] for i, name in enumerate(HOSTILE)])

    plan = {"tasks": [task("t1", "hostile_names", "crm", {})]}
    aw = Atomwork(
        model=ScriptedModel({"plan": [plan]}),
        warehouse=warehouse,
        departments=[Department("crm", "Customers", [hostile_names])],
        settings=QUIET,
    )
    result = aw.run("Analyze the hostile names")
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, color_system="truecolor", width=200)
    print_result(console, result)  # the old CLI raised MarkupError on "[/bold]"
    out = buffer.getvalue()
    assert "[/bold] closes what it never opened" in out and "name [b]" in out
    assert "[link=https://evil.example]your invoice[/link]" in out
    assert "\x1b]8;" not in out  # no hyperlink escape: the link is not rendered, let alone disguised
    assert "\x1b]0;" not in out and "\x1b[2J" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out  # shown, visibly


def test_markup_in_an_error_message_prints_as_one_line(home: Path, capsys) -> None:
    code = main(["run", "revenue", "--departments", "[/bold],[link=https://evil.example]x"])
    out = capsys.readouterr().out
    assert code == 2 and "unknown department(s)" in out and "[/bold]" in out
    assert "Traceback" not in out


# -- Low -------------------------------------------------------------------------------------------


def test_now_works_in_a_query(warehouse) -> None:
    # DuckDB returns TIMESTAMP WITH TIME ZONE as an aware datetime, which needs pytz.
    value = warehouse.query("SELECT now() AS t").rows[0][0]
    assert isinstance(value, str) and value[:2] == "20"
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(d.startswith("pytz") for d in dependencies)


@pytest.mark.parametrize("goal", ["\u200b\u200b", "\x00\x07\x1b", "\u202e\u2066 \ufeff", "\t\u00a0\u3000"])
def test_a_goal_of_invisible_characters_is_refused(goal: str) -> None:
    with pytest.raises(GoalError, match="the goal is empty"):
        check_goal(goal)


def test_one_department_given_as_a_string(warehouse, home: Path) -> None:
    aw = Atomwork(model=ScriptedModel({}), warehouse=warehouse, departments="sales")
    assert set(aw.registry.departments()) == {"sales", "analysis", "reporting"}
    assert aw.registry.restricted_to("sales").departments() == aw.registry.departments()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"model": 3}, "model must be str or ChatModel, got int"),
        ({"warehouse": 3}, "warehouse must be str or Path or Warehouse, got int"),
        ({"settings": {"max_replans": 1}}, "settings must be RunSettings, got dict"),
        ({"memory": 3}, "memory must be bool or str or Path, got int"),
        ({"user": 5}, "user must be str, got int"),
        ({"departments": 5}, "departments must be a list of names or Departments, got int"),
        ({"policy": 5}, "policy must be a Policy or a file path, got int"),
        ({"audit": 5}, "audit must be True, False or a file path, got int"),
    ],
)
def test_bad_argument_types_are_one_config_error_line(warehouse, home: Path, given, message: str) -> None:
    kwargs = {"model": ScriptedModel({}), "warehouse": warehouse, **given}
    with pytest.raises(ConfigError, match=message):
        Atomwork(**kwargs)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"settings": "fast"}, "settings must be a RunSettings, got str"),
        ({"departments": 5}, "departments must be a list"),
        ({"departments": [5]}, "a run's departments are names"),
        ({"user": 5}, "user must be text, got int"),
    ],
)
def test_bad_run_argument_types_are_one_config_error_line(warehouse, home: Path, given, message: str) -> None:
    aw = Atomwork(model=ScriptedModel({}), warehouse=warehouse)
    with pytest.raises(ConfigError, match=message):
        aw.run("Analyze revenue by region for 1997", **given)


def test_load_run_refuses_paths_and_reports_missing_or_damaged_records(warehouse, home: Path) -> None:
    (home / "secret.json").parent.mkdir(parents=True, exist_ok=True)
    (home / "secret.json").write_text("{}", encoding="utf-8")
    for bad in ("../secret", "../../etc/passwd", "/etc/passwd", "a.b", "", 42):
        with pytest.raises(ConfigError, match="bad run id"):
            load_run(bad)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no saved run 'abc123'"):
        load_run("abc123")
    runs_dir().mkdir(parents=True, exist_ok=True)
    (runs_dir() / "damaged.json").write_text('{"run_id": "damaged"', encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_run("damaged")
    (runs_dir() / "partial.json").write_text('{"run_id": "partial"}', encoding="utf-8")
    with pytest.raises(ConfigError, match="is damaged"):
        load_run("partial")


def test_run_records_memory_and_audit_are_private(warehouse, home: Path) -> None:
    aw = Atomwork(model=ScriptedModel({"plan": [REVENUE_PLAN]}), warehouse=warehouse, settings=QUIET)
    result = aw.run("Analyze revenue by region for 1997")
    assert load_run(result.run_id).answer == result.answer

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(runs_dir()) == 0o700 and mode(runs_dir() / f"{result.run_id}.json") == 0o600
    assert mode(home / "memory") == 0o700 and mode(home / "audit.jsonl") == 0o600


def test_run_records_and_memory_are_bounded(warehouse, home: Path, tmp_path: Path) -> None:
    aw = Atomwork(
        model=ScriptedModel({"plan": [REVENUE_PLAN]}), warehouse=warehouse, settings=QUIET, save_runs=False
    )
    result = aw.run("Analyze revenue by region for 1997")
    for n in range(5):
        save_run(result.model_copy(update={"run_id": f"run{n}"}), keep=3)
        time.sleep(0.02)  # distinct ages: the oldest records go first
    assert sorted(p.stem for p in runs_dir().glob("*.json")) == ["run2", "run3", "run4"]
    memory = PlanMemory(tmp_path / "memory", max_plans=3)
    for n in range(5):
        memory.remember(
            f"r{n}", Plan(goal=f"goal number {n}", tasks=[AtomicTask(id="t1", department="d", tool="x")])
        )
    assert len(memory) == 3
    assert {p.goal for p in memory.recall("goal number", k=5)} <= {
        "goal number 2",
        "goal number 3",
        "goal number 4",
    }


def test_max_replans_is_bounded(home: Path, capsys) -> None:
    assert main(["run", "revenue by region", "--max-replans", "1000000"]) == 2
    out = capsys.readouterr().out
    assert "max_replans" in out and "less than or equal to 10" in out
