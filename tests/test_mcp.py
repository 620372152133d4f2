"""MCP tools as a department, against a real MCP server (tests/mcp_server.py) over stdio and
streamable HTTP: listed with their schemas, planned and called in an atomwork run."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mcp.types import CallToolResult, TextContent

from atomwork import Atomwork
from atomwork.errors import ConfigError, ToolError
from atomwork.models.purpose import Purpose
from atomwork.result import StopReason
from atomwork.testing import ScriptedModel, block_model_requests, check_department
from atomwork.tools.mcp import (
    MCPConnection,
    MCPDepartment,
    StdioServerParameters,
    mcp_department,
    result_from_mcp,
)

SERVER = Path(__file__).with_name("mcp_server.py")
GAMES = [["chess", 7, 22.0], ["go", 2, 35.0]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """The test server on streamable HTTP, on a free loopback port."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    f"MCP test server did not start: {proc.stderr.read() if proc.stderr else ''}"
                ) from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(timeout=10)


def stdio_server() -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=[str(SERVER)])


@pytest.fixture(params=["stdio", "http"])
def shop(request: pytest.FixtureRequest) -> Iterator[MCPDepartment]:
    server = stdio_server() if request.param == "stdio" else request.getfixturevalue("http_url")
    with mcp_department("shop", "Stock levels and reorder costs of the toy shop", server) as department:
        yield department


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    """A small user warehouse: the MCP tools bring their own data."""
    path = tmp_path / "shop.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE notes (id INTEGER, text TEXT)")
    return path


def test_tools_are_listed_with_their_schemas(shop: MCPDepartment):
    tools = {t.name: t for t in shop.tools}
    assert set(tools) == {"stock_levels", "reorder_cost", "shop_notice", "server_pid"}
    assert all(t.department == "shop" for t in shop.tools)
    stock = tools["stock_levels"]
    assert stock.description == "Units in stock and unit cost of every product of one category."
    category = stock.json_schema()["properties"]["category"]
    assert category["enum"] == ["puzzles", "games"] and category["description"] == "product category"
    assert stock.output_columns == ["product", "units", "unit_cost"]
    reorder = tools["reorder_cost"].json_schema()
    assert reorder["required"] == ["product"]
    assert reorder["properties"]["units"]["default"] == 10 and reorder["properties"]["units"]["minimum"] == 1
    # the args model validates like the server would, before any call
    with pytest.raises(ToolError, match=r"bad arguments for tool 'reorder_cost'.*units"):
        tools["reorder_cost"].invoke({"product": "go", "units": 0})


def test_calls_return_tables_and_text(shop: MCPDepartment):
    tools = {t.name: t for t in shop.tools}
    stock = tools["stock_levels"].invoke({"category": "games"})
    assert stock.table is not None and stock.table.columns == ["product", "units", "unit_cost"]
    assert stock.table.rows == GAMES
    assert tools["reorder_cost"].invoke({"product": "go", "units": 3}).summary == "reorder_cost: 105.0"
    assert tools["shop_notice"].invoke({}).summary == "shop_notice: Open 9 to 5, closed on Sundays."
    # one session serves calls from many worker threads at once
    with ThreadPoolExecutor(4) as pool:
        costs = list(
            pool.map(lambda n: tools["reorder_cost"].invoke({"product": "chess", "units": n}), range(1, 9))
        )
    assert [c.summary for c in costs] == [f"reorder_cost: {22.0 * n}" for n in range(1, 9)]


def test_server_errors_become_one_line_tool_errors(shop: MCPDepartment):
    reorder = next(t for t in shop.tools if t.name == "reorder_cost")
    with pytest.raises(ToolError) as info:
        reorder.invoke({"product": "kite"})
    message = str(info.value)
    assert message.startswith("MCP tool 'reorder_cost' failed:") and "unknown product 'kite'" in message
    assert "\n" not in message


def test_conformance_of_an_mcp_department(shop: MCPDepartment):
    results = check_department(shop, {"reorder_cost": {"product": "cube", "units": 4}})
    assert results["reorder_cost"] is not None and results["reorder_cost"].summary == "reorder_cost: 25.0"
    assert results["stock_levels"] is not None  # its enum gave the example argument


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_one_server_process_per_session_ended_on_close():
    shop = mcp_department("shop", "Toy shop", stdio_server(), tools=["server_pid", "shop_notice"])
    tools = {t.name: t for t in shop.tools}
    assert set(tools) == {"server_pid", "shop_notice"}  # only the tools asked for
    pid_tool = tools["server_pid"]
    pids = {pid_tool.invoke({}).summary for _ in range(3)}
    assert len(pids) == 1  # every call went to the same server process
    pid = int(pids.pop().removeprefix("server_pid: "))
    assert pid != os.getpid() and _alive(pid)
    shop.close()
    shop.close()  # closing twice is fine
    assert not _alive(pid)
    with pytest.raises(ToolError, match=r"MCP session with .* is closed"):
        tools["shop_notice"].invoke({})


