"""The run loop as a LangGraph state machine.

    plan -> execute -> (replan -> execute)* -> finalize -> END
              ^   |                ^______________|  (final answer failed, replans left)
              |   v
        await_approval  (a LangGraph interrupt: the run pauses until a person decides)

``execute`` runs the plan's new tasks with dependency-driven parallelism (see
:mod:`atomwork.executor`) and evaluates each output. Tasks that fail evaluation
send the run to ``replan``, which asks the planner for replacement tasks while
every finished task is kept and can be referenced. Replanning is bounded by
``RunSettings.max_replans``; the run always ends with a :class:`StopReason`. Progress is
reported as typed events (:mod:`atomwork.events`).

Runs are durable (:mod:`atomwork.run_store`): the graph is checkpointed after every step, each
task's outcome is stored the moment it is evaluated, and :meth:`Engine.resume` continues a run
that was killed or paused without running any finished task again. A tool that needs approval
parks its task; once nothing else can run, ``await_approval`` pauses the run until
``aw.approve``/``aw.reject``. ``RunSettings.budget`` ends a run ``budget_exhausted``.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import socket
import threading
import uuid
from typing import Any, Protocol, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from atomwork import tracing
from atomwork.agents.answerer import Answerer
from atomwork.agents.choices import Choices
from atomwork.agents.evaluator import Evaluator
from atomwork.agents.plan_validation import PlanRefused
from atomwork.agents.planner import Planner
from atomwork.agents.router import is_single_question
from atomwork.agents.specialist import Specialist
from atomwork.agents.sql_analyst import ASK_TOOL
from atomwork.approval import Approval, ApprovalRequest, Approver
from atomwork.approval_desk import DurableDesk
from atomwork.audit import AuditLog, AuditTrail
from atomwork.budget import RunMeter
from atomwork.conversation_context import ConversationContext
from atomwork.errors import AtomworkError, ConfigError, GoalError, ModelError
from atomwork.events import (
    AnswerComposed,
    AnswerEvaluated,
    BudgetExhausted,
    Event,
    EventHandler,
    PlanCreated,
    ReplanFailed,
    Replanned,
    RunFinished,
    RunResumed,
    RunStarted,
    TaskPlanned,
    TaskRefused,
)
from atomwork.executor import execute
from atomwork.feedback import ReplanFeedback
from atomwork.models.attribution import call_scope
from atomwork.models.base import ChatModel
from atomwork.outcome import Evaluation, StopReason, TaskOutcome, TaskStatus, now
from atomwork.plan import AtomicTask, Plan, RefusedTask, ValidationReport
from atomwork.policy import Access
from atomwork.result import RunResult
from atomwork.run_store import RunRecord, RunStatus, RunStore
from atomwork.settings import RunSettings
from atomwork.task_feed import TaskFeed
from atomwork.tools.registry import ToolRegistry
from atomwork.tracing import Attr, SpanName


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


_PAUSED_FOR = "awaiting_approval"
"""The key of the interrupt value ``await_approval`` pauses with (the task ids waiting)."""


class Engine:
    """Wires planner, specialists and evaluator into a LangGraph graph.

    ``settings`` governs the run (replans, workers, evaluation, planner limits, token budgets);
    ``data_range``, ``planner_examples`` and ``choices`` describe the data and memory of this
    run; ``on_event`` receives every :mod:`atomwork.events` event as it happens. ``approve`` may
    decide each new request for a tool that requires approval at once (None from it, or no
    ``approve``, leaves it to a person); ``user`` is who asked (tools see it in their
    :class:`RunContext`). ``runs`` keeps the run durable (default: in memory, for this process)."""

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
        runs: RunStore | None = None,
        access: Access | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.model = model
        self.registry = registry
        self.settings = settings if settings is not None else RunSettings()
        self.runs = runs if runs is not None else RunStore.in_memory()
        self.user = user
        self.access = access
        """What the user may use and read: enforced at plan validation and where tools run."""
        self._audit = AuditTrail(audit, user) if audit is not None else None
        self._approve = approve
        self._desk: DurableDesk | None = None  # set per run: the specialists ask it through _decide
        self._run_id = ""
        self._meter = RunMeter(model, "", self.settings.budget)
        self._budget_told = threading.Event()
        self.planner = Planner(
            model,
            registry,
            settings=self.settings,
            data_range=data_range,
            examples=planner_examples,
            choices=choices,
            access=access,
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
                approvals=self,
                settings=self.settings,
                access=access,
            )
            for dept in registry.departments()
        }
        self._on_event = on_event
        self._cancel = threading.Event()
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self.graph = self._build()

    # -- approvals --------------------------------------------------------------------------
    def decide(self, request: ApprovalRequest) -> Approval:
        """The specialists' approval desk (:class:`ApprovalDesk`): the current run's durable one."""
        if self._desk is None:
            raise AtomworkError("no run is under way to ask for an approval")
        return self._desk.decide(request)

    # -- events ---------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        if self._audit is not None:  # first: a failing event handler must not cost an audit line
            self._audit(event)
        with self._lock:
            self._events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    # -- graph ----------------------------------------------------------------------------
    def _build(self) -> Any:
        graph = StateGraph(RunState)
        graph.add_node("plan", _traced(SpanName.PLAN, self._plan))
        graph.add_node("execute", self._execute)
        graph.add_node("await_approval", self._await_approval)
        graph.add_node("replan", _traced(SpanName.REPLAN, self._replan))
        graph.add_node("finalize", _traced(SpanName.ANSWER, self._finalize))
        graph.add_edge(START, "plan")
        graph.add_edge("plan", "execute")
        graph.add_conditional_edges("execute", self._after_execute, ["await_approval", "replan", "finalize"])
        graph.add_edge("await_approval", "execute")
        graph.add_conditional_edges("replan", self._after_replan, ["execute", "finalize"])
        graph.add_conditional_edges("finalize", self._after_finalize, ["replan", END])
        return graph.compile(checkpointer=self.runs.checkpointer)

    def _plan(self, state: RunState) -> RunState:
        context = state.get("context") or ConversationContext()
        # A follow-up ("now only for ASIA") means nothing without its conversation: always plan it.
        direct = None if context.is_follow_up else self._direct_plan(state["goal"])
        started: dict[str, TaskOutcome] = {}
        try:
            if direct is None and self.settings.stream_plan:
                plan, report, started = self._plan_streaming(state["goal"], context)
            else:
                plan, report = direct or self.planner.plan(state["goal"], context)
        except PlanRefused as exc:
            self._emit_refused(exc.refused, 0)
            raise
        reused = context.referenced_by(plan)
        if not self.settings.stream_plan or direct is not None:  # streaming announced it already
            self.emit(
                PlanCreated(plan=plan, repairs=report.repairs + report.dropped, direct=direct is not None)
            )
            self._emit_refused(report.refused, 0)
        return {
            "plan": plan,
            "repairs": report.repairs + report.dropped,
            "round": 0,
            "replans": 0,
            "outcomes": {**reused, **started},
            "reused": list(reused),
            "direct": direct is not None,
        }

    def _plan_streaming(
        self, goal: str, context: ConversationContext
    ) -> tuple[Plan, ValidationReport, dict[str, TaskOutcome]]:
        """Plan ``goal`` with the reply streamed, running each task the planner releases while it
        writes the rest (:mod:`atomwork.agents.plan_stream`); once the plan is complete its other
        tasks join. Returns the plan, its report and the outcomes of every task that ran."""
        feed = TaskFeed()
        planned: list[tuple[Plan, ValidationReport]] = []
        failure: list[BaseException] = []

        def release(task: AtomicTask) -> None:
            self.emit(TaskPlanned(task=task))
            feed.add(task)

        def write_plan() -> None:
            try:
                plan, report = self.planner.plan(goal, context, release=release)
                self.emit(PlanCreated(plan=plan, repairs=report.repairs + report.dropped))
                self._emit_refused(report.refused, 0)
                released = {t.id for t in feed.tasks()}
                for task in plan.tasks:
                    if task.id not in released:
                        feed.add(task)
                planned.append((plan, report))
            except BaseException as exc:  # handed to the run's thread, raised there
                failure.append(exc)
            finally:
                feed.close()

        # The planner writes in its own thread (with the run's context: call scope, trace) while
        # this one runs the tasks it hands over.
        writer = threading.Thread(
            target=contextvars.copy_context().run, args=(write_plan,), name="atomwork-planner", daemon=True
        )
        writer.start()
        done = self.runs.outcomes(self._run_id)
        new = self._run_tasks(Plan(goal=goal, tasks=[]), {**context.outcomes, **done}, goal, 0, feed=feed)
        writer.join()
        if failure:
            raise failure[0]
        plan, report = planned[0]
        merged = {**done, **new}
        self._check_model_usable(new, merged)
        return plan, report, merged

    def _emit_refused(self, refused: list[RefusedTask], round_: int) -> None:
        for item in refused:
            self.emit(TaskRefused(task=item.task, reason=item.reason, round=round_))

    def _direct_plan(self, goal: str) -> tuple[Plan, ValidationReport] | None:
        """A single question becomes one SQL task with no planner call (when the user may ask it)."""
        if (
            not self.settings.single_question_fast_path
            or ASK_TOOL not in self.registry
            or self.registry.get(ASK_TOOL).refusal(self.access) is not None
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
        # Finished outcomes are kept; those stored after the last checkpoint (a killed process, or
        # tasks that ran while others waited for approval) count as finished too.
        done = {tid: o for tid, o in state["outcomes"].items() if o.finished}
        done.update(self.runs.outcomes(self._run_id))
        # Earlier turns' results are inputs too.
        new = self._run_tasks(state["plan"], {**context.outcomes, **done}, state["goal"], state["round"])
        merged = {**done, **new}
        self._check_model_usable(new, merged)
        return {"outcomes": merged}

    def _run_tasks(
        self,
        plan: Plan,
        outcomes: dict[str, TaskOutcome],
        goal: str,
        round_: int,
        *,
        feed: TaskFeed | None = None,
    ) -> dict[str, TaskOutcome]:
        return execute(
            plan,
            outcomes,
            specialists=self.specialists,
            evaluator=self.evaluator,
            goal=goal,
            round_=round_,
            emit=self.emit,
            max_workers=self.settings.max_workers,
            cancel=self._cancel,
            stop=self._budget_spent,
            on_outcome=self._keep,
            task_usage=self._meter.task_usage,
            feed=feed,
        )

    @staticmethod
    def _check_model_usable(new: dict[str, TaskOutcome], merged: dict[str, TaskOutcome]) -> None:
        failed = [o for o in new.values() if o.status == TaskStatus.FAILED]
        if (
            failed
            and not any(o.ok for o in merged.values())
            and all(o.error_type == "ModelError" for o in failed)
        ):
            # Nothing was computed and the model itself is unusable: replanning with the same model
            # cannot help, so say so plainly instead of reporting a failed plan.
            raise ModelError(failed[0].error or "the model failed")

    def _keep(self, outcome: TaskOutcome) -> None:
        """Store a task's final outcome the moment it is known (called from the task's worker)."""
        self.runs.save_outcome(self._run_id, outcome)

    def _budget_spent(self) -> bool:
        reason = self._meter.exhausted()
        if reason is not None and not self._budget_told.is_set():
            self._budget_told.set()
            self.emit(BudgetExhausted(reason=reason))
        return reason is not None

    def _unresolved(self, state: RunState) -> dict[str, TaskOutcome]:
        """Tasks of the latest round that did not pass, leaving out those a person rejected and
        those that could not run without them (nothing is planned around a rejection)."""
        refused = _refused(state["outcomes"])
        return {
            tid: o
            for tid, o in state["outcomes"].items()
            if o.round == state["round"] and not o.ok and o.finished and tid not in refused
        }

    def _after_execute(self, state: RunState) -> str:
        if self._cancel.is_set() or self._budget_spent():
            return "finalize"
        if _awaiting(state["outcomes"]):
            return "await_approval"
        if self._unresolved(state) and self._may_replan(state):
            return "replan"
        return "finalize"

    def _await_approval(self, state: RunState) -> RunState:
        """Pause (a LangGraph interrupt) until a person decides; a decision already given, e.g.
        while the rest of the plan ran, goes straight back to ``execute``."""
        waiting = _awaiting(state["outcomes"])
        decided = [
            tid
            for tid in waiting
            if (found := self.runs.approval(self._run_id, tid)) is not None and found.decision is not None
        ]
        if not decided:
            interrupt({_PAUSED_FOR: waiting})
        return {}

    def _may_replan(self, state: RunState) -> bool:
        # A question whose SQL could not be made to run is answered honestly as failed: replanning
        # it into department tools cost minutes and rarely found the answer.
        return state["replans"] < self.settings.max_replans and not state.get("direct")

    def _replan(self, state: RunState) -> RunState:
        if self._budget_spent():
            return {"stop_reason": StopReason.BUDGET_EXHAUSTED}
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
        except PlanRefused as exc:
            self._emit_refused(exc.refused, round_)
            self.emit(ReplanFailed(round=round_, feedback=feedback, error=str(exc)))
            return {"replans": replans, "stop_reason": StopReason.NO_PROGRESS, "answer_problems": []}
        except AtomworkError as exc:
            self.emit(ReplanFailed(round=round_, feedback=feedback, error=str(exc)))
            return {"replans": replans, "stop_reason": StopReason.NO_PROGRESS, "answer_problems": []}
        merged = Plan(goal=state["goal"], tasks=[*state["plan"].tasks, *new_plan.tasks])
        repairs = report.repairs + report.dropped
        self.emit(
            Replanned(round=round_, feedback=feedback, plan=new_plan, kept=list(finished), repairs=repairs)
        )
        self._emit_refused(report.refused, round_)
        return {
            "plan": merged,
            "round": round_,
            "replans": replans,
            "repairs": state["repairs"] + repairs,
            "answer_problems": [],
            "stop_reason": None,
        }

    def _after_replan(self, state: RunState) -> str:
        stopped = state.get("stop_reason") in (StopReason.NO_PROGRESS, StopReason.BUDGET_EXHAUSTED)
        return "finalize" if stopped else "execute"

    def _finalize(self, state: RunState) -> RunState:
        outcomes = state["outcomes"]
        if self._cancel.is_set():
            return self._stopped(state, StopReason.CANCELLED)
        if self._budget_spent():
            return self._stopped(state, StopReason.BUDGET_EXHAUSTED)
        composed, rejected = self._compose_answer(state["goal"], outcomes)
        answer = (composed or _no_answer(outcomes)) + _rejections(outcomes)
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
        elif _refused(outcomes):  # said plainly, and never replanned around
            update["stop_reason"] = StopReason.REJECTED
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

    def _stopped(self, state: RunState, reason: StopReason) -> RunState:
        """A stopped run's answer: what the finished tasks found, with no further model call."""
        answer = (self._plain_answer(state) or _no_answer(state["outcomes"])) + _rejections(state["outcomes"])
        self.emit(AnswerComposed(answer=answer))
        return {"answer": answer, "final_evaluation": None, "stop_reason": reason}

    def _plain_answer(self, state: RunState) -> str:
        """What the finished tasks found, composed without the model."""
        good = {tid: o for tid, o in state.get("outcomes", {}).items() if o.ok and o.result is not None}
        reports = [o for o in good.values() if self.registry.writes_report(o.task.tool)]
        sources = {tid: o for tid, o in good.items() if o not in reports}
        composed = Answerer(self.model, use_model=False).compose(
            state["goal"], sources, reports[-1] if reports else None
        )
        return composed.text

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

    # -- entry points -----------------------------------------------------------------------
    def run(
        self,
        goal: str,
        *,
        run_id: str | None = None,
        context: ConversationContext | None = None,
        cancel: threading.Event | None = None,
        departments: list[str] | None = None,
    ) -> RunResult:
        """Run ``goal`` to a :class:`RunResult`. ``context``: the conversation a follow-up belongs
        to. ``cancel``: once set, no new task starts; the run ends ``cancelled`` with what finished.
        ``departments``: the restriction the registry was built with, kept in the run record so a
        resume uses the same. The run is recorded before planning starts, so one that fails there
        leaves a record too."""
        record = RunRecord(
            run_id=run_id or uuid.uuid4().hex[:12],
            goal=goal,
            model=self.model.name,
            user=self.user,
            departments=departments,
            settings=self.settings,
            follow_up=bool(context and context.is_follow_up),
        )
        with self.runs.claim(record.run_id, wait=False):
            if self.runs.record(record.run_id) is not None:
                raise ConfigError(f"run {record.run_id} exists already: resume it, do not start it again")
            self.runs.save_record(record)
            self._begin(record, cancel)
            self.emit(RunStarted(run_id=record.run_id, goal=goal))
            first: RunState = {
                "goal": goal,
                "answer_problems": [],
                "stop_reason": None,
                "context": context or ConversationContext(),
            }
            return self._traced_drive(record, first)

    def resume(self, run_id: str, *, cancel: threading.Event | None = None) -> RunResult:
        """Continue a run that was killed, failed or paused for an approval, from its last
        checkpoint; finished tasks are kept and never run again. A run that has ended returns its
        result as it was. Waits while this process works on the run; :class:`RunBusy` when another
        process does."""
        record = self.runs.record(run_id)
        if record is None:
            raise GoalError(f"there is no run {run_id!r} in {self.runs.where} (atomwork runs lists them)")
        with self.runs.claim(run_id):
            record = self.runs.record(run_id) or record  # another thread may have moved it on
            config = self._config(run_id)
            snapshot = self.graph.get_state(config)
            if snapshot.values and not snapshot.next:
                ended = self.runs.result(run_id)
                if ended is not None:
                    return ended
            self._begin(record, cancel)
            values: dict[str, Any] = snapshot.values or {}
            if snapshot.interrupts:
                start: Any = Command(resume=True)  # decisions are read from the run database
            elif values:
                start = None  # continue from the last checkpoint
            else:  # killed before its first checkpoint
                start = {"goal": record.goal, "answer_problems": [], "stop_reason": None}
            plan = values.get("plan") or Plan(goal=record.goal, tasks=[])
            kept = {**values.get("outcomes", {}), **self.runs.outcomes(run_id)}
            self.emit(RunResumed(run_id=run_id, goal=record.goal, plan=plan, outcomes=kept))
            return self._traced_drive(record, start)

    def _config(self, run_id: str) -> RunnableConfig:
        # Each execute/await round and each replan is a few steps; the limit only stops a loop.
        steps = 10 + 4 * (self.settings.max_replans + 1) + 2 * len(self.registry.names())
        return {"configurable": {"thread_id": run_id}, "recursion_limit": steps}

    def _begin(self, record: RunRecord, cancel: threading.Event | None = None) -> None:
        self._cancel = cancel if cancel is not None else threading.Event()
        self._run_id = record.run_id
        self._desk = DurableDesk(self.runs, record.run_id, self._approve)
        self._meter = RunMeter(
            self.model,
            record.run_id,
            self.settings.budget,
            earlier=record.usage,
            earlier_seconds=record.work_seconds,
        )
        self._budget_told = threading.Event()
        with self._lock:
            self._events = []

    def _traced_drive(self, record: RunRecord, start: Any) -> RunResult:
        """:meth:`_drive` inside the run's tracing span (:mod:`atomwork.tracing`)."""
        attributes = {Attr.RUN_ID: record.run_id, Attr.GOAL: record.goal}
        with tracing.run_tracing(self.settings.tracing), tracing.span(SpanName.RUN, attributes) as span:
            result = self._drive(record, start)
            tracing.set_attributes(
                span,
                {
                    Attr.STOP_REASON: result.stop_reason,
                    Attr.TASKS: len(result.outcomes),
                    Attr.PROMPT_TOKENS: result.usage.prompt_tokens,
                    Attr.COMPLETION_TOKENS: result.usage.completion_tokens,
                },
            )
        return result

    def _drive(self, record: RunRecord, start: Any) -> RunResult:
        """Invoke the graph from ``start`` until it ends or pauses; keep the record up to date."""
        config = self._config(record.run_id)
        record.status, record.error = RunStatus.RUNNING, None
        record.host, record.pid = socket.gethostname(), os.getpid()
        self.runs.save_record(record)
        try:
            with call_scope(run_id=record.run_id):
                self.graph.invoke(start, config, durability="sync")
        except BaseException as exc:
            record.usage, record.work_seconds = self._meter.usage(), self._meter.work_seconds()
            if isinstance(exc, Exception):  # a Ctrl-C leaves it running: resume continues it
                record.status = RunStatus.FAILED
                record.error = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
            with contextlib.suppress(Exception):  # the run's own error says more than a failed save
                self.runs.save_record(record)
            raise
        snapshot = self.graph.get_state(config)
        state: RunState = snapshot.values
        outcomes = state.get("outcomes", {})
        paused = bool(snapshot.next)
        if paused:
            stop = StopReason.AWAITING_APPROVAL
            waiting = _awaiting(outcomes)
            answer = (
                self._plain_answer(state)
                + "\n\nWaiting for approval: "
                + ", ".join(f"{tid} ({outcomes[tid].task.tool})" for tid in waiting)
            )
        else:
            # A checkpoint gives a StrEnum back as its plain value.
            stop = StopReason(state.get("stop_reason") or StopReason.REPLAN_BUDGET_EXHAUSTED)
            waiting = []
            answer = state.get("answer", "")
        approvals = self.runs.approvals(record.run_id)
        replans = state.get("replans", 0)
        usage = self._meter.usage()
        result = RunResult(
            run_id=record.run_id,
            goal=record.goal,
            answer=answer,
            plan=state.get("plan") or Plan(goal=record.goal, tasks=[]),
            outcomes=outcomes,
            final_evaluation=None if paused else state.get("final_evaluation"),
            stop_reason=stop,
            stop_detail=self._meter.exhausted() or "" if stop == StopReason.BUDGET_EXHAUSTED else "",
            replans=replans,
            plan_repairs=state.get("repairs", []),
            reused=state.get("reused", []),
            model=self.model.name,
            settings=self.settings,
            started_at=record.started_at,
            finished_at=now(),
            events=list(self._events),
            usage=usage,
            approvals=list(approvals.values()),
            pending=[approvals[tid] for tid in waiting if tid in approvals],
        )
        record.status = RunStatus.PAUSED if paused else RunStatus.FINISHED
        record.stop_reason = stop
        record.finished_at = None if paused else result.finished_at
        record.usage, record.work_seconds = usage, self._meter.work_seconds()
        record.tasks_finished = sum(1 for o in outcomes.values() if o.finished)
        record.pending = waiting
        self.runs.save_result(result)
        self.runs.save_record(record)
        self.emit(RunFinished(run_id=record.run_id, stop_reason=stop, replans=replans))
        return result.model_copy(update={"events": list(self._events)})


