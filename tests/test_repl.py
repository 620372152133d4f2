"""The chat REPL driven through prompt-toolkit's pipe input (keys as a terminal sends them), with a
scripted model on the real demo warehouse."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import PipeInput, create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from atomwork.outcome import StopReason, TaskStatus
from atomwork.repl import Repl, ReplCompleter
from atomwork.sdk import Atomwork
from atomwork.settings import RunSettings
from atomwork.testing import ScriptedModel
from atomwork.tools import tool

CTRL_C, CTRL_D, ENTER = "\x03", "\x04", "\r"


def task(id: str, tool: str, args: dict, deps: tuple[str, ...] = ()) -> dict:
    return {"id": id, "tool": tool, "args": args, "depends_on": list(deps), "success_criteria": "a result"}


def plan(*tasks: dict) -> dict:
    return {"task_count": len(tasks), "tasks": list(tasks)}


class Driver:
    """Types into the REPL from a second thread, each step once the screen shows what it waits for;
    the REPL itself runs in the main thread, as it does in a terminal."""

    def __init__(self, pipe: PipeInput, screen: io.StringIO) -> None:
        self.pipe = pipe
        self.screen = screen
        self.failure: str | None = None
        self.repl: Repl | None = None
        self.kept: list = []

    def wait_for(self, check: Callable[[str], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(self.screen.getvalue()):
                return
            time.sleep(0.02)
        raise TimeoutError(f"the screen never showed {what}")

    def run(self, steps: Callable[[Driver], None]) -> threading.Thread:
        def body() -> None:
            try:
                steps(self)
            except BaseException as exc:  # reported by the test; Ctrl-D lets the REPL end
                self.failure = f"{type(exc).__name__}: {exc}"
                for _ in range(3):
                    self.pipe.send_text(CTRL_C + CTRL_D)

        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        return thread


def start_repl(aw: Atomwork, history: Path, steps: Callable[[Driver], None]) -> tuple[int, str, Repl]:
    screen = io.StringIO()
    console = Console(file=screen, width=160, color_system=None, force_terminal=False)
    with create_pipe_input() as pipe:
        repl = Repl(aw, console=console, input=pipe, output=DummyOutput(), history=history)
        driver = Driver(pipe, screen)
        driver.repl = repl
        thread = driver.run(steps)
        code = asyncio.run(asyncio.wait_for(repl.run(), timeout=60))
        thread.join(5)
    assert driver.failure is None, driver.failure + "\n--- screen ---\n" + screen.getvalue()
    return code, screen.getvalue(), repl


def session(model, warehouse, **kw) -> Atomwork:
    return Atomwork(model=model, warehouse=warehouse, memory=False, **kw)  # runs are saved: /runs shows them


def test_follow_up_uses_the_earlier_table_and_commands_work(warehouse, tmp_path):
    model = ScriptedModel(
        plan=[
            plan(task("t1", "sales_by_region", {"period": "1997"})),
            plan(task("t2", "detect_anomalies", {"table": "$t1", "value_column": "revenue"})),
        ],
        answer=["No region of 1997 stands out."],
    )
    aw = session(model, warehouse)
    history = tmp_path / "history"

    def steps(d: Driver) -> None:
        d.pipe.send_text("Analyze revenue by region for 1997" + ENTER)
        d.wait_for(lambda s: s.count("stop reason:") == 1, "the first answer")
        d.pipe.send_text("flag unusual regions in that" + ENTER)
        d.wait_for(lambda s: s.count("stop reason:") == 2, "the follow-up's answer")
        assert d.repl is not None
        first_id = d.repl.conversation.turns[0].result.run_id  # type: ignore[union-attr]
        for command in (
            "/plan",
            "/runs",
            f"/show {first_id[:6]}",
            "/schema",
            "/tools",
            "/departments finance",
            "/model",
            "/help",
            "/bogus",
        ):
            d.pipe.send_text(command + ENTER)
        d.wait_for(lambda s: "unknown command /bogus" in s, "the commands' output")
        assert d.repl is not None
        d.kept = list(d.repl.conversation.turns)
        d.pipe.send_text("/new" + ENTER)
        d.wait_for(lambda s: "new conversation" in s, "/new")
        d.pipe.send_text(CTRL_D)

    kept: list = []
    code, screen, repl = start_repl(aw, history, lambda d: (steps(d), kept.extend(d.kept)))
    assert code == 0
    first, second = (t.result for t in kept)
    assert second is not None and first is not None
    # The follow-up's anomaly check read the first goal's table instead of recomputing it.
    assert second.reused == ["t1"] and second.outcomes["t2"].ok
    assert second.outcomes["t1"] == first.outcomes["t1"]
    follow_up_prompt = model.calls[1].prompt
    assert (
        "Earlier goal 1: Analyze revenue by region for 1997" in follow_up_prompt
        and "| ASIA |" in follow_up_prompt
    )
    assert "completed: every check held" in screen
    # /plan drew the latest plan; /runs listed both runs; /departments narrowed the catalog.
    assert "detect_anomalies" in screen and second.run_id in screen and first.run_id in screen
    assert "- expenses_by_category [finance]" in screen and "model scripted" in screen
    assert screen.count(f"run id: {first.run_id}") == 2  # after its run, and again from /show
    assert "lineitem" in screen  # /schema
    assert repl.conversation.turns == [] and repl.conversation.departments == ["finance"]
    # The history file keeps what was typed, for the next session.
    kept = history.read_text()
    assert "Analyze revenue by region for 1997" in kept and "flag unusual regions in that" in kept
    model.assert_consumed()


def test_ctrl_c_stops_the_goal_and_keeps_its_finished_tasks(warehouse, tmp_path):
    entered, release = threading.Event(), threading.Event()

    @tool(department="operations")
    def gate(label: str) -> str:
        """Waits until the test releases it.

        Args:
            label: what is being waited for
        """
        entered.set()
        assert release.wait(20), "never released"
        return f"gate {label} passed"

    model = ScriptedModel(
        plan=[
            plan(
                task("t1", "sales_by_region", {"period": "1997"}),
                task("t2", "gate", {"label": "slow"}, ("t1",)),
                task("t3", "sales_by_region", {"period": "1996"}, ("t2",)),
            )
        ]
    )
    aw = session(model, warehouse, tools=[gate])

    def steps(d: Driver) -> None:
        d.pipe.send_text("Analyze revenue for 1997, pass the gate, then 1996" + ENTER)
        assert entered.wait(20), "the gate task never started"
        d.pipe.send_text(CTRL_C)  # t1 passed, t2 is running, t3 waits for t2
        d.wait_for(lambda s: "stopping: no new task will start" in s, "the stop notice")
        release.set()
        d.wait_for(lambda s: "stop reason:" in s, "the stopped goal's result")
        d.pipe.send_text(CTRL_C)
        d.wait_for(lambda s: "Ctrl-C again or Ctrl-D to exit" in s, "the exit hint")
        d.pipe.send_text(CTRL_C)  # a second Ctrl-C at the prompt leaves

    code, screen, repl = start_repl(aw, tmp_path / "history", steps)
    assert code == 0
    result = repl.conversation.turns[-1].result
    assert result is not None and result.stop_reason == StopReason.CANCELLED
    assert result.outcomes["t1"].ok and result.outcomes["t2"].status == TaskStatus.DONE
    assert "t3" not in result.outcomes
    assert "stopped on request: the tasks that finished are kept" in screen
    assert "Revenue by region for 1997" in screen  # the finished task's answer is shown
    model.assert_consumed()  # nothing ran after the stop: no answer or score call


def test_second_ctrl_c_while_a_goal_runs_exits(warehouse, tmp_path):
    entered, release = threading.Event(), threading.Event()

    @tool(department="operations")
    def gate(label: str) -> str:
        """Waits until the test releases it.

        Args:
            label: what is being waited for
        """
        entered.set()
        release.wait(20)
        return f"gate {label} passed"

    model = ScriptedModel(plan=[plan(task("t1", "gate", {"label": "slow"}))])
    aw = session(model, warehouse, tools=[gate])

    def steps(d: Driver) -> None:
        d.pipe.send_text("Analyze: pass the gate" + ENTER)
        assert entered.wait(20), "the gate task never started"
        d.pipe.send_text(CTRL_C)
        d.wait_for(lambda s: "stopping" in s, "the stop notice")
        d.pipe.send_text(CTRL_C)

    try:
        code, screen, _ = start_repl(aw, tmp_path / "history", steps)
    finally:
        release.set()
    assert code == 0 and "exiting" in screen


def test_completion_of_commands_tools_departments_and_runs(registry):
    completer = ReplCompleter(lambda: [*registry.names(), *registry.departments()], registry.departments)

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert complete("/s") == ["/schema", "/show"]
    assert "sales_by_region" in complete("revenue with sales_b")
    assert complete("/departments h") == ["hr"]
    assert complete("") == []  # nothing typed, nothing offered


def test_approve_and_reject_continue_a_paused_goal(warehouse, tmp_path):
    sent: list[str] = []

    @tool(department="operations", requires_approval=True)
    def send_note(to: str) -> str:
        """Send a short note with the figures.

        Args:
            to: who gets the note
        """
        sent.append(to)
        return f"note sent to {to}"

    model = ScriptedModel(
        plan=[
            plan(task("t1", "sales_by_region", {"period": "1997"}), task("t2", "send_note", {"to": "cfo"})),
            plan(task("t1", "sales_by_region", {"period": "1996"}), task("t2", "send_note", {"to": "all"})),
        ],
        answer=["Revenue by region for 1997 is in t1, and the note went to the CFO."],
    )
    aw = session(model, warehouse, tools=[send_note], settings=RunSettings(single_question_fast_path=False))

    def steps(d: Driver) -> None:
        d.pipe.send_text("Revenue by region for 1997 and a note to the cfo" + ENTER)
        d.wait_for(lambda s: "/approve t2 [note] or /reject t2 [note]" in s, "the pending approval")
        d.pipe.send_text("/approve t9" + ENTER)
        d.wait_for(lambda s: "no goal here waits for approval of 't9' (waiting: t2)" in s, "the refusal")
        d.pipe.send_text("/approve t2 checked the figures" + ENTER)
        d.wait_for(lambda s: "stop reason: completed" in s, "the continued run")
        d.pipe.send_text("Revenue by region for 1996 and a note to everyone" + ENTER)
        d.wait_for(lambda s: "/approve t4 [note]" in s, "the second pending approval")  # ids go on
        d.pipe.send_text("/reject t4 not to everyone" + ENTER)
        d.wait_for(lambda s: "stop reason: rejected" in s, "the rejected run")
        d.pipe.send_text(CTRL_D)

    code, _, repl = start_repl(aw, tmp_path / "history", steps)
    assert code == 0 and sent == ["cfo"]
    first, second = (t.result for t in repl.conversation.turns)
    assert first is not None and first.stop_reason == StopReason.COMPLETED
    decision = first.outcomes["t2"].approval.decision  # type: ignore[union-attr]
    assert decision is not None and decision.approved and decision.note == "checked the figures"
    assert decision.by == repl.user
    assert second is not None and second.outcomes["t4"].status == TaskStatus.REJECTED
    assert "t4 (send_note): rejected by" in second.answer and "not to everyone" in second.answer
    model.assert_consumed()
