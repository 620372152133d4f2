"""The planner: goal -> Plan, by JSON-schema constrained decoding, then validation and repair.

The schema (:func:`atomwork.agents.plan_schema.plan_json_schema`) is grounded per run: task ids
are fixed by position, a task may depend on and reference only earlier tasks, and argument values
are enumerated from the live data (regions, periods, tables, columns) through a
:class:`~atomwork.agents.choices.Choices`, so even a 0.5B model can only write well-formed tasks
that name things that exist. What the schema cannot express is checked and repaired by
:func:`atomwork.agents.plan_validation.validate_plan`; when tasks had to be dropped because the output was
broken the planner tries again, telling the model what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from atomwork.agents.choices import Choices
from atomwork.agents.plan_schema import plan_json_schema, tasks_from_output
from atomwork.agents.plan_stream import PlanStream
from atomwork.agents.plan_validation import PlanRefused, drop_repeated_work, validate_plan
from atomwork.conversation_context import ConversationContext
from atomwork.errors import ModelError, PlanError
from atomwork.feedback import ReplanFeedback
from atomwork.goal import goal_parts, goal_steps, task_limits
from atomwork.models.base import ChatModel
from atomwork.models.purpose import Purpose
from atomwork.outcome import TaskOutcome
from atomwork.plan import AtomicTask, Plan, ValidationReport
from atomwork.policy import Access
from atomwork.prompts import render
from atomwork.prompts.rendering import DATA_RULE, describe_feedback, describe_result, fence
from atomwork.settings import RunSettings
from atomwork.tools.base import Table
from atomwork.tools.registry import ToolRegistry

__all__ = ["Planner", "goal_message", "goal_parts"]


class Planner:
    """Turns a goal into a validated :class:`Plan`.

    ``choices`` grounds the plan schema and validation in the live data (build it with
    :func:`atomwork.agents.choices.warehouse_choices`); without it values are bounded but not enumerated.
    From ``settings``: ``planner_attempts``, ``max_tasks`` (a cap on the per-goal limit
    ``clamp(2 * parts + 2, 3, 12)``) and the planning token budget. With ``access`` the model is
    shown only the tools the user may call, and a task naming another is refused at validation.
    """

    def __init__(
        self,
        model: ChatModel,
        registry: ToolRegistry,
        *,
        settings: RunSettings | None = None,
        data_range: str = "",
        examples: str = "",
        choices: Choices | None = None,
        access: Access | None = None,
    ) -> None:
        self.model = model
        self.registry = registry
        self.access = access
        self.visible = registry.permitted(access)
        """The tools the model is shown (those the user may call)."""
        self.settings = settings if settings is not None else RunSettings()
        self.data_range = data_range or "the dates present in the warehouse"
        self.examples = examples
        self.choices = choices

    def limits(self, goal: str) -> tuple[int, int]:
        """``(min_tasks, max_tasks)`` for ``goal``: see :func:`atomwork.goal.task_limits`."""
        least, most = task_limits(len(goal_parts(goal)))
        if self.settings.max_tasks is not None:
            most = max(1, min(most, self.settings.max_tasks))
        return min(least, most), most

    def plan(
        self,
        goal: str,
        context: ConversationContext | None = None,
        *,
        release: Callable[[AtomicTask], None] | None = None,
    ) -> tuple[Plan, ValidationReport]:
        """A plan for ``goal``; a follow-up's ``context`` shows the planner the earlier goals, plans
        and answers, and lets its tasks (numbered after the conversation's) reference earlier results.

        With ``release`` the reply is streamed and each task that is safe to start before the plan is
        complete is handed to ``release`` as soon as it is read (see :mod:`atomwork.agents.plan_stream`);
        the returned plan holds the released tasks as they were released."""
        context = context or ConversationContext()
        least, most = self.limits(goal)
        system = render(
            "planner",
            catalog=self.visible.catalog(),
            data_range=self.data_range,
            max_tasks=most,
            data_rule=DATA_RULE,
        )
        tables = context.tables()
        schema = plan_json_schema(
            self.visible,
            max_tasks=most,
            min_tasks=least,
            choices=self.choices,
            first_index=context.next_index(),
            finished=tables,
        )
        # Past plans and the conversation quote earlier goals, answers and results: data, fenced.
        before = []
        if self.examples.strip():
            examples = fence(self.examples.strip())
            before.append(f"Plans that worked for your past goals (examples):\n{examples}")
        conversation = context.describe().strip()
        if conversation:
            before.append(
                "The conversation so far ('that', 'it' and 'those' mean its latest results, which new tasks "
                f'may use as inputs with "$ID"):\n{fence(conversation)}'
            )
        user = "\n\n".join([*before, goal_message(goal)])
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        return self._generate(
            goal,
            messages,
            schema,
            most,
            Purpose.PLAN,
            known_ids=frozenset(context.outcomes),
            reserved_ids=context.used_ids(),
            known_tables={tid: t for tid, t in tables.items() if t is not None},
            release=release,
        )

    def replan(
        self,
        goal: str,
        finished: dict[str, TaskOutcome],
        feedback: ReplanFeedback,
        used_ids: set[str],
    ) -> tuple[Plan, ValidationReport]:
        """New tasks for what ``feedback`` says failed; finished tasks are kept and may be referenced.

        New ids continue after ``used_ids``; the schema lets new tasks depend on and reference
        the finished tasks, whose real columns ground column arguments."""
        first = _next_index(used_ids)
        system = render(
            "replanner",
            catalog=self.visible.catalog(),
            next_id=first,
            data_range=self.data_range,
            data_rule=DATA_RULE,
        )
        finished_text = "\n".join(describe_result(tid, o, max_rows=5) for tid, o in finished.items())
        user = (
            f"{goal_message(goal)}\n\nFinished tasks:\n{fence(finished_text or 'none')}\n\n"
            f"Tasks that failed, with the reason:\n{fence(describe_feedback(feedback))}"
        )
        _, most = self.limits(goal)
        tables: dict[str, Table | None] = {
            tid: o.result.table if o.result is not None else None for tid, o in finished.items()
        }
        schema = plan_json_schema(
            self.visible, max_tasks=most, choices=self.choices, first_index=first, finished=tables
        )
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        plan, report = self._generate(
            goal,
            messages,
            schema,
            most,
            Purpose.REPLAN,
            known_ids=frozenset(finished),
            reserved_ids=used_ids,
            known_tables={tid: t for tid, t in tables.items() if t is not None},
        )
        return drop_repeated_work(plan, {tid: o.task for tid, o in finished.items()}, report), report

    def _generate(
        self,
        goal: str,
        messages: list[BaseMessage],
        schema: dict[str, Any],
        max_tasks: int,
        purpose: Purpose,
        *,
        known_ids: frozenset[str],
        reserved_ids: set[str],
        known_tables: dict[str, Table] | None = None,
        release: Callable[[AtomicTask], None] | None = None,
    ) -> tuple[Plan, ValidationReport]:
        if len(self.visible) == 0:
            raise PlanError("the access policy permits this user no tool of this session")
        last_problem = ""
        best: tuple[Plan, ValidationReport] | None = None
        attempts = self.settings.planner_attempts

        def validate(draft: Plan) -> tuple[Plan, ValidationReport]:
            return validate_plan(
                draft,
                self.registry,
                known_ids=known_ids,
                reserved_ids=reserved_ids,
                choices=self.choices,
                known_tables=known_tables,
                access=self.access,
            )

        stream = PlanStream(goal, self.registry, validate, release) if release is not None else None
        max_tokens = self.settings.max_tokens.plan(max_tasks)
        for _attempt in range(attempts):
            try:
                if stream is not None:
                    raw = stream.read(self.model, messages, schema, max_tokens=max_tokens, purpose=purpose)
                else:
                    raw = self.model.structured(messages, schema, max_tokens=max_tokens, purpose=purpose)
                plan, report = validate(Plan(goal=goal, tasks=tasks_from_output(raw, self.registry)))
            except PlanRefused:
                raise  # the user may not do this: another plan would only look for a way around it
            except (ModelError, PlanError) as exc:
                if stream is not None and stream.released:
                    return stream.settle(None, str(exc))  # started tasks run on: no second plan
                last_problem = str(exc)
            else:
                if stream is not None and stream.released:
                    return stream.settle((plan, report))
                if not report.broken:  # pruned tasks (unrelated to the goal) need no new plan
                    return plan, report
                best = best or (plan, report)
                last_problem = "; ".join(report.broken)
            messages = [
                *messages,
                HumanMessage(f"That plan was not usable ({last_problem}). Write a corrected plan."),
            ]
        if best is not None:
            return best
        raise PlanError(
            f"the planner could not produce a valid plan after {attempts} attempts: {last_problem}"
        )


def goal_message(goal: str) -> str:
    """The user message: the goal, and its parts spelled out when there are several (small models
    plan better when every part is listed), with the order the goal imposes."""
    steps = goal_steps(goal)
    if len(steps) < 2:
        return f"Goal: {goal}"
    listed = "\n".join(
        f"{i}. {s.text}" + (f" (after part {i - 1})" if s.after_previous else "")
        for i, s in enumerate(steps, start=1)
    )
    return f"Goal: {goal}\nThe goal has {len(steps)} parts; plan at least one task for each:\n{listed}"


def _next_index(used_ids: set[str]) -> int:
    numbers = [int(i[1:]) for i in used_ids if i.startswith("t") and i[1:].isdigit()]
    return max(numbers, default=0) + 1
