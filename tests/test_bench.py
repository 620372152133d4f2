"""The answer-accuracy benchmark on a scripted model: metrics computed by hand, the text-to-SQL and
ReAct baselines, the JSON record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel
from rich.console import Console

from atomwork.errors import ModelError
from atomwork.evals.baselines.react import (
    OUT_OF_STEPS,
    AtomworkChatModel,
    ReactSystem,
    parse_tool_calls,
    to_qwen_messages,
)
from atomwork.evals.baselines.text_to_sql import TextToSqlSystem, extract_sql, render_answer
from atomwork.evals.bench import AtomworkSystem, SystemAnswer, run_bench
from atomwork.evals.cases import DatasetName, EvalCase, Expect, Level
from atomwork.evals.report import accuracy_table, dataset_table, save_report
from atomwork.models import ScriptedModel
from atomwork.tools.base import Table
from atomwork.tools.warehouse import Warehouse

from .fakes import task

ORDERS = EvalCase(
    id="t-orders",
    dataset=DatasetName.DEMO,
    level=Level.FACT,
    department="sales",
    question="How many orders are there?",
    sql="SELECT count(*) AS orders FROM orders",
    expect=Expect.NUMBER,
)
CUSTOMERS = EvalCase(
    id="t-customers",
    dataset=DatasetName.DEMO,
    level=Level.FACT,
    department="sales",
    question="How many customers are there?",
    sql="SELECT count(*) AS customers FROM customer",
    expect=Expect.NUMBER,
)
REGIONS = EvalCase(
    id="t-regions",
    dataset=DatasetName.DEMO,
    level=Level.GROUPED,
    department="sales",
    question="How many nations per region?",
    sql="SELECT r_name AS region, count(*) AS nations FROM nation JOIN region ON n_regionkey = r_regionkey "
    "GROUP BY r_name ORDER BY r_name",
    expect=Expect.ROWS,
)

# One right SQL, one that runs but answers another question, one that does not run.
SCRIPTED_SQL = {
    ORDERS.question: "```sql\nSELECT count(*) AS orders FROM orders;\n```",
    CUSTOMERS.question: "Here you go:\nSELECT count(*) AS customers FROM orders",
    REGIONS.question: "```sql\nSELECT nope FROM nowhere\n```",
}


class Verdict(BaseModel):
    correct: bool
    detail: str
    expected: str


def numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"-?\d[\d,]*(?:\.\d+)?", text)]


def simple_score(case: EvalCase, expected: Table, answer: str, tables: Sequence[Table] = ()) -> Verdict:
    """Right when every expected row's last value appears as a number in the answer."""
    said = numbers(answer)
    wanted = [float(row[-1]) for row in expected.rows]
    ok = bool(wanted) and all(any(abs(w - s) < 1e-9 for s in said) for w in wanted)
    return Verdict(correct=ok, detail="all figures found" if ok else "figure missing", expected=str(wanted))


def user_text(messages: Sequence[BaseMessage]) -> str:
    return str(messages[-1].content)


@pytest.fixture()
def paths(warehouse_path: Path) -> Any:
    return lambda _dataset: warehouse_path


@pytest.fixture()
def expected(warehouse: Warehouse) -> Any:
    return lambda case: warehouse.run_query(case.sql).table


class Exploding:
    name = "exploding"

    def answer(self, case: EvalCase) -> SystemAnswer:
        raise RuntimeError(f"boom on {case.id}")

    def close(self) -> None:
        pass


