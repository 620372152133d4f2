"""The report writer: a short business report drafted by the model from earlier results, with
every figure checked against them (a draft that fails is rebuilt from the results themselves)."""

from __future__ import annotations

from typing import Annotated

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import Field

from atomwork.errors import ToolError
from atomwork.figures import degenerate, figures, unmatched_figures
from atomwork.models.purpose import Purpose
from atomwork.prompts import render
from atomwork.prompts.rendering import DATA_RULE, fence
from atomwork.tool_result import Draft, ToolResult
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool

__all__ = ["REPORT_TOKENS", "draft_report", "fallback_report", "report_problems"]

REPORT_TOKENS = 450


@tool(description="Write a short business report for a person from earlier results (uses the model).")
def draft_report(
    ctx: RunContext,
    *,
    title: Annotated[str, Field(description="Report title")],
    audience: Annotated[
        str, Field(description="Who the report is for, e.g. the sales director")
    ] = "the management team",
    inputs: Annotated[
        list[str],
        Field(
            min_length=1,
            description='References to the tasks whose results the report covers, e.g. ["$t1", "$t2"]',
        ),
    ],
) -> ToolResult:
    facts = "\n\n".join(i for i in inputs if i.strip())
    if not facts:
        raise ToolError("draft_report needs at least one non-empty input")
    prompt = render("report", title=title, audience=audience, data_rule=DATA_RULE)
    text = ctx.model.complete(
        [SystemMessage(prompt), HumanMessage(f"Facts:\n{fence(facts)}\nWrite the report now.")],
        max_tokens=REPORT_TOKENS,
        purpose=Purpose.REPORT,
        repeat_penalty=1.15,
    ).strip()
    problems = report_problems(text, facts)
    if problems:
        # The model's draft repeated itself, was cut off or cited figures the inputs lack: a
        # report built from the inputs themselves is plainer but every figure in it is true.
        text = fallback_report(title, audience, inputs)
    else:
        # A small model's prose picks a few figures and may skip the flagged row the reader
        # needs; the data it was written from goes underneath, so nothing it found is lost.
        text += "\n\n### Data behind this report\n\n" + _findings(inputs)
    return ToolResult(summary=text, draft=Draft(sources=facts, title=title, replaced=problems))


def report_problems(text: str, facts: str) -> list[str]:
    """Why a drafted report cannot be shown: empty, degenerate, or citing unknown figures."""
    if not text:
        return ["the model returned an empty report"]
    problems = degenerate(text)
    invented = unmatched_figures(text, [f.value for f in figures(facts)])
    if invented:
        problems.append(f"figures not found in the inputs: {', '.join(invented[:5])}")
    return problems


def fallback_report(title: str, audience: str, inputs: list[str]) -> str:
    return f"## {title}\nFor {audience}.\n\nFindings:\n\n{_findings(inputs)}"


def _findings(inputs: list[str]) -> str:
    return "\n\n".join(f"- {item.strip()}" for item in inputs if item.strip())
