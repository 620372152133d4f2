"""The reporting specialist's tool: draft a report from earlier results with the model."""

from __future__ import annotations

from atomwork.prompts import render
from atomwork.tools.base import Tool, ToolResult
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from atomwork.errors import ToolError
from atomwork.figures import degenerate, figures, unmatched_figures
from atomwork.models.base import ChatModel

REPORT_TOKENS = 450


class DraftReportArgs(BaseModel):
    title: str = Field(description="Report title")
    audience: str = Field(
        default="the management team", description="Who the report is for, e.g. the sales director"
    )
    inputs: list[str] = Field(
        min_length=1,
        description='References to the tasks whose results the report covers, e.g. ["$t1", "$t2"]',
    )


def draft_report(title: str, audience: str, inputs: list[str], llm: ChatModel) -> ToolResult:
    facts = "\n\n".join(i for i in inputs if i.strip())
    if not facts:
        raise ToolError("draft_report needs at least one non-empty input")
    prompt = render("report", title=title, audience=audience, facts=facts)
    text = llm.complete(
        [SystemMessage(prompt), HumanMessage("Write the report now.")],
        max_tokens=REPORT_TOKENS,
        purpose="report",
        repeat_penalty=1.15,
    ).strip()
    problems = report_problems(text, facts)
    if problems:
        # The model's draft repeated itself, was cut off or cited figures the inputs lack: a
        # report built from the inputs themselves is plainer but every figure in it is true.
        text = fallback_report(title, audience, inputs)
    return ToolResult(
        summary=text,
        data={"title": title, "audience": audience, "sources": facts, "replaced_draft": problems},
    )


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
    findings = "\n\n".join(f"- {item.strip()}" for item in inputs if item.strip())
    return f"## {title}\nFor {audience}.\n\nFindings:\n\n{findings}"


def reporting_tools() -> list[Tool]:
    return [
        Tool(
            name="draft_report",
            department="reporting",
            description="Write a short business report for a person from earlier results (uses the model).",
            args_model=DraftReportArgs,
            fn=draft_report,
            needs_llm=True,
        )
    ]