class _Node(Protocol):
    """A graph node as LangGraph calls it (by the parameter name ``state``)."""

    def __call__(self, state: RunState) -> RunState: ...


def _traced(name: SpanName, node: _Node) -> _Node:
    """The graph node ``node`` inside a tracing span ``name`` (with its round and planned tasks)."""

    def traced(state: RunState) -> RunState:
        with tracing.span(name, {Attr.ROUND: state.get("round")}) as span:
            update = node(state)
            plan = update.get("plan")
            tracing.set_attributes(span, {Attr.TASKS: len(plan.tasks) if plan is not None else None})
        return update

    return traced


def _awaiting(outcomes: dict[str, TaskOutcome]) -> list[str]:
    """Tasks waiting for a person's approval."""
    return [tid for tid, o in outcomes.items() if o.status == TaskStatus.AWAITING_APPROVAL]


def _refused(outcomes: dict[str, TaskOutcome]) -> set[str]:
    """Tasks a person rejected, and those skipped because they needed one of them."""
    refused = {tid for tid, o in outcomes.items() if o.status == TaskStatus.REJECTED}
    grew = True
    while grew:
        more = {
            tid
            for tid, o in outcomes.items()
            if o.status == TaskStatus.SKIPPED and tid not in refused and set(o.task.depends_on) & refused
        }
        refused |= more
        grew = bool(more)
    return refused


