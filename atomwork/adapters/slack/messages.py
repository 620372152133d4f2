"""Block Kit messages of the Slack bot: the live plan, the result, refusals and errors.

Each function turns a typed atomwork record (a :class:`~atomwork.progress.ProgressSnapshot`, a
:class:`~atomwork.result.RunResult`) into a :class:`SlackMessage`; the bot only sends them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from atomwork.approval import Approval
from atomwork.figures import format_number
from atomwork.outcome import TaskOutcome
from atomwork.progress import Phase, ProgressSnapshot, StopVerdict, TaskLine, TaskState, stop_verdict
from atomwork.result import RunResult
from atomwork.table import Table

__all__ = [
    "APPROVE_ACTION",
    "REJECT_ACTION",
    "ApprovalAction",
    "SlackFile",
    "SlackMessage",
    "approval_message",
    "decision_message",
    "error_message",
    "notice_message",
    "plan_message",
    "result_message",
    "table_csv",
    "to_mrkdwn",
]

SECTION_CHARS = 2900
"""Slack allows 3000 characters in a section's text."""
MAX_BLOCKS = 50
INLINE_ROWS = 15
"""Tables with more rows (or too wide to read inline) are attached as CSV files."""
HEADER_CHARS = 150

_ICON = {
    TaskState.PENDING: ":white_small_square:",
    TaskState.RUNNING: ":arrow_forward:",
    TaskState.RAN: ":hourglass_flowing_sand:",
    TaskState.PASSED: ":white_check_mark:",
    TaskState.FAILED: ":x:",
    TaskState.SKIPPED: ":fast_forward:",
    TaskState.AWAITING_APPROVAL: ":raised_hand:",
    TaskState.REJECTED: ":no_entry_sign:",
}
_TONE = {"good": ":white_check_mark:", "caution": ":warning:", "bad": ":x:"}
APPROVE_ACTION = "atomwork_approve"
REJECT_ACTION = "atomwork_reject"
"""The ``action_id`` of the Approve and Reject buttons; the bot listens for both."""


class ApprovalAction(BaseModel):
    """What an Approve/Reject button carries in its ``value`` (as JSON): the call it decides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(min_length=1, max_length=64)
    task_id: str = Field(min_length=1, max_length=64)


class SlackFile(BaseModel):
    """A file to upload into the thread (a large table as CSV, the report as Markdown)."""

    model_config = ConfigDict(frozen=True)

    filename: str
    title: str
    content: str


class SlackMessage(BaseModel):
    """A message: notification ``text`` (also the fallback), Block Kit ``blocks`` and files."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    text: str
    blocks: list[Block] = Field(default_factory=list)
    files: list[SlackFile] = Field(default_factory=list)

    def block_dicts(self) -> list[dict[str, Any]]:
        return [b.to_dict() for b in self.blocks[:MAX_BLOCKS]]


# -- text ---------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    # Slack reads <...> as links and mentions; escaping keeps a user's text plain.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Markdown (as answers and reports are written) in Slack's mrkdwn: bold, headings, bullets,
    links, and tables as aligned monospace blocks."""
    out: list[str] = []
    table: list[str] = []

    def flush() -> None:
        if table:
            rows = [
                [c.strip() for c in line.strip().strip("|").split("|")]
                for line in table
                if not re.fullmatch(r"\|?[\s:|-]+\|?", line.strip())
            ]
            out.append("```\n" + _aligned(rows) + "\n```")
            table.clear()

    for line in _escape(markdown).splitlines():
        if line.lstrip().startswith("|"):
            table.append(line)
            continue
        flush()
        line = re.sub(r"\*\*(.+?)\*\*", r"*\1*", line)
        line = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", line)
        heading = re.match(r"^\s{0,3}#{1,6}\s+(.*)$", line)
        if heading:
            line = f"*{heading.group(1).strip('* ')}*"
        line = re.sub(r"^(\s*)[-*]\s+", r"\1• ", line)
        out.append(line)
    flush()
    return "\n".join(out)


def _aligned(rows: list[list[str]]) -> str:
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    sizes = [max(len(r[i]) for r in rows) for i in range(width)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(sizes[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * s for s in sizes))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def _sections(text: str) -> list[Block]:
    """``text`` in as many sections as Slack's 3000-character limit needs, split between lines."""
    blocks: list[Block] = []
    chunk = ""
    for line in text.splitlines() or [""]:
        while len(line) > SECTION_CHARS:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=line[:SECTION_CHARS])))
            line = line[SECTION_CHARS:]
        if chunk and len(chunk) + len(line) + 1 > SECTION_CHARS:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_closed(chunk))))
            chunk = "```\n" if chunk.count("```") % 2 else ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk.strip():
        blocks.append(SectionBlock(text=MarkdownTextObject(text=chunk)))
    return blocks


