"""The run loop as a LangGraph state machine.

    plan -> execute -> (replan -> execute)* -> finalize -> END
                                   ^______________|  (final answer failed, budget left)

``execute`` runs the plan's new tasks with dependency-driven parallelism (see
:mod:`atomwork.executor`) and evaluates each output. Tasks that fail evaluation
send the run to ``replan``, which asks the planner for replacement tasks while
every finished task is kept and can be referenced. Replanning is bounded by
``RunSettings.max_replans``; the run always ends with a :class:`StopReason`. Progress is
reported as typed events (:mod:`atomwork.events`).
"""

from __future__ import annotations

import threading
import uuid
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from atomwork.agents.answerer import Answerer
from atomwork.agents.choices import Choices
from atomwork.agents.evaluator import Evaluator
from atomwork.agents.planner import Planner
from atomwork.agents.router import is_single_question
from atomwork.agents.specialist import Specialist
from atomwork.agents.sql_analyst import ASK_TOOL
from atomwork.conversation_context import ConversationContext
from atomwork.errors import AtomworkError, ModelError
from atomwork.events import (
    AnswerComposed,
    AnswerEvaluated,
    Event,
    EventHandler,
    PlanCreated,
    ReplanFailed,
    Replanned,
    RunFinished,
    RunStarted,
)
from atomwork.executor import execute
from atomwork.feedback import ReplanFeedback
from atomwork.models.base import ChatModel
from atomwork.outcome import Evaluation, StopReason, TaskOutcome, TaskStatus, now
from atomwork.plan import AtomicTask, Plan, ValidationReport
from atomwork.result import RunResult
from atomwork.settings import RunSettings
from atomwork.tools.approval import Approver
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
    answer_problems: list[str]
    """Why the latest final answer was rejected, for the replanner (empty: not rejected)."""
    direct: bool
    """The goal was one question answered by one SQL task, without the planner."""
    context: ConversationContext
    """A follow-up's conversation: earlier goals, plans and the results its tasks may reference."""
    reused: list[str]
    """Ids of the earlier turns' results this run's plan uses (kept in ``outcomes``)."""


