"""The run loop as a LangGraph state machine.

    plan -> execute -> (replan -> execute)* -> finalize -> END
                                   ^______________|  (final answer failed, budget left)

``execute`` runs the plan's new tasks with dependency-driven parallelism (see
:mod:`atomwork.executor`) and evaluates each output. Tasks that fail evaluation
send the run to ``replan``, which asks the planner for replacement tasks while
every finished task is kept and can be referenced. Replanning is bounded by
``max_replans``; the run always ends with a :class:`StopReason`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from atomwork.agents.answerer import Answerer
from atomwork.agents.evaluator import Evaluator
from atomwork.agents.planner import Planner
from atomwork.agents.router import is_single_question
from atomwork.agents.specialist import Specialist
from atomwork.agents.sql_analyst import ASK_TOOL
from atomwork.errors import AtomworkError, ConfigError, ModelError
from atomwork.executor import execute
from atomwork.models.base import ChatModel
from atomwork.plan import AtomicTask, Choices, Plan, ValidationReport
from atomwork.result import (
    Evaluation,
    Event,
    EventKind,
    RunResult,
    StopReason,
    TaskOutcome,
    TaskStatus,
    now,
)
from atomwork.tools.registry import ToolRegistry


class RunState(TypedDict, total=False):
    goal: str
    plan: Plan
    outcomes: dict[str, TaskOutcome]
    round: int
    replans: int
    repairs: list[str]
    answer: str
    final_evaluation: Evaluation | None
    stop_reason: StopReason | None
    final_feedback: str
    direct: bool
    """The goal was one question answered by one SQL task, without the planner."""


class Engine:
    """Wires planner, specialists and evaluator into a LangGraph graph."""

    def __init__(
        self,
        model: ChatModel,
        registry: ToolRegistry,
        *,
        data_range: str = "",
        max_replans: int = 2,
        max_workers: int = 4,
        threshold: float = 0.5,
        score_tasks_with_model: bool = True,
        score_final_with_model: bool = True,
        answer_with_model: bool = True,
        single_question_fast_path: bool = True,
        planner_examples: str = "",
        choices: Choices | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        if max_replans < 0:
            raise ConfigError("max_replans must be >= 0")
        self.model = model
        self.registry = registry
        self.max_replans = max_replans
        self.max_workers = max_workers
        self.planner = Planner(
            model, registry, data_range=data_range, examples=planner_examples, choices=choices
        )
        self.evaluator = Evaluator(
            model,
            threshold=threshold,
            score_tasks_with_model=score_tasks_with_model,
            score_final_with_model=score_final_with_model,
        )
        self.answerer = Answerer(model, use_model=answer_with_model)
        self.fast_path = single_question_fast_path
        self.specialists = {
            dept: Specialist(dept, registry.for_department(dept), model, data_range=data_range)
            for dept in registry.departments()
        }
        self._on_event = on_event
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self.graph = self._build()

    # -- events ---------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        with self._lock:
            self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    # -- graph ----------------------------------------------------------------------------
    def _build(self) -> Any:
        graph = StateGraph(RunState)
        graph.add_node("plan", self._plan)
        graph.add_node("execute", self._execute)
        graph.add_node("replan", self._replan)
        graph.add_node("finalize", self._finalize)
        graph.add_edge(START, "plan")
        graph.add_edge("plan", "execute")
        graph.add_conditional_edges("execute", self._after_execute, ["replan", "finalize"])
        graph.add_conditional_edges("replan", self._after_replan, ["execute", "finalize"])
        graph.add_conditional_edges("finalize", self._after_finalize, ["replan", END])
        return graph.compile()

    def _plan(self, state: RunState) -> RunState:
        direct = self._direct_plan(state["goal"])
        plan, report = direct or self.planner.plan(state["goal"])
        self.emit(
            Event(
                kind=EventKind.PLANNED,
                message=f"{len(plan.tasks)} tasks: {', '.join(plan.ids())}",
                tasks=plan.tasks,
            )
        )
        return {
            "plan": plan,
            "repairs": report.repairs + report.dropped,
            "round": 0,
            "replans": 0,
            "outcomes": {},
            "direct": direct is not None,
        }

    def _direct_plan(self, goal: str) -> tuple[Plan, ValidationReport] | None:
        """A single question becomes one SQL task with no planner call."""
        if not self.fast_path or ASK_TOOL not in self.registry or not is_single_question(goal):
            return None
        task = AtomicTask(
            id="t1",
            department=self.registry.get(ASK_TOOL).department,
            tool=ASK_TOOL,
            args={"question": goal},
            success_criteria="the figures that answer the question, verified",
        )
        return Plan(goal=goal, tasks=[task]), ValidationReport()

    def _execute(self, state: RunState) -> RunState:
        new = execute(
            state["plan"],
            state["outcomes"],
            specialists=self.specialists,
            evaluator=self.evaluator,
            goal=state["goal"],
            round_=state["round"],
            emit=self.emit,
            max_workers=self.max_workers,
        )
        merged = {**state["outcomes"], **new}
        failed = [o for o in new.values() if o.status == TaskStatus.FAILED]
        if (
            failed
            and not any(o.ok for o in merged.values())
            and all(o.error_type == "ModelError" for o in failed)
        ):
            # Nothing was computed and the model itself is unusable: replanning with the same model
            # cannot help, so say so plainly instead of reporting a failed plan.
            raise ModelError(failed[0].error or "the model failed")
        return {"outcomes": merged}

    def _unresolved(self, state: RunState) -> dict[str, TaskOutcome]:
        """Tasks of the latest round that did not pass."""
        return {tid: o for tid, o in state["outcomes"].items() if o.round == state["round"] and not o.ok}

    def _after_execute(self, state: RunState) -> str:
        # A question whose SQL could not be made to run is answered honestly as failed: replanning
        # it into department tools cost minutes and rarely found the answer.
        if self._unresolved(state) and state["replans"] < self.max_replans and not state.get("direct"):
            return "replan"
        return "finalize"

    def _replan(self, state: RunState) -> RunState:
        outcomes = state["outcomes"]
        finished = {tid: o for tid, o in outcomes.items() if o.ok}
        failed = self._unresolved(state)
        if state.get("final_feedback"):
            failed = {**failed, "final_answer": _final_answer_outcome(state)}
        replans = state["replans"] + 1
        try:
            new_plan, report = self.planner.replan(state["goal"], finished, failed, set(outcomes))
        except AtomworkError as exc:
            self.emit(Event(kind=EventKind.REPLANNED, message=f"replanning failed: {exc}"))
            return {"replans": replans, "stop_reason": StopReason.NO_PROGRESS, "final_feedback": ""}
        merged = Plan(goal=state["goal"], tasks=[*state["plan"].tasks, *new_plan.tasks])
        self.emit(
            Event(
                kind=EventKind.REPLANNED,
                message=f"round {state['round'] + 1}: kept {len(finished)} finished tasks, "
                f"added {', '.join(new_plan.ids())}",
                tasks=new_plan.tasks,
            )
        )
        return {
            "plan": merged,
            "round": state["round"] + 1,
            "replans": replans,
            "repairs": state["repairs"] + report.repairs + report.dropped,
            "final_feedback": "",
            "stop_reason": None,
        }

    def _after_replan(self, state: RunState) -> str:
        return "finalize" if state.get("stop_reason") == StopReason.NO_PROGRESS else "execute"

    def _finalize(self, state: RunState) -> RunState:
        outcomes = state["outcomes"]
        answer = self._compose_answer(state["goal"], outcomes)
        final = self.evaluator.evaluate_final(state["goal"], answer, outcomes)
        unverified = _unverified(outcomes)
        if unverified and "Not verified" not in answer:
            answer += (
                "\n\nNot verified: the figures of " + ", ".join(unverified) + " could not be cross-checked."
            )
        self.emit(Event(kind=EventKind.TASK_EVALUATED, message=f"final answer score {final.score:.1f}"))
        update: RunState = {"answer": answer, "final_evaluation": final}
        if state.get("stop_reason") == StopReason.NO_PROGRESS:
            return update
        if self._unresolved(state):
            update["stop_reason"] = StopReason.REPLAN_BUDGET_EXHAUSTED
        elif not final.passed:
            if state["replans"] < self.max_replans and not state.get("direct"):
                update["final_feedback"] = (
                    final.reason or "; ".join(final.checks) or "final answer scored low"
                )
            else:
                update["stop_reason"] = StopReason.REPLAN_BUDGET_EXHAUSTED
        elif unverified:
            update["stop_reason"] = StopReason.UNVERIFIED
        else:
            update["stop_reason"] = StopReason.COMPLETED
        return update

    def _after_finalize(self, state: RunState) -> str:
        return "replan" if state.get("final_feedback") and state.get("stop_reason") is None else END

    def _compose_answer(self, goal: str, outcomes: dict[str, TaskOutcome]) -> str:
        """The latest passing report, else the grounded answer built from passing results."""
        good = {tid: o for tid, o in outcomes.items() if o.ok and o.result is not None}
        reports = [o for o in good.values() if self.registry.get(o.task.tool).department == "reporting"]
        sources = {tid: o for tid, o in good.items() if o not in reports}
        composed = self.answerer.compose(goal, sources, reports[-1] if reports else None)
        if composed.rejected:
            self.emit(
                Event(
                    kind=EventKind.TASK_EVALUATED,
                    message="model answer replaced: " + "; ".join(composed.rejected),
                )
            )
        return composed.text

    # -- entry point ----------------------------------------------------------------------
    def run(self, goal: str, *, run_id: str | None = None) -> RunResult:
        started = now()
        mark = self.model.mark()
        self._events = []
        state: RunState = self.graph.invoke(
            {"goal": goal, "final_feedback": "", "stop_reason": None},
            {"recursion_limit": 10 + 4 * (self.max_replans + 1)},
        )
        stop = state.get("stop_reason") or StopReason.REPLAN_BUDGET_EXHAUSTED
        self.emit(Event(kind=EventKind.FINISHED, message=str(stop)))
        return RunResult(
            run_id=run_id or uuid.uuid4().hex[:12],
            goal=goal,
            answer=state.get("answer", ""),
            plan=state["plan"],
            outcomes=state["outcomes"],
            final_evaluation=state.get("final_evaluation"),
            stop_reason=stop,
            replans=state.get("replans", 0),
            plan_repairs=state.get("repairs", []),
            model=self.model.name,
            started_at=started,
            finished_at=now(),
            events=list(self._events),
            usage=self.model.usage_since(mark),
        )


def _unverified(outcomes: dict[str, TaskOutcome]) -> list[str]:
    """Passing tasks whose model-written result could not be verified."""
    return [
        task_id
        for task_id, o in outcomes.items()
        if o.ok
        and o.result is not None
        and o.result.provenance is not None
        and not o.result.provenance.verified
    ]


def _final_answer_outcome(state: RunState) -> TaskOutcome:
    """A pseudo outcome telling the replanner why the final answer failed."""
    task = AtomicTask(id="final_answer", department="reporting", tool="final answer", args={})
    return TaskOutcome(
        task=task, status=TaskStatus.FAILED, error=f"final answer rejected: {state.get('final_feedback', '')}"
    )


__all__ = ["Engine", "RunState"]