def _closed(chunk: str) -> str:
    # A code block cut in two must be closed in the first part (and is reopened in the next).
    return chunk + "\n```" if chunk.count("```") % 2 else chunk


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(
        text=PlainTextObject(text=text[: HEADER_CHARS - 1] + ("…" if len(text) >= HEADER_CHARS else ""))
    )


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text[:SECTION_CHARS])])


# -- the live plan ------------------------------------------------------------------------------


def _args(line: TaskLine) -> str:
    shown = ", ".join(
        f"{k}={json.dumps(v, default=str) if not isinstance(v, str) else v}"
        for k, v in line.task.args.items()
    )
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _task_line(line: TaskLine) -> str:
    text = f"{_ICON[line.state]} `{line.task.id}` *{line.task.tool}* ({line.task.department})"
    args = _args(line)
    if args:
        text += f" · {_escape(args)}"
    if line.task.depends_on:
        text += f" · after {', '.join(line.task.depends_on)}"
    if line.note and line.state in (TaskState.FAILED, TaskState.SKIPPED, TaskState.REJECTED):
        text += f"\n      _{_escape(line.note[:200])}_"
    return text


def plan_message(progress: ProgressSnapshot) -> SlackMessage:
    """The plan as it runs: one line per task with its state, and what the run is doing."""
    title = f"Plan: {progress.goal}" if progress.goal else "Plan"
    blocks: list[Block] = [_header(title)]
    if not progress.tasks:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=":thinking_face: Planning…")))
    else:
        blocks.extend(_sections("\n".join(_task_line(t) for t in progress.tasks)))
    counts = progress.counts()
    done = counts[TaskState.PASSED]
    status = {
        Phase.PLANNING: "planning",
        Phase.RUNNING: f"running · {done}/{len(progress.tasks)} tasks passed"
        + (f" · replanning round {progress.round}" if progress.round else ""),
        Phase.ANSWERING: "writing the answer",
        Phase.FINISHED: f"finished · {done}/{len(progress.tasks)} tasks passed",
    }[progress.phase]
    if progress.stop_reason is not None:
        status += f" · {stop_verdict(progress.stop_reason).words}"
    blocks.append(_context(status))
    summary = f"{title}: {status}"
    return SlackMessage(text=summary, blocks=blocks)


# -- the result ---------------------------------------------------------------------------------


def table_csv(table: Table) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return buffer.getvalue()


def _table_text(table: Table) -> str:
    rows = [list(table.columns), *([_cell(v) for v in row] for row in table.rows)]
    return _aligned([[str(c) for c in r] for r in rows])


def _verdict_line(verdict: StopVerdict, result: RunResult) -> str:
    seconds = (result.finished_at - result.started_at).total_seconds()
    return (
        f"{_TONE[verdict.tone]} *{verdict.words}* (stop reason: `{result.stop_reason}`)\n"
        f"run `{result.run_id}` · {result.replans} replans · model {result.model} · {seconds:.1f}s"
    )


def result_message(
    result: RunResult,
    *,
    reused: set[str] | frozenset[str] = frozenset(),
    reports: set[str] | frozenset[str] = frozenset(),
) -> SlackMessage:
    """The answer with its figures, the tables (small ones inline, large ones as CSV files), the
    ``reports`` (ids of report-writing tasks) as files, and the stop reason in plain words.
    ``reused`` results (shown in an earlier turn of the thread) are not repeated."""
    verdict = stop_verdict(result.stop_reason)
    blocks: list[Block] = [*_sections(to_mrkdwn(result.answer or "_No answer: no task produced a result._"))]
    files: list[SlackFile] = []
    shown: list[Block] = []
    for task_id, table in result.tables.items():
        outcome = result.outcomes[task_id]
        if task_id in reused or not outcome.ok:
            continue
        label = (
            f"`{task_id}` {outcome.task.tool} · {len(table.rows)} row{'' if len(table.rows) == 1 else 's'}"
        )
        text = _table_text(table)
        if len(table.rows) <= INLINE_ROWS and len(text) <= SECTION_CHARS - len(label) - 10:
            shown.append(SectionBlock(text=MarkdownTextObject(text=f"{label}\n```\n{_escape(text)}\n```")))
        else:
            filename = f"{task_id}_{outcome.task.tool}.csv"
            files.append(
                SlackFile(filename=filename, title=f"{task_id} {outcome.task.tool}", content=table_csv(table))
            )
            shown.append(_context(f"{label}: attached as `{filename}`"))
    for task_id, outcome in result.outcomes.items():
        if task_id in reports and task_id not in reused and outcome.ok and outcome.result is not None:
            draft = outcome.result.draft
            title = draft.title if draft is not None and draft.title else "report"
            files.append(
                SlackFile(filename=f"{task_id}_report.md", title=title, content=outcome.result.summary)
            )
            shown.append(
                _context(f"`{task_id}` report “{_escape(title)}”: attached as `{task_id}_report.md`")
            )
    if shown:
        blocks.append(DividerBlock())
        blocks.extend(shown)
    blocks.append(DividerBlock())
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_verdict_line(verdict, result))))
    text = f"{verdict.words}. {(result.answer or '').strip()[:300]}"
    return SlackMessage(text=text, blocks=_fit(blocks), files=files)