def test_bad_servers_are_one_line_config_errors():
    with pytest.raises(
        ConfigError, match=r"cannot connect to MCP server no-such-mcp-server: FileNotFoundError"
    ):
        mcp_department("x", "y", StdioServerParameters(command="no-such-mcp-server"))
    with pytest.raises(ConfigError, match=r"cannot connect to MCP server http://127.0.0.1:\d+/mcp"):
        mcp_department("x", "y", f"http://127.0.0.1:{_free_port()}/mcp")
    with pytest.raises(ConfigError, match="must be an http"):
        mcp_department("x", "y", "toy-shop")
    with pytest.raises(ConfigError, match=r"has no tool 'launch'; it lists: stock_levels, reorder_cost"):
        mcp_department("x", "y", stdio_server(), tools=["launch"])


def test_structured_results_become_tables():
    def result(structured: object, text: str = "") -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)

    columns = result_from_mcp("t", result({"region": ["ASIA", "EUROPE"], "revenue": [1.5, 2.5]}))
    assert columns.table is not None and columns.table.rows == [["ASIA", 1.5], ["EUROPE", 2.5]]
    ragged = result_from_mcp("t", result({"result": [{"a": 1}, {"a": 2, "b": 3}]}))
    assert ragged.table is not None and ragged.table.columns == ["a", "b"]
    assert ragged.table.rows == [[1, None], [2, 3]]
    one_row = result_from_mcp("t", result({"total": 9.5, "currency": "EUR"}))
    assert one_row.table is not None and one_row.table.records() == [{"total": 9.5, "currency": "EUR"}]
    values = result_from_mcp("t", result({"result": ["a", "b"]}))
    assert values.table is not None and values.table.rows == [["a"], ["b"]]
    nested = result_from_mcp("t", result({"config": {"a": 1}}, "configured"))
    assert nested.table is None and nested.summary == "t: configured"
    with pytest.raises(ToolError, match=r"MCP tool 't' failed: first line$"):
        result_from_mcp(
            "t", CallToolResult(content=[TextContent(type="text", text="first line\nmore")], is_error=True)
        )


def _task(
    task_id: str, tool: str, args: dict[str, object], deps: list[str] | None = None
) -> dict[str, object]:
    return {
        "id": task_id,
        "tool": tool,
        "department": "shop",
        "args": args,
        "depends_on": deps or [],
        "success_criteria": "a useful result",
    }


def test_mcp_tools_are_planned_and_called_in_a_run(shop: MCPDepartment, warehouse_file: Path):
    plan = {
        "tasks": [
            _task("t1", "stock_levels", {"category": "games"}),
            _task("t2", "reorder_cost", {"product": "go", "units": 10}),
        ]
    }
    answer = "Games in stock: chess 7 units, go 2 units. Reordering go costs 350.0."
    with block_model_requests(), ScriptedModel(plan=[plan], answer=[answer]) as model:
        session = Atomwork(
            model=model, warehouse=warehouse_file, departments=[shop], save_runs=False, memory=False
        )
        with session:
            result = session.run("Analyze the toy shop's games stock and the cost of reordering go")
        assert result.stop_reason == StopReason.COMPLETED, result.answer
        assert result.tables["t1"].rows == GAMES
        assert result.outcomes["t2"].result is not None
        assert result.outcomes["t2"].result.summary == "reorder_cost: 350.0"
        assert result.answer.startswith(answer)
        # the planner was shown the server's tools, with their descriptions
        plan_prompt = next(c.prompt for c in model.calls if c.purpose is Purpose.PLAN)
        assert (
            "stock_levels" in plan_prompt
            and "What reordering some units of one product costs." in plan_prompt
        )
    # the session ended the MCP session with it
    with pytest.raises(ToolError, match="is closed"):
        shop.tools[0].invoke({"category": "games"})


def test_a_server_that_never_answers_times_out_cleanly():
    silent = StdioServerParameters(command=sys.executable, args=["-c", "import time; time.sleep(120)"])
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"did not answer within 1s"):
        MCPConnection(silent, connect_timeout=1)
    assert time.monotonic() - start < 15
