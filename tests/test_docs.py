"""Docs that run: the README's Python blocks and every script in examples/, on scripted replies.

The code stays plain user code: the model comes from ``ATOMWORK_MODEL=scripted:<file>`` (strict:
an unexpected call or an unused reply fails the run), and real models are blocked throughout.
Each goal's replies are below; the figures the docs print are checked against the data itself.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from atomwork.examples.mcp_department import STOCK
from atomwork.figures import format_number
from atomwork.models.guard import BLOCK_ENV
from atomwork.policy import Policy
from atomwork.tools.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "__init__.py")


def task(
    task_id: str, tool: str, department: str, args: dict[str, Any], deps: list[str] | None = None
) -> dict:
    return {
        "id": task_id,
        "tool": tool,
        "department": department,
        "args": args,
        "depends_on": deps or [],
        "success_criteria": "a correct, non-empty result",
    }


def plan(*tasks: dict) -> dict:
    return {"tasks": list(tasks)}


SALARY_SQL = "SELECT department, round(avg(salary), 2) AS avg_salary FROM employees GROUP BY 1 ORDER BY 1"


REPLIES: dict[str, dict[str, list[Any]]] = {
    # README
    "Revenue by region for 1997 and flag unusual regions": {
        "plan": [
            plan(
                task("t1", "sales_by_region", "sales", {"period": "1997"}),
                task(
                    "t2",
                    "detect_anomalies",
                    "analysis",
                    {"table": "$t1", "value_column": "revenue", "label_column": "region"},
                    ["t1"],
                ),
            )
        ],
        "answer": ["Revenue by region for 1997 is in t1; t2 checked every region for unusual revenue."],
    },
    "Analyze revenue by region for 1996": {
        "plan": [plan(task("t1", "sales_by_region", "sales", {"period": "1996"}))],
    },
    "Analyze revenue by region for 1997": {
        "plan": [plan(task("t1", "sales_by_region", "sales", {"period": "1997"}))],
    },
    "Flag unusual regions in that": {  # a follow-up: its task reads the earlier turn's t1
        "plan": [
            plan(
                task(
                    "t2",
                    "detect_anomalies",
                    "analysis",
                    {"table": "$t1", "value_column": "revenue", "label_column": "region"},
                )
            )
        ],
        "answer": ["Every region of 1997 was checked for unusual revenue (t2)."],
    },
    "Analyze budget vs actual for 1997": {
        "plan": [plan(task("t1", "budget_vs_actual", "finance", {"period": "1997"}))],
    },
    "Analyze orders by priority for 1996": {
        "plan": [plan(task("t1", "orders_by_priority", "orders", {"year": 1996}))],
    },
    "Analyze the toy shop's stock levels": {
        "plan": [plan(task("t1", "stock_levels", "shop", {}))],
    },
    "Email revenue by region for 1997 to the CFO": {  # paused for the email's approval, then approved
        "plan": [
            plan(
                task("t1", "sales_by_region", "sales", {"period": "1997"}),
                task("t2", "email_table", "sales", {"to": "cfo@example.com", "table": "$t1"}, ["t1"]),
            )
        ],
        "answer": ["Revenue by region for 1997 is in t1, and t2 emailed it to the CFO."],
    },
    "Draft a report on revenue by region for 1996": {  # its budget ends it before the answer
        "plan": [
            plan(
                task("t1", "sales_by_region", "sales", {"period": "1996"}),
                task(
                    "t2",
                    "draft_report",
                    "reporting",
                    {"title": "Revenue by region, 1996", "inputs": ["$t1"]},
                    ["t1"],
                ),
            )
        ],
        "report": ["Revenue by region for 1996, every region in the table below."],
    },
    # one question each, straight to the SQL analyst: bob is refused at once, alice's two
    # sampled queries agree
    "What is the average salary by department?": {"sql": [SALARY_SQL]},
    "What is the average salary per department?": {"sql": [SALARY_SQL, SALARY_SQL]},
    # examples/
    "Analyze the bakery's sourdough revenue in March 2024": {
        "plan": [plan(task("t1", "bread_revenue", "bakery", {"bread": "sourdough", "month": "2024-03"}))],
    },
    "Analyze the toy shop's stock levels and what reordering 10 units of go would cost": {
        "plan": [
            plan(
                task("t1", "stock_levels", "shop", {}),
                task("t2", "reorder_cost", "shop", {"product": "go", "units": 10}),
            )
        ],
        "answer": ["Stock levels are in t1; t2 prices the reorder of go."],
    },
    "Analyze last quarter's sales by region, flag anomalies, draft a report for the sales director": {
        "plan": [
            plan(
                task("t1", "sales_by_region", "sales", {"period": "last_quarter"}),
                task(
                    "t2",
                    "detect_anomalies",
                    "analysis",
                    {"table": "$t1", "value_column": "revenue", "label_column": "region"},
                    ["t1"],
                ),
                task(
                    "t3",
                    "draft_report",
                    "reporting",
                    {"title": "Sales by region", "audience": "the sales director", "inputs": ["$t1", "$t2"]},
                    ["t1", "t2"],
                ),
            )
        ],
        "report": ["Headline: last quarter's revenue by region is below, with every region checked."],
    },
}


def goals_in(code: str) -> list[str]:
    """The goals a piece of code runs: the string given to ``.run(`` (or ``arun``, ``stream``,
    a conversation's ``ask``/``aask``), in order."""
    return re.findall(r"\b(?:a?run|stream|a?ask)\(\s*\"([^\"]+)\"", code)


def scripted(goals: list[str], folder: Path) -> str:
    """A ``scripted:`` model spec with the replies of ``goals`` (merged per purpose, in order)."""
    merged: dict[str, list[Any]] = {}
    for goal in goals:
        assert goal in REPLIES, f"no scripted replies for the goal {goal!r}: add them to REPLIES"
        for purpose, replies in REPLIES[goal].items():
            merged.setdefault(purpose, []).extend(replies)
    path = folder / f"replies-{len(list(folder.glob('replies-*')))}.json"
    path.write_text(json.dumps(merged), encoding="utf-8")
    return f"scripted:{path}"


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """``(line, code)`` of each fenced Python block."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", markdown, re.S | re.M):
        blocks.append((markdown.count("\n", 0, match.start()) + 2, match.group(1)))
    return blocks


@pytest.fixture
def docs_env(monkeypatch: pytest.MonkeyPatch, atomwork_home: Path, warehouse: Warehouse) -> Path:
    """Real models blocked; the demo warehouse built (under the session's ATOMWORK_HOME)."""
    monkeypatch.setenv(BLOCK_ENV, "1")
    monkeypatch.delenv("ATOMWORK_MODEL", raising=False)
    return atomwork_home


def _priority_counts(warehouse: Warehouse, year: int) -> list[list[Any]]:
    sql = "SELECT o_orderpriority, count(*) FROM orders WHERE year(o_orderdate) = ? GROUP BY 1 ORDER BY 1"
    return warehouse.fetch(sql, [year]).rows


def test_readme_python_blocks_run(
    docs_env: Path, warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The blocks run in reading order in one namespace, as a reader would paste them."""
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 5, "the README lost its Python examples"
    monkeypatch.chdir(ROOT)  # blocks name repository paths (examples/mcp_department.py)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    outputs: dict[int, str] = {}
    for line, code in blocks:
        goals = goals_in(code)
        if "ScriptedModel(" in code:  # the block scripts its own model
            monkeypatch.delenv("ATOMWORK_MODEL", raising=False)
        elif goals:
            monkeypatch.setenv("ATOMWORK_MODEL", scripted(goals, tmp_path))
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            try:
                exec(compile(code, f"README.md:{line}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(
                    f"README.md block at line {line} failed: {type(exc).__name__}: {exc}"
                ) from exc
        outputs[line] = printed.getvalue()
    text = "\n".join(outputs.values())
    # the figures printed are the warehouse's own
    for priority, count in _priority_counts(warehouse, 1996):
        assert f"| {priority} | {format_number(count)} |" in text
    for product, (units, cost) in STOCK.items():  # the MCP server's own data
        assert f"| {product} | {units} | {format_number(cost)} |" in text
    assert namespace["result"].ok
    # the email waited for approval, ran once approved; the budget kept the finished work
    assert "awaiting_approval [('t2', 'cfo@example.com')]" in text
    assert "completed - approved by alice at " in text and ": figures checked" in text
    assert "budget_exhausted model-call budget of 2 reached (2 calls) ['t1', 't2']" in text
    assert "{'t1': 0, 't2': 1}" in text
    # the async example streamed typed events and its follow-up reused the earlier table
    assert "t1 done" in text and "['t1'] completed" in text
    # the policy refused bob the salaries, gave them to alice, and the audit log says so
    assert "user 'bob' (roles: analyst; the policy) may not read table 'employees'" in text
    salaries = warehouse.fetch(SALARY_SQL).rows
    assert f"completed {salaries[:2]}" in text
    assert "bob ask_warehouse refused None" in text and f"alice ask_warehouse done {len(salaries)}" in text


def test_readme_policy_file_is_the_policy_the_example_uses(tmp_path: Path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Permissions, masking and audit") :]
    toml_block = re.search(r"^```toml\n(.*?)^```", section, re.S | re.M)
    python_block = re.search(r"^```python\n(.*?)^```", section, re.S | re.M)
    assert toml_block is not None and python_block is not None
    path = tmp_path / "policy.toml"
    path.write_text(toml_block.group(1), encoding="utf-8")
    parsed = re.search(r"Policy\.parse\(.*?\n(    \{.*?\n    \})\n\)", python_block.group(1), re.S)
    assert parsed is not None
    assert Policy.load(path).model_dump() == Policy.parse(ast.literal_eval(parsed.group(1))).model_dump()


def run_example(path: Path, home: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    code = path.read_text(encoding="utf-8")
    env = {
        **os.environ,
        "ATOMWORK_HOME": str(home),
        "ATOMWORK_MODEL": scripted(goals_in(code), folder),
        BLOCK_ENV: "1",
    }
    return subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, cwd=folder, timeout=300
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_scripts_run(path: Path, docs_env: Path, warehouse: Warehouse, tmp_path: Path):
    proc = run_example(path, docs_env, tmp_path)
    assert proc.returncode == 0, f"python examples/{path.name} failed:\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr
    check = CHECKS.get(path.stem)
    assert check is not None, f"examples/{path.name} has no output check in CHECKS"
    check(proc.stdout, tmp_path, warehouse)


def _own_data(out: str, folder: Path, warehouse: Warehouse) -> None:
    # The bakery's own file, queried here independently of the example's tools.
    with contextlib.closing(sqlite3.connect(folder / "bakery.sqlite")) as db:
        (revenue,) = db.execute(
            "SELECT sum(loaves * price) FROM sales WHERE bread = 'sourdough' AND day BETWEEN ? AND ?",
            ("2024-03-01", "2024-03-31"),
        ).fetchone()
    assert f"revenue: **{format_number(round(revenue, 2))}**" in out


def _mcp_department(out: str, folder: Path, warehouse: Warehouse) -> None:
    for product, (units, cost) in STOCK.items():
        assert f"| {product} | {units} | {cost:,.2f} |" in out
    assert f"reorder_cost: {10 * STOCK['go'][1]}" in out


def _quarterly_sales(out: str, folder: Path, warehouse: Warehouse) -> None:
    assert "Headline: last quarter's revenue by region" in out
    assert "stop reason: completed" in out
    sql = (
        "SELECT r_name, sum(l_extendedprice * (1 - l_discount)) FROM lineitem"
        " JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey"
        " JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey"
        " WHERE o_orderdate >= DATE '1998-04-01' AND o_orderdate < DATE '1998-07-01' GROUP BY 1"
    )
    for region, revenue in warehouse.fetch(sql).rows:
        assert f"| {region} | {revenue:,.2f} |" in out


CHECKS = {"own_data": _own_data, "mcp_department": _mcp_department, "quarterly_sales": _quarterly_sales}
