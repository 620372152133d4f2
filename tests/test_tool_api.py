"""The tool API users extend atomwork with: ``@tool`` from a typed function, ``RunContext``,
``Department`` and the registry, user departments in a session, approvals, LangChain tools and
department plug-ins from the ``atomwork.departments`` entry-point group."""

from __future__ import annotations

import sqlite3
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Literal

import duckdb
import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tools import StructuredTool
from langchain_core.tools import tool as langchain_tool
from pydantic import BaseModel, Field

import atomwork
from atomwork.errors import ConfigError, ToolError
from atomwork.models import ScriptedModel
from atomwork.pack import DEFAULT_DEPARTMENT, build_registry
from atomwork.result import StopReason, TaskStatus
from atomwork.settings import RunSettings
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools import ChoiceSource, Department, RunContext, Tool, ToolRegistry, tool
from atomwork.tools.approval import ApprovalRequest
from atomwork.tools.enterprise import enterprise_departments
from atomwork.tools.langchain import from_langchain
from atomwork.tools.plugins import ENTRY_POINT_GROUP, plugin_departments
from atomwork.tools.warehouse import Warehouse

from .fakes import task

QUIET = RunSettings(answer_with_model=False)


# --------------------------------------------------------------------------- @tool


@tool
def top_regions(
    period: Annotated[str, Field(description="a period like 1997"), ChoiceSource(kind="period")],
    n: Annotated[int, Field(ge=1, le=10)] = 3,
    order: Literal["asc", "desc"] = "desc",
) -> str:
    """The n regions with the most revenue.

    Looks only at complete months.

    Args:
        period: ignored, the Annotated description wins.
        n: how many regions
            to list.
        order: the sort order.
    """
    return f"{n} regions for {period} ({order})"


def test_schema_comes_from_hints_annotated_fields_and_the_docstring() -> None:
    assert isinstance(top_regions, Tool)
    assert top_regions.name == "top_regions" and not top_regions.takes_ctx
    assert top_regions.description == "The n regions with the most revenue. Looks only at complete months."
    schema = top_regions.json_schema()
    props = schema["properties"]
    assert schema["required"] == ["period"]
    assert props["period"]["description"] == "a period like 1997"
    assert props["n"] == {
        "default": 3,
        "description": "how many regions to list.",
        "maximum": 10,
        "minimum": 1,
        "title": "N",
        "type": "integer",
    }
    assert props["order"]["enum"] == ["asc", "desc"] and props["order"]["description"] == "the sort order."
    # the grounding metadata is read from the Annotated hint, and kept out of the schema
    assert top_regions.choices == {"period": ChoiceSource(kind="period")}
    assert "$defs" not in schema


def test_numpy_and_sphinx_docstrings_and_field_defaults() -> None:
    def numpy_style(city: str, days: int = Field(default=1, description="from Field")) -> str:
        """Weather for a city.

        Parameters
        ----------
        city : str
            The city,
            by name.
        days : int
            ignored: the Field description wins.
        """
        return city

    def sphinx_style(city: str) -> str:
        """Weather for a city.

        :param city: the city name
        :returns: the forecast
        """
        return city

    numpy_tool = tool(name="weather", description="Forecast.")(numpy_style)
    props = numpy_tool.json_schema()["properties"]
    assert numpy_tool.name == "weather" and numpy_tool.description == "Forecast."
    assert props["city"]["description"] == "The city, by name."
    assert props["days"]["description"] == "from Field" and props["days"]["default"] == 1
    sphinx_tool = tool(sphinx_style)
    assert sphinx_tool.description == "Weather for a city."
    assert sphinx_tool.json_schema()["properties"]["city"]["description"] == "the city name"


def test_bad_arguments_are_one_line_tool_errors() -> None:
    with pytest.raises(ToolError) as bad:
        top_regions.invoke({"period": "1997", "n": 0})
    assert str(bad.value) == (
        "bad arguments for tool 'top_regions': n: Input should be greater than or equal to 1"
    )
    with pytest.raises(ToolError, match="period: Field required"):
        top_regions.invoke({})
    with pytest.raises(ToolError, match="order: Input should be 'asc' or 'desc'"):
        top_regions(period="1997", order="sideways")
    assert "\n" not in str(bad.value)