def test_text_to_sql_metrics_match_hand_count(paths: Any, expected: Any, warehouse: Warehouse) -> None:
    model = ScriptedModel(lambda purpose, messages, schema: SCRIPTED_SQL[user_text(messages)])
    cases = [ORDERS, CUSTOMERS, REGIONS]
    report = run_bench(
        [TextToSqlSystem(model, paths), Exploding()], cases, model, expected=expected, score=simple_score
    )

    sql_records = [r for r in report.records if r.system == "text2sql"]
    assert [(r.case_id, r.correct, r.completed) for r in sql_records] == [
        ("t-orders", True, True),
        ("t-customers", False, True),
        ("t-regions", False, False),
    ]
    n_orders = warehouse.scalar("SELECT count(*) FROM orders")
    assert sql_records[0].answer == f"orders: {n_orders}"
    assert sql_records[2].stop_reason == "sql_error" and sql_records[2].error
    assert all(r.calls == 1 for r in sql_records)  # single shot: no retry after the SQL error
    assert [c.purpose for c in model.calls] == ["text2sql"] * 3
    assert "orders" in model.calls[0].prompt and "customer" in model.calls[0].prompt  # the schema

    sql, boom = report.metrics
    assert (sql.system, sql.model, sql.cases) == ("text2sql", "scripted", 3)
    assert sql.exact == pytest.approx(1 / 3)
    assert sql.exact_by_level == {"fact": pytest.approx(1 / 2), "grouped": 0.0, "multi": None}
    assert sql.completed_but_wrong == pytest.approx(1 / 3)
    assert sql.honest_failure == pytest.approx(1 / 3)
    assert sql.unverified_but_right == 0.0
    assert sql.mean_calls == 1.0
    assert sql.exact_by_dataset == {"demo": pytest.approx(1 / 3)}
    assert sql.p50_seconds_by_level["multi"] is None and sql.mean_seconds_by_level["fact"] is not None
    assert sql.peak_rss_mib > 10

    # An exception is that case's honest failure, never the end of the run.
    assert (boom.cases, boom.exact, boom.honest_failure, boom.completed_but_wrong) == (3, 0, 1, 0)
    assert boom.errors == 3
    assert report.records[-1].error == "RuntimeError: boom on t-regions"

    console = Console(record=True, width=250)
    console.print(accuracy_table(report.metrics))
    console.print(dataset_table(report.metrics))
    text = console.export_text()
    assert "text2sql" in text and "33%" in text and "50%" in text


