import pytest

from atomwork.agents.plan_schema import plan_json_schema
from atomwork.agents.plan_validation import validate_plan
from atomwork.errors import PlanError
from atomwork.plan import AtomicTask, Plan, parse_ref

from .fakes import make_registry, task


def plan_of(*tasks: dict) -> Plan:
    return Plan(goal="g", tasks=[AtomicTask.model_validate(t) for t in tasks])


def test_parse_ref():
    assert parse_ref("$t1") == ("t1", None)
    assert parse_ref(" $t2.table ") == ("t2", "table")
    assert parse_ref("$t3.summary") == ("t3", "summary")
    assert parse_ref("$t3.data.total") is None  # results have typed fields, no data keys
    assert parse_ref("t1") is None
    assert parse_ref("cost is $5") is None
    assert parse_ref(3) is None


def test_valid_plan_is_unchanged():
    plan = plan_of(
        task("t1", "sales_by_region", "sales", {"period": "1998-Q2"}),
        task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
    )
    fixed, report = validate_plan(plan, make_registry())
    assert report.clean
    assert fixed.ids() == ["t1", "t2"]


def test_unknown_tool_close_match_and_department_repaired():
    plan = plan_of(task("t1", "sales.sales_by_regions", "hr", {"period": "1998"}))
    fixed, report = validate_plan(plan, make_registry())
    assert fixed.tasks[0].tool == "sales_by_region"
    assert fixed.tasks[0].department == "sales"
    assert any("tool" in r for r in report.repairs) and any("department" in r for r in report.repairs)


def test_unknown_tool_without_match_is_dropped_with_dependents():
    plan = plan_of(
        task("t1", "launch_rockets", "sales", {}),
        task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
        task("t3", "sales_by_region", "sales", {"period": "1998"}),
    )
    fixed, report = validate_plan(plan, make_registry())
    assert fixed.ids() == ["t3"]
    assert len(report.dropped) == 2


def test_nothing_runnable_raises_plan_error():
    with pytest.raises(PlanError, match="no runnable task"):
        validate_plan(plan_of(task("t1", "launch_rockets", "sales")), make_registry())
    with pytest.raises(PlanError, match="no tasks"):
        validate_plan(Plan(goal="g", tasks=[]), make_registry())


def test_dangling_dependency_removed_and_reference_adds_dependency():
    plan = plan_of(
        task("t1", "sales_by_region", "sales", {"period": "1998"}, ["t9"]),
        task("t2", "top_value", "analysis", {"table": "$t1.table", "value_column": "revenue"}),
    )
    fixed, report = validate_plan(plan, make_registry())
    assert fixed.task("t1").depends_on == []
    assert fixed.task("t2").depends_on == ["t1"]
    assert len(report.repairs) == 2


def test_cycle_of_plain_dependencies_is_broken_and_order_is_topological():
    plan = plan_of(
        task("t1", "sales_by_region", "sales", {"period": "1998"}, ["t2"]),
        task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
    )
    fixed, report = validate_plan(plan, make_registry())
    assert fixed.ids() == ["t1", "t2"]
    assert fixed.task("t1").depends_on == []
    assert any("cycle" in r for r in report.repairs)


def test_cycle_through_references_is_dropped():
    plan = plan_of(
        task("t1", "top_value", "analysis", {"table": "$t2", "value_column": "revenue"}),
        task("t2", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}),
        task("t3", "sales_by_region", "sales", {"period": "1998"}),
    )
    fixed, report = validate_plan(plan, make_registry())
    assert fixed.ids() == ["t3"]
    assert any("cyclic" in d for d in report.dropped)


def test_self_reference_and_duplicate_ids():
    plan = plan_of(
        task("t1", "sales_by_region", "sales", {"period": "1998"}),
        task("t1", "sales_by_region", "sales", {"period": "1997"}),
        task("t3", "top_value", "analysis", {"table": "$t3", "value_column": "revenue"}),
    )
    fixed, report = validate_plan(plan, make_registry())
    assert len(set(fixed.ids())) == 2
    assert [t.args["period"] for t in fixed.tasks] == ["1998", "1997"]
    assert any("own output" in d for d in report.dropped)