def test_a_tool_is_called_like_its_function_and_its_output_becomes_a_result() -> None:
    assert top_regions("1997", 2).summary == "2 regions for 1997 (desc)"
    with pytest.raises(ToolError, match="got argument"):
        top_regions("1997", period="1998")

    @tool
    def as_table(rows: int) -> Table:
        """A table."""
        return Table(columns=["k", "v"], rows=[[f"r{i}", i] for i in range(rows)])

    result = as_table(rows=2)
    assert result.table is not None and len(result.table.rows) == 2
    assert result.summary == "2 row(s) with columns k, v; first row: k=r0, v=0."

    @tool
    def untyped_return(x: int):  # type: ignore[no-untyped-def]
        """Returns the wrong thing."""
        return {"x": x}

    with pytest.raises(ToolError, match="returned dict; return a ToolResult, a Table or a str"):
        untyped_return(x=1)


def test_bad_tool_definitions_are_one_line_config_errors() -> None:
    def no_hint(x) -> str:  # type: ignore[no-untyped-def]
        """Doc."""
        return ""

    def varargs(*x: int) -> str:
        """Doc."""
        return ""

    def late_ctx(x: int, ctx: RunContext) -> str:
        """Doc."""
        return ""

    def returns_int(x: int) -> int:
        """Doc."""
        return x

    def undocumented(x: int) -> str:
        return ""

    async def coroutine(x: int) -> str:
        """Doc."""
        return ""

    cases = [
        (no_hint, "parameter 'x' has no type hint"),
        (varargs, "must be a plain keyword parameter"),
        (late_ctx, "the RunContext parameter must come first"),
        (returns_int, "must return ToolResult, Table or str"),
        (undocumented, "has no description"),
        (coroutine, "async functions are not supported"),
    ]
    for fn, message in cases:
        with pytest.raises(ConfigError, match=message) as err:
            tool(fn)
        assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="choices name unknown argument"):
        tool(choices={"nope": ChoiceSource(kind="period")})(top_regions.fn)


# --------------------------------------------------------------------------- RunContext


@tool(tables=("sales",))
def total_sales(ctx: RunContext, region: str) -> ToolResult:
    """Total sales of one region, and who asked."""
    total = ctx.warehouse.scalar("SELECT sum(amount) FROM sales WHERE region = ?", [region])
    return ToolResult(summary=f"{region}: {total} (asked by {ctx.user or 'nobody'}, task {ctx.task_id})")


@tool
def summarise(ctx: RunContext, task_id: str) -> str:
    """Ask the model about an earlier table."""
    table = ctx.table(task_id)
    return ctx.model.complete([HumanMessage(f"summarise {table.columns}")])


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's own SQLite file: sales per region and product, 2023."""
    path = tmp_path_factory.mktemp("shop") / "shop.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE sales (region TEXT, product TEXT, amount REAL)")
    con.executemany(
        "INSERT INTO sales VALUES (?, ?, ?)",
        [
            ("north", "tea", 120.0),
            ("north", "coffee", 300.5),
            ("south", "tea", 80.0),
            ("south", "coffee", 410.25),
            ("south", "cocoa", 55.0),
        ],
    )
    con.commit()
    con.close()
    return path


def test_the_run_context_gives_warehouse_model_tables_and_user(shop_db: Path) -> None:
    assert total_sales.takes_ctx and "ctx" not in total_sales.json_schema()["properties"]
    with Warehouse.open(shop_db) as wh:
        bound = total_sales.bind(wh)
        assert bound.invoke({"region": "south"}).summary == "south: 545.25 (asked by nobody, task )"
        ctx = bound.context(user="U42", task_id="t7")
        assert bound.invoke({"region": "north"}, ctx).summary == "north: 420.5 (asked by U42, task t7)"
    with pytest.raises(ToolError, match="needs a warehouse, and its run context has none"):
        total_sales.invoke({"region": "north"})

    model = ScriptedModel({"chat": ["a table of regions"]})
    ctx = RunContext(model=model, tables={"t1": Table(columns=["region"], rows=[["north"]])})
    assert not ctx.used_model
    assert summarise.invoke({"task_id": "$t1"}, ctx).summary == "a table of regions"
    assert ctx.used_model and "['region']" in model.calls[0].prompt
    with pytest.raises(ToolError, match=r"no table from task 't9'; tables so far: t1"):
        summarise.invoke({"task_id": "t9"}, ctx)
    with pytest.raises(ToolError, match="needs a model"):
        summarise.invoke({"task_id": "t1"}, RunContext(tables=ctx.tables))


