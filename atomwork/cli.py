"""Command line: ``atomwork run "goal"`` with a live plan view, ``atomwork chat``, ``atomwork tools``.

Errors the user can fix (empty goal, unknown department, unreachable model, ...)
print one red line and exit with status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

from rich.console import Console, Group
from rich.live import Live
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table as RichTable
from rich.text import Text

from atomwork.errors import AtomworkError
from atomwork.plan import AtomicTask
from atomwork.result import Event, EventKind, RunResult, StopReason, TaskStatus
from atomwork.sdk import Atomwork, check_goal

STYLE = {
    "pending": ("·", "dim"),
    "running": ("▶", "yellow"),
    "done": ("✓", "green"),
    "passed": ("✓", "green"),
    "failed": ("✗", "red"),
    "skipped": ("↷", "magenta"),
}


class PlanView:
    """Live state of the plan, fed by engine events (thread-safe)."""

    def __init__(self) -> None:
        self.tasks: dict[str, AtomicTask] = {}
        self.status: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.log: list[str] = []
        self._lock = threading.Lock()

    def on_event(self, event: Event) -> None:
        with self._lock:
            if event.kind in (EventKind.PLANNED, EventKind.REPLANNED):
                for task in event.tasks:
                    self.tasks[task.id] = task
                    self.status[task.id] = "pending"
                self.log.append(event.message)
            elif event.task_id and event.kind == EventKind.TASK_STARTED:
                self.status[event.task_id] = "running"
            elif event.task_id and event.kind == EventKind.TASK_FINISHED:
                msg = event.message
                self.status[event.task_id] = "skipped" if msg.startswith("skipped") else "running"
                if msg not in (TaskStatus.DONE, "done"):
                    self.notes[event.task_id] = msg
                    if not msg.startswith("skipped"):
                        self.status[event.task_id] = "failed"
            elif event.task_id and event.kind == EventKind.TASK_EVALUATED:
                self.status[event.task_id] = "passed" if event.message.startswith("passed") else "failed"
                self.notes[event.task_id] = event.message
            else:
                self.log.append(event.message)

    def render(self) -> Group:
        with self._lock:
            table = RichTable(title="Plan", expand=True, show_lines=False)
            for column in ("", "id", "department", "tool", "args", "depends on", "evaluation"):
                table.add_column(column, overflow="fold")
            for task_id, task in self.tasks.items():
                icon, style = STYLE.get(self.status.get(task_id, "pending"), ("?", ""))
                args = ", ".join(f"{k}={v}" for k, v in task.args.items())
                table.add_row(
                    Text(icon, style=style),
                    task_id,
                    task.department,
                    task.tool,
                    args[:60],
                    ", ".join(task.depends_on),
                    Text(self.notes.get(task_id, "")[:80], style=style),
                )
            log = Text("\n".join(self.log[-3:]), style="dim")
            return Group(table, log)


VERDICT = {
    StopReason.COMPLETED: ("green", "completed: every check held"),
    StopReason.UNVERIFIED: (
        "yellow",
        "NOT VERIFIED: an answer was found, but nothing could confirm it; check the figures first",
    ),
    StopReason.REPLAN_BUDGET_EXHAUSTED: ("red", "not completed: some work still failed after replanning"),
    StopReason.NO_PROGRESS: ("red", "not completed: the planner found no new way to make progress"),
}


def verdict(result: RunResult) -> tuple[str, str]:
    """The stop reason in plain words, with the colour to show it in."""
    return VERDICT.get(result.stop_reason, ("red", str(result.stop_reason)))


def print_result(console: Console, result: RunResult) -> None:
    style, words = verdict(result)
    console.print(Panel(Markdown(result.answer or "_no answer_"), title="Answer", border_style=style))
    for task_id, table in result.tables.items():
        outcome = result.outcomes[task_id]
        if outcome.ok:
            view = RichTable(title=f"{task_id} · {outcome.task.tool}", title_justify="left")
            for column in table.columns:
                view.add_column(column)
            for row in table.rows[:15]:
                view.add_row(*[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
            console.print(view)
        provenance = outcome.result.provenance if outcome.result else None
        if provenance is not None and provenance.sql:
            console.print(Text(f"{task_id} SQL: {provenance.sql}", style="dim"))
    console.print(Text(words, style=f"bold {style}"))
    final = result.final_evaluation
    score = f"{final.score:.1f}" if final else "n/a"
    console.print(
        f"[bold]stop reason:[/] {result.stop_reason} · replans: {result.replans} · "
        f"final score: {score} · model: {result.model} · run id: {result.run_id}"
    )
    usage = result.usage
    console.print(
        f"[dim]{usage.calls} model calls · {usage.prompt_tokens:,} prompt tokens "
        f"({usage.cached_prompt_tokens:,} from cache) · {usage.completion_tokens:,} completion tokens · "
        f"{(result.finished_at - result.started_at).total_seconds():.1f}s[/]"
    )


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    goal = check_goal(args.goal)
    with _session(args) as session:
        view = PlanView()
        if args.json:
            result = session.run(goal)
            print(result.model_dump_json(indent=2))
            return 0 if result.ok else 1
        with Live(view.render(), console=console, refresh_per_second=4, transient=False) as live:

            def on_event(event: Event) -> None:
                view.on_event(event)
                live.update(view.render())

            result = session.run(goal, on_event=on_event)
        print_result(console, result)
        return 0 if result.ok else 1


def cmd_chat(args: argparse.Namespace, console: Console) -> int:
    """Interactive REPL: one goal per line; 'tools', 'schema', 'quit'."""
    with _session(args) as session:
        console.print("[bold]atomwork chat[/] — type a goal; 'tools', 'schema' or 'quit'.")
        while True:
            try:
                line = console.input("[bold cyan]goal> [/]").strip()
            except (EOFError, KeyboardInterrupt):
                console.print()
                return 0
            if line in ("quit", "exit", ":q"):
                return 0
            if line == "tools":
                console.print(session.registry.catalog())
                continue
            if line == "schema":
                console.print(session.warehouse.schema_summary())
                continue
            if not line:
                continue
            view = PlanView()
            try:
                with Live(view.render(), console=console, refresh_per_second=4) as live:

                    def on_event(event: Event, view: PlanView = view, live: Live = live) -> None:
                        view.on_event(event)
                        live.update(view.render())

                    result = session.run(line, on_event=on_event)
                print_result(console, result)
            except AtomworkError as exc:
                console.print(f"[red]error:[/] {exc}")


def cmd_tools(args: argparse.Namespace, console: Console) -> int:
    from atomwork.tools.departments import build_department_tools
    from atomwork.tools.registry import ToolRegistry
    from atomwork.tools.reporting import reporting_tools
    from atomwork.tools.warehouse import Warehouse

    warehouse = Warehouse.open(args.warehouse)
    try:
        registry = ToolRegistry([*build_department_tools(warehouse), *reporting_tools()])
        if args.departments:
            registry = registry.restricted_to(_split(args.departments))
        console.print(registry.catalog())
        if args.schema:
            console.print(warehouse.schema_summary())
    finally:
        warehouse.close()
    return 0


def _split(text: str) -> list[str]:
    return [d.strip() for d in text.split(",") if d.strip()]


def _session(args: argparse.Namespace) -> Atomwork:
    return Atomwork(
        model=args.model,
        warehouse=args.warehouse,
        departments=_split(args.departments) if args.departments else None,
        max_replans=args.max_replans,
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
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run", parents=[common], help="run one goal with a live plan view")
    run_p.add_argument("goal")
    run_p.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    run_p.set_defaults(fn=cmd_run)
    chat_p = sub.add_parser("chat", parents=[common], help="interactive REPL")
    chat_p.set_defaults(fn=cmd_chat)
    tools_p = sub.add_parser("tools", parents=[common], help="list the tools (and --schema)")
    tools_p.add_argument("--schema", action="store_true")
    tools_p.set_defaults(fn=cmd_tools)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return int(args.fn(args, console))
    except AtomworkError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        return 2
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
