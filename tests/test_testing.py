"""atomwork.testing: strict scripted model, function model, the model-request switch, tool checks."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from typing import Annotated

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from atomwork.errors import ConfigError, ModelError
from atomwork.models import load_model
from atomwork.models.guard import BLOCK_ENV, model_requests_allowed
from atomwork.pack import default_departments
from atomwork.table import Table
from atomwork.testing import (
    FunctionModel,
    ModelCallInfo,
    ModelRequestsBlocked,
    Purpose,
    ScriptedModel,
    ToolConformanceError,
    UnexpectedModelCall,
    allow_model_requests,
    block_model_requests,
    check_department,
    check_tool,
)
from atomwork.tool_result import ToolResult
from atomwork.tools import Department, RunContext, Tool, tool

ASK = [SystemMessage("You score results."), HumanMessage("Score this.")]
SCORE_SCHEMA = {
    "type": "object",
    "properties": {"reason": {"type": "string"}, "score": {"type": "integer"}},
    "required": ["reason", "score"],
}


class Verdict(BaseModel):
    reason: str
    score: int


# -- ScriptedModel ------------------------------------------------------------------------------


def test_scripted_model_answers_in_order_per_purpose():
    model = ScriptedModel(
        {"plan": ["first plan", "second plan"]},
        score=[{"reason": "ok", "score": 8}, Verdict(reason="meh", score=3)],
    )
    assert model.complete(ASK, purpose=Purpose.PLAN) == "first plan"
    assert model.structured(ASK, SCORE_SCHEMA, purpose=Purpose.SCORE) == {"reason": "ok", "score": 8}
    assert model.complete(ASK, purpose=Purpose.PLAN) == "second plan"
    assert model.structured(ASK, SCORE_SCHEMA, purpose=Purpose.SCORE) == {"reason": "meh", "score": 3}
    assert model.purposes() == [Purpose.PLAN, Purpose.SCORE, Purpose.PLAN, Purpose.SCORE]
    assert model.remaining() == {}
    model.assert_consumed()
    # token counts are estimated so usage accounting can be tested
    assert model.usage_since(0).by_purpose[Purpose.PLAN].calls == 2
    assert model.usage_since(0).prompt_tokens > 0


def test_unexpected_call_raises_and_is_remembered_even_when_swallowed():
    model = ScriptedModel(plan=["only plan"])
    model.complete(ASK, purpose=Purpose.PLAN)
    with pytest.raises(UnexpectedModelCall, match=r"unexpected 'plan' model call #1.*Score this"):
        model.complete(ASK, purpose=Purpose.PLAN)
    with contextlib.suppress(Exception):  # code under test may swallow it; the model remembers the call
        model.complete(ASK, purpose=Purpose.ANSWER)
    with pytest.raises(UnexpectedModelCall, match=r"unexpected 'plan' call #1; unexpected 'answer' call #2"):
        model.assert_consumed()


def test_replies_left_unused_fail_on_leaving_the_block():
    script = ScriptedModel(plan=["p"], score=[{"reason": "r", "score": 1}], answer=["a", "b"])
    with (
        pytest.raises(UnexpectedModelCall, match=r"1 unused 'score' reply; 2 unused 'answer' replies"),
        script as model,
    ):
        model.complete(ASK, purpose=Purpose.PLAN)
    # an error inside the block is reported as it is, not hidden behind the leftovers
    with pytest.raises(ZeroDivisionError), ScriptedModel(plan=["p"]):
        _ = 1 / 0


def test_exception_replies_are_raised_and_bad_scripts_are_refused():
    model = ScriptedModel(plan=[ModelError("endpoint down")])
    with pytest.raises(ModelError, match="endpoint down"):
        model.complete(ASK, purpose=Purpose.PLAN)
    with pytest.raises(ConfigError, match="unknown model-call purpose 'planning'"):
        ScriptedModel(planning=["x"])
    with pytest.raises(ConfigError, match="must be a list of replies"):
        ScriptedModel(plan="not a list")  # type: ignore[arg-type]


def test_scripted_model_from_a_file_via_the_model_spec(tmp_path):
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({"answer": ["Forty-two."], "score": [{"reason": "ok", "score": 9}]}))
    model = load_model(f"scripted:{replies}")
    assert isinstance(model, ScriptedModel)
    assert model.complete(ASK, purpose=Purpose.ANSWER) == "Forty-two."
    assert model.remaining() == {Purpose.SCORE: 1}
    # a script or the CLI cannot call assert_consumed, so a model read from a file checks on close
    with pytest.raises(UnexpectedModelCall, match="1 unused 'score' reply"):
        model.close()
    with pytest.raises(ConfigError, match="cannot read scripted replies"):
        load_model(f"scripted:{tmp_path / 'missing.json'}")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        load_model(f"scripted:{tmp_path / 'bad.json'}")


# -- FunctionModel ------------------------------------------------------------------------------


def test_function_model_gets_typed_call_info():
    seen: list[ModelCallInfo] = []

    def reply(info: ModelCallInfo) -> dict[str, object] | str:
        seen.append(info)
        if info.tool is not None:
            return {"group_by": "priority"}
        return {"reason": "fine", "score": 7} if info.purpose is Purpose.SCORE else "plain text"

    model = FunctionModel(reply)
    assert model.complete(ASK, max_tokens=33, stop=["\n\n"], repeat_penalty=1.1) == "plain text"
    assert model.structured(ASK, SCORE_SCHEMA, purpose=Purpose.SCORE, max_tokens=64)["score"] == 7
    params = {"type": "object", "properties": {"group_by": {"enum": ["priority", "region"]}}}
    args = model.tool_arguments(
        ASK, tool_name="ticket_stats", description="ticket counts", parameters=params, purpose=Purpose.ARGS
    )
    assert args == {"group_by": "priority"}
    first, second, third = seen
    assert (first.index, first.purpose, first.max_tokens, first.json_schema) == (0, Purpose.CHAT, 33, None)
    assert first.stop == ["\n\n"] and first.repeat_penalty == 1.1
    assert first.system == "You score results." and first.user == "Score this."
    assert (second.purpose, second.max_tokens, second.json_schema) == (Purpose.SCORE, 64, SCORE_SCHEMA)
    assert second.tool is None
    assert third.purpose is Purpose.ARGS and third.tool is not None
    assert (third.tool.name, third.tool.parameters) == ("ticket_stats", params)
    assert [c.purpose for c in model.calls] == [Purpose.CHAT, Purpose.SCORE, Purpose.ARGS]


# -- blocking real model requests ---------------------------------------------------------------


def test_blocked_real_models_fail_before_loading_or_connecting(monkeypatch):
    monkeypatch.delenv(BLOCK_ENV, raising=False)
    with block_model_requests():
        assert not model_requests_allowed()
        with pytest.raises(ModelRequestsBlocked, match=r"real model requests are blocked.*llama\.cpp"):
            load_model("embedded")
        with pytest.raises(ModelRequestsBlocked, match=r"model endpoint http://127.0.0.1:9/v1"):
            load_model("vllm:http://127.0.0.1:9/v1")  # refused before any (retried) connection attempt
        # test doubles are not affected
        assert FunctionModel(lambda info: "ok").complete(ASK) == "ok"
    assert model_requests_allowed()


def test_environment_flag_blocks_and_allow_overrides_it(monkeypatch):
    monkeypatch.setenv(BLOCK_ENV, "1")
    assert not model_requests_allowed()
    with allow_model_requests():
        assert model_requests_allowed()
        with block_model_requests():
            assert not model_requests_allowed()
        assert model_requests_allowed()
    assert not model_requests_allowed()


def test_environment_flag_reaches_the_cli_as_one_clear_line(atomwork_home, warehouse_path):
    env = {**os.environ, BLOCK_ENV: "1", "ATOMWORK_HOME": str(atomwork_home)}
    args = ["run", "revenue by region", "--model", "embedded", "--warehouse", str(warehouse_path)]
    proc = subprocess.run(
        [sys.executable, "-m", "atomwork.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "real model requests are blocked" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


# -- conformance checks -------------------------------------------------------------------------

PRICES = {"apple": 0.5, "pear": 0.75}


@tool
def fruit_prices(
    fruit: Annotated[str, Field(description="fruit name", examples=["apple"])],
    quantity: Annotated[int, Field(description="how many", ge=1)] = 1,
) -> Table:
    """Price of some fruit."""
    return Table(columns=["fruit", "price"], rows=[[fruit, PRICES[fruit] * quantity]])


@tool
def shout(ctx: RunContext, word: Annotated[str, Field(description="a word")]) -> str:
    """Shout a word for the user."""
    return f"{word.upper()}! (for {ctx.user})"


def test_check_tool_passes_a_good_tool_and_returns_its_result():
    result = check_tool(fruit_prices)
    assert isinstance(result, ToolResult) and result.table is not None
    assert result.table.rows == [["apple", 0.5]]
    assert check_tool(fruit_prices, {"fruit": "pear", "quantity": 2}).table.rows == [["pear", 1.5]]  # type: ignore[union-attr]
    shouted = check_tool(shout, {"word": "hi"}, ctx=RunContext(user="ada"))
    assert shouted is not None and shouted.summary == "HI! (for ada)"


def test_check_tool_lists_every_problem():
    class BadArgs(BaseModel):
        fruit: str
        count: int

    def bad(fruit: str, count: int) -> ToolResult:
        return ToolResult(summary="fruit", table=Table(columns=["fruit", "fruit"], rows=[[fruit]]))

    # @tool refuses a function without a docstring; a hand-built Tool can still lack one
    bad_tool = Tool(name="bad_tool", description=" ", args_model=BadArgs, fn=bad, department="fruit")
    with pytest.raises(ToolConformanceError) as info:
        check_tool(bad_tool)
    problems = info.value.problems
    assert "no description: the planner chooses tools by it (write a docstring)" in problems
    assert any("argument 'fruit' has no description" in p for p in problems)
    assert any("no example value for required argument 'count'" in p for p in problems)

    with pytest.raises(ToolConformanceError) as info:
        check_tool(bad_tool, {"fruit": "apple", "count": 1})
    problems = info.value.problems
    assert "result table repeats a column name: ['fruit', 'fruit']" in problems
    assert "result rows [0] do not have 2 cells" in problems


def test_check_tool_reports_failing_calls_and_bad_example_args():
    with pytest.raises(ToolConformanceError, match=r"calling it with \{'fruit': 'kiwi'\} raised KeyError"):
        check_tool(fruit_prices, {"fruit": "kiwi"})
    with pytest.raises(ToolConformanceError, match=r"example args .* rejected: bad arguments.*quantity"):
        check_tool(fruit_prices, {"fruit": "apple", "quantity": 0})


def test_check_tool_does_not_call_a_tool_that_needs_approval():
    calls: list[str] = []

    @tool(requires_approval=True)
    def delete_fruit(fruit: Annotated[str, Field(description="fruit to delete", examples=["apple"])]) -> str:
        """Delete a fruit from the price list."""
        calls.append(fruit)
        return f"deleted {fruit}"

    assert check_tool(delete_fruit) is None
    assert calls == []
    assert check_tool(delete_fruit, invoke=True) is not None and calls == ["apple"]


def test_check_department():
    fruit = Department("fruit", "Fruit prices of the market stall", [fruit_prices, shout])
    results = check_department(fruit, {"shout": {"word": "hey"}})
    assert set(results) == {"fruit_prices", "shout"}
    with pytest.raises(
        ToolConformanceError, match=r"no description.*example args for tools it does not have: nope"
    ):
        check_department(Department("empty"), {"nope": {}})


# The demo enterprise pack passes the same check a user's department gets.
_PACK_ARGS: dict[str, dict[str, object]] = {
    "sql_query": {"sql": "SELECT count(*) AS n FROM orders"},
    "detect_anomalies": {
        "table": {"columns": ["region", "revenue"], "rows": [["A", 1.0], ["B", 1.1], ["C", 0.9], ["D", 9.0]]},
        "value_column": "revenue",
    },
    "compare_periods": {"metric": "revenue", "period_a": "1996", "period_b": "1997"},
    "ask_warehouse": {"question": "How many orders were placed in 1997?"},
    "draft_report": {"title": "Revenue", "inputs": ["revenue was 5 in 1997"]},
}


def test_the_default_pack_conforms(warehouse):
    def reply(info: ModelCallInfo) -> str:
        if info.purpose is Purpose.SQL:
            return "SELECT count(*) AS orders FROM orders WHERE year(o_orderdate) = 1997"
        assert info.purpose is Purpose.REPORT, info.purpose
        return "Revenue was 5 in 1997."

    model = FunctionModel(reply)
    ctx = RunContext(warehouse=warehouse, model=model)
    checked = []
    for department in default_departments(warehouse):
        args = {
            t.name: _PACK_ARGS.get(
                t.name, {"period": "1997"} if "period" in t.args_model.model_fields else {}
            )
            for t in department.tools
        }
        results = check_department(department, args, ctx=ctx)
        assert all(r is not None for r in results.values())
        checked += list(results)
    assert {"sales_by_region", "budget_vs_actual", "ask_warehouse", "draft_report"} <= set(checked)
    assert Purpose.SQL in [c.purpose for c in model.calls] and Purpose.REPORT in [
        c.purpose for c in model.calls
    ]
