"""Permissions and data governance: the policy file, refusals at plan validation and where tools
run, table and column permissions on SQL (masking), and the audit log. Real demo warehouse,
scripted model."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from atomwork.agents.plan_validation import PlanRefused
from atomwork.agents.specialist import Specialist
from atomwork.audit import AuditLog
from atomwork.errors import ConfigError, PermissionDenied
from atomwork.models import ScriptedModel
from atomwork.outcome import TaskStatus
from atomwork.plan import AtomicTask
from atomwork.policy import Policy
from atomwork.result import StopReason
from atomwork.sdk import Atomwork
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools import Department, RunContext, tool

from .fakes import task

POLICY_TOML = """\
default = ["analyst"]

[roles.analyst]
departments = ["sales", "finance"]
masked_columns = ["employees.name", "employees.salary"]

[roles.manager]
departments = "*"
tables = "*"
masked_columns = ["employees.salary"]

[roles.hr]
departments = "*"

[users]
alice = ["hr"]
mo = ["manager"]
"""

POLICY_YAML = """\
default: [analyst]
roles:
  analyst:
    departments: [sales, finance]
    masked_columns: [employees.name, employees.salary]
  manager:
    departments: "*"
    tables: "*"
    masked_columns: [employees.salary]
  hr:
    departments: "*"
users:
  alice: [hr]
  mo: [manager]