class Engine:
    """Wires planner, specialists and evaluator into a LangGraph graph.

    ``settings`` governs the run (replans, workers, evaluation, planner limits, token budgets);
    ``data_range``, ``planner_examples`` and ``choices`` describe the data and memory of this
    run; ``on_event`` receives every :mod:`atomwork.events` event as it happens. ``approve`` is
    asked before each call of a tool that requires approval; ``user`` is who asked (tools see it
    in their :class:`RunContext`)."""

    def __init__(
        self,
        model: ChatModel,
        registry: ToolRegistry,
        *,
        settings: RunSettings | None = None,
        data_range: str = "",
        planner_examples: str = "",
        choices: Choices | None = None,
        on_event: EventHandler | None = None,
        approve: Approver | None = None,
        user: str | None = None,
    ) -> None:
        self.model = model
        self.registry = registry
        self.settings = settings if settings is not None else RunSettings()
        self.planner = Planner(
            model,
            registry,
            settings=self.settings,
            data_range=data_range,
            examples=planner_examples,
            choices=choices,
        )
        self.evaluator = Evaluator(model, self.settings, report_departments=registry.report_departments())
        self.answerer = Answerer(
            model, use_model=self.settings.answer_with_model, max_tokens=self.settings.max_tokens.answer
        )
        self.specialists = {
            dept: Specialist(
                dept,
                registry.for_department(dept),
                model,
                data_range=data_range,
                instructions=registry.department(dept).instructions,
                user=user,
                approve=approve,
            )
            for dept in registry.departments()
        }
        self._on_event = on_event
        self._cancel = threading.Event()
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
        context = state.get("context") or ConversationContext()
        # A follow-up ("now only for ASIA") means nothing without its conversation: always plan it.
        direct = None if context.is_follow_up else self._direct_plan(state["goal"])
        plan, report = direct or self.planner.plan(state["goal"], context)
        reused = context.referenced_by(plan)
        self.emit(PlanCreated(plan=plan, repairs=report.repairs + report.dropped, direct=direct is not None))
        return {
            "plan": plan,
            "repairs": report.repairs + report.dropped,
            "round": 0,
            "replans": 0,
            "outcomes": reused,
            "reused": list(reused),
            "direct": direct is not None,
        }

    def _direct_plan(self, goal: str) -> tuple[Plan, ValidationReport] | None:
        """A single question becomes one SQL task with no planner call."""
        if (
            not self.settings.single_question_fast_path
            or ASK_TOOL not in self.registry
            or not is_single_question(goal)
        ):
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
        context = state.get("context") or ConversationContext()
        new = execute(
            state["plan"],
            {**context.outcomes, **state["outcomes"]},  # earlier turns' results are inputs too
            specialists=self.specialists,
            evaluator=self.evaluator,
            goal=state["goal"],
            round_=state["round"],
            emit=self.emit,
            max_workers=self.settings.max_workers,
            cancel=self._cancel,
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
        if self._unresolved(state) and self._may_replan(state) and not self._cancel.is_set():
            return "replan"
        return "finalize"

    def _may_replan(self, state: RunState) -> bool:
        # A question whose SQL could not be made to run is answered honestly as failed: replanning
        # it into department tools cost minutes and rarely found the answer.
        return state["replans"] < self.settings.max_replans and not state.get("direct")

    def _replan(self, state: RunState) -> RunState:
        outcomes = state["outcomes"]
        finished = {tid: o for tid, o in outcomes.items() if o.ok}
        feedback = ReplanFeedback(
            failed=self._unresolved(state), answer_problems=state.get("answer_problems", [])
        )
        replans = state["replans"] + 1
        round_ = state["round"] + 1
        try:
            used = set(outcomes) | (state.get("context") or ConversationContext()).used_ids()
            new_plan, report = self.planner.replan(state["goal"], finished, feedback, used)
        except AtomworkError as exc:
            self.emit(ReplanFailed(round=round_, feedback=feedback, error=str(exc)))
            return {"replans": replans, "stop_reason": StopReason.NO_PROGRESS, "answer_problems": []}
        merged = Plan(goal=state["goal"], tasks=[*state["plan"].tasks, *new_plan.tasks])
        repairs = report.repairs + report.dropped
        self.emit(
            Replanned(round=round_, feedback=feedback, plan=new_plan, kept=list(finished), repairs=repairs)
        )
        return {
            "plan": merged,
            "round": round_,
            "replans": replans,
            "repairs": state["repairs"] + repairs,
            "answer_problems": [],
            "stop_reason": None,
        }

    def _after_replan(self, state: RunState) -> str:
        return "finalize" if state.get("stop_reason") == StopReason.NO_PROGRESS else "execute"

    def _finalize(self, state: RunState) -> RunState:
        outcomes = state["outcomes"]
        if self._cancel.is_set():
            return self._stopped(state)
        composed, rejected = self._compose_answer(state["goal"], outcomes)
        answer = composed
        unverified = _unverified(outcomes)
        if unverified and "Not verified" not in answer:
            answer += (
                "\n\nNot verified: the figures of " + ", ".join(unverified) + " could not be cross-checked."
            )
        self.emit(AnswerComposed(answer=answer, rejected=rejected))
        final = self.evaluator.evaluate_final(state["goal"], composed, outcomes)
        self.emit(AnswerEvaluated(evaluation=final))
        update: RunState = {"answer": answer, "final_evaluation": final}
        if state.get("stop_reason") == StopReason.NO_PROGRESS:
            return update
        if self._unresolved(state):
            update["stop_reason"] = StopReason.REPLAN_BUDGET_EXHAUSTED
        elif not final.passed:
            if self._may_replan(state):
                update["answer_problems"] = final.checks or [final.reason or "final answer scored low"]
            else:
                update["stop_reason"] = StopReason.REPLAN_BUDGET_EXHAUSTED
        elif unverified:
            update["stop_reason"] = StopReason.UNVERIFIED
        else:
            update["stop_reason"] = StopReason.COMPLETED
        return update

    def _stopped(self, state: RunState) -> RunState:
        """A cancelled run's answer: what the finished tasks found, with no further model call."""
        good = {tid: o for tid, o in state["outcomes"].items() if o.ok and o.result is not None}
        reports = [o for o in good.values() if self.registry.writes_report(o.task.tool)]
        sources = {tid: o for tid, o in good.items() if o not in reports}
        composed = Answerer(self.model, use_model=False).compose(
            state["goal"], sources, reports[-1] if reports else None
        )
        self.emit(AnswerComposed(answer=composed.text))
        return {"answer": composed.text, "final_evaluation": None, "stop_reason": StopReason.CANCELLED}

    def _after_finalize(self, state: RunState) -> str:
        return "replan" if state.get("answer_problems") and state.get("stop_reason") is None else END

    def _compose_answer(self, goal: str, outcomes: dict[str, TaskOutcome]) -> tuple[str, list[str]]:
        """The latest passing report, else the grounded answer built from passing results; with
        the reasons a model-written answer was replaced."""
        good = {tid: o for tid, o in outcomes.items() if o.ok and o.result is not None}
        reports = [o for o in good.values() if self.registry.writes_report(o.task.tool)]
        sources = {tid: o for tid, o in good.items() if o not in reports}
        composed = self.answerer.compose(goal, sources, reports[-1] if reports else None)
        return composed.text, list(composed.rejected)

    # -- entry point ----------------------------------------------------------------------
    def run(
        self,
        goal: str,
        *,
        run_id: str | None = None,
        context: ConversationContext | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Run ``goal`` to a :class:`RunResult`. ``context``: the conversation a follow-up belongs
        to. ``cancel``: once set, no new task starts; the run ends ``cancelled`` with what finished."""
        self._cancel = cancel if cancel is not None else threading.Event()
        started = now()
        mark = self.model.mark()
        run_id = run_id or uuid.uuid4().hex[:12]
        with self._lock:
            self._events = []
        self.emit(RunStarted(run_id=run_id, goal=goal))
        state: RunState = self.graph.invoke(
            {
                "goal": goal,
                "answer_problems": [],
                "stop_reason": None,
                "context": context or ConversationContext(),
            },
            {"recursion_limit": 10 + 4 * (self.settings.max_replans + 1)},
        )
        stop = state.get("stop_reason") or StopReason.REPLAN_BUDGET_EXHAUSTED
        replans = state.get("replans", 0)
        self.emit(RunFinished(run_id=run_id, stop_reason=stop, replans=replans))
        return RunResult(
            run_id=run_id,
            goal=goal,
            answer=state.get("answer", ""),
            plan=state["plan"],
            outcomes=state["outcomes"],
            final_evaluation=state.get("final_evaluation"),
            stop_reason=stop,
            replans=replans,
            plan_repairs=state.get("repairs", []),
            reused=state.get("reused", []),
            model=self.model.name,
            settings=self.settings,
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


__all__ = ["Engine", "RunState"]