# --------------------------------------------------------------------------- Department and registry


def test_a_department_owns_its_tools() -> None:
    def shipped(order_id: int) -> str:
        """Whether an order has shipped."""
        return "yes"

    ops = Department("ops", "Orders", [shipped, top_regions], instructions="Use order ids as given.")
    assert ops.tool_names() == ["shipped", "top_regions"]
    assert {t.department for t in ops.tools} == {"ops"}
    assert top_regions.department == ""  # the decorated original is left as it was
    with pytest.raises(ConfigError, match="bad department name 'Sales Team'"):
        Department("Sales Team")
    with pytest.raises(ConfigError, match="two tools named 'top_regions'"):
        Department("ops", tools=[top_regions, top_regions])
    with pytest.raises(ConfigError, match="belongs to department 'ops', not 'hr'"):
        Department("hr", tools=[ops.tools[0]])
    with pytest.raises(ConfigError, match="is not a tool"):
        Department("hr", tools=[42])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="registered twice"):
        ToolRegistry(departments=[ops, Department("other", tools=[top_regions])])


def test_registry_flags_replace_department_names(warehouse: Warehouse) -> None:
    registry = ToolRegistry(departments=enterprise_departments())
    assert registry.report_departments() == ["reporting"]
    assert registry.writes_report("draft_report") and not registry.writes_report("sales_by_region")
    narrowed = registry.restricted_to(["finance"])
    assert narrowed.departments() == ["finance", "analysis", "reporting"]  # shared ones are kept
    with pytest.raises(ConfigError, match=r"unknown department.*astrology.*known departments: sales"):
        registry.restricted_to(["astrology"])
    # A user department flagged as the report writer takes the role, whatever its name.
    memo = Department("memos", tools=[top_regions], shared=True, writes_report=True)
    own = ToolRegistry(departments=[Department("shop", tools=[total_sales]), memo])
    assert own.report_departments() == ["memos"] and own.restricted_to(["shop"]).departments() == [
        "shop",
        "memos",
    ]


def test_tools_whose_tables_or_dates_are_missing_are_hidden(warehouse: Warehouse, shop_db: Path) -> None:
    shop = Department("shop", tools=[total_sales])
    registry = ToolRegistry(departments=[*enterprise_departments(), shop])
    on_demo = registry.bound_to(warehouse)
    assert "total_sales" not in on_demo and "sales_by_region" in on_demo  # the demo has no "sales"
    with Warehouse.open(shop_db) as wh:
        on_shop = registry.bound_to(wh)
        assert on_shop.departments() == ["analysis", "reporting", "shop"]
        assert on_shop.get("total_sales").warehouse is wh


def test_a_period_tool_needs_a_dated_warehouse(tmp_path: Path) -> None:
    path = tmp_path / "undated.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE region AS SELECT 'ASIA' AS r_name").close()
    with Warehouse.open(path) as wh:
        assert not top_regions.available_in(wh)  # a period argument, and no order dates
        assert total_sales.available_in(wh) is False and summarise.available_in(wh)


# --------------------------------------------------------------------------- user departments in a session


@tool(tables=("sales",))
def revenue_by_product(ctx: RunContext) -> Table:
    """Revenue per product, all regions."""
    return ctx.warehouse.fetch(
        "SELECT product, round(sum(amount), 2) AS revenue FROM sales GROUP BY 1 ORDER BY 2 DESC"
    )


@tool(tables=("sales",))
def region_revenue(ctx: RunContext, region: str) -> Table:
    """Revenue of one region."""
    return ctx.warehouse.fetch(
        "SELECT region, sum(amount) AS revenue FROM sales WHERE region = ? GROUP BY 1", [region]
    )