"""

SALARY_SQL = "SELECT department, round(avg(salary), 2) AS avg_salary FROM employees GROUP BY 1 ORDER BY 1"
GOOD = {"reason": "fine", "score": 9}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY_TOML, encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ATOMWORK_HOME for the run records, memory and audit log (the demo warehouse is passed in)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("ATOMWORK_HOME", str(folder))
    return folder


def session(warehouse, model, policy, **kw) -> Atomwork:
    kw.setdefault("memory", False)
    return Atomwork(model=model, warehouse=warehouse, policy=policy, verify_sql=False, **kw)


# -- the policy file -------------------------------------------------------------------------------


def test_toml_and_yaml_policies_read_the_same(policy_file: Path, tmp_path: Path) -> None:
    yaml_file = tmp_path / "policy.yaml"
    yaml_file.write_text(POLICY_YAML, encoding="utf-8")
    toml_policy, yaml_policy = Policy.load(policy_file), Policy.load(yaml_file)
    assert toml_policy.model_dump() == yaml_policy.model_dump()
    assert toml_policy.roles_of("alice") == ("hr",)
    assert toml_policy.roles_of("somebody") == ("analyst",)
    assert toml_policy.roles["analyst"].masked_columns == {"employees.name", "employees.salary"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("roles = [", "is not valid TOML"),
        ('default = ["boss"]\n[roles.hr]\n', "unknown role(s) boss"),
        ('[roles.hr]\nmasked_columns = ["salary"]\n', "a masked column is written table.column"),
        ('[roles.hr]\ndepartments = "sales"\n', 'expected a list of names or "*"'),
        ("[roles.hr]\nseniority = 3\n", "roles.hr.seniority"),
    ],
)
def test_a_bad_policy_file_is_one_config_error_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Policy.load(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_policy_file_and_unknown_names_are_config_errors(warehouse, tmp_path: Path, home) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Policy.load(tmp_path / "nope.toml")
    path = tmp_path / "policy.toml"
    path.write_text('[roles.x]\ndepartments = ["astrology"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"role 'x' names unknown department\(s\) astrology"):
        session(warehouse, ScriptedModel({}), path)


def test_the_policy_comes_from_the_environment(warehouse, policy_file: Path, monkeypatch, home) -> None:
    monkeypatch.setenv("ATOMWORK_POLICY", str(policy_file))
    aw = session(warehouse, ScriptedModel({}), None)
    assert aw.governance.policy is not None and aw.governance.policy.path == policy_file
    access = aw.access("bob")
    assert access is not None and access.table_refusal("employees") is not None


# -- refused salary data: department tools and SQL ---------------------------------------------------


def test_a_non_hr_user_is_refused_hr_tools_at_plan_validation(warehouse, policy_file: Path, home) -> None:
    plan = {"tasks": [task("t1", "headcount_by_department", "hr", {"period": "1997"})]}
    model = ScriptedModel({"plan": [plan]})  # strict: a second plan call (to route around it) would fail
    aw = session(warehouse, model, policy_file)
    with pytest.raises(PlanRefused, match=r"user 'bob' \(roles: analyst.*may not use department 'hr'"):
        aw.run("Analyze headcount and average salary by department for 1997", user="bob")
    planner_prompt = model.calls[0].prompt
    # the catalog shows the model only the tools bob may call ("- name [department](args): ...")
    assert "- headcount_by_department [hr]" not in planner_prompt and "- attrition [hr]" not in planner_prompt
    assert "- sales_by_region [sales]" in planner_prompt
    refused = AuditLog(home / "audit.jsonl").records()
    assert [(r.user, r.tool, r.status) for r in refused] == [("bob", "headcount_by_department", "refused")]


def test_a_mixed_plan_keeps_the_permitted_tasks(warehouse, policy_file: Path, home) -> None:
    plan = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1997"}),
            task("t2", "attrition", "hr", {"period": "1997"}),
        ]
    }
    aw = session(warehouse, ScriptedModel({"plan": [plan]}), policy_file, settings=_settings())
    result = aw.run("Analyze revenue by region and attrition for 1997", user="bob")
    assert list(result.outcomes) == ["t1"] and result.outcomes["t1"].status == TaskStatus.DONE
    assert any("t2: refused" in r and "department 'hr'" in r for r in result.plan_repairs)
    assert [e.task_id for e in result.events if e.type == "task_refused"] == ["t2"]


def test_the_specialist_refuses_again_where_the_tool_runs(warehouse, policy_file: Path, home) -> None:
    # Plan validation is not the only guard: a task that reaches the specialist is checked again.
    aw = session(warehouse, ScriptedModel({}), policy_file)
    registry = aw.registry
    bob = aw.access("bob")
    specialist = Specialist("hr", registry.for_department("hr"), aw.model, access=bob, user="bob")
    hr_task = AtomicTask(id="t1", department="hr", tool="headcount_by_department", args={"period": "1997"})
    outcome = specialist.run(hr_task, {}, "headcount")
    assert outcome.status == TaskStatus.FAILED and outcome.error_type == "PermissionDenied"
    assert outcome.result is None and "may not use department 'hr'" in (outcome.error or "")
    alice = Specialist("hr", registry.for_department("hr"), aw.model, access=aw.access("alice"))
    assert alice.run(hr_task, {}, "headcount").status == TaskStatus.DONE


def test_a_non_hr_user_is_refused_salaries_through_ask_warehouse(warehouse, policy_file: Path, home) -> None:
    model = ScriptedModel({"sql": [SALARY_SQL]})  # strict: refused at once, not asked again
    aw = session(warehouse, model, policy_file)
    result = aw.run("What is the average salary by department?", user="bob")
    outcome = result.outcomes["t1"]
    assert outcome.task.tool == "ask_warehouse" and outcome.status == TaskStatus.FAILED
    assert outcome.error_type == "PermissionDenied"
    assert "may not read table 'employees'" in (outcome.error or "")
    assert AuditLog(home / "audit.jsonl").records()[-1].status == "refused"
    assert result.stop_reason != StopReason.COMPLETED and "55" not in result.answer
    # the schema the SQL analyst showed the model has no employees table at all
    sql_prompt = model.calls[0].prompt
    assert "employees" not in sql_prompt and "orders" in sql_prompt


def test_a_non_hr_user_is_refused_salaries_through_sql_query(warehouse, policy_file: Path, home) -> None:
    plan = {"tasks": [task("t1", "sql_query", "analysis", {"sql": SALARY_SQL})]}
    aw = session(warehouse, ScriptedModel({"plan": [plan]}), policy_file, settings=_settings())
    result = aw.run("Analyze average salary per department with SQL", user="bob")
    outcome = result.outcomes["t1"]
    assert outcome.error_type == "PermissionDenied" and outcome.result is None
    record = AuditLog(home / "audit.jsonl").records()[-1]
    assert (record.tool, record.status, record.args["sql"]) == ("sql_query", "refused", SALARY_SQL)


def test_an_hr_user_gets_the_salaries(warehouse, policy_file: Path, home) -> None:
    plan = {"tasks": [task("t1", "sql_query", "analysis", {"sql": SALARY_SQL})]}
    aw = session(warehouse, ScriptedModel({"plan": [plan]}), policy_file, settings=_settings())
    result = aw.run("Analyze average salary per department with SQL", user="alice")
    table = result.tables["t1"]
    expected = warehouse.fetch(SALARY_SQL)
    assert table.rows == expected.rows and all(r[1] is not None for r in table.rows)


# -- masked columns ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT name, salary FROM employees ORDER BY employee_id LIMIT 3",
        "SELECT * FROM employees ORDER BY employee_id LIMIT 3",
        "SELECT e.salary AS pay FROM employees e ORDER BY e.employee_id LIMIT 3",
        "SELECT max(salary) AS top, avg(salary) AS mean FROM employees",
        "WITH pay AS (SELECT salary FROM employees) SELECT sum(salary) AS s FROM pay",
        "SELECT count(*) AS rich FROM employees WHERE salary > 0",
        "SELECT department FROM employees WHERE employee_id IN "
        "(SELECT employee_id FROM employees ORDER BY salary DESC LIMIT 1)",
    ],
)
def test_masked_columns_read_as_null_however_a_query_uses_them(
    warehouse, policy_file: Path, sql: str
) -> None:
    manager = warehouse.governed(Policy.load(policy_file).access("mo", _scopes(warehouse)))
    unmasked = warehouse.run_query(sql)
    result = manager.run_query(sql)
    assert result.masked == ("employees.salary",) and "masked for you" in result.note
    salary_like = [
        i for i, c in enumerate(result.table.columns) if c in ("salary", "pay", "top", "mean", "s")
    ]
    for row in result.table.rows:
        assert all(row[i] is None for i in salary_like)
    if "name" in result.table.columns:  # only salary is masked for a manager
        i = result.table.columns.index("name")
        assert [r[i] for r in result.table.rows] == [r[i] for r in unmasked.table.rows]
    if "WHERE salary > 0" in sql:  # a filter on a masked column sees NULL: it finds nothing
        assert result.table.rows == [[0]] and unmasked.table.rows[0][0] > 0


def test_masked_columns_are_left_out_of_the_schema_a_user_sees(warehouse, policy_file: Path) -> None:
    policy = Policy.load(policy_file)
    manager = warehouse.governed(policy.access("mo", _scopes(warehouse)))
    assert "salary" not in [c for c, _ in manager.columns("employees")]
    assert "salary" not in manager.schema_summary(with_counts=False)
    analyst = warehouse.governed(policy.access("bob", _scopes(warehouse)))
    assert "employees" not in analyst.tables()
    with pytest.raises(PermissionDenied, match="may not read table 'employees'"):
        analyst.describe("employees")
    with pytest.raises(PermissionDenied, match="may not read table 'employees'"):
        analyst.run_query("SELECT 1 FROM orders WHERE EXISTS (SELECT 1 FROM employees)")
    with pytest.raises(PermissionDenied, match="WITH clause may not be named like the table 'employees'"):
        analyst.run_query("WITH employees AS (SELECT 1 AS salary) SELECT * FROM employees")


def test_a_tool_result_column_named_like_a_masked_column_is_emptied(warehouse, home) -> None:
    @tool(tables=("employees",))
    def staff_list(ctx: RunContext) -> Table:
        """Every employee's name and department."""
        return ctx.warehouse.fetch("SELECT name, department FROM employees ORDER BY employee_id LIMIT 3")

    policy = Policy.parse(
        {
            "default": ["staff"],
            "roles": {"staff": {"departments": "*", "masked_columns": ["employees.name"]}},
        }
    )
    plan = {"tasks": [task("t1", "staff_list", "people", {})]}
    aw = Atomwork(
        model=ScriptedModel({"plan": [plan]}),
        warehouse=warehouse,
        departments=[Department("people", "Who works here", [staff_list])],
        policy=policy,
        memory=False,
        settings=_settings(),
    )
    result = aw.run("Analyze the staff list")
    table = result.tables["t1"]
    assert [r[0] for r in table.rows] == [None, None, None] and all(r[1] for r in table.rows)
    summary = result.outcomes["t1"].result.summary  # type: ignore[union-attr]
    assert "Masked for you: employees.name" in summary
    real_names = warehouse.fetch("SELECT name FROM employees ORDER BY employee_id LIMIT 3").rows
    assert not any(str(n[0]) in summary or str(n[0]) in result.answer for n in real_names)


