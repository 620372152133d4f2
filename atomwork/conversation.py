"""A conversation: goals that build on each other ("now only for ASIA", "draft that as a report").

The one follow-up model of the REPL, the Slack bot and the SDK (``aw.chat()``). Each turn keeps its
goal, plan, result tables and answer; the next goal is planned with them as a
:class:`~atomwork.conversation_context.ConversationContext`, so its tasks can use earlier tables.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from atomwork.approval import Approval
from atomwork.conversation_context import ConversationContext, EarlierTurn
from atomwork.errors import GoalError
from atomwork.events import Event, EventHandler, TaskEvaluated, TaskFinished
from atomwork.outcome import TaskOutcome
from atomwork.result import RunResult
from atomwork.settings import RunSettings
from atomwork.streaming import RunStream

if TYPE_CHECKING:
    from atomwork.sdk import Atomwork

__all__ = ["Conversation", "Turn"]


class Turn(BaseModel):
    """One goal of the conversation: its result, or the error that ended it and what finished first."""

    model_config = ConfigDict(frozen=True)

    goal: str
    result: RunResult | None = None
    error: str | None = None
    outcomes: dict[str, TaskOutcome] = Field(default_factory=dict)
    """The tasks that ran (all of ``result.outcomes``, or those that finished before the error)."""

    @property
    def answer(self) -> str:
        return self.result.answer if self.result is not None else ""

    def earlier(self) -> EarlierTurn:
        tasks = (
            self.result.plan.tasks if self.result is not None else [o.task for o in self.outcomes.values()]
        )
        return EarlierTurn(
            goal=self.goal,
            tasks=tasks,
            answer=self.answer,
            stop_reason=self.result.stop_reason if self.result is not None else None,
            error=self.error,
        )


class _Collector:
    """Keeps the outcomes a run's events carry, so a run that fails half-way loses nothing."""

    def __init__(self, forward: EventHandler | None) -> None:
        self.outcomes: dict[str, TaskOutcome] = {}
        self._forward = forward
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, TaskFinished):
                self.outcomes[event.task_id] = event.outcome
            elif isinstance(event, TaskEvaluated) and event.task_id in self.outcomes:
                known = self.outcomes[event.task_id]
                self.outcomes[event.task_id] = known.model_copy(update={"evaluation": event.evaluation})
        if self._forward is not None:
            self._forward(event)


