"""``atomwork chat``: a conversational REPL (prompt-toolkit for input, rich for output).

Goals are turns of one :class:`~atomwork.conversation.Conversation`, so a follow-up ("now only for
ASIA", "draft that as a report") is planned with the earlier goals, plans and tables. The input
history is kept in ``$ATOMWORK_HOME/chat_history``; Tab completes slash commands, tools and
departments. Ctrl-C stops the running goal (its finished tasks are kept); a second Ctrl-C, or
Ctrl-C twice at the prompt, or Ctrl-D exits. A goal paused for an approval goes on with
``/approve TASK [note]`` or ``/reject TASK [note]`` (decided as the login user).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import signal
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import Input, create_input
from prompt_toolkit.keys import Keys
from prompt_toolkit.output import Output
from rich.console import Console
from rich.live import Live
from rich.table import Table as RichTable
from rich.text import Text

from atomwork.cli import PlanView, print_result
from atomwork.conversation import Conversation
from atomwork.errors import AtomworkError
from atomwork.home import atomwork_home
from atomwork.result import RunResult
from atomwork.sdk import Atomwork, load_run, runs_dir
from atomwork.streaming import RunStream
from atomwork.terminal import markup, text
from atomwork.tools.registry import ToolRegistry

__all__ = ["COMMANDS", "Repl", "ReplCompleter", "history_path"]

COMMANDS: dict[str, str] = {
    "/help": "this list",
    "/tools": "the tools the planner may use",
    "/schema": "the warehouse's tables and columns",
    "/plan": "the latest goal's plan, with each task's state and verdict",
    "/runs": "the latest saved runs",
    "/show": "/show RUN: a saved run's answer, tables and stop reason",
    "/model": "the model and what it has spent in this session",
    "/approve": "/approve TASK [note]: approve a step the goal waits for, and go on",
    "/reject": "/reject TASK [note]: reject a step the goal waits for (it is not done, nor planned around)",
    "/departments": "the departments; '/departments sales finance' uses only those, '/departments all' all",
    "/new": "start a new conversation (the next goal ignores the earlier ones)",
    "/quit": "leave (also Ctrl-D)",
}
RUNS_SHOWN = 10
DECIDE_HINT = "/approve {task_id} [note] or /reject {task_id} [note]"


def history_path() -> Path:
    return atomwork_home() / "chat_history"


class ReplCompleter(Completer):
    """Slash commands at the start of a line, run ids after ``/show``, departments after
    ``/departments``, and tool and department names anywhere in a goal."""

    def __init__(self, words: Callable[[], Iterable[str]], departments: Callable[[], Iterable[str]]) -> None:
        self._words = words
        self._departments = departments

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        word = document.get_word_before_cursor(WORD=True)
        if text.startswith("/") and " " not in text:
            for command, meaning in COMMANDS.items():
                if command.startswith(text):
                    yield Completion(command, start_position=-len(text), display_meta=meaning)
            return
        if text.startswith("/show "):
            candidates: Iterable[str] = _run_ids()
        elif text.startswith("/departments "):
            candidates = [*self._departments(), "all"]
        elif text.startswith("/"):
            return
        else:
            candidates = self._words()
        if not word and not text.startswith(("/show ", "/departments ")):
            return
        for candidate in candidates:
            if candidate.startswith(word) and candidate != word:
                yield Completion(candidate, start_position=-len(word))


def _run_ids() -> list[str]:
    folder = runs_dir()
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [p.stem for p in files]


@contextlib.contextmanager
def _on_sigint(handler: Callable[[], None]) -> Iterator[None]:
    """Route SIGINT to ``handler`` while a goal runs (a terminal in raw mode sends Ctrl-C as a key
    instead, which is handled too); does nothing off the main thread."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, handler)
    except (NotImplementedError, RuntimeError, ValueError):
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