def test_user_department_is_planned_and_run_with_the_scripted_model(
    shop_db: Path, atomwork_home: Path
) -> None:
    shop = Department("shop", "Sales of the web shop", [revenue_by_product, region_revenue])
    plan = {
        "tasks": [
            task("t1", "revenue_by_product", "shop"),
            task("t2", "region_revenue", "shop", {"region": "south"}),
        ]
    }
    model = ScriptedModel({"plan": [plan]})
    with atomwork.Atomwork(
        model=model, warehouse=shop_db, departments=[shop], settings=QUIET, memory=False
    ) as aw:
        assert aw.registry.departments() == ["analysis", "reporting", "shop"]
        assert "- revenue_by_product [shop]()" in aw.registry.catalog()
        result = aw.run("Analyze the revenue of every product and of the south region")
    assert result.stop_reason == StopReason.COMPLETED, result.answer
    assert "revenue_by_product" in model.calls[0].prompt  # the planner saw the user's tools
    assert result.tables["t1"].records()[0] == {"product": "coffee", "revenue": 710.75}
    assert result.tables["t2"].rows == [["south", 545.25]]
    assert "710.75" in result.answer and "545.25" in result.answer
    assert [c.purpose for c in model.calls] == ["plan"]  # no other model call


def test_department_names_select_from_the_default_pack_and_loose_tools_join(warehouse: Warehouse) -> None:
    def shipped(order_id: int) -> str:
        """Whether an order has shipped."""
        return "yes"

    finance_note = tool(department="finance")(top_regions.fn)
    registry = build_registry(
        warehouse, ["sales", Department("shop", tools=[total_sales])], [shipped, finance_note]
    )
    assert registry.departments() == ["sales", "analysis", "reporting", DEFAULT_DEPARTMENT, "finance"]
    assert registry.get("ask_warehouse").department == "analysis"  # the SQL analyst is in the pack
    assert registry.get("shipped").department == DEFAULT_DEPARTMENT
    assert "total_sales" not in registry  # the demo warehouse has no "sales" table
    with pytest.raises(ConfigError, match="not 42"):
        build_registry(warehouse, [42])  # type: ignore[list-item]


def test_a_tool_that_requires_approval_runs_only_when_approved(warehouse: Warehouse) -> None:
    @tool(requires_approval=True)
    def send_memo(to: str) -> str:
        """Email a memo."""
        return f"sent to {to}"

    asked: list[ApprovalRequest] = []

    def approve(request: ApprovalRequest) -> bool:
        asked.append(request)
        return request.args["to"] == "cfo@example.com"

    plan = {"tasks": [task("t1", "send_memo", "general", {"to": "cfo@example.com"})]}
    refused = {"tasks": [task("t1", "send_memo", "general", {"to": "all@example.com"})]}
    settings = RunSettings(answer_with_model=False, max_replans=0)
    results = {}
    for name, approver, reply in [("ok", approve, plan), ("no", approve, refused), ("none", None, plan)]:
        model = ScriptedModel({"plan": [reply]})
        with atomwork.Atomwork(
            model=model, warehouse=warehouse.path, departments=[], tools=[send_memo], auto_approve=approver,
            settings=settings, memory=False, save_runs=False,
        ) as aw:  # fmt: skip
            results[name] = aw.run("Send the memo to the CFO, then confirm", user="U1")
    ok, no, none = (results[n].outcome("t1") for n in ("ok", "no", "none"))
    assert ok.status == TaskStatus.DONE and ok.result is not None
    assert ok.result.summary == "sent to cfo@example.com"
    assert ok.approval is not None and ok.approval.decision is not None and ok.approval.decision.approved
    assert no.status == TaskStatus.REJECTED and "rejected by approve policy" in (no.error or "")
    assert results["no"].stop_reason == StopReason.REJECTED
    # No policy: a person decides, so the run pauses with the call pending.
    assert none.status == TaskStatus.AWAITING_APPROVAL and none.result is None
    assert results["none"].stop_reason == StopReason.AWAITING_APPROVAL
    assert [p.task_id for p in results["none"].pending] == ["t1"]
    assert [(r.tool, r.user, r.task_id) for r in asked] == [("send_memo", "U1", "t1")] * 2


# --------------------------------------------------------------------------- LangChain tools


