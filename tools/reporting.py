"""The reporting specialist's tool: draft a report from earlier results with the model."""

from __future__ import annotations

from atomwork.prompts import render
from atomwork.tools.base import Tool, ToolResult
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from atomwork.errors import ToolError
from atomwork.models.base import ChatModel


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
        [SystemMessage(prompt), HumanMessage("Write the report now.")], max_tokens=600, purpose="report"
    ).strip()
    if not text:
        raise ToolError("the model returned an empty report")
    return ToolResult(summary=text, data={"title": title, "audience": audience, "sources": facts})


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