def _no_answer(outcomes: dict[str, TaskOutcome]) -> str:
    """The answer when no task produced a result that passed its checks: that, said plainly, and
    why each task came to nothing (a blank answer would read as if there were nothing to say)."""
    lines = []
    for tid, o in outcomes.items():
        if o.status == TaskStatus.FAILED:
            why = f"failed: {o.error or o.error_type or 'no reason given'}"
        elif o.status == TaskStatus.DONE and o.evaluation is not None and not o.evaluation.passed:
            why = "its result failed the checks: " + "; ".join(o.evaluation.checks or [o.evaluation.reason])
        elif o.status == TaskStatus.SKIPPED:
            why = "skipped: " + (o.error or "a task it needed came to nothing")
        else:
            continue
        lines.append(f"- {tid} ({o.task.tool}): {why}")
    head = "No answer: no step produced a result that passed its checks, so there is nothing to report."
    return head + ("\n" + "\n".join(lines) if lines else "")


def _rejections(outcomes: dict[str, TaskOutcome]) -> str:
    """The rejected calls, said in the answer (so a reader knows what was not done, and why)."""
    lines = [
        f"- {tid} ({o.task.tool}): {o.approval.decision.describe()}"
        for tid, o in outcomes.items()
        if o.status == TaskStatus.REJECTED and o.approval is not None and o.approval.decision is not None
    ]
    return "\n\nRejected, so not done:\n" + "\n".join(lines) if lines else ""


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
