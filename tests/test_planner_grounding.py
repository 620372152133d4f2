"""Plan grounding: the schema enumerates what exists and bounds everything else; validation
repairs what the schema cannot express; goals split into parts without cutting dates or lists."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import jsonschema
import pytest

from atomwork.agents.choices import Choices, warehouse_choices
from atomwork.agents.plan_schema import column_choices, plan_json_schema, tool_arg_schema
from atomwork.agents.plan_validation import validate_plan
from atomwork.agents.planner import Planner, goal_message
from atomwork.feedback import ReplanFeedback
from atomwork.goal import goal_parts, goal_steps, task_limits
from atomwork.models import Purpose, ScriptedModel
from atomwork.plan import AtomicTask, Plan
from atomwork.result import TaskOutcome, TaskStatus
from atomwork.tools.base import Table, ToolResult
from atomwork.tools.warehouse.periods import period_choices, previous_period

from .fakes import make_registry, task


@pytest.fixture(scope="module")
def choices(warehouse) -> Choices:
    return warehouse_choices(warehouse)


def plan_for(registry, goal: str, *specs: tuple) -> Plan:
    """Tasks as (id, tool, args[, depends_on]); departments come from the registry."""
    tasks = [
        AtomicTask(
            id=s[0],
            tool=s[1],
            department=registry.get(s[1]).department,
            args=s[2],
            depends_on=list(s[3]) if len(s) > 3 else [],
        )
        for s in specs
    ]
    return Plan(goal=goal, tasks=tasks)


def branches(schema: dict, position: int) -> dict[str, dict]:
    """Tool name -> branch of the task at ``position`` (1-based)."""
    return {b["properties"]["tool"]["const"]: b for b in schema["$defs"][f"task-{position}"]["anyOf"]}


def args_of(schema: dict, branch: dict) -> dict:
    return schema["$defs"][branch["properties"]["args"]["$ref"].split("/")[-1]]


def lengths(schema: dict) -> list[int]:
    """The task counts the schema allows."""
    options = schema.get("anyOf", [schema])
    counts = [o["properties"]["task_count"]["const"] for o in options]
    assert counts == [len(o["properties"]["tasks"]["prefixItems"]) for o in options]
    return counts


def deref(schema: dict, prop: dict) -> dict:
    return schema["$defs"][prop["$ref"].split("/")[-1]] if "$ref" in prop else prop


def allowed(schema: dict, prop: dict, values: list[str]) -> list[str]:
    """Which of ``values`` a closed-set argument accepts (an ``enum``, or a prefix-factored pattern)."""
    closed = deref(schema, prop)
    if "enum" in closed:
        return [v for v in values if v in closed["enum"]]
    return [v for v in values if re.fullmatch(closed["pattern"], v)]


# --------------------------------------------------------------------------- the schema


def test_schema_enumerates_regions_periods_tables_and_columns(registry, warehouse, choices):
    schema = plan_json_schema(registry, max_tasks=4, choices=choices)
    first = branches(schema, 1)
    by_region = args_of(schema, first["sales_by_month"])["properties"]
    assert deref(schema, by_region["region"])["enum"] == warehouse.regions()
    periods = period_choices(*warehouse.date_range())
    assert {"all", "last_quarter", "last_year", "1997", "1997-Q2", "1997-H1", "1997-03"} <= set(periods)
    invented = ["1999", "1991-Q4", "1998-Q4", "1997-13", "Q2", "last", "1997-Q2 "]
    assert allowed(schema, by_region["period"], periods + invented) == periods
    described = args_of(schema, first["describe_schema"])["properties"]["table"]
    assert allowed(schema, described, ["orders", "region", "sales"]) == ["orders", "region"]
    category = args_of(schema, first["expenses_by_month"])["properties"]["category"]
    assert allowed(schema, category, ["Travel", "Payroll", "Rent"]) == ["Travel", "Payroll"]
    anomalies = args_of(schema, branches(schema, 2)["detect_anomalies"])["properties"]
    assert anomalies["table"] == {"enum": ["$t1"]}
    columns = ["revenue", "orders", "attrition_pct", "region", "month", "sales"]
    assert allowed(schema, anomalies["value_column"], columns) == ["revenue", "orders", "attrition_pct"]
    assert allowed(schema, anomalies["label_column"], columns) == ["region", "month"]


def test_schema_fixes_ids_by_position_and_allows_only_earlier_dependencies(registry, choices):
    schema = plan_json_schema(registry, max_tasks=4, min_tasks=2, choices=choices)
    defs = schema["$defs"]
    for position in range(1, 5):
        ids = {b["properties"]["id"]["const"] for b in branches(schema, position).values()}
        assert ids == {f"t{position}"}
    assert defs["deps-1"] == {"const": []}
    assert defs["deps-3"] == {"type": "array", "items": {"enum": ["t1", "t2"]}, "maxItems": 2}
    # 2..4 tasks, each count a fixed-length tuple of the positional task schemas, led by its count
    assert lengths(schema) == [2, 3, 4]
    tuples = [o["properties"]["tasks"] for o in schema["anyOf"]]
    assert all(t["items"] is False and t["minItems"] == t["maxItems"] for t in tuples)
    assert tuples[1]["prefixItems"] == [
        {"$ref": "#/$defs/task-1"},
        {"$ref": "#/$defs/task-2"},
        {"$ref": "#/$defs/task-3"},
    ]
    # tools that need an earlier output cannot be the first task
    assert "detect_anomalies" not in branches(schema, 1) and "draft_report" not in branches(schema, 1)
    report_inputs = args_of(schema, branches(schema, 3)["draft_report"])["properties"]["inputs"]
    assert report_inputs["items"] == {"enum": ["$t1", "$t2"]} and report_inputs["maxItems"] == 2


def test_replanning_schema_continues_ids_and_may_reference_finished_tasks(registry, choices):
    done = Table(columns=["segment", "margin"], rows=[["A", 1.5], ["B", 2.0]])
    schema = plan_json_schema(
        registry, max_tasks=3, choices=choices, first_index=4, finished={"t1": done, "t2": None}
    )
    assert {b["properties"]["id"]["const"] for b in branches(schema, 1).values()} == {"t4"}
    assert schema["$defs"]["deps-2"]["items"]["enum"] == ["t1", "t2", "t4"]
    first_anomaly = args_of(schema, branches(schema, 1)["detect_anomalies"])["properties"]
    assert first_anomaly["table"] == {"enum": ["$t1"]}  # t2 has no table to read
    assert allowed(schema, first_anomaly["value_column"], ["margin", "segment"]) == ["margin"]


def _unbounded(node: Any, path: str = "") -> list[str]:
    """Paths of schema nodes a model could make arbitrarily long."""
    problems: list[str] = []
    if isinstance(node, dict):
        kind = node.get("type")
        free = not any(k in node for k in ("enum", "const", "$ref", "anyOf"))
        finite_pattern = "pattern" in node and not re.search(r"[*+{]", node["pattern"])
        if free and kind == "string" and "maxLength" not in node and not finite_pattern:
            problems.append(path)
        if free and kind in ("integer", "number") and "maximum" not in node:
            problems.append(path)
        if kind == "array" and "maxItems" not in node:
            problems.append(path)
        for key, value in node.items():
            problems += _unbounded(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            problems += _unbounded(value, f"{path}/{i}")
    return problems


def test_no_schema_valid_runaway(registry, choices):
    largest = plan_json_schema(registry, max_tasks=12, choices=choices)
    assert _unbounded(largest) == []
    assert all(s.get("maxLength", 0) <= 600 for s in largest["$defs"].values() if s.get("type") == "string")
    assert largest["$defs"]["text-120"] == {"type": "string", "maxLength": 120}
    schema = plan_json_schema(registry, max_tasks=3, choices=choices)  # small: jsonschema is slow on anyOf
    valid = {
        "task_count": 1,
        "tasks": [
            {
                "tool": "sales_by_region",
                "id": "t1",
                "args": {"period": "1997"},
                "depends_on": [],
                "success_criteria": "revenue per region",
            }
        ],
    }
    jsonschema.validate(valid, schema)
    too_long = json.loads(json.dumps(valid))
    too_long["tasks"][0]["success_criteria"] = "x" * 121
    runaway_deps = json.loads(json.dumps(valid))
    runaway_deps["tasks"][0]["depends_on"] = ["t9", "t11", "t12"]
    invented = json.loads(json.dumps(valid))
    invented["tasks"][0]["args"]["period"] = "2031-Q1"
    wrong_id = json.loads(json.dumps(valid))
    wrong_id["tasks"][0]["id"] = "t7"
    chain = [{**valid["tasks"][0], "id": f"t{i}"} for i in range(1, 5)]
    jsonschema.validate({"task_count": 3, "tasks": chain[:3]}, schema)
    miscounted = {"task_count": 2, "tasks": chain[:3]}
    for bad in (too_long, runaway_deps, invented, wrong_id, miscounted, {"task_count": 4, "tasks": chain}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def _grammar(schema: dict) -> str:
    from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf

    text = json.dumps(schema)
    LlamaGrammar.from_json_schema(text, verbose=False)  # what llama-cpp-python does per request
    return json_schema_to_gbnf(text)


def test_llama_cpp_converts_the_schema_into_a_complete_grammar_of_reasonable_size(registry, choices):
    pytest.importorskip("llama_cpp")
    for max_tasks, limit in ((4, 100_000), (12, 260_000)):
        grammar = _grammar(plan_json_schema(registry, max_tasks=max_tasks, choices=choices))
        rules = dict(line.split(" ::= ", 1) for line in grammar.splitlines())
        bodies = " ".join(re.sub(r'"(?:\\.|[^"\\])*"|\[(?:\\.|[^\]\\])*\]', " ", b) for b in rules.values())
        undefined = set(re.findall(r"[A-Za-z][A-Za-z0-9-]*", bodies)) - set(rules)
        assert undefined == set(), f"rules used but not defined: {sorted(undefined)[:5]}"
        assert len(grammar) < limit, f"grammar for {max_tasks} tasks has {len(grammar)} chars"
        assert f'"\\"t{max_tasks}\\""' in grammar and '"\\"EUROPE\\""' in grammar
        # the periods are one prefix-factored rule, not one alternative per period
        assert "choice-period ::= " in grammar and '"\\"1997-Q2\\""' not in grammar


# --------------------------------------------------------------------------- semantic repairs


def test_value_and_label_columns_are_repaired_to_the_referenced_output(registry, choices):
    plan = plan_for(
        registry,
        "flag anomalies in monthly revenue by region for 1997",
        ("t1", "revenue_by_region_month", {"period": "1997"}),
        ("t2", "detect_anomalies", {"table": "$t1", "value_column": "sales", "label_column": "area"}, ["t1"]),
    )
    fixed, report = validate_plan(plan, registry, choices=choices)
    assert fixed.task("t2").args == {"table": "$t1", "value_column": "revenue"}
    assert any("'sales' -> 'revenue'" in r for r in report.repairs)
    assert any("label_column 'area'" in r for r in report.repairs)
    # a column of the referenced output is kept; with no concept match the first numeric column is used
    plan.tasks[1].args.update(value_column="orders", label_column="regoin")
    assert validate_plan(plan, registry, choices=choices)[0].task("t2").args["label_column"] == "region"
    plan.tasks[1].args["value_column"] = "zzz"
    assert validate_plan(plan, registry, choices=choices)[0].task("t2").args["value_column"] == "revenue"


def test_column_repair_uses_a_finished_tasks_real_table(registry, choices):
    table = Table(columns=["segment", "margin", "units"], rows=[["A", 1.0, 3], ["B", 2.0, 4]])
    plan = plan_for(
        registry,
        "flag unusual margins",
        ("t4", "detect_anomalies", {"table": "$t1", "value_column": "profit"}),
    )
    fixed, _ = validate_plan(plan, registry, known_ids={"t1"}, choices=choices, known_tables={"t1": table})
    assert fixed.task("t4").args["value_column"] == "margin"
    assert column_choices(table, numeric=True) == ["margin", "units"]
    assert column_choices(table, numeric=False) == ["segment"]


def test_a_breakdown_by_two_dimensions_no_planned_tool_returns_goes_to_the_sql_analyst(warehouse, choices):
    from atomwork.agents.plan_grounding import ground_columns
    from atomwork.agents.sql_analyst import ASK_TOOL, sql_tool
    from atomwork.tools.enterprise import enterprise_registry

    registry = enterprise_registry(warehouse)
    registry.register(sql_tool(warehouse))
    goal = (
        "Look at 1997 departures by department and quarter, flag any unusual spike, and write a note for HR."
    )
    plan = plan_for(
        registry,
        goal,
        ("t1", "attrition", {"period": "1997", "group_by": "department"}),
        ("t2", "detect_anomalies", {"table": "$t1", "value_column": "terminations"}, ["t1"]),
        ("t3", "draft_report", {"title": "Departures", "findings": ["$t2"]}, ["t2"]),
    )
    fixed, report = validate_plan(plan, registry, choices=choices)
    assert fixed.task("t1").tool == ASK_TOOL
    assert fixed.task("t1").args == {"question": "Look at 1997 departures by department and quarter"}
    assert fixed.task("t2").args["table"] == "$t1" and any(
        "department and quarter" in r for r in report.repairs
    )
    # Once the query ran, the anomaly search reads the column the analyst's table has.
    leavers = Table(columns=["department", "quarter", "leavers"], rows=[["Sales", "1997-Q1", 7]])
    args = {"table": leavers, "value_column": "terminations"}
    assert ground_columns(args, registry.get("detect_anomalies")) == [
        "value_column 'terminations' -> 'leavers'"
    ]
    assert args["value_column"] == "leavers"
    # A tool that returns both dimensions is kept; so is a plan already asking the analyst.
    sales = plan_for(
        registry,
        "Flag unusual months in 1996 revenue by region and draft a short report.",
        ("t1", "revenue_by_region_month", {"period": "1996"}),
        ("t2", "detect_anomalies", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
    )
    assert validate_plan(sales, registry, choices=choices)[0].task("t1").tool == "revenue_by_region_month"
    # One dimension asked: a department tool is the right source.
    single = plan_for(registry, "Attrition by department in 1997", ("t1", "attrition", {"period": "1997"}))
    assert validate_plan(single, registry, choices=choices)[0].task("t1").tool == "attrition"


@pytest.mark.parametrize(
    ("a", "b", "expected_a"),
    [
        ("1997-Q3", "1997-Q3", "1997-Q2"),
        ("1997", "FY1997", "1996"),
        ("last_quarter", "last_quarter", "1998-Q1"),
    ],
)
def test_equal_periods_are_repaired_to_the_preceding_period(registry, choices, a, b, expected_a):
    plan = plan_for(
        registry,
        "compare revenue",
        ("t1", "compare_periods", {"metric": "revenue", "period_a": a, "period_b": b}),
    )
    fixed, report = validate_plan(plan, registry, choices=choices)
    assert fixed.tasks[0].args["period_a"] == expected_a and fixed.tasks[0].args["period_b"] == b
    assert any("with itself" in r for r in report.repairs)


def test_previous_period_of_every_kind():
    latest, earliest = date(1998, 8, 2), date(1992, 1, 1)
    assert previous_period("1997-Q1", latest, earliest=earliest) == "1996-Q4"
    assert previous_period("1997-H1", latest, earliest=earliest) == "1996-H2"
    assert previous_period("1997-01", latest, earliest=earliest) == "1996-12"
    assert previous_period("last_year", latest, earliest=earliest) == "1996"
    assert previous_period("last_quarter", None) is None  # relative, and "today" unknown
    assert previous_period("1992", latest, earliest=earliest) is None  # before the data


def test_unknown_table_region_and_period_are_grounded(registry, choices):
    plan = plan_for(
        registry,
        "describe the sales table, monthly sales in europe and monthly expenses",
        ("t1", "describe_schema", {"table": "sales"}),
        ("t2", "sales_by_month", {"period": "2031", "region": "europe"}),
        ("t3", "expenses_by_month", {"period": "1997", "region": "LATAM", "category": "all"}),
    )
    fixed, report = validate_plan(plan, registry, choices=choices)
    assert fixed.task("t1").args == {}  # describe every table instead
    assert fixed.task("t2").args == {"region": "EUROPE"}  # the specialist asks for a period in range
    assert fixed.task("t3").args == {"period": "1997"}
    assert len(report.repairs) == 5 and not report.dropped


def test_report_without_inputs_reports_on_earlier_data_tasks_or_is_dropped(registry, choices):
    plan = plan_for(
        registry,
        "revenue by region for 1997 and a summary for the CFO",
        ("t1", "sales_by_region", {"period": "1997"}),
        ("t2", "draft_report", {"title": "1997", "audience": "the CFO"}),
    )
    fixed, report = validate_plan(plan, registry, choices=choices)
    assert fixed.task("t2").args["inputs"] == ["$t1"] and fixed.task("t2").depends_on == ["t1"]
    nothing_before = plan_for(
        registry,
        "revenue by region for 1997 and a summary for the CFO",
        ("t1", "draft_report", {"title": "1997"}),
        ("t2", "sales_by_region", {"period": "1997"}),
    )
    fixed, report = validate_plan(nothing_before, registry, choices=choices)
    assert fixed.ids() == ["t2"] and report.pruned and not report.broken


def test_tasks_serving_no_part_of_the_goal_are_dropped(registry, choices):
    plan = plan_for(
        registry,
        "Analyze last quarter's sales by region, flag anomalies, draft a report for the director",
        ("t1", "revenue_by_region_month", {"period": "last_quarter"}),
        ("t2", "detect_anomalies", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
        ("t3", "attrition", {"period": "last_quarter"}),
        ("t4", "budget_vs_actual", {"period": "last_quarter"}),
        ("t5", "campaign_performance", {"period": "last_quarter"}),
        ("t6", "draft_report", {"title": "Q2", "inputs": ["$t1", "$t2", "$t3", "$t4", "$t5"]}),
    )
    fixed, report = validate_plan(plan, registry, choices=choices)
    assert fixed.ids() == ["t1", "t2", "t6"]
    assert fixed.task("t6").args["inputs"] == ["$t1", "$t2"] and fixed.task("t6").depends_on == ["t1", "t2"]
    assert len(report.pruned) == 3 and not report.broken


def test_relevance_keeps_inputs_and_never_empties_a_plan(registry, choices):
    # the revenue table is not named by the goal but feeds the anomaly check it asks for
    feeds = plan_for(
        registry,
        "flag outliers",
        ("t1", "revenue_by_region_month", {"period": "1997"}),
        ("t2", "detect_anomalies", {"table": "$t1", "value_column": "revenue"}),
    )
    assert validate_plan(feeds, registry, choices=choices)[0].ids() == ["t1", "t2"]
    # a report-only goal keeps whatever the report cites
    cited = plan_for(
        registry,
        "write a memo for the board",
        ("t1", "sales_by_region", {"period": "1997"}),
        ("t2", "attrition", {"period": "1997"}),
        ("t3", "draft_report", {"title": "memo", "inputs": ["$t1", "$t2"]}),
    )
    assert validate_plan(cited, registry, choices=choices)[0].ids() == ["t1", "t2", "t3"]
    # words that match no task: nothing to judge by, nothing dropped
    vague = plan_for(
        registry,
        "how are we doing",
        ("t1", "attrition", {"period": "1997"}),
        ("t2", "ticket_stats", {"period": "1997"}),
    )
    assert len(validate_plan(vague, registry, choices=choices)[0].tasks) == 2


def test_planner_does_not_retry_for_pruned_tasks(registry, choices):
    reply = {
        "tasks": [
            {
                "tool": "sales_by_region",
                "id": "t1",
                "args": {"period": "1997"},
                "depends_on": [],
                "success_criteria": "x",
            },
            {
                "tool": "attrition",
                "id": "t2",
                "args": {"period": "1997"},
                "depends_on": [],
                "success_criteria": "x",
            },
        ]
    }
    model = ScriptedModel({"plan": [reply]})
    plan, report = Planner(model, registry, choices=choices).plan("Revenue by region for 1997")
    assert plan.ids() == ["t1"] and plan.tasks[0].department == "sales"
    assert model.purposes() == ["plan"] and report.pruned


# --------------------------------------------------------------------------- goal parts and task counts


@pytest.mark.parametrize(
    ("goal", "parts"),
    [
        ("Revenue by region for 1997", ["Revenue by region for 1997"]),
        ("Book a table for December 25, 2022 at 7pm", ["Book a table for December 25, 2022 at 7pm"]),
        ("Show revenue above 1,234,567 by region", ["Show revenue above 1,234,567 by region"]),
        ("Show sales for ASIA, EUROPE and AMERICA", ["Show sales for ASIA, EUROPE and AMERICA"]),
        (
            'Send a note saying "hi, then list all, and check" to Bo',
            ['Send a note saying "hi, then list all, and check" to Bo'],
        ),
        ("revenue and share by region", ["revenue and share by region"]),
        (
            "Check the weather in Paris on December 25, 2022, then send an email to John",
            ["Check the weather in Paris on December 25, 2022", "send an email to John"],
        ),
        ("Get sales for 1997 and then flag outliers", ["Get sales for 1997", "flag outliers"]),
        (
            "What was revenue in 1997, and which region grew most?",
            ["What was revenue in 1997", "which region grew most?"],
        ),
    ],
)
def test_goal_parts_keep_dates_numbers_lists_and_quotes_whole(goal, parts):
    assert goal_parts(goal) == parts


def test_goal_steps_mark_the_order_the_goal_imposes():
    steps = goal_steps("Once the report is drafted, email it to the CFO")
    assert [s.after_previous for s in steps] == [False, True]
    steps = goal_steps("Check stock levels. After that, order more paper and notify the office")
    assert [(s.text, s.after_previous) for s in steps] == [
        ("Check stock levels", False),
        ("order more paper", True),
        ("notify the office", False),
    ]
    assert "(after part 1)" in goal_message("Check X, then send Y")


def test_task_limits_and_schema_lengths_follow_the_goal():
    assert [task_limits(n) for n in (0, 1, 2, 3, 6)] == [(1, 3), (1, 4), (2, 6), (3, 8), (6, 12)]
    seen: list[dict] = []

    def responder(purpose, messages, schema):
        seen.append(schema)
        return {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}

    planner = Planner(ScriptedModel(responder), make_registry())
    planner.plan("Revenue by region for 1998")
    planner.plan("analyze sales by region, flag the top region, draft a report")
    assert [lengths(s) for s in seen] == [[1, 2, 3, 4], [3, 4, 5, 6, 7, 8]]


def test_then_steps_get_an_ordering_edge_without_data_passing():
    registry = make_registry()
    goal = "Get revenue by region for 1998, then show ticket counts by priority"
    plan = plan_for(
        registry,
        goal,
        ("t1", "sales_by_region", {"period": "1998"}),
        ("t2", "ticket_stats", {"period": "1998", "group_by": "priority"}),
    )
    fixed, report = validate_plan(plan, registry)
    assert fixed.task("t2").depends_on == ["t1"] and any("runs after t1" in r for r in report.repairs)
    # parallel parts ("and") or a plan that does not follow the parts' order get no edge
    parallel = plan.model_copy(update={"goal": goal.replace(", then", " and")})
    assert validate_plan(parallel, registry)[0].task("t2").depends_on == []
    swapped = Plan(goal=goal, tasks=[plan.tasks[1], plan.tasks[0]])
    assert validate_plan(swapped, registry)[0].task("t1").depends_on == []


def test_replan_schema_and_validation_through_the_planner(registry, choices):
    seen: list[dict] = []
    reply = {
        "tasks": [
            {
                "tool": "detect_anomalies",
                "id": "t3",
                "args": {"table": "$t1", "value_column": "sales"},
                "depends_on": ["t1"],
                "success_criteria": "outliers",
            }
        ]
    }

    def responder(purpose, messages, schema):
        seen.append(schema)
        return reply

    t1 = AtomicTask(id="t1", tool="sales_by_month", department="sales", args={"period": "1997"})
    table = Table(columns=["month", "revenue", "orders"], rows=[["1997-01", 1.0, 2], ["1997-02", 2.0, 3]])
    finished = {
        "t1": TaskOutcome(task=t1, status=TaskStatus.DONE, result=ToolResult(summary="s", table=table))
    }
    t2 = AtomicTask(id="t2", tool="detect_anomalies", department="analysis", args={"table": "$t1"})
    failed = {"t2": TaskOutcome(task=t2, status=TaskStatus.FAILED, error="column 'sales' not in table")}
    model = ScriptedModel(responder)
    plan, _ = Planner(model, registry, choices=choices).replan(
        "flag unusual months in 1997 revenue", finished, ReplanFeedback(failed=failed), {"t1", "t2"}
    )
    assert model.purposes() == [Purpose.REPLAN]
    assert (
        "t2: detect_anomalies" in model.calls[0].prompt
        and "column 'sales' not in table" in model.calls[0].prompt
    )
    assert {b["properties"]["id"]["const"] for b in branches(seen[0], 1).values()} == {"t3"}
    assert plan.task("t3").args["value_column"] == "revenue" and plan.task("t3").depends_on == []


# --------------------------------------------------------------------------- tool metadata


def test_declared_output_columns_match_what_the_tools_return(registry):
    group_bys = {
        "attrition": ["department", "region", "quarter"],
        "campaign_performance": ["channel", "region", "campaign"],
        "ticket_stats": ["category", "priority", "region", "month"],
        "late_shipments": ["ship_mode", "region", "month"],
    }
    calls: list[tuple[str, dict]] = []
    for tool in registry.tools():
        if not tool.output_columns:
            continue
        if tool.name == "compare_periods":
            calls.append((tool.name, {"metric": "revenue", "period_a": "1996", "period_b": "1997"}))
        elif tool.name == "describe_schema":
            calls += [(tool.name, {}), (tool.name, {"table": "orders"})]
        else:
            variants = [{"group_by": g} for g in group_bys.get(tool.name, [])] or [{}]
            calls += [(tool.name, {"period": "1997", **v}) for v in variants]
            if "region" in tool.args_model.model_fields:
                calls.append((tool.name, {"period": "1997", "region": "ASIA"}))
    assert len(calls) > 20
    for name, args in calls:
        tool = registry.get(name)
        result = tool.invoke(args)
        assert result.table is not None and result.table.rows, (name, args)
        assert set(result.table.columns) <= set(tool.output_columns), (name, args, result.table.columns)
        numeric = set(column_choices(result.table, numeric=True))
        assert numeric - {"customer_key", "supplier_key", "campaign_id"} <= set(tool.numeric_columns), (
            name,
            args,
        )


def test_tool_arg_schema_for_specialists_is_grounded(registry, choices):
    table = Table(columns=["region", "revenue"], rows=[["ASIA", 1.0], ["EUROPE", 2.0]])
    schema = tool_arg_schema(registry.get("detect_anomalies"), choices, input_table=table)
    assert schema["properties"]["value_column"] == {"enum": ["revenue"]}
    assert schema["properties"]["label_column"] == {"enum": ["region"]}
    regions = tool_arg_schema(registry.get("sales_by_month"), choices)["properties"]["region"]
    assert regions == {"enum": ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]}