def _call(approval: Approval) -> str:
    request = approval.request
    args = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in request.args.items())
    shown = args if len(args) <= 300 else args[:299] + "…"
    return f"`{request.task_id}` *{request.tool}* ({request.department}) · {_escape(shown)}"


def approval_message(approval: Approval) -> SlackMessage:
    """One call waiting for approval: what it would do, with Approve and Reject buttons (the
    message is edited into :func:`decision_message` once someone decides)."""
    value = ApprovalAction(run_id=approval.request.run_id, task_id=approval.task_id).model_dump_json()
    text = f":raised_hand: *Waiting for approval:* {_call(approval)}"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text[:SECTION_CHARS])),
        ActionsBlock(
            block_id=f"approval-{approval.task_id}",
            elements=[
                ButtonElement(text="Approve", action_id=APPROVE_ACTION, value=value, style="primary"),
                ButtonElement(text="Reject", action_id=REJECT_ACTION, value=value, style="danger"),
            ],
        ),
    ]
    return SlackMessage(
        text=f"{approval.task_id} ({approval.request.tool}) waits for approval", blocks=blocks
    )


def decision_message(approval: Approval, who: str) -> SlackMessage:
    """A decided call, in place of its buttons: who decided what, and when. ``who`` is the
    decider as Slack shows them (``<@U123>``)."""
    decision = approval.decision
    if decision is None:
        raise ValueError(f"{approval.task_id} has no decision to show")
    icon = ":white_check_mark:" if decision.approved else ":no_entry_sign:"
    note = f": {_escape(decision.note)}" if decision.note else ""
    line = f"{icon} {_call(approval)} *{decision.verdict}* by {who} at {decision.at:%Y-%m-%d %H:%M} UTC{note}"
    return SlackMessage(
        text=f"{approval.task_id} {decision.verdict} by {decision.by}",
        blocks=[SectionBlock(text=MarkdownTextObject(text=line[:SECTION_CHARS]))],
    )


def _fit(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks: the first 48, a note, and the stop reason (always last)."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 2], _context("(more results than one message holds)"), blocks[-1]]


def notice_message(text: str, *, icon: str = ":information_source:") -> SlackMessage:
    """One plain line in the thread (a refusal, a hint)."""
    return SlackMessage(
        text=text, blocks=[SectionBlock(text=MarkdownTextObject(text=f"{icon} {_escape(text)}"))]
    )


def error_message(problem: str, kept: dict[str, TaskOutcome] | None = None) -> SlackMessage:
    """An error as one clear line, with the results that finished before it (never lost)."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f":x: *I could not finish:* {_escape(problem)}"))
    ]
    files: list[SlackFile] = []
    for task_id, outcome in (kept or {}).items():
        if not outcome.ok or outcome.result is None:
            continue
        table = outcome.result.table
        summary = _escape(outcome.result.summary[:500])
        if table is not None and table.rows and len(table.rows) <= INLINE_ROWS:
            text = f"`{task_id}` {outcome.task.tool}: {summary}\n```\n{_escape(_table_text(table))}\n```"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text[:SECTION_CHARS])))
        else:
            blocks.append(
                SectionBlock(text=MarkdownTextObject(text=f"`{task_id}` {outcome.task.tool}: {summary}"))
            )
            if table is not None and table.rows:
                name = f"{task_id}_{outcome.task.tool}.csv"
                files.append(
                    SlackFile(filename=name, title=f"{task_id} {outcome.task.tool}", content=table_csv(table))
                )
    if len(blocks) > 1:
        blocks.insert(1, _context("Kept from the tasks that finished before the error:"))
    return SlackMessage(text=f"I could not finish: {problem}", blocks=_fit(blocks), files=files)
