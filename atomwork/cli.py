"""Command line: ``atomwork run "goal"`` with a live plan view, ``atomwork chat``, ``atomwork slack``,
``atomwork tools``, and for durable runs ``atomwork runs``, ``atomwork resume RUN`` and
``atomwork approve|reject RUN TASK --by NAME``.

Errors the user can fix (empty goal, unknown department, unreachable model, ...)
print one red line and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from atomwork.errors import AtomworkError
from atomwork.events import Event, EventHandler
from atomwork.progress import RunProgress, TaskState, stop_verdict
from atomwork.result import RunResult
from atomwork.run_store import RunStore
from atomwork.sdk import Atomwork, check_goal
from atomwork.settings import RunSettings
from atomwork.terminal import markup, text, visible

STYLE: dict[TaskState, tuple[str, str]] = {
    TaskState.PENDING: ("·", "dim"),
    TaskState.RUNNING: ("▶", "yellow"),
    TaskState.RAN: ("▶", "yellow"),  # ran, verdict not in yet
    TaskState.PASSED: ("✓", "green"),
    TaskState.FAILED: ("✗", "red"),
    TaskState.SKIPPED: ("↷", "magenta"),
    TaskState.AWAITING_APPROVAL: ("⏸", "cyan"),
    TaskState.REJECTED: ("⊘", "red"),
}
TONE = {"good": "green", "caution": "yellow", "bad": "red"}


class PlanView:
    """The live plan table, drawn from the typed events a run emits (thread-safe)."""

    def __init__(self) -> None:
        self.progress = RunProgress()

    def on_event(self, event: Event) -> None:
        self.progress.on_event(event)

    def render(self) -> Group:
        snapshot = self.progress.snapshot()
        table = RichTable(title="Plan", expand=True, show_lines=False)
        for column in ("", "id", "department", "tool", "args", "depends on", "evaluation"):
            table.add_column(column, overflow="fold")
        for line in snapshot.tasks:
            icon, style = STYLE[line.state]
            task = line.task
            args = ", ".join(f"{k}={v}" for k, v in task.args.items())
            # Plans and notes quote data (arguments, errors): shown as text, never read as markup.
            table.add_row(
                Text(icon, style=style),
                text(task.id),
                text(task.department),
                text(task.tool),
                text(args[:60]),
                text(", ".join(task.depends_on)),
                text(line.note[:80], style=style),
            )
        log = text("\n".join(snapshot.log[-3:]), style="dim")
        return Group(table, log)


def verdict(result: RunResult) -> tuple[str, str]:
    """The stop reason in plain words, with the colour to show it in."""
    said = stop_verdict(result.stop_reason)
    return TONE[said.tone], said.words


DECIDE_HINT = "atomwork approve {run_id} {task_id} --by NAME (or reject ... --note WHY)"
"""How a paused run's pending approvals are decided, as the CLI says it (the REPL has its own)."""


def print_result(console: Console, result: RunResult, *, decide_hint: str = DECIDE_HINT) -> None:
    style, words = verdict(result)
    # Links show their address (no disguised link), and no control character reaches the terminal.
    answer = Markdown(visible(result.answer or "_no answer_"), hyperlinks=False)
    console.print(Panel(answer, title="Answer", border_style=style))
    for task_id, table in result.tables.items():
        outcome = result.outcomes[task_id]
        if outcome.ok:
            view = RichTable(title=text(f"{task_id} · {outcome.task.tool}"), title_justify="left")
            for column in table.columns:
                view.add_column(text(column))
            for row in table.rows[:15]:
                view.add_row(*[text(f"{v:,.2f}" if isinstance(v, float) else v) for v in row])
            console.print(view)
        provenance = outcome.result.provenance if outcome.result else None
        if provenance is not None and provenance.sql:
            console.print(text(f"{task_id} SQL: {provenance.sql}", style="dim"))
    console.print(Text(words, style=f"bold {style}"))
    final = result.final_evaluation
    score = f"{final.score:.1f}" if final else "n/a"
    console.print(
        f"[bold]stop reason:[/] {result.stop_reason} · replans: {result.replans} · "
        f"final score: {score} · model: {markup(result.model)} · run id: {markup(result.run_id)}"
    )
    usage = result.usage
    console.print(
        f"[dim]{usage.calls} model calls · {usage.prompt_tokens:,} prompt tokens "
        f"({usage.cached_prompt_tokens:,} from cache) · {usage.completion_tokens:,} completion tokens · "
        f"{(result.finished_at - result.started_at).total_seconds():.1f}s[/]"
    )
    print_usage(console, result)
    if result.stop_detail:
        console.print(text(result.stop_detail, style=style))
    for approval in result.pending:
        request = approval.request
        hint = decide_hint.format(run_id=result.run_id, task_id=request.task_id)
        console.print(
            text(
                f"{request.task_id} waits for approval: {request.tool}({_args(request.args)}) · {hint}",
                style="cyan",
            )
        )


