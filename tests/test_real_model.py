"""End to end on the real embedded model (llama.cpp + Qwen2.5-Coder-0.5B) and the real warehouse."""

from __future__ import annotations

import json

import pytest

import atomwork
from atomwork.models.llamacpp import LlamaCppModel
from atomwork.plan import plan_json_schema
from atomwork.result import StopReason, TaskStatus

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def model():
    llm = LlamaCppModel()
    yield llm
    llm.close()


def test_constrained_decoding_yields_schema_valid_plan_json(model, registry):
    import jsonschema

    schema = plan_json_schema(registry)
    from langchain_core.messages import HumanMessage, SystemMessage

    raw = model.structured(
        [SystemMessage("You plan business analyses as JSON."), HumanMessage("Goal: headcount by department")],
        schema,
        max_tokens=600,
    )
    jsonschema.validate(raw, schema)  # the grammar made even the 0.5B model obey the schema
    assert raw["tasks"]


def test_end_to_end_run_on_the_embedded_model(model, warehouse, atomwork_home):
    events = []
    result = atomwork.run(
        "Analyze last quarter's sales by region, flag anomalies, "
        "and draft a short report for the sales director",
        model=model,
        warehouse=warehouse,
        max_replans=1,
        on_event=events.append,
    )
    assert isinstance(result, atomwork.RunResult)
    assert result.model == "qwen2.5-coder-0.5b-instruct"
    assert result.plan.tasks, "the planner produced no task"
    assert result.stop_reason in set(StopReason)
    done = [o for o in result.outcomes.values() if o.status == TaskStatus.DONE]
    assert done, f"no task completed: {[(o.task.tool, o.error) for o in result.outcomes.values()]}"
    assert all(o.evaluation is not None for o in result.outcomes.values() if o.status != TaskStatus.SKIPPED)
    assert result.answer.strip()
    assert result.final_evaluation is not None
    assert any(e.kind == "planned" for e in events)
    # every planned task has an outcome; nothing is lost
    assert set(result.plan.ids()) == set(result.outcomes)
    saved = json.loads((atomwork_home / "runs" / f"{result.run_id}.json").read_text())
    assert saved["answer"] == result.answer