def test_json_record_has_machine_info_and_cases(paths: Any, expected: Any, tmp_path: Path) -> None:
    model = ScriptedModel(lambda purpose, messages, schema: SCRIPTED_SQL[user_text(messages)])
    report = run_bench(
        [TextToSqlSystem(model, paths)], [ORDERS, CUSTOMERS], model, expected=expected, score=simple_score
    )
    path = save_report(report, tmp_path)
    assert path.parent == tmp_path and path.name.endswith("-scripted.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in ("platform", "cpu_count", "ram_mib", "python", "duckdb", "llama_cpp_python", "git_commit"):
        assert key in data["machine"]
    assert data["machine"]["cpu_count"] >= 1 and data["machine"]["duckdb"]
    assert [r["case_id"] for r in data["records"]] == ["t-orders", "t-customers"]
    assert data["metrics"][0]["exact"] == 0.5 and data["metrics"][0]["completed_but_wrong"] == 0.5


def test_token_counts_come_from_the_call_log(paths: Any, expected: Any) -> None:
    model = ScriptedModel(lambda purpose, messages, schema: SCRIPTED_SQL[user_text(messages)])
    report = run_bench(
        [TextToSqlSystem(model, paths)], [ORDERS, CUSTOMERS], model, expected=expected, score=simple_score
    )
    # One call per case, so each record holds exactly its own call's (estimated) token counts.
    logged = [(1, c.prompt_tokens, c.completion_tokens) for c in model.calls]
    assert [(r.calls, r.prompt_tokens, r.completion_tokens) for r in report.records] == logged
    assert logged[0][1] > 100  # the schema is in the prompt
    assert report.metrics[0].mean_prompt_tokens == (logged[0][1] + logged[1][1]) / 2


def test_extract_sql_and_render() -> None:
    assert extract_sql("```sql\nSELECT 1 AS x;\n```") == "SELECT 1 AS x"
    assert (
        extract_sql("Sure! WITH t AS (SELECT 1) SELECT * FROM t; -- done")
        == "WITH t AS (SELECT 1) SELECT * FROM t"
    )
    assert extract_sql("```\nselect 2\n```") == "select 2"
    assert extract_sql("I cannot answer that.") is None
    assert render_answer(Table(columns=["revenue"], rows=[[1234.5678]])) == "revenue: 1234.5678"
    grid = render_answer(Table(columns=["r", "v"], rows=[["ASIA", 1.23456], ["EUROPE", 2]]))
    assert grid.splitlines()[2] == "| ASIA | 1.23456 |"  # unrounded, for the scorer


# --------------------------------------------------------------------------- ReAct adapter


def test_parse_tool_calls_variants() -> None:
    names = ["sql_query", "sales_by_region"]
    msg = parse_tool_calls(
        'Let me look.\n<tool_call>\n{"name": "sql_query", "arguments": {"sql": "SELECT 1"}}\n</tool_call>',
        names,
    )
    assert msg.content == "Let me look."
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("sql_query", {"sql": "SELECT 1"})]
    assert msg.tool_calls[0]["id"]
    # Double-encoded arguments, missing closing tag.
    msg = parse_tool_calls(
        '<tool_call>{"name": "sales_by_region", "arguments": "{\\"period\\": \\"1997\\"}"}', names
    )
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("sales_by_region", {"period": "1997"})]
    # A bare JSON call naming a bound tool counts; an unknown tool or broken JSON is invalid.
    msg = parse_tool_calls('{"name": "sql_query", "arguments": {"sql": "SELECT 2"}}', names)
    assert msg.tool_calls[0]["args"] == {"sql": "SELECT 2"} and msg.content == ""
    msg = parse_tool_calls('<tool_call>{"name": "fly_to_moon", "arguments": {}}</tool_call>', names)
    assert not msg.tool_calls and len(msg.invalid_tool_calls) == 1
    msg = parse_tool_calls("<tool_call>{not json</tool_call>", names)
    assert not msg.tool_calls and msg.invalid_tool_calls
    # Several bare calls, one per line, the last cut off by the token limit.
    msg = parse_tool_calls(
        'I will query.\n{"name": "sql_query", "arguments": {"sql": "SELECT 1"}}\n'
        '{"name": "sales_by_region", "arguments": {"period": "1997"}}\n{"name": "sql_q',
        names,
    )
    assert [c["name"] for c in msg.tool_calls] == ["sql_query", "sales_by_region"]
    assert len(msg.invalid_tool_calls) == 1 and msg.content == "I will query."
    # A call repeated verbatim runs once.
    twice = '{"name": "sql_query", "arguments": {"sql": "SELECT 1"}}\n' * 2
    assert len(parse_tool_calls(twice, names).tool_calls) == 1
    # Without bound tools there is nothing to call: the text is the answer.
    assert not parse_tool_calls('{"name": "sql_query", "arguments": {}}').tool_calls
    msg = parse_tool_calls("Revenue was 12.", names)
    assert msg.content == "Revenue was 12." and not msg.tool_calls and not msg.invalid_tool_calls


def test_qwen_messages_render_tools_calls_and_responses() -> None:
    spec = {"name": "sql_query", "description": "run SQL", "parameters": {"type": "object", "properties": {}}}
    call = {"name": "sql_query", "args": {"sql": "SELECT 1"}, "id": "c1", "type": "tool_call"}
    out = to_qwen_messages(
        [
            SystemMessage("Be brief."),
            HumanMessage("q?"),
            AIMessage("", tool_calls=[call]),
            ToolMessage("one", tool_call_id="c1"),
            ToolMessage("two", tool_call_id="c2"),
        ],
        [spec],
    )
    assert [m.type for m in out] == ["system", "human", "ai", "human"]
    system = str(out[0].content)
    assert system.startswith("Be brief.\n\n# Tools") and '"name": "sql_query"' in system
    assert (
        str(out[2].content)
        == '<tool_call>\n{"name": "sql_query", "arguments": {"sql": "SELECT 1"}}\n</tool_call>'
    )
    assert (
        str(out[3].content)
        == "<tool_response>\none\n</tool_response>\n<tool_response>\ntwo\n</tool_response>"
    )


