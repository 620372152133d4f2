"""One frozen object for how a run behaves: replanning budget, parallelism, evaluation, planner
limits and model token budgets.

``Atomwork(settings=RunSettings(max_replans=1))`` sets a session's defaults and
``aw.run(goal, settings=...)`` overrides them for one run. A bad value raises one
:class:`~atomwork.errors.ConfigError` line naming the setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atomwork.errors import ConfigError

__all__ = ["RunSettings", "TokenBudgets"]


class _SettingsError(ConfigError):
    """A ConfigError that keeps its problems, so an enclosing setting can prefix their names."""

    def __init__(self, title: str, problems: list[str]) -> None:
        super().__init__(f"bad {title}: " + "; ".join(problems))
        self.problems = problems


def _problems(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        inner = err.get("ctx", {}).get("error")
        if isinstance(inner, _SettingsError):  # a nested settings object: name its fields in full
            problems += [f"{where}.{p}" if where else p for p in inner.problems]
            continue
        got = f" (got {err['input']!r})" if err["type"] != "extra_forbidden" else ""
        problems.append(f"{where or 'value'}: {err['msg'][:1].lower()}{err['msg'][1:]}{got}")
    return problems


class _Settings(BaseModel):
    """Frozen, no unknown fields, and a one-line ConfigError instead of a ValidationError."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    _title: ClassVar[str] = "settings"

    if not TYPE_CHECKING:  # keep the field-typed constructor signature for type checkers

        def __init__(self, **data: Any) -> None:
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise _SettingsError(self._title, _problems(exc)) from None

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied and validated (``model_copy`` would not validate)."""
        return type(self)(**{**self.model_dump(), **changes})


class TokenBudgets(_Settings):
    """The most tokens a model may generate per call, by purpose."""

    _title: ClassVar[str] = "token budgets"

    plan_per_task: int = Field(default=150, ge=16, le=4096)
    """Planning and replanning: per allowed task (a task is about 60-90 tokens), plus 100."""
    score: int = Field(default=200, ge=16, le=4096)
    """A model score of a task or of the final answer (a score and one short sentence)."""
    answer: int = Field(default=300, ge=16, le=8192)
    """The final answer written from the passing results."""

    def plan(self, max_tasks: int) -> int:
        """The budget of one planner call allowed ``max_tasks`` tasks."""
        return self.plan_per_task * max_tasks + 100


class RunSettings(_Settings):
    """How a run behaves. The defaults are the SDK's and the CLI's."""

    _title: ClassVar[str] = "run settings"

    max_replans: int = Field(default=2, ge=0, le=10)
    """Replanning rounds allowed after the first plan; 0 runs the first plan only."""
    max_workers: int = Field(default=4, ge=1, le=64)
    """Tasks run at once (their dependencies permitting)."""
    pass_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """The model score (0..1) a task or answer needs to pass, when model scores are on."""
    score_tasks_with_model: bool = False
    """Ask the model to score each task's output after the programmatic checks passed."""
    score_final_with_model: bool = False
    """Ask the model to score the final answer after the programmatic checks passed."""
    answer_with_model: bool = True
    """Let the model write the final answer (checked against the figures) instead of a plain summary."""
    single_question_fast_path: bool = True
    """Send a single question straight to the SQL analyst, without the planner."""
    planner_attempts: int = Field(default=2, ge=1, le=5)
    """Planner calls per plan: a plan with broken tasks is asked for again, with the problems."""
    max_tasks: int | None = Field(default=None, ge=1, le=12)
    """A cap on the tasks of one plan, below the per-goal limit ``clamp(2 * parts + 2, 3, 12)``."""
    max_tokens: TokenBudgets = Field(default_factory=TokenBudgets)
    """Generation budgets per model-call purpose."""