class Repl:
    """The chat loop over ``session``. ``input``/``output`` default to the terminal (a test passes
    a pipe input and a dummy output); ``console`` is where answers and plans are drawn."""

    def __init__(
        self,
        session: Atomwork,
        *,
        console: Console | None = None,
        input: Input | None = None,
        output: Output | None = None,
        history: Path | None = None,
        user: str | None = None,
    ) -> None:
        self.session = session
        self.user = user or _login()
        """Who approvals and rejections are recorded as."""
        self.console = console or Console()
        self.input = input or create_input()
        self.conversation: Conversation = session.chat()
        path = history or history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.prompt: PromptSession[str] = PromptSession(
            history=FileHistory(str(path)),
            completer=ReplCompleter(self._goal_words, session.registry.departments),
            input=self.input,
            output=output,
        )

    def _goal_words(self) -> list[str]:
        return [*self.session.registry.names(), *self.session.registry.departments()]

    async def run(self) -> int:
        """Read goals and commands until Ctrl-D, ``/quit`` or two Ctrl-C in a row; return 0."""
        self.console.print(
            f"[bold]atomwork chat[/] · model {self.session.model.name} · type a goal; follow-ups build on "
            "the earlier ones. /help lists commands; Ctrl-C stops a goal, Ctrl-D exits."
        )
        interrupted = False
        while True:
            try:
                line = (await self.prompt.prompt_async("goal> ")).strip()
            except KeyboardInterrupt:
                if interrupted:
                    return 0
                interrupted = True
                self.console.print("[dim](Ctrl-C again or Ctrl-D to exit)[/]")
                continue
            except EOFError:
                return 0
            interrupted = False
            if not line:
                continue
            if line.split(" ", 1)[0] in ("/approve", "/reject"):
                if not await self.decide(line):
                    return 0
                continue
            if line.startswith("/"):
                if not self.command(line):
                    return 0
                continue
            if not await self.ask(line):
                return 0

    # -- goals -------------------------------------------------------------------------------
    async def ask(self, goal: str) -> bool:
        """Run ``goal`` as the conversation's next turn with a live plan; False: the user asked to
        exit while it ran (a second Ctrl-C)."""
        try:
            stream = self.conversation.stream(goal)
        except AtomworkError as exc:
            self.console.print(f"[red]error:[/] {markup(exc)}")
            return True
        return await self._follow(stream)

    async def decide(self, line: str) -> bool:
        """``/approve TASK [note]`` or ``/reject TASK [note]``: decide a call a goal waits for, as
        :attr:`user`, and follow the run as it goes on; False: the user asked to exit meanwhile."""
        name, _, rest = line.partition(" ")
        task_id, _, note = rest.strip().partition(" ")
        waiting = [p.task_id for p in self.conversation.pending]
        if task_id not in waiting:
            said = f"waiting: {', '.join(waiting)}" if waiting else "nothing waits"
            usage = f"usage: {name} TASK [note]"
            problem = f"no goal here waits for approval of {task_id!r}" if task_id else usage
            self.console.print(f"[red]{markup(problem)}[/] ({markup(said)})")
            return True
        decide = self.conversation.approve if name == "/approve" else self.conversation.reject
        stream = RunStream(
            lambda on_event, cancel: decide(
                task_id, by=self.user, note=note.strip(), on_event=on_event, cancel=cancel
            )
        )
        return await self._follow(stream)

    async def _follow(self, stream: RunStream) -> bool:
        """Show ``stream``'s run with a live plan, then its result; False: exit was asked for."""
        view = PlanView()
        presses = 0
        leave = asyncio.Event()

        def interrupt() -> None:
            nonlocal presses
            presses += 1
            if presses == 1:
                stream.cancel()
                self.console.print(
                    "[yellow]stopping: no new task will start; the running ones finish and are kept "
                    "(Ctrl-C again to exit now)[/]"
                )
            else:
                leave.set()

        def keys() -> None:
            for press in self.input.read_keys():
                if press.key == Keys.ControlC:
                    interrupt()

        async def follow() -> RunResult:
            with Live(view.render(), console=self.console, refresh_per_second=4, transient=False) as live:
                async for event in stream:
                    view.on_event(event)
                    live.update(view.render())
            return await stream.result()

        with self.input.raw_mode(), self.input.attach(keys), _on_sigint(interrupt):
            work = asyncio.ensure_future(follow())
            quit_ = asyncio.ensure_future(leave.wait())
            await asyncio.wait([work, quit_], return_when=asyncio.FIRST_COMPLETED)
            quit_.cancel()
        if not work.done():
            work.cancel()
            self.console.print("[yellow]exiting; the stopped goal's finished tasks were not shown[/]")
            return False
        try:
            result = work.result()
        except AtomworkError as exc:
            self._failed(exc)
            return True
        except Exception as exc:  # a bug: one line, and the REPL goes on
            self.console.print(f"[red]internal error:[/] {type(exc).__name__}: {markup(exc)}")
            return True
        print_result(self.console, result, decide_hint=DECIDE_HINT)
        return True

    def _failed(self, exc: AtomworkError) -> None:
        self.console.print(f"[red]error:[/] {markup(exc)}")
        turn = self.conversation.turns[-1] if self.conversation.turns else None
        kept = [tid for tid, o in (turn.outcomes if turn else {}).items() if o.ok]
        if kept:
            self.console.print(
                f"[dim]kept from before the error: {', '.join(kept)} "
                "(follow-ups can use them; /plan shows them)[/]"
            )

    # -- slash commands --------------------------------------------------------------------------
    def command(self, line: str) -> bool:
        """Run one slash command; False means leave."""
        name, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if name in ("/quit", "/exit"):
                return False
            if name == "/help":
                table = RichTable(show_header=False, box=None)
                for command, meaning in COMMANDS.items():
                    table.add_row(Text(command, style="bold cyan"), meaning)
                self.console.print(table)
            elif name == "/tools":
                self.console.print(self._registry().catalog(), markup=False, highlight=False)
            elif name == "/schema":
                self.console.print(self.session.warehouse.schema_summary(), markup=False, highlight=False)
            elif name == "/plan":
                self._show_plan()
            elif name == "/runs":
                self._show_runs()
            elif name == "/show":
                self._show_run(rest)
            elif name == "/model":
                usage = self.session.model.usage_since(0)
                self.console.print(
                    f"model {self.session.model.name} · {usage.calls} calls this session · "
                    f"{usage.prompt_tokens:,} prompt and {usage.completion_tokens:,} completion tokens"
                )
            elif name == "/departments":
                self._departments(rest)
            elif name == "/new":
                self.conversation.reset()
                self.console.print("new conversation: the next goal starts from nothing")
            else:
                self.console.print(f"[red]unknown command {name}[/]; /help lists the commands")
        except AtomworkError as exc:
            self.console.print(f"[red]error:[/] {markup(exc)}")
        return True

    def _registry(self) -> ToolRegistry:
        departments = self.conversation.departments
        registry = self.session.registry
        return registry.restricted_to(departments) if departments is not None else registry

    def _show_plan(self) -> None:
        if not self.conversation.turns:
            self.console.print("no goal yet: type one")
            return
        turn = self.conversation.turns[-1]
        view = PlanView()
        if turn.result is not None:
            for event in turn.result.events:
                view.on_event(event)
            self.console.print(view.render())
        else:
            self.console.print(f"[red]the goal failed:[/] {markup(turn.error)}")
            for task_id, outcome in turn.outcomes.items():
                state = "passed" if outcome.ok else str(outcome.status)
                self.console.print(text(f"  {task_id} {outcome.task.tool}: {state}"))

    def _show_runs(self) -> None:
        ids = _run_ids()[:RUNS_SHOWN]
        if not ids:
            self.console.print("no saved runs yet")
            return
        table = RichTable("run id", "finished", "stop reason", "goal", title=f"latest {len(ids)} runs")
        for run_id in ids:
            try:
                result = load_run(run_id)
            except (OSError, ValueError):
                continue  # a record being written, or from an older version
            table.add_row(
                text(run_id),
                f"{result.finished_at:%Y-%m-%d %H:%M}",
                str(result.stop_reason),
                text(result.goal[:70]),
            )
        self.console.print(table)

    def _show_run(self, run_id: str) -> None:
        if not run_id:
            self.console.print("usage: /show RUN (/runs lists them)")
            return
        matches = [r for r in _run_ids() if r.startswith(run_id)]
        if len(matches) != 1:
            found = "no saved run" if not matches else f"{len(matches)} saved runs"
            self.console.print(f"[red]{found} matches {markup(repr(run_id))}[/]; /runs lists them")
            return
        print_result(self.console, load_run(matches[0]))

    def _departments(self, rest: str) -> None:
        registry = self.session.registry
        if rest:
            chosen = [d for d in rest.replace(",", " ").split() if d]
            if chosen == ["all"]:
                self.conversation.departments = None
            else:
                registry.restricted_to(chosen)  # an unknown name is a one-line error
                self.conversation.departments = chosen
        enabled = set(self._registry().departments())
        table = RichTable("", "department", "description", title="departments")
        for name in registry.departments():
            department = registry.department(name)
            mark = "✓" if name in enabled else "·"
            shared = " (shared)" if department.shared else ""
            table.add_row(mark, name + shared, department.description)
        self.console.print(table)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "chat user"


def main(session: Atomwork, console: Console | None = None) -> int:
    """Run the REPL on the terminal."""
    return asyncio.run(Repl(session, console=console).run())