def test_react_runs_a_scripted_tool_call(paths: Any, expected: Any, warehouse: Warehouse) -> None:
    n_orders = warehouse.scalar("SELECT count(*) FROM orders")

    def respond(purpose: str, messages: Sequence[BaseMessage], schema: Any) -> str:
        assert purpose == "react"
        last = user_text(messages)
        if "<tool_response>" not in last:
            call = {"name": "sql_query", "arguments": {"sql": "SELECT count(*) AS n FROM orders"}}
            return f"<tool_call>\n{json.dumps(call)}\n</tool_call>"
        (seen,) = [int(n) for n in re.findall(r"\| (\d+) \|", last)]
        return f"There are {seen} orders."

    model = ScriptedModel(respond)
    report = run_bench([ReactSystem(model, paths)], [ORDERS], model, expected=expected, score=simple_score)
    record = report.records[0]
    assert record.answer == f"There are {n_orders} orders."
    assert (record.completed, record.stop_reason, record.correct) == (True, "completed", True)
    assert record.calls == 2
    first, second = model.calls
    assert "<tools>" in first.prompt and '"name": "sales_by_region"' in first.prompt
    assert '"name": "detect_anomalies"' not in first.prompt  # takes a Table: left out
    assert "<tool_call>" in second.prompt and "<tool_response>" in second.prompt


def test_react_tool_error_goes_back_to_the_model(paths: Any) -> None:
    replies = iter(
        [
            '<tool_call>{"name": "sales_by_region", "arguments": {"period": "someday"}}</tool_call>',
            '<tool_call>{"name": "sql_query", "arguments": {"sql": "SELECT 42 AS x"}}</tool_call>',
            "x is 42",
        ]
    )
    model = ScriptedModel(lambda purpose, messages, schema: next(replies))
    system = ReactSystem(model, paths)
    try:
        got = system.answer(ORDERS)
    finally:
        system.close()
    assert (got.completed, got.answer, got.tables) == (True, "x is 42", [])  # tool tables stay inside
    assert "<tool_response>\nError:" in model.calls[1].prompt and "someday" in model.calls[1].prompt
    assert "| 42 |" in model.calls[2].prompt


def test_react_step_limit_is_not_completed(paths: Any) -> None:
    model = ScriptedModel(
        {"react": ['<tool_call>{"name": "sql_query", "arguments": {"sql": "SELECT 1"}}</tool_call>']}
    )
    system = ReactSystem(model, paths, max_steps=6)
    try:
        got = system.answer(ORDERS)
    finally:
        system.close()
    assert (got.completed, got.stop_reason) == (False, "step_limit")
    assert got.answer != OUT_OF_STEPS
    assert 2 <= len(model.calls) <= 3


def test_react_malformed_call_is_not_completed(paths: Any) -> None:
    model = ScriptedModel({"react": ["<tool_call>{oops</tool_call>"]})
    system = ReactSystem(model, paths)
    try:
        got = system.answer(ORDERS)
    finally:
        system.close()
    assert (got.completed, got.stop_reason) == (False, "bad_tool_call")


def test_adapter_binds_tools_for_langgraph() -> None:
    model = ScriptedModel({"react": ["plain answer"]})
    chat = AtomworkChatModel(backend=model)
    bound = chat.bind_tools(
        [{"type": "function", "function": {"name": "f", "description": "d", "parameters": {}}}]
    )
    reply = bound.invoke([HumanMessage("hi")])
    assert reply.content == "plain answer" and "<tools>" in model.calls[0].prompt