# -- department limits are permissions too ------------------------------------------------------------


def test_a_sales_session_cannot_read_hr_tables_with_sql(warehouse, home) -> None:
    plan = {"tasks": [task("t1", "sql_query", "analysis", {"sql": SALARY_SQL})]}
    aw = Atomwork(
        model=ScriptedModel({"plan": [plan]}),
        warehouse=warehouse,
        departments=["sales"],
        memory=False,
        settings=_settings(),
    )
    result = aw.run("Analyze average salary per department with SQL")
    outcome = result.outcomes["t1"]
    assert outcome.error_type == "PermissionDenied"
    assert "table 'employees' is outside this session's departments" in (outcome.error or "")
    # the sales tables stay open to SQL
    sales = aw.access()
    assert sales is not None and sales.table_refusal("orders") is None
    # and a run narrowed to sales in a full session is held to the same
    full = Atomwork(model=ScriptedModel({}), warehouse=warehouse, memory=False)
    narrowed = full.access(departments="sales")  # one name as a string: not split into letters
    assert narrowed is not None and narrowed.table_refusal("employees") is not None
    assert full.access() is None  # no policy, no narrowing: nothing is limited


# -- the audit log ------------------------------------------------------------------------------------


def test_an_audit_line_per_tool_call(warehouse, policy_file: Path, home) -> None:
    plan = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1997"}),
            task("t2", "sql_query", "analysis", {"sql": "SELECT count(*) AS n FROM orders"}),
            task("t3", "sql_query", "analysis", {"sql": SALARY_SQL}),
            task("t4", "attrition", "hr", {"period": "1997"}),
        ]
    }
    aw = session(warehouse, ScriptedModel({"plan": [plan]}), policy_file, settings=_settings())
    result = aw.run(
        "Analyze revenue by region for 1997, SQL queries on orders and salaries, and attrition", user="bob"
    )
    path = home / "audit.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    records = AuditLog(path).records()
    assert (
        len(lines) == len(records) == 4
    )  # three calls that ran or were refused where they ran, one at planning
    by_task = {r.task_id: r for r in records}
    assert {r.run_id for r in records} == {result.run_id} and {r.user for r in records} == {"bob"}
    assert (by_task["t1"].tool, by_task["t1"].status, by_task["t1"].rows) == ("sales_by_region", "done", 5)
    assert by_task["t1"].args == {"period": "1997"}
    t1 = result.outcomes["t1"].result
    assert t1 is not None and by_task["t1"].result_hash == _sha256(t1.model_dump_json())
    assert (by_task["t2"].status, by_task["t2"].rows) == ("done", 1)
    assert by_task["t3"].status == "refused" and by_task["t3"].result_hash is None
    assert by_task["t4"].status == "refused" and "department 'hr'" in (by_task["t4"].error or "")
    # append-only: a second run adds its lines after the first run's
    again = session(warehouse, ScriptedModel({"plan": [plan]}), policy_file, settings=_settings())
    again.run(
        "Analyze revenue by region for 1997, SQL queries on orders and salaries, and attrition", user="bob"
    )
    assert path.read_text(encoding="utf-8").splitlines()[:4] == lines
    assert len(AuditLog(path).records()) == 8