def print_usage(console: Console, result: RunResult) -> None:
    """Tokens and model calls per purpose and per task (one dim line each, when there were any)."""
    parts = [
        f"{purpose} {sums.total_tokens:,} ({sums.calls})"
        for purpose, sums in sorted(result.usage.by_purpose.items())
    ]
    if parts:
        console.print(Text("tokens (calls) by purpose: " + " · ".join(parts), style="dim"))
    tasks = [f"{tid} {u.total_tokens:,} ({u.calls})" for tid, u in result.usage_by_task.items() if u.calls]
    if tasks:
        console.print(Text("tokens (calls) by task: " + " · ".join(tasks), style="dim"))


def _args(args: dict[str, object]) -> str:
    shown = ", ".join(f"{k}={v!r}" for k, v in args.items())
    return shown if len(shown) <= 100 else shown[:99] + "…"


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    goal = check_goal(args.goal)
    with _session(args) as session:
        if args.json:
            result = session.run(goal)
            print(result.model_dump_json(indent=2))
            return 0 if result.ok else 1
        result = _follow(console, lambda on_event: session.run(goal, on_event=on_event))
        return 0 if result.ok else 1


def cmd_runs(args: argparse.Namespace, console: Console) -> int:
    """The latest runs from the run database, newest first."""
    with RunStore.open() as runs:
        records = runs.runs(args.limit)
        where = runs.where
    if not records:
        console.print(f"no runs yet in {where}", markup=False)
        return 0
    # Plain aligned lines, not a table: a run id must never be folded, whatever the terminal width.
    console.print(f"latest {len(records)} runs ({where})", markup=False, highlight=False)
    header = f"{'run id':<13} {'status':<12} {'stop reason':<24} {'started':<16} {'seconds':>8} "
    console.print(header + f"{'tokens':>9} {'calls':>5}  goal", style="bold", markup=False, highlight=False)
    for record in records:
        status = "interrupted" if record.interrupted else str(record.status)
        stop = str(record.stop_reason or "") or (f"error: {record.error}" if record.error else "")
        line = (
            f"{record.run_id:<13} {status:<12} {stop[:24]:<24} {record.started_at:%Y-%m-%d %H:%M} "
            f"{record.work_seconds:>8.1f} {record.usage.total_tokens:>9,} {record.usage.calls:>5}  "
            f"{record.goal[:60]}"
        )
        if record.pending:
            line += f"  [waiting: {', '.join(record.pending)}]"
        if record.error and record.stop_reason is None:
            line += f"\n{'':<13} {record.error}"
        console.print(visible(line), markup=False, highlight=False, soft_wrap=True)
    return 0


def _follow(console: Console, run: Callable[[EventHandler], RunResult]) -> RunResult:
    """Run with the live plan view, then print the result."""
    view = PlanView()
    with Live(view.render(), console=console, refresh_per_second=4, transient=False) as live:

        def on_event(event: Event) -> None:
            view.on_event(event)
            live.update(view.render())

        result = run(on_event)
    print_result(console, result)
    return result


def cmd_resume(args: argparse.Namespace, console: Console) -> int:
    """Continue a killed, failed or paused run; its finished tasks are not run again."""
    with _session(args) as session:
        result = _follow(console, lambda on_event: session.resume(args.run_id, on_event=on_event))
        return 0 if result.ok else 1


def cmd_decide(args: argparse.Namespace, console: Console) -> int:
    """Approve or reject a call waiting for approval, then continue the run."""
    with _session(args) as session:
        decide = session.approve if args.command == "approve" else session.reject
        result = _follow(
            console,
            lambda on_event: decide(args.run_id, args.task_id, by=args.by, note=args.note, on_event=on_event),
        )
        return 0 if result.ok else 1


def cmd_chat(args: argparse.Namespace, console: Console) -> int:
    """The conversational REPL (see :mod:`atomwork.repl`)."""
    from atomwork.repl import main as repl_main

    with _session(args) as session:
        return repl_main(session, console)


