"""Department tools on the demo warehouse: every tool runs, numbers match independent SQL,
the planted anomalies are found, and bad input is a clear ToolError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from atomwork.errors import ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.analysis import detect_anomalies
from atomwork.tools.base import Tool
from atomwork.tools.enterprise import enterprise_registry
from atomwork.tools.registry import ToolRegistry
from atomwork.tools.statistics import robust_z_scores
from atomwork.tools.warehouse import Warehouse

EXPECTED = {
    "sales_by_region": "sales",
    "sales_by_month": "sales",
    "revenue_by_region_month": "sales",
    "top_customers": "sales",
    "expenses_by_category": "finance",
    "expenses_by_month": "finance",
    "budget_vs_actual": "finance",
    "headcount_by_department": "hr",
    "attrition": "hr",
    "campaign_performance": "marketing",
    "ticket_stats": "support",
    "late_shipments": "operations",
    "supplier_lead_times": "operations",
    "compare_periods": "analysis",
    "sql_query": "analysis",
    "describe_schema": "analysis",
    "detect_anomalies": "analysis",
    "draft_report": "reporting",
}

# One typical call per tool (the anomaly tool gets its table in its own tests).
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("sales_by_region", {"period": "1997"}),
    ("sales_by_month", {"period": "1997", "region": "EUROPE"}),
    ("revenue_by_region_month", {"period": "1997-H1"}),
    ("top_customers", {"period": "last_year", "n": 5}),
    ("expenses_by_category", {"period": "1997", "region": "asia"}),
    ("expenses_by_month", {"period": "1997", "category": "travel"}),
    ("budget_vs_actual", {"period": "1997"}),
    ("headcount_by_department", {"period": "1997"}),
    ("attrition", {"period": "1997"}),
    ("campaign_performance", {"period": "1996"}),
    ("ticket_stats", {"period": "1997", "group_by": "priority"}),
    ("late_shipments", {"period": "1997"}),
    ("supplier_lead_times", {"period": "1997", "n": 5}),
    ("compare_periods", {"metric": "revenue", "period_a": "1996", "period_b": "1997"}),
    ("sql_query", {"sql": "SELECT r_name FROM region ORDER BY 1"}),
    ("describe_schema", {"table": "employees"}),
]

REVENUE_SQL = (
    "SELECT r_name, sum(l_extendedprice * (1 - l_discount)) FROM lineitem "
    "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
    "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
    "WHERE o_orderdate BETWEEN ? AND ? GROUP BY 1"
)


@pytest.fixture(scope="module")
def tools(warehouse: Warehouse) -> dict[str, Tool]:
    return {tool.name: tool for tool in enterprise_registry(warehouse).tools()}


def run(tools: dict[str, Tool], name: str, **args: Any) -> ToolResult:
    return tools[name].invoke(args)


def sql(warehouse: Warehouse, text: str, params: list[Any] | None = None) -> list[list[Any]]:
    return warehouse.fetch(text, params).rows


# --------------------------------------------------------------------------- the tool set


def test_tool_set_names_departments_and_simple_schemas(tools: dict[str, Tool]) -> None:
    assert {name: tool.department for name, tool in tools.items()} == EXPECTED
    registry = ToolRegistry(tools.values())  # unique names, each tool in its department
    assert sorted(registry.departments()) == sorted(set(EXPECTED.values()))
    for tool in tools.values():
        assert tool.name.isidentifier() and tool.name.islower()
        schema = tool.json_schema()
        props = schema["properties"]
        assert 1 <= len(props) <= 4, tool.name
        for field, spec in props.items():
            assert spec.get("description"), f"{tool.name}.{field} has no description"
        if tool.name != "detect_anomalies":
            assert "$defs" not in schema, f"{tool.name} has nested arguments"
    assert tools["detect_anomalies"].json_schema()["required"] == ["table", "value_column"]
    assert tools["sales_by_region"].missing_required({}) == ["period"]


@pytest.mark.parametrize(("name", "args"), CALLS, ids=[c[0] for c in CALLS])
def test_every_tool_returns_a_summary_and_a_table(
    tools: dict[str, Tool], name: str, args: dict[str, Any]
) -> None:
    result = run(tools, name, **args)
    assert isinstance(result, ToolResult)
    assert result.table is not None and result.table.rows, name
    assert all(len(row) == len(result.table.columns) for row in result.table.rows)
    assert result.summary and "\n" not in result.summary and len(result.summary) < 600
    if "period" in args:
        assert "19" in result.summary  # the resolved dates are spelled out
    result.model_dump_json()  # every value is JSON-serializable


# --------------------------------------------------------------------------- numbers vs independent SQL


def test_sales_by_region_matches_sql(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    result = run(tools, "sales_by_region", period="1997")
    expected = {r: float(v) for r, v in sql(warehouse, REVENUE_SQL, ["1997-01-01", "1997-12-31"])}
    got = {rec["region"]: rec["revenue"] for rec in result.table.records()}
    assert got.keys() == expected.keys()
    for region, value in expected.items():
        assert got[region] == pytest.approx(value, abs=0.01)
    assert sum(rec["share_pct"] for rec in result.table.records()) == pytest.approx(100, abs=0.05)
    assert "1997-01-01 to 1997-12-31" in result.summary
    assert sum(result.table.column("revenue")) == pytest.approx(sum(expected.values()), abs=0.1)
    assert "total $" in result.summary
    orders = sql(warehouse, "SELECT count(*) FROM orders WHERE year(o_orderdate) = 1997")[0][0]
    assert sum(result.table.column("orders")) == orders


def test_sales_by_month_for_a_region(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    result = run(tools, "sales_by_month", period="1998", region="Europe")
    assert result.table is not None
    assert result.table.column("month")[:7] == [f"1998-0{m}" for m in range(1, 8)]
    expected = {r: float(v) for r, v in sql(warehouse, REVENUE_SQL, ["1998-01-01", "1998-12-31"])}
    assert sum(result.table.column("revenue")) == pytest.approx(expected["EUROPE"], abs=0.1)
    assert "in EUROPE for 1998 (1998-01-01 to 1998-08-02)" in result.summary
    everywhere = run(tools, "sales_by_month", period="1998")
    assert everywhere.table is not None and everywhere.table.column("month")[-1] == "1998-08 (partial)"
    assert "partly covered" in everywhere.summary


def test_top_customers_matches_sql(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    result = run(tools, "top_customers", period="1996", n=3, region="ASIA")
    assert result.table is not None and len(result.table.rows) == 3
    best = sql(
        warehouse,
        "SELECT o_custkey, sum(l_extendedprice * (1 - l_discount)) AS rev FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey JOIN customer ON o_custkey = c_custkey "
        "JOIN nation ON c_nationkey = n_nationkey JOIN region ON n_regionkey = r_regionkey "
        "WHERE year(o_orderdate) = 1996 AND r_name = 'ASIA' GROUP BY 1 ORDER BY rev DESC LIMIT 3",
    )
    assert result.table.column("customer_key") == [r[0] for r in best]
    assert result.table.column("revenue") == pytest.approx([float(r[1]) for r in best], abs=0.01)
    assert set(result.table.column("region")) == {"ASIA"}


def test_finance_tools_match_sql(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    by_category = run(tools, "expenses_by_category", period="1997-Q3", region="AMERICA")
    total = sql(
        warehouse,
        "SELECT sum(amount) FROM expenses "
        "WHERE month BETWEEN '1997-07-01' AND '1997-09-01' AND region = 'AMERICA'",
    )[0][0]
    assert sum(by_category.table.column("amount")) == pytest.approx(total, abs=0.1)
    travel = run(tools, "expenses_by_month", period="1997-Q3", category="Travel")
    assert travel.table is not None and travel.table.column("month") == ["1997-07", "1997-08", "1997-09"]
    travel_total = sql(
        warehouse,
        "SELECT sum(amount) FROM expenses "
        "WHERE category = 'Travel' AND month BETWEEN '1997-07-01' AND '1997-09-01'",
    )[0][0]
    assert sum(travel.table.column("amount")) == pytest.approx(travel_total, abs=0.1)

    budget = run(tools, "budget_vs_actual", period="1997")
    sales = run(tools, "sales_by_region", period="1997")
    actual = {r["region"]: r["revenue"] for r in sales.table.records()}
    planned = dict(
        sql(warehouse, "SELECT region, sum(revenue_budget) FROM budgets WHERE year(month) = 1997 GROUP BY 1")
    )
    for rec in budget.table.records():
        assert rec["revenue"] == pytest.approx(actual[rec["region"]], abs=0.01)
        assert rec["revenue_budget"] == pytest.approx(
            planned[rec["region"]], abs=0.05
        )  # whole year, no proration
        assert rec["revenue_variance_pct"] == pytest.approx(
            100 * (rec["revenue"] / rec["revenue_budget"] - 1), abs=0.01
        )


def test_budget_is_prorated_for_a_partial_month(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    result = run(tools, "budget_vs_actual", period="1998-08", region="ASIA")
    monthly = sql(
        warehouse, "SELECT revenue_budget FROM budgets WHERE region = 'ASIA' AND month = '1998-08-01'"
    )[0][0]
    (row,) = result.table.records()
    assert row["month"] == "1998-08 (partial)"
    assert row["revenue_budget"] == pytest.approx(monthly * 2 / 31, abs=0.01)  # data ends 1998-08-02


def test_hr_tools_match_sql(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    heads = run(tools, "headcount_by_department", period="1996")
    active = sql(
        warehouse,
        "SELECT count(*) FROM employees WHERE hire_date <= '1996-12-31' "
        "AND (termination_date IS NULL OR termination_date > '1996-12-31')",
    )[0][0]
    assert sum(heads.table.column("headcount")) == active
    assert f"{active:,} employees" in heads.summary and "as of 1996-12-31" in heads.summary
    left = sql(warehouse, "SELECT count(*) FROM employees WHERE year(termination_date) = 1996")[0][0]
    assert sum(heads.table.column("terminations")) == left

    for group_by in ("department", "region", "quarter"):
        result = run(tools, "attrition", period="1996", group_by=group_by)
        assert sum(result.table.column("terminations")) == left, group_by
    quarters = run(tools, "attrition", period="1996", group_by="quarter")
    assert quarters.table.column("quarter") == ["1996-Q1", "1996-Q2", "1996-Q3", "1996-Q4"]


def test_marketing_support_and_operations_match_sql(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    campaigns = run(tools, "campaign_performance", period="1996")
    spend, conversions = sql(
        warehouse, "SELECT sum(spend), sum(conversions) FROM campaigns WHERE year(start_date) = 1996"
    )[0]
    assert sum(campaigns.table.column("spend")) == pytest.approx(spend, abs=0.1)
    assert sum(campaigns.table.column("conversions")) == conversions
    email = run(tools, "campaign_performance", period="1996", channel="EMAIL", group_by="campaign")
    assert set(email.table.column("channel")) == {"email"}

    tickets = run(tools, "ticket_stats", period="1997", group_by="region")
    count = sql(warehouse, "SELECT count(*) FROM support_tickets WHERE year(opened_at) = 1997")[0][0]
    assert sum(tickets.table.column("tickets")) == count
    assert f"{count:,} opened" in tickets.summary

    late = run(tools, "late_shipments", period="1997", group_by="region")
    n_late = sql(
        warehouse,
        "SELECT count(*) FROM lineitem WHERE year(l_shipdate) = 1997 AND l_receiptdate > l_commitdate",
    )[0][0]
    assert sum(late.table.column("late")) == n_late

    slow = run(tools, "supplier_lead_times", period="1997", n=5)
    lead = slow.table.column("avg_lead_days")
    assert lead == sorted(lead, reverse=True) and len(lead) == 5
    top = sql(
        warehouse,
        "SELECT max(d) FROM (SELECT avg(l_receiptdate - o_orderdate) AS d FROM lineitem "
        "JOIN orders ON l_orderkey = o_orderkey WHERE year(l_shipdate) = 1997 GROUP BY l_suppkey)",
    )[0][0]
    assert lead[0] == pytest.approx(top, abs=0.01)


def test_compare_periods_matches_sales_by_region(tools: dict[str, Tool]) -> None:
    result = run(tools, "compare_periods", metric="revenue", period_a="1996", period_b="1997")
    a = {r["region"]: r["revenue"] for r in run(tools, "sales_by_region", period="1996").table.records()}
    b = {r["region"]: r["revenue"] for r in run(tools, "sales_by_region", period="1997").table.records()}
    rows = {r["region"]: r for r in result.table.records()}
    for region in a:
        assert rows[region]["revenue_a"] == pytest.approx(a[region], abs=0.01)
        assert rows[region]["revenue_b"] == pytest.approx(b[region], abs=0.01)
    assert rows["TOTAL"]["change"] == pytest.approx(sum(b.values()) - sum(a.values()), abs=0.1)
    hires = run(tools, "compare_periods", metric="hires", period_a="1995", period_b="1996")
    assert hires.table is not None and hires.table.columns[1:3] == ["hires_a", "hires_b"]


def test_analysis_sql_and_schema(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    result = run(tools, "sql_query", sql="SELECT * FROM lineitem")
    assert len(result.table.rows) == 200 and result.truncated
    assert "first 200 rows" in result.summary
    with pytest.raises(ToolError, match="read-only SELECT"):
        run(tools, "sql_query", sql="DROP TABLE orders")
    schema = run(tools, "describe_schema")
    assert set(schema.table.column("table")) == set(warehouse.tables())
    with pytest.raises(ToolError, match="unknown table"):
        run(tools, "describe_schema", table="invoices")


# --------------------------------------------------------------------------- bad input


def test_bad_arguments_are_tool_errors(tools: dict[str, Tool]) -> None:
    with pytest.raises(ToolError, match=r"unknown region 'Atlantis'.*EUROPE"):
        run(tools, "sales_by_month", period="1997", region="Atlantis")
    with pytest.raises(ToolError, match="unrecognised period"):
        run(tools, "sales_by_region", period="the good old days")
    with pytest.raises(ToolError, match=r"no data for 2023.*1992-01-01 to 1998-08-02"):
        run(tools, "sales_by_region", period="2023")
    with pytest.raises(ToolError, match="bad arguments"):
        run(tools, "ticket_stats", period="1997", group_by="weather")
    with pytest.raises(ToolError, match="bad arguments"):
        run(tools, "top_customers", period="1997", n=0)
    with pytest.raises(ToolError, match="unknown channel"):
        run(tools, "campaign_performance", period="1997", channel="carrier pigeon")
    # "all" and a blank region mean every region
    everything = run(tools, "sales_by_month", period="1997", region="all")
    assert sum(everything.table.column("revenue")) == pytest.approx(
        sum(run(tools, "sales_by_region", period="1997").table.column("revenue")),
        abs=0.1,
    )


# --------------------------------------------------------------------------- anomalies


def test_detect_anomalies_finds_a_planted_outlier() -> None:
    table = Table(
        columns=["month", "revenue"],
        rows=[
            [f"1997-{m:02d}", v]
            for m, v in enumerate([100, 104, 97, 101, 99, 350, 102, 98, 103, 96, 100, 5], 1)
        ],
    )
    result = detect_anomalies(table, "revenue", "month")
    assert result.table is not None
    assert result.table.columns == ["month", "revenue", "robust_z", "direction"]
    assert [r[0] for r in result.table.rows] == ["1997-06", "1997-12"]
    assert [r[3] for r in result.table.rows] == ["high", "low"]
    assert result.table.rows[0][2] > 50 and len(result.table.rows) == 2 and result.empty_is_answer
    assert "1997-06" in result.summary and "2 of 12" in result.summary
    # a stricter threshold still flags the big one; a lax one flags more
    assert len(detect_anomalies(table, "revenue", "month", z_threshold=50).table.rows) == 1
    assert len(detect_anomalies(table, "revenue", "month", z_threshold=1).table.rows) > 2


def test_detect_anomalies_scores_each_series_of_a_panel_on_its_own() -> None:
    # Region x month: EUROPE's June doubles, yet stays far below ASIA's ordinary months, so across
    # all 24 rows it looks ordinary; against EUROPE's own months it stands out.
    rows = [["ASIA", f"1997-{m:02d}", 1000 + 7 * (m % 3)] for m in range(1, 13)]
    rows += [["EUROPE", f"1997-{m:02d}", 200 if m == 6 else 100 + m % 3] for m in range(1, 13)]
    table = Table(columns=["region", "month", "tickets"], rows=rows)
    result = detect_anomalies(table, "tickets")
    assert [r[:2] for r in result.table.rows] == [["EUROPE", "1997-06"]]
    assert "EUROPE 1997-06" in result.summary
    assert "each region's rows scored against its own" in result.summary
    assert "EUROPE 1997-06" in detect_anomalies(table, "tickets", "region").summary  # the month named too
    # A plain list (each region once) is scored as one series.
    totals = Table(columns=["region", "tickets"], rows=[["A", 10], ["B", 11], ["C", 9], ["D", 10], ["E", 40]])
    assert [r[0] for r in detect_anomalies(totals, "tickets").table.rows] == ["E"]


def test_detect_anomalies_edge_cases() -> None:
    flat = Table(columns=["region", "value"], rows=[["A", 5], ["B", 5], ["C", 5], ["D", 5]])
    assert detect_anomalies(flat, "value").table.rows == []
    mostly_flat = Table(columns=["k", "v"], rows=[["a", 1], ["b", 1], ["c", 1], ["d", 1], ["e", 9]])
    assert [r[0] for r in detect_anomalies(mostly_flat, "v").table.rows] == ["e"]
    strings = Table(columns=["k", "v"], rows=[["a", "1,000"], ["b", "1,010"], ["c", "990"], ["d", "$9,000"]])
    assert [r[0] for r in detect_anomalies(strings, "v").table.rows] == ["d"]
    partial = Table(
        columns=["month", "v"], rows=[["m1", 10], ["m2", 11], ["m3", 10], ["m4", 9], ["m5 (partial)", 0]]
    )
    result = detect_anomalies(partial, "v")
    assert result.table.rows == [] and "partial" in result.summary
    with pytest.raises(ToolError, match="not in table"):
        detect_anomalies(flat, "revenue")
    with pytest.raises(ToolError, match="label column"):
        detect_anomalies(flat, "value", "month")
    with pytest.raises(ToolError, match="at least 3"):
        detect_anomalies(Table(columns=["k", "v"], rows=[["a", 1], ["b", None]]), "v")
    scores, median, scale = robust_z_scores([1.0, 2.0, 3.0, 4.0, 100.0])
    assert median == 3.0 and scale == 1.0 and scores[-1] == pytest.approx(0.6745 * 97)


def test_detect_anomalies_tool_accepts_a_table_as_json(tools: dict[str, Tool]) -> None:
    payload = {
        "columns": ["region", "revenue"],
        "rows": [["A", 10], ["B", 11], ["C", 9], ["D", 10], ["E", 80]],
    }
    result = tools["detect_anomalies"].invoke({"table": payload, "value_column": "revenue"})
    assert result.table is not None and result.table.rows[0][:2] == ["E", 80]


def _flagged(
    tools: dict[str, Tool], source: str, args: dict[str, Any], value: str, label: str | None
) -> list[dict[str, Any]]:
    table = tools[source].invoke(args).table
    result = tools["detect_anomalies"].invoke({"table": table, "value_column": value, "label_column": label})
    assert result.table is not None
    return [r for r in result.table.records() if r["direction"] == "high"]


def test_planted_revenue_spike_is_found(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    high = _flagged(tools, "revenue_by_region_month", {"period": "all"}, "revenue", None)
    assert high, "no region-month revenue outlier found"
    top = high[0]
    # cross-check with independent SQL: it is the largest region-month, far above the typical one
    largest, median = sql(
        warehouse,
        "SELECT max(rev), median(rev) FROM (SELECT r_name, date_trunc('month', o_orderdate) m, "
        "sum(l_extendedprice * (1 - l_discount)) rev FROM lineitem JOIN orders ON l_orderkey = o_orderkey "
        "JOIN customer ON o_custkey = c_custkey JOIN nation ON c_nationkey = n_nationkey "
        "JOIN region ON n_regionkey = r_regionkey WHERE o_orderdate < '1998-08-01' GROUP BY ALL)",
    )[0]
    assert top["revenue"] == pytest.approx(largest, abs=0.01)
    assert top["revenue"] > 2 * median and top["robust_z"] > 5


def test_other_planted_anomalies_are_found(tools: dict[str, Tool], warehouse: Warehouse) -> None:
    tickets = _flagged(tools, "ticket_stats", {"period": "all", "group_by": "month"}, "tickets", "month")
    busiest = sql(
        warehouse,
        "SELECT strftime(opened_at, '%Y-%m'), count(*) AS n FROM support_tickets "
        "GROUP BY 1 ORDER BY n DESC LIMIT 1",
    )[0]
    assert [t["month"] for t in tickets] == [busiest[0]]

    exits = _flagged(tools, "attrition", {"period": "all", "group_by": "quarter"}, "terminations", "quarter")
    assert len(exits) == 1 and exits[0]["terminations"] > 2 * 13

    travel = _flagged(tools, "expenses_by_month", {"period": "all", "category": "Travel"}, "amount", "month")
    assert len(travel) == 1

    suppliers = _flagged(
        tools, "supplier_lead_times", {"period": "all", "n": 100}, "avg_transit_days", "supplier"
    )
    slowest = sql(
        warehouse,
        "SELECT s_name FROM lineitem JOIN supplier ON l_suppkey = s_suppkey GROUP BY 1 "
        "ORDER BY avg(l_receiptdate - l_shipdate) DESC LIMIT 1",
    )[0][0]
    assert suppliers[0]["supplier"] == slowest and suppliers[0]["robust_z"] > 8

    duds = _flagged(
        tools,
        "campaign_performance",
        {"period": "all", "group_by": "campaign"},
        "cost_per_conversion",
        "name",
    )
    assert duds and duds[0]["robust_z"] > 10 and duds[0]["conversions"] <= 3


def test_monthly_partial_rows_are_not_flagged(tools: dict[str, Tool]) -> None:
    table = run(tools, "revenue_by_region_month", period="1998").table
    assert table is not None and any(str(m).endswith("(partial)") for m in table.column("month"))
    flagged = detect_anomalies(table, "revenue")
    assert all("(partial)" not in r[0] for r in flagged.table.rows)


# --------------------------------------------------------------------------- other databases


def test_a_database_without_business_tables_gets_the_analysis_tools(tmp_path: Path) -> None:
    path = tmp_path / "plain.duckdb"
    duckdb.connect(str(path)).execute("CREATE TABLE t AS SELECT range AS x FROM range(10)").close()
    with Warehouse.open(path) as wh:
        tools = {t.name: t for t in enterprise_registry(wh).tools()}
        assert set(tools) == {"sql_query", "describe_schema", "detect_anomalies", "draft_report"}
        result = tools["sql_query"].invoke(
            {"sql": "SELECT 'r' || x AS label, CASE WHEN x = 9 THEN 1000 ELSE x END AS sq FROM t"}
        )
        flagged = tools["detect_anomalies"].invoke({"table": result.table, "value_column": "sq"})
        assert flagged.table is not None and flagged.table.rows[0][0] == "r9"