class Conversation:
    """Goals asked one after another, each planned with the earlier ones as context.

    >>> chat = aw.chat()
    >>> chat.ask("revenue by region for 1997")
    >>> chat.ask("now only for ASIA")            # planned with the first goal, plan and table

    ``departments`` restricts every turn (a turn may narrow it further); ``settings`` overrides the
    session's run settings. Turns run one at a time: a follow-up waits for the goal before it.
    ``context_turns`` bounds how many earlier turns the planner is shown.
    """

    def __init__(
        self,
        session: Atomwork,
        *,
        departments: Iterable[str] | None = None,
        settings: RunSettings | None = None,
        context_turns: int = 3,
    ) -> None:
        self.session = session
        self.departments = list(departments) if departments is not None else None
        self.settings = settings
        self.context_turns = max(1, context_turns)
        self.turns: list[Turn] = []
        self._lock = threading.Lock()

    def context(self) -> ConversationContext:
        """What the next goal is planned with: the latest turns and their passing results."""
        recent = self.turns[-self.context_turns :]
        outcomes = {
            tid: o for turn in recent for tid, o in turn.outcomes.items() if o.ok and o.result is not None
        }
        return ConversationContext(turns=[t.earlier() for t in recent], outcomes=outcomes)

    @property
    def last(self) -> RunResult | None:
        """The latest turn's result (None before the first goal, or when it failed)."""
        return self.turns[-1].result if self.turns else None

    def reset(self) -> None:
        """Start over: the next goal is planned without the earlier ones."""
        with self._lock:
            self.turns = []

    def ask(
        self,
        goal: str,
        *,
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
        departments: Iterable[str] | None = None,
        user: str | None = None,
    ) -> RunResult:
        """Run ``goal`` as the next turn and return its result. ``cancel``: once set, no new task
        starts and the run ends ``cancelled`` with what finished. ``user``: who asks this turn (the
        access policy decides what they may do; default: the session's). An error is raised after
        the turn is recorded with the tasks that finished before it."""
        allowed = self._allowed(departments)
        with self._lock:
            collector = _Collector(on_event)
            try:
                result = self.session.run(
                    goal,
                    settings=self.settings,
                    on_event=collector,
                    context=self.context(),
                    cancel=cancel,
                    departments=allowed,
                    user=user,
                )
            except Exception as exc:
                self.turns.append(Turn(goal=goal.strip(), error=str(exc), outcomes=dict(collector.outcomes)))
                raise
            self.turns.append(Turn(goal=result.goal, result=result, outcomes=result.outcomes))
            return result

    @property
    def pending(self) -> list[Approval]:
        """The calls the conversation's goals wait for (``approval.request.run_id`` names the run)."""
        return [p for turn in self.turns if turn.result is not None for p in turn.result.pending]

    def approve(
        self,
        task_id: str,
        *,
        by: str,
        note: str = "",
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Approve the call ``task_id`` that a goal of this conversation waits for, and continue
        that run; its turn then holds the continued result (follow-ups see its tables)."""
        return self._decide(task_id, True, by, note, on_event, cancel)

    def reject(
        self,
        task_id: str,
        *,
        by: str,
        note: str = "",
        on_event: EventHandler | None = None,
        cancel: threading.Event | None = None,
    ) -> RunResult:
        """Reject the call ``task_id`` that a goal of this conversation waits for; the run goes on
        without it and ends ``rejected``."""
        return self._decide(task_id, False, by, note, on_event, cancel)

    def _decide(
        self,
        task_id: str,
        approved: bool,
        by: str,
        note: str,
        on_event: EventHandler | None,
        cancel: threading.Event | None,
    ) -> RunResult:
        with self._lock:
            found = [
                (index, turn.result.run_id)
                for index, turn in enumerate(self.turns)
                if turn.result is not None and any(p.task_id == task_id for p in turn.result.pending)
            ]
            if not found:
                waiting = ", ".join(p.task_id for p in self.pending) or "nothing"
                raise GoalError(f"no goal here waits for approval of {task_id!r} (waiting: {waiting})")
            index, run_id = found[-1]
            decide = self.session.approve if approved else self.session.reject
            collector = _Collector(on_event)
            result = decide(run_id, task_id, by=by, note=note, on_event=collector, cancel=cancel)
            self.turns[index] = Turn(goal=result.goal, result=result, outcomes=result.outcomes)
            return result

    def stream(self, goal: str, *, departments: Iterable[str] | None = None) -> RunStream:
        """The next turn as a :class:`RunStream`: ``async for event in chat.stream(goal)``."""
        from atomwork.sdk import check_goal

        text = check_goal(goal)  # a bad goal fails here, not inside the worker thread
        allowed = list(departments) if departments is not None else None
        return RunStream(
            lambda on_event, cancel: self.ask(text, on_event=on_event, cancel=cancel, departments=allowed)
        )

    async def aask(self, goal: str, *, departments: Iterable[str] | None = None) -> RunResult:
        """``await chat.aask(goal)``: :meth:`ask` without blocking the event loop; cancelling the
        awaiting task stops the run and returns what finished."""
        return await self.stream(goal, departments=departments).result()

    def _allowed(self, departments: Iterable[str] | None) -> list[str] | None:
        if departments is None:
            return self.departments
        wanted = list(departments)
        if self.departments is None:
            return wanted
        return [d for d in wanted if d in self.departments]