def cmd_slack(args: argparse.Namespace, console: Console) -> int:
    """The Slack bot (see :mod:`atomwork.adapters.slack`): runs until Ctrl-C."""
    import logging
    import os

    from atomwork.adapters.slack import SlackSettings, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = SlackSettings.from_env(
        os.environ, host=args.host, port=args.port, policy=args.policy, workers=args.workers
    )
    serve(settings, lambda: _session(args), announce=console.print)
    return 0


def cmd_tools(args: argparse.Namespace, console: Console) -> int:
    from atomwork.pack import build_registry
    from atomwork.tools.warehouse import Warehouse

    warehouse = Warehouse.open(args.warehouse)
    try:
        registry = build_registry(warehouse, _split(args.departments) if args.departments else None)
        console.print(registry.catalog(), markup=False, highlight=False)
        if args.schema:
            console.print(warehouse.schema_summary(), markup=False, highlight=False)
    finally:
        warehouse.close()
    return 0


def _split(text: str) -> list[str]:
    return [d.strip() for d in text.split(",") if d.strip()]


def _session(args: argparse.Namespace) -> Atomwork:
    settings = RunSettings(max_replans=args.max_replans)  # a bad value is one ConfigError line
    return Atomwork(
        model=args.model,
        warehouse=args.warehouse,
        departments=_split(args.departments) if args.departments else None,
        settings=settings,
        user=args.user or os.environ.get("ATOMWORK_USER") or None,  # the policy: $ATOMWORK_POLICY
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atomwork", description="Plan, run and evaluate business goals.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--model",
        default=None,
        help="embedded (default model) | embedded:0.5b | embedded:1.5b | gguf:PATH | vllm:http://HOST:PORT/v1",
    )
    common.add_argument(
        "--warehouse", default=None, help="your DuckDB or SQLite file (default: demo warehouse)"
    )
    common.add_argument("--departments", default=None, help="comma-separated departments to enable")
    common.add_argument("--max-replans", type=int, default=2)
    common.add_argument(
        "--user",
        default=None,
        help="who runs the goals, for the access policy in $ATOMWORK_POLICY (default $ATOMWORK_USER)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", parents=[common], help="run one goal with a live plan view")
    run_p.add_argument("goal")
    run_p.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    run_p.set_defaults(fn=cmd_run)
    chat_p = sub.add_parser("chat", parents=[common], help="interactive REPL")
    chat_p.set_defaults(fn=cmd_chat)
    slack_p = sub.add_parser(
        "slack",
        parents=[common],
        help="the Slack bot: Socket Mode with SLACK_APP_TOKEN, else HTTP mode with SLACK_SIGNING_SECRET",
    )
    slack_p.add_argument("--host", default=None, help="HTTP mode: address to listen on (default 0.0.0.0)")
    slack_p.add_argument("--port", type=int, default=None, help="HTTP mode: port (default $PORT or 3000)")
    slack_p.add_argument(
        "--policy",
        default=None,
        help="channel/user -> departments TOML (default $ATOMWORK_HOME/slack_policy.toml)",
    )
    slack_p.add_argument("--workers", type=int, default=None, help="goals run at once (default 4)")
    slack_p.set_defaults(fn=cmd_slack)
    tools_p = sub.add_parser("tools", parents=[common], help="list the tools (and --schema)")
    tools_p.add_argument("--schema", action="store_true")
    tools_p.set_defaults(fn=cmd_tools)
    runs_p = sub.add_parser("runs", help="the latest runs: status, stop reason, time and tokens")
    runs_p.add_argument("--limit", type=int, default=20)
    runs_p.set_defaults(fn=cmd_runs)
    resume_p = sub.add_parser(
        "resume", parents=[common], help="continue a killed, failed or paused run (finished tasks are kept)"
    )
    resume_p.add_argument("run_id")
    resume_p.set_defaults(fn=cmd_resume)
    for verb in ("approve", "reject"):
        decide_p = sub.add_parser(
            verb, parents=[common], help=f"{verb} a tool call waiting for approval, then continue the run"
        )
        decide_p.add_argument("run_id")
        decide_p.add_argument("task_id")
        decide_p.add_argument("--by", required=True, help="who decides (kept with the run)")
        decide_p.add_argument("--note", default="", help="why (kept with the run)")
        decide_p.set_defaults(fn=cmd_decide)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return int(args.fn(args, console))
    except AtomworkError as exc:
        console.print(f"[bold red]error:[/] {markup(exc)}")
        return 2
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
