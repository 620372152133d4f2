"""One frozen object for how a run behaves: replanning budget, parallelism, evaluation, planner
limits and model token budgets.

``Atomwork(settings=RunSettings(max_replans=1))`` sets a session's defaults and
``aw.run(goal, settings=...)`` overrides them for one run. :class:`EndpointSettings` does the same
for how a served model is called. A bad value raises one :class:`~atomwork.errors.ConfigError` line
naming the setting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atomwork.errors import ConfigError
from atomwork.tracing import TracingMode

__all__ = ["EndpointSettings", "ResultLimits", "RunBudget", "RunSettings", "TokenBudgets"]


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


class RunBudget(_Settings):
    """What one run may spend in all, across resumes; None is no limit. Once a limit is reached no
    new task starts, nothing is replanned, and the run ends ``budget_exhausted`` with the finished
    work (a model call already under way completes, so a run can end a little over)."""

    _title: ClassVar[str] = "run budget"

    tokens: int | None = Field(default=None, ge=1)
    """Prompt plus completion tokens of every model call of the run."""
    model_calls: int | None = Field(default=None, ge=1)
    """Model calls of the run (planning, arguments, SQL, scores, the answer)."""
    seconds: float | None = Field(default=None, gt=0)
    """Time spent working on the run (time paused for an approval does not count)."""

    def exceeded(self, tokens: int, model_calls: int, seconds: float) -> str | None:
        """Which limit the spending reached, in words (None: within budget)."""
        if self.tokens is not None and tokens >= self.tokens:
            return f"token budget of {self.tokens:,} reached ({tokens:,} tokens)"
        if self.model_calls is not None and model_calls >= self.model_calls:
            return f"model-call budget of {self.model_calls} reached ({model_calls} calls)"
        if self.seconds is not None and seconds >= self.seconds:
            return f"time budget of {self.seconds:g}s reached ({seconds:.1f}s)"
        return None


class ResultLimits(_Settings):
    """How much of a tool's result is kept: everything kept goes into prompts, events and the run
    record, so one huge value must not grow them all (a 5 MB cell once made a 10 MB prompt).
    What is cut is marked where it was cut."""

    _title: ClassVar[str] = "result limits"

    max_rows: int = Field(default=10_000, ge=1, le=10_000_000)
    """Rows of one result table; later rows are dropped and the result marked truncated."""
    max_cell_chars: int = Field(default=2_000, ge=32, le=10_000_000)
    """Characters of one table cell."""
    max_text_chars: int = Field(default=20_000, ge=64, le=10_000_000)
    """Characters of a result's summary and of the other text it carries."""
    max_table_chars: int = Field(default=1_000_000, ge=1_000, le=100_000_000)
    """Characters of all the cells of one table together; rows past it are dropped."""


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
    budget: RunBudget = Field(default_factory=RunBudget)
    """What the whole run may spend (tokens, model calls, seconds); unlimited by default."""
    stream_plan: bool = False
    """Start each task while the plan is still being written, as soon as its JSON object is complete
    and its dependencies passed (the LLMCompiler idea); off: the whole plan first, then its tasks."""
    tool_timeout_s: float = Field(default=600.0, gt=0, le=86_400)
    """Seconds one tool call may run (model calls inside it included); then its SQL statement is
    interrupted, the call is abandoned and its task fails, while the rest of the run goes on."""
    tool_timeouts: dict[str, float] = Field(default_factory=dict)
    """Per tool name, a timeout in seconds replacing ``tool_timeout_s``."""
    limits: ResultLimits = Field(default_factory=ResultLimits)
    """How much of each tool result is kept (rows, cell and text lengths)."""
    tracing: TracingMode | None = None
    """OpenTelemetry spans: ``off``, ``console`` or ``otlp``; None follows ``$ATOMWORK_TRACING``
    (default off). See :mod:`atomwork.tracing`."""

    @field_validator("tool_timeouts")
    @classmethod
    def _positive_timeouts(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, seconds in value.items() if not seconds > 0)
        if bad:
            raise ValueError(f"timeouts must be positive seconds (tools: {', '.join(bad)})")
        return value

    def timeout_for(self, tool: str) -> float:
        """Seconds a call of ``tool`` may run."""
        return self.tool_timeouts.get(tool, self.tool_timeout_s)


class EndpointSettings(_Settings):
    """How the requests of a model served behind OpenAI-compatible endpoints (``vllm:URL[,URL...]``)
    are spread: how many each endpoint takes at once, and how long one that failed is skipped.
    Retries and deadlines are the model call's :class:`~atomwork.models.retry.RetryPolicy`."""

    _title: ClassVar[str] = "endpoint settings"

    max_in_flight: int = Field(default=8, ge=1, le=1024)
    """Requests one endpoint may have in flight at once (vLLM batches them); more wait for a slot."""
    down_for_s: float = Field(default=30.0, ge=0, le=3600)
    """How long an endpoint whose request failed is skipped while another one is up."""