def test_bad_and_unknown_args_are_dropped_for_the_specialist_to_refill():
    plan = plan_of(task("t1", "ticket_stats", "support", {"group_by": "colour", "period": "1998", "foo": 1}))
    fixed, report = validate_plan(plan, make_registry())
    assert fixed.tasks[0].args == {"period": "1998"}
    assert len(report.repairs) == 2


def test_replanning_ids_and_known_references():
    plan = plan_of(
        task("t2", "sales_by_region", "sales", {"period": "1998"}),
        task("t4", "top_value", "analysis", {"table": "$t2", "value_column": "revenue"}, ["t2"]),
        task("t5", "top_value", "analysis", {"table": "$t1", "value_column": "revenue"}, ["t1"]),
    )
    # t1 finished earlier (may be referenced), t2 failed earlier (its id may not be reused)
    fixed, _ = validate_plan(plan, make_registry(), known_ids={"t1"}, reserved_ids={"t1", "t2"})
    new_id = fixed.tasks[0].id
    assert new_id not in {"t1", "t2"}
    assert fixed.task("t4").args["table"] == f"${new_id}"
    assert fixed.task("t4").depends_on == [new_id]
    assert fixed.task("t5").depends_on == []  # finished tasks need no edge


def test_plan_schema_has_a_branch_per_tool_with_table_args_as_refs():
    registry = make_registry()
    schema = plan_json_schema(registry)
    defs = schema["$defs"]

    def args_of(branch: dict) -> dict:
        return defs[branch["properties"]["args"]["$ref"].split("/")[-1]]

    second = defs["task-2"]["anyOf"]
    assert {b["properties"]["tool"]["const"] for b in second} == set(registry.names())
    # nothing precedes task 1, so tools that need an earlier output cannot be task 1
    first = {b["properties"]["tool"]["const"] for b in defs["task-1"]["anyOf"]}
    assert first == set(registry.names()) - {"top_value", "draft_report"}
    top = next(b for b in second if b["properties"]["tool"]["const"] == "top_value")
    assert args_of(top)["properties"]["table"] == {"enum": ["$t1"]}
    stats = next(b for b in second if b["properties"]["tool"]["const"] == "ticket_stats")
    assert args_of(stats)["properties"]["group_by"]["enum"] == ["priority", "region"]


def test_empty_goal_rejected():
    with pytest.raises(ValueError):
        Plan(goal="   ", tasks=[])


def test_replanning_drops_repeats_of_finished_work_and_reuses_their_output():
    from atomwork.agents.plan_validation import drop_repeated_work
    from atomwork.plan import ValidationReport

    finished = {"t1": AtomicTask.model_validate(task("t1", "sales_by_region", "sales", {"period": "1998"}))}
    new = plan_of(
        task("t4", "sales_by_region", "sales", {"period": "1998"}),
        task("t5", "top_value", "analysis", {"table": "$t4", "value_column": "revenue"}, ["t4"]),
    )
    report = ValidationReport()
    kept = drop_repeated_work(new, finished, report)
    assert kept.ids() == ["t5"]
    assert kept.task("t5").args["table"] == "$t1" and kept.task("t5").depends_on == []
    with pytest.raises(PlanError, match="already done"):
        drop_repeated_work(
            plan_of(task("t4", "sales_by_region", "sales", {"period": "1998"})), finished, report
        )


def test_goal_parts_split_requested_actions():
    from atomwork.agents.planner import goal_parts

    assert goal_parts(
        "Analyze last quarter's sales by region, flag anomalies, draft a report for the director"
    ) == [
        "Analyze last quarter's sales by region",
        "flag anomalies",
        "draft a report for the director",
    ]
    assert goal_parts("Revenue by region for 1997") == ["Revenue by region for 1997"]
    assert goal_parts("headcount and attrition by department") == ["headcount and attrition by department"]