def test_langchain_tools_are_accepted_as_they_are() -> None:
    @langchain_tool
    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    @langchain_tool
    def explode(reason: str) -> str:
        """Always fails."""
        raise RuntimeError(f"boom: {reason}\nsecond line")

    class EchoArgs(BaseModel):
        text: str = Field(description="what to echo")

    echo = StructuredTool.from_function(
        func=lambda text: Table(columns=["text"], rows=[[text]]),
        name="echo",
        description="Echo text back\n   as a table.",
        args_schema=EchoArgs,
    )
    as_json = StructuredTool.from_function(
        func=lambda city, days=1: {"city": city, "days": days},
        name="forecast",
        description="Forecast.",
        args_schema={
            "type": "object",
            "properties": {"city": {"type": "string", "description": "a city"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    )
    dept = Department("calc", tools=[multiply, explode, echo, as_json])
    tools = {t.name: t for t in dept.tools}
    assert tools["multiply"].description == "Multiply two integers."
    assert tools["multiply"].json_schema()["required"] == ["a", "b"]
    assert tools["multiply"].invoke({"a": 6, "b": 7}).summary == "42"
    with pytest.raises(ToolError, match="bad arguments for tool 'multiply'"):
        tools["multiply"].invoke({"a": "six", "b": 7})
    with pytest.raises(ToolError) as failed:
        tools["explode"].invoke({"reason": "test"})
    assert str(failed.value) == "LangChain tool 'explode' failed: boom: test"
    echoed = tools["echo"].invoke({"text": "hi"})
    assert tools["echo"].description == "Echo text back as a table."
    assert echoed.table is not None and echoed.table.rows == [["hi"]]
    assert tools["forecast"].json_schema()["properties"]["city"]["description"] == "a city"
    assert tools["forecast"].invoke({"city": "Oslo"}).summary == '{"city": "Oslo", "days": 1}'
    assert from_langchain(multiply, department="calc").department == "calc"


# --------------------------------------------------------------------------- plug-ins


def _install_plugin(root: Path, entry_points: str, module: str) -> None:
    """A real installed distribution: a module and a dist-info with entry_points.txt."""
    (root / "atomwork_test_pack.py").write_text(textwrap.dedent(module), encoding="utf-8")
    info = root / "atomwork_test_pack-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: atomwork-test-pack\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{textwrap.dedent(entry_points)}")


PLUGIN = """
from atomwork.tools import Department, tool

@tool
def weather(city: str) -> str:
    '''Today's weather in a city.'''
    return f"sunny in {city}"

weather_department = Department("weather", "Weather reports", [weather])

def travel_departments():
    visa = weather.model_copy(update={"name": "visa"})
    return [Department("travel", tools=[]), Department("visas", tools=[visa])]

def broken():
    raise RuntimeError("no API key configured\\ntraceback noise")

not_a_department = 42
"""


def test_department_packs_come_from_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warehouse: Warehouse
) -> None:
    _install_plugin(
        tmp_path,
        "weather = atomwork_test_pack:weather_department\ntravel = atomwork_test_pack:travel_departments\n",
        PLUGIN,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    found = plugin_departments()
    assert [d.name for d in found] == ["travel", "visas", "weather"]  # by entry-point name
    assert found[2].tools[0].invoke({"city": "Oslo"}).summary == "sunny in Oslo"
    # A session picks a plug-in department by name, like a default one.
    registry = build_registry(warehouse, ["weather"])
    assert registry.departments() == ["analysis", "reporting", "weather"]
    assert registry.get("weather").department == "weather"
    monkeypatch.delitem(sys.modules, "atomwork_test_pack", raising=False)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "atomwork_test_pack:broken",
            "plug-in 'bad' (atomwork_test_pack:broken) failed to load: RuntimeError: no API key configured",
        ),
        (
            "atomwork_test_pack:not_a_department",
            "plug-in 'bad' (atomwork_test_pack:not_a_department) must give a Department or a callable "
            "returning Departments, got int",
        ),
        (
            "missing_module_xyz:thing",
            "plug-in 'bad' (missing_module_xyz:thing) failed to load: ModuleNotFound",
        ),
    ],
)
def test_a_broken_plugin_is_one_config_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, message: str
) -> None:
    _install_plugin(tmp_path, f"bad = {target}\n", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError) as err:
        plugin_departments()
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    monkeypatch.delitem(sys.modules, "atomwork_test_pack", raising=False)
