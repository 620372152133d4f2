"""RunSettings: frozen, validated with one-line errors, session defaults and per-run overrides, and
honoured by the engine; model-call purposes and the usage accounted per purpose."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from atomwork.cli import main
from atomwork.engine import Engine
from atomwork.errors import ConfigError, PlanError
from atomwork.models import Purpose, ScriptedModel, Usage
from atomwork.result import StopReason
from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings, TokenBudgets

from .fakes import make_registry, task

ONE = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}
HALF = {  # one good task, one broken
    "tasks": [
        task("t1", "sales_by_region", "sales", {"period": "1998"}),
        task("t2", "sales_by_region", "sales", {"period": "broken"}),
    ]
}
FIX = {"tasks": [task("t3", "sales_by_region", "sales", {"period": "1997"})]}


def test_defaults_are_the_sdk_defaults():
    s = RunSettings()
    assert (s.max_replans, s.max_workers, s.pass_threshold) == (2, 4, 0.5)
    assert not s.score_tasks_with_model and not s.score_final_with_model  # the SDK's: model scores off
    assert (
        s.answer_with_model
        and s.single_question_fast_path
        and s.planner_attempts == 2
        and s.max_tasks is None
    )
    assert s.max_tokens == TokenBudgets(plan_per_task=150, score=200, answer=300)
    assert s.max_tokens.plan(4) == 700


def test_settings_are_frozen():
    s = RunSettings()
    with pytest.raises(ValidationError):
        s.max_replans = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.max_tokens.score = 10  # type: ignore[misc]


def test_replace_makes_a_validated_copy():
    s = RunSettings(max_workers=2)
    t = s.replace(max_replans=0)
    assert (t.max_replans, t.max_workers, s.max_replans) == (0, 2, 2)
    with pytest.raises(ConfigError, match="max_replans"):
        s.replace(max_replans=-1)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"max_replans": -1},
            "bad run settings: max_replans: input should be greater than or equal to 0 (got -1)",
        ),
        ({"pass_threshold": 1.5}, "pass_threshold: input should be less than or equal to 1 (got 1.5)"),
        ({"max_workers": "many"}, "max_workers: input should be a valid integer"),
        (
            {"max_tokens": {"score": 1}},
            "max_tokens.score: input should be greater than or equal to 16 (got 1)",
        ),
        ({"max_replan": 1}, "max_replan: extra inputs are not permitted"),
    ],
)
def test_bad_values_are_one_config_error_line(bad: dict[str, Any], message: str):
    with pytest.raises(ConfigError) as caught:
        RunSettings(**bad)
    text = str(caught.value)
    assert message in text and "\n" not in text and text.startswith("bad run settings: ")


def test_the_cli_reports_a_bad_setting_in_one_line(atomwork_home, capsys):
    assert (
        main(["run", "revenue by region", "--max-replans", "-1", "--model", "vllm:http://127.0.0.1:9/v1"])
        == 2
    )
    out = capsys.readouterr().out
    assert "max_replans" in out and "Traceback" not in out


class Recording(ScriptedModel):
    """Remembers the token budget asked for with each call."""

    def __init__(self, script: Any) -> None:
        super().__init__(script)
        self.budgets: list[tuple[Purpose, int]] = []

    def _complete(self, messages, decoding):  # type: ignore[no-untyped-def]
        self.budgets.append((decoding.purpose, decoding.max_tokens))
        return super()._complete(messages, decoding)


def engine(model: ScriptedModel, **settings: Any) -> Engine:
    return Engine(
        model, make_registry(), settings=RunSettings(**settings), data_range="1992-01-01 to 1998-08-02"
    )


def test_the_engine_honours_replans_scores_and_token_budgets():
    model = Recording(
        {"plan": [HALF], "replan": [FIX], "score": [{"score": 6, "reason": "fine"}], "answer": ["a"]}
    )
    budgets = TokenBudgets(plan_per_task=100, score=64, answer=80)
    result = engine(
        model, score_tasks_with_model=True, pass_threshold=0.5, max_tasks=3, max_tokens=budgets
    ).run("analyze sales by region")
    assert result.ok and result.replans == 1 and result.settings.max_tokens == budgets
    asked = dict(model.budgets)
    assert asked[Purpose.PLAN] == 100 * 3 + 100 and asked[Purpose.REPLAN] == 100 * 3 + 100
    assert asked[Purpose.SCORE] == 64 and asked[Purpose.ANSWER] == 80
    # a stricter threshold fails the same score, and no replans are allowed
    strict = ScriptedModel({"plan": [ONE], "score": [{"score": 6, "reason": "fine"}], "answer": ["a"]})
    result = engine(strict, score_tasks_with_model=True, pass_threshold=0.7, max_replans=0).run(
        "analyze sales"
    )
    assert result.stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED and result.replans == 0
    assert not result.outcomes["t1"].ok and Purpose.REPLAN not in strict.purposes()


def test_planner_attempts_bound_the_planner_calls():
    model = ScriptedModel({"plan": ["not json"]})
    with pytest.raises(PlanError, match="after 1 attempts"):
        engine(model, planner_attempts=1).run("analyze sales")
    assert model.purposes() == [Purpose.PLAN]


def test_session_settings_and_per_run_override(warehouse):
    plan = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1997"}),
            task("t2", "sales_by_region", "sales", {"period": "1998"}),
        ]
    }
    model = ScriptedModel({"plan": [plan], "answer": ["Revenue by region is shown for both years."]})
    session = Atomwork(
        model=model,
        warehouse=warehouse,
        settings=RunSettings(answer_with_model=False),
        save_runs=False,
        memory=False,
    )
    goal = "Analyze revenue by region for 1997 and 1998"
    first = session.run(goal)
    assert first.ok and not first.settings.answer_with_model
    assert Purpose.ANSWER not in model.purposes()  # the session's setting: no model-written answer
    second = session.run(goal, settings=session.settings.replace(answer_with_model=True))
    assert second.ok and second.settings.answer_with_model and Purpose.ANSWER in model.purposes()
    assert not session.settings.answer_with_model  # the override was for one run only


def test_usage_is_accounted_per_typed_purpose():
    model = ScriptedModel({"plan": [HALF], "replan": [FIX], "answer": ["a"]})
    result = engine(model).run("analyze sales by region")
    assert set(result.usage.by_purpose) == {Purpose.PLAN, Purpose.REPLAN, Purpose.ANSWER}
    assert all(isinstance(p, Purpose) for p in result.usage.by_purpose)
    assert result.usage.by_purpose[Purpose.REPLAN].calls == 1
    again = Usage.model_validate_json(result.usage.model_dump_json())
    assert again == result.usage and set(again.by_purpose) == set(result.usage.by_purpose)


def test_an_unknown_purpose_is_a_clear_error():
    model = ScriptedModel(lambda purpose, messages, schema: "ok")
    with pytest.raises(
        ValueError, match=r"unknown model-call purpose 'planning'; known purposes: chat, .*replan"
    ):
        model.complete([], purpose="planning")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown model-call purpose 'scroe'"):
        ScriptedModel({"scroe": [{"score": 1}]})