def test_atomwork_system_answers_through_a_session(paths: Any, expected: Any, warehouse: Warehouse) -> None:
    n_orders = warehouse.scalar("SELECT count(*) FROM orders")
    plan = {"tasks": [task("t1", "sql_query", "analysis", {"sql": "SELECT count(*) AS orders FROM orders"})]}
    sql = "```sql\nSELECT count(*) AS orders FROM orders\n```"

    def respond(purpose: str, messages: Any, schema: Any) -> Any:
        # The engine's steps change; give each what it needs: the plan, the SQL, good scores, the answer.
        if purpose == "plan":
            return plan
        if purpose == "sql":
            return sql
        return {"reason": "fine", "score": 9} if schema else f"There are {n_orders} orders."

    model = ScriptedModel(respond)
    report = run_bench(
        [AtomworkSystem.for_model(model, paths)], [ORDERS], model, expected=expected, score=simple_score
    )
    record = report.records[0]
    assert (record.stop_reason, record.completed, record.correct) == ("completed", True, True)
    assert str(n_orders) in record.answer.replace(",", "")  # the session's own answer, passed through
    assert record.calls == len(model.calls) >= 1  # every call of the run is counted for this case
    assert report.metrics[0].completed_but_wrong == 0.0


def test_atomwork_system_failure_is_recorded(paths: Any, expected: Any) -> None:
    def refuse(purpose: str, messages: Any, schema: Any) -> Any:
        raise ModelError("scripted outage")

    model = ScriptedModel(refuse)
    system = AtomworkSystem.for_model(model, paths)
    report = run_bench([system], [ORDERS], model, expected=expected, score=simple_score)
    record = report.records[0]
    # Raised or reported as a stop reason, an outage is an honest failure.
    assert not record.completed and not record.correct and record.stop_reason != "completed"
    assert report.metrics[0].honest_failure == 1.0 and report.metrics[0].completed_but_wrong == 0.0


def test_defaults_use_the_eval_sets_sql_and_scorer() -> None:
    # No paths, expected answers or scorer given: dataset_path, expected_table and score_answer.
    model = ScriptedModel(lambda purpose, messages, schema: SCRIPTED_SQL[user_text(messages)])
    report = run_bench([TextToSqlSystem(model)], [ORDERS, CUSTOMERS], model)
    assert [(r.correct, r.completed) for r in report.records] == [(True, True), (False, True)]
    assert report.records[1].expected and report.records[1].detail
    assert report.metrics[0].completed_but_wrong == 0.5


def test_cli_runs_each_model_once_and_saves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: Any
) -> None:
    import importlib.util

    import atomwork.evals.datasets as datasets

    spec = importlib.util.spec_from_file_location(
        "run_benchmarks", Path(__file__).resolve().parent.parent / "benchmarks" / "run_benchmarks.py"
    )
    assert spec is not None and spec.loader is not None
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    loaded: list[ScriptedModel] = []

    def load(spec: str | None) -> ScriptedModel:
        model = ScriptedModel(lambda purpose, messages, schema: SCRIPTED_SQL[user_text(messages)])
        model.name = f"scripted-{spec}"
        loaded.append(model)
        return model

    monkeypatch.setattr(cli, "load_model", load)
    monkeypatch.setattr(datasets, "select_cases", lambda **filters: [ORDERS, CUSTOMERS])
    code = cli.main(["--model", "a", "--model", "b", "--systems", "text2sql", "--out", str(tmp_path)])
    assert code == 0
    assert [m.name for m in loaded] == ["scripted-a", "scripted-b"]
    assert all(len(m.calls) == 2 for m in loaded)  # every system on a model shares that one instance
    saved = sorted(p.name for p in tmp_path.glob("*.json"))
    assert len(saved) == 2 and saved[0].endswith("-scripted-a.json")
    out = capsys.readouterr().out
    assert "all models:" in out and "scripted-b" in out and "t-customers: WRONG" in out
    with pytest.raises(SystemExit):
        cli.main(["--systems", "text2sql,magic"])