def test_an_audit_log_that_cannot_be_written(warehouse, policy_file: Path, home, tmp_path, caplog) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log's folder should be", encoding="utf-8")
    # under a policy, governed work is never done unaccounted for: the session refuses to start
    with pytest.raises(ConfigError, match="cannot write the audit log"):
        session(warehouse, ScriptedModel({}), policy_file, audit=blocked / "audit.jsonl")
    # without one, the session runs unaudited and says so
    with caplog.at_level(logging.WARNING, logger="atomwork.governance"):
        aw = session(warehouse, ScriptedModel({}), None, audit=blocked / "audit.jsonl")
    assert aw.governance.audit is None and "tool calls are not audited" in caplog.text


def _settings():
    from atomwork.settings import RunSettings

    # Plans run as given: no replanning, no model-written answer or scores to script.
    return RunSettings(max_replans=0, answer_with_model=False)


def _scopes(warehouse):
    from atomwork.pack import build_registry

    return build_registry(warehouse).scopes()


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_audit_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text("", encoding="utf-8")
    os.chmod(path, 0o644)  # made before, with a looser mode
    AuditLog.open(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_result_hash_is_of_the_result(tmp_path: Path) -> None:
    from atomwork.audit import result_hash

    a = ToolResult(summary="x", table=Table(columns=["a"], rows=[[1]]))
    b = ToolResult(summary="x", table=Table(columns=["a"], rows=[[2]]))
    assert result_hash(a) == result_hash(a.model_copy()) != result_hash(b)


def test_a_conversation_turn_is_governed_for_the_user_who_asks(warehouse, policy_file: Path, home) -> None:
    # The Slack bot asks each turn of a thread as the Slack user who wrote it.
    plan = {"tasks": [task("t1", "attrition", "hr", {"period": "1997"})]}
    aw = session(warehouse, ScriptedModel({"plan": [plan, plan]}), policy_file, settings=_settings())
    chat = aw.chat()
    with pytest.raises(PlanRefused, match="user 'bob'"):
        chat.ask("Analyze attrition for 1997", user="bob")
    assert chat.ask("Analyze attrition for 1997", user="alice").outcomes["t1"].ok
