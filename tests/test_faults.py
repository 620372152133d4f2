"""Faults and hostile sizes: model calls with retries and a deadline, tools that hang or raise, query
limits, and the fault-injection suite (a model failing 30% of calls, raising tools, a killed process)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import duckdb
import pytest
from langchain_core.messages import HumanMessage

from atomwork.deadline import deadline_after
from atomwork.engine import Engine
from atomwork.errors import AtomworkError, ModelError, PlanError
from atomwork.evals.faults import (
    FaultRun,
    ToolFault,
    check_run,
    kill_and_resume,
    run_fault_suite,
)
from atomwork.limits import CUT_MARK, clip_result
from atomwork.models.base import ChatModel
from atomwork.models.faulty import Fault, FaultyModel
from atomwork.models.openai_compat import OpenAICompatModel
from atomwork.models.purpose import Purpose
from atomwork.models.retry import RetryPolicy, TransientModelError, call_with_retry
from atomwork.outcome import StopReason, TaskStatus
from atomwork.redact import redact
from atomwork.run_store import RunStatus, RunStore
from atomwork.sdk import Atomwork
from atomwork.settings import ResultLimits, RunSettings
from atomwork.table import Table
from atomwork.testing import FunctionModel, ModelCallInfo, ScriptedModel
from atomwork.tool_result import ToolResult
from atomwork.tools import Department, ToolRegistry, tool
from atomwork.tools.context import RunContext
from atomwork.tools.runner import ToolAborted, ToolTimeout, run_tool
from atomwork.tools.warehouse import Warehouse, WarehouseError
from atomwork.tools.warehouse.limits import MEMORY_ENV, QueryLimits

from .fakes import make_registry, task

GOOD = {"reason": "meets the criteria", "score": 8}
QUICK = RetryPolicy(attempts=3, deadline_s=5.0, attempt_timeout_s=1.0, backoff_s=0.01, jitter_s=0.01)


# --------------------------------------------------------------------------- model calls


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server on 127.0.0.1 that accepts every connection and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.model_requests
def test_a_server_that_accepts_and_never_answers_fails_within_the_deadline(silent_server):
    model = OpenAICompatModel(silent_server, model="m")
    model.retry_policy = RetryPolicy(attempts=5, deadline_s=1.5, attempt_timeout_s=0.6, backoff_s=0.05)
    start = time.monotonic()
    with pytest.raises(ModelError) as caught:
        model.complete([HumanMessage("hello")], purpose=Purpose.CHAT)
    spent = time.monotonic() - start
    assert spent < 1.5 + 1.0, f"took {spent:.1f}s for a 1.5s deadline"
    assert "\n" not in str(caught.value)


@pytest.mark.model_requests
def test_a_tool_deadline_also_bounds_a_model_call_made_inside_the_tool(silent_server):
    model = OpenAICompatModel(silent_server, model="m")
    model.retry_policy = RetryPolicy(attempts=3, deadline_s=60, attempt_timeout_s=60)
    start = time.monotonic()
    with deadline_after(0.8), pytest.raises(ModelError):
        model.complete([HumanMessage("hello")])
    assert time.monotonic() - start < 2.0


class _SlowLlama:
    """Stands in for ``llama_cpp.Llama``: each generation takes ``seconds``."""

    seconds = 1.5

    def __init__(self, **kwargs) -> None:
        import numpy as np

        self.scores = np.zeros((4, 4))
        self.ctx = object()
        self.n_tokens = 0

    def create_chat_completion(self, **kwargs):
        time.sleep(self.seconds)
        return {"choices": [{"message": {"content": "slow"}}], "usage": {"prompt_tokens": 3}}

    def close(self) -> None:
        pass


@pytest.mark.model_requests
def test_a_llama_cpp_call_waits_for_the_busy_model_no_longer_than_its_deadline(tmp_path, monkeypatch):
    import llama_cpp

    from atomwork.models.llamacpp import LlamaCppModel

    monkeypatch.setattr(llama_cpp, "Llama", _SlowLlama)
    monkeypatch.setattr(llama_cpp, "llama_perf_context_reset", lambda ctx: None)
    monkeypatch.setattr(llama_cpp, "llama_perf_context", lambda ctx: type("Perf", (), {"n_p_eval": 3})())
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    model = LlamaCppModel(gguf, prefix_cache_bytes=0)
    assert model.retry_policy.attempts == 1  # a failed generation would fail again
    busy = threading.Thread(target=model.complete, args=([HumanMessage("first")],))
    busy.start()
    time.sleep(0.2)  # the first call holds the model
    model.retry_policy = RetryPolicy(attempts=1, deadline_s=0.4)
    start = time.monotonic()
    with pytest.raises(
        ModelError, match=r"stayed busy with other calls for 0.4s, past the deadline of the chat"
    ):
        model.complete([HumanMessage("second")])
    assert time.monotonic() - start < 1.0
    busy.join()
    assert [c.output for c in model.calls] == ["slow"]


class _Backend(ChatModel):
    """A backend that raises the given exceptions in turn, then answers."""

    name = "flaky"

    def __init__(self, *failures: BaseException) -> None:
        super().__init__()
        self.failures = list(failures)
        self.attempts: list[float] = []
        self.retry_policy = QUICK

    def _complete(self, messages, decoding) -> str:
        self.attempts.append(time.monotonic())
        if self.failures:
            raise self.failures.pop(0)
        return "fine"


def test_transient_failures_are_retried_with_jittered_backoff():
    backend = _Backend(TransientModelError("HTTP 503"), ConnectionResetError("reset"))
    backend.retry_policy = RetryPolicy(attempts=3, deadline_s=5, backoff_s=0.05, jitter_s=0.05)
    assert backend.complete([HumanMessage("q")]) == "fine"
    assert len(backend.attempts) == 3
    waits = [b - a for a, b in zip(backend.attempts, backend.attempts[1:], strict=False)]
    assert waits[0] >= 0.05 and waits[1] >= 0.1  # exponential: 0.05, then 0.1, each plus jitter
    assert len(backend.calls) == 1  # one logical call in the log


def test_the_deadline_stops_retrying_before_the_attempts_run_out():
    attempts = []

    def always_down() -> str:
        attempts.append(time.monotonic())
        raise TransientModelError("endpoint down")

    policy = RetryPolicy(attempts=10, deadline_s=0.6, backoff_s=0.2, max_backoff_s=0.2, jitter_s=0)
    start = time.monotonic()
    with pytest.raises(ModelError, match=r"endpoint down \(gave up after \d attempt\(s\) .*deadline"):
        call_with_retry(always_down, policy=policy, what="test call")
    assert time.monotonic() - start < 0.8
    assert 2 <= len(attempts) < 10


def test_no_model_call_starts_once_its_deadline_has_passed():
    backend = _Backend()
    with deadline_after(0.0), pytest.raises(ModelError, match="not made, the 0s deadline had passed"):
        backend.complete([HumanMessage("q")])  # e.g. from a tool abandoned at its time limit
    assert backend.attempts == []


def test_a_backend_exception_becomes_a_one_line_model_error():
    backend = _Backend(RuntimeError("native crash\nstack line 1\nstack line 2"))
    with pytest.raises(ModelError) as caught:
        backend.complete([HumanMessage("q")], purpose=Purpose.PLAN)
    assert str(caught.value) == "flaky plan call failed: RuntimeError: native crash"
    assert len(backend.attempts) == 1  # not transient: no retry
    # A ModelError of the backend's own passes unchanged; an assertion (a test double's) too.
    assert isinstance(caught.value.__cause__, RuntimeError)
    with pytest.raises(AssertionError, match="unexpected"):
        _Backend(AssertionError("unexpected call")).complete([HumanMessage("q")])


def test_a_backend_raising_a_non_model_error_does_not_abort_the_run():
    plan = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "1998"})]}

    def reply(info: ModelCallInfo):
        if info.purpose is Purpose.PLAN:
            return plan
        raise RuntimeError("the scorer's backend broke")  # scoring and the answer

    settings = RunSettings(score_tasks_with_model=True, score_final_with_model=True, max_replans=0)
    result = Engine(FunctionModel(reply), make_registry(), settings=settings).run("sales for 1998")
    assert result.stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED
    assert result.outcomes["t1"].status == TaskStatus.DONE  # the finished work is kept
    check = result.outcomes["t1"].evaluation.checks[0]
    assert "evaluator could not score" in check and "RuntimeError: the scorer's backend broke" in check


def test_a_backend_crash_while_planning_is_a_plan_error_not_a_traceback():
    model = FunctionModel(lambda info: (_ for _ in ()).throw(KeyError("choices")))
    with pytest.raises(PlanError, match="KeyError"):
        Engine(model, make_registry()).run("sales for 1998")


@pytest.mark.model_requests
def test_credentials_in_the_model_url_are_never_echoed():
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    free = port.getsockname()[1]
    port.close()  # nothing listens there
    url = f"http://admin:s3cr3t-pw@127.0.0.1:{free}/v1"
    with pytest.raises(ModelError) as caught:
        OpenAICompatModel(url, attempts=1)  # discovery fails: the error names the endpoint
    assert "s3cr3t-pw" not in str(caught.value) and "admin" not in str(caught.value)
    assert f"http://***@127.0.0.1:{free}/v1" in str(caught.value)
    with pytest.raises(ModelError) as bad:
        OpenAICompatModel("ftp://user:hunter2@example/v1", model="m")
    assert "hunter2" not in str(bad.value)


def test_redaction_masks_userinfo_bearer_tokens_and_key_parameters():
    text = (
        "GET https://bob:pw@host:8000/v1?api_key=abc123&x=1 failed; "
        "Authorization: Bearer sk-LIVE.123; postgresql://u:p@db/atomwork"
    )
    masked = redact(text)
    for secret in ("bob:pw", "abc123", "sk-LIVE.123", "u:p@"):
        assert secret not in masked
    assert "https://***@host:8000/v1?api_key=***&x=1" in masked and "postgresql://***@db" in masked
    assert str(AtomworkError("cannot reach http://u:secret@h/v1")) == "cannot reach http://***@h/v1"


# --------------------------------------------------------------------------- tools


@tool
def spin(seconds: float) -> str:
    """Busy-loops in Python (a hung tool).

    Args:
        seconds: how long
    """
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done spinning"


def test_a_hung_python_tool_is_abandoned_and_its_thread_stopped():
    tool_ = spin.model_copy(update={"department": "operations"})
    start = time.monotonic()
    with pytest.raises(ToolTimeout, match=r"'spin' ran longer than 0.3s and was abandoned"):
        run_tool(tool_, {"seconds": 30}, RunContext(), timeout_s=0.3)
    assert time.monotonic() - start < 2
    deadline = time.monotonic() + 5  # the planted exception ends the loop soon after
    while any(t.name == "atomwork-tool-spin" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "atomwork-tool-spin" for t in threading.enumerate())


@pytest.mark.parametrize(
    ("exc", "shown"),
    [
        (SystemExit(3), "raised SystemExit: 3"),
        (KeyboardInterrupt(), "raised KeyboardInterrupt"),
        (GeneratorExit(), "raised GeneratorExit"),
    ],
)
def test_a_tool_raising_a_base_exception_fails_with_tool_aborted(exc, shown):
    @tool
    def dies(period: str) -> str:
        """Raises.

        Args:
            period: a period
        """
        raise exc

    with pytest.raises(ToolAborted, match=shown):
        run_tool(dies, {"period": "1998"}, RunContext(), timeout_s=5)


def _registry_with(*extra) -> ToolRegistry:
    registry = make_registry()
    registry.add(Department("operations", tools=list(extra)))
    return registry


@tool
def exits(period: str) -> str:
    """Calls sys.exit.

    Args:
        period: a period
    """
    raise SystemExit("bye")


@tool
def interrupted(period: str) -> str:
    """Raises KeyboardInterrupt.

    Args:
        period: a period
    """
    raise KeyboardInterrupt


def test_hung_and_exiting_tools_fail_only_their_task_and_the_run_goes_on():
    plan = {
        "tasks": [
            task("t1", "sales_by_region", "sales", {"period": "1998"}),
            task("t2", "wait_a_bit", "operations", {"seconds": 30, "label": "hang"}),
            task("t3", "exits", "operations", {"period": "1998"}),
            task("t4", "interrupted", "operations", {"period": "1998"}),
        ]
    }
    model = ScriptedModel({"plan": [plan], "score": [GOOD], "score_final": [GOOD], "answer": ["a"]})
    settings = RunSettings(max_replans=0, tool_timeouts={"wait_a_bit": 0.4}, score_tasks_with_model=True)
    start = time.monotonic()
    result = Engine(model, _registry_with(exits, interrupted), settings=settings).run(
        "sales by region for 1998, wait a bit, exits, interrupted"
    )
    assert time.monotonic() - start < 10, "the run waited for the hung tool"
    assert result.outcomes["t1"].ok
    hung, exited, stopped = (result.outcomes[t] for t in ("t2", "t3", "t4"))
    assert (hung.status, hung.error_type) == (TaskStatus.FAILED, "ToolTimeout")
    assert hung.error == "tool 'wait_a_bit' ran longer than 0.4s and was abandoned"
    assert (exited.error_type, exited.error) == ("ToolAborted", "tool 'exits' raised SystemExit: bye")
    assert (stopped.error_type, stopped.error) == (
        "ToolAborted",
        "tool 'interrupted' raised KeyboardInterrupt",
    )
    assert result.stop_reason == StopReason.REPLAN_BUDGET_EXHAUSTED


@tool
def heavy_query(ctx: RunContext, period: str) -> Table:
    """A query that runs for minutes.

    Args:
        period: a period
    """
    return ctx.warehouse.query(
        "SELECT sum(a.range * b.range) AS s FROM range(100000000) a, range(100000000) b"
    )


def test_a_hung_sql_statement_is_interrupted_at_the_tool_deadline(warehouse):
    bound = heavy_query.model_copy(update={"department": "operations"}).bind(warehouse)
    start = time.monotonic()
    with pytest.raises(WarehouseError, match=r"stopped at the tool's time limit of 0.5s"):
        run_tool(bound, {"period": "1998"}, bound.context(), timeout_s=0.5)
    assert time.monotonic() - start < 3, "the statement was not interrupted"
    assert warehouse.scalar("SELECT 41 + 1") == 42  # the connection still works


def test_result_limits_cut_rows_cells_and_text_with_a_visible_mark():
    table = Table(columns=["id", "body"], rows=[[i, "x" * 5000] for i in range(50)])
    result = ToolResult(summary="s" * 300, table=table)
    limits = ResultLimits(max_rows=10, max_cell_chars=100, max_text_chars=120)
    clipped = clip_result(result, limits)
    assert len(clipped.table.rows) == 10 and clipped.truncated
    cell = clipped.table.rows[0][1]
    assert cell == "x" * 60 + CUT_MARK + ": 4,940 more characters]" and len(cell) <= 100
    assert clipped.summary.startswith("s" * 80 + CUT_MARK + ": 220 more characters]")
    assert clipped.summary.endswith("(only the first 10 of 50 rows kept)")
    assert clip_result(clipped, limits).table == clipped.table  # cutting again changes nothing
    small = ToolResult(summary="ok", table=Table(columns=["a"], rows=[[1]]))
    assert clip_result(small, limits) is small
    total = clip_result(result, ResultLimits(max_table_chars=12_000, max_cell_chars=10_000))
    assert len(total.table.rows) == 2 and total.truncated  # 5 KB cells: two rows fit in 12,000 characters


# --------------------------------------------------------------------------- query limits


def test_duckdb_memory_limit_is_set_explicitly_and_configurable(tmp_path, monkeypatch, warehouse):
    assert warehouse.scalar("SELECT current_setting('memory_limit')") in ("1.0 GiB", "953.6 MiB")
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
    with Warehouse.open(path, limits=QueryLimits(memory_limit="64MB")) as small:
        assert small.scalar("SELECT current_setting('memory_limit')") == "61.0 MiB"
        with pytest.raises(WarehouseError, match=r"(?i)out of memory"):
            small.query("SELECT list(range::VARCHAR || repeat('x', 100)) FROM range(3000000)")
    monkeypatch.setenv(MEMORY_ENV, "128MB")
    with Warehouse.open(path) as configured:
        assert configured.scalar("SELECT current_setting('memory_limit')") == "122.0 MiB"
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(WarehouseError, match=f"bad {MEMORY_ENV}: .*512MB or 2GB"):
        Warehouse.open(path)


def test_row_cap_on_every_statement(tmp_path):
    path = tmp_path / "rows.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(5000)")
    with Warehouse.open(path, limits=QueryLimits(max_rows=1000)) as wh:
        with pytest.raises(WarehouseError, match="more than 1,000 rows; aggregate or filter"):
            wh.fetch("SELECT x FROM t")
        capped = wh.run_query("SELECT x FROM t", limit=4000)
        assert len(capped.table.rows) == 1000 and capped.truncated
        assert len(wh.fetch("SELECT x FROM t LIMIT 1000").rows) == 1000


def test_a_5mb_cell_is_cut_before_it_reaches_prompts_and_the_run_record(tmp_path):
    path = tmp_path / "notes.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE notes AS SELECT 1 AS id, repeat('A', 5000000) AS body")
    plan = {"tasks": [{"id": "t1", "tool": "sql_query", "args": {"sql": "SELECT id, body FROM notes"},
                       "depends_on": [], "success_criteria": "the note"}]}  # fmt: skip
    prompts: list[str] = []

    def reply(info: ModelCallInfo):
        prompts.append(info.prompt)
        return plan if info.purpose is Purpose.PLAN else GOOD if "score" in info.purpose else "The note."

    settings = RunSettings(single_question_fast_path=False, score_tasks_with_model=True, max_replans=0)
    with Atomwork(model=FunctionModel(reply), warehouse=path, memory=False, settings=settings) as aw:
        result = aw.run("show the note body from the notes table")
    body = result.outcomes["t1"].result.table.rows[0][1]
    assert body == "A" * 1960 + CUT_MARK + ": 4,998,040 more characters]"
    assert max(len(p) for p in prompts) < 60_000, "a prompt carries the whole cell"
    assert len(result.model_dump_json()) < 200_000, "the run record carries the whole cell"


# --------------------------------------------------------------------------- the fault suite


def test_fault_injection_suite_ends_every_run_honestly_and_loses_nothing():
    report = run_fault_suite(runs=20, rate=0.3, seed=11)
    assert report.runs == 20
    bad = [(r.index, r.problems, r.lost) for r in report.records if not r.honest]
    assert not bad, f"dishonest ends: {bad}"
    assert report.lost_results == 0 and report.tasks_done > 0
    # The faults really happened, of every kind, and some runs still completed.
    assert set(report.injected_model) == {f.value for f in Fault}
    assert set(report.injected_tool) == {f.value for f in ToolFault}
    assert 0 < report.completed < report.runs
    assert report.success_rate == report.completed / report.runs
    assert sum(report.stop_reasons.values()) == report.runs


def test_without_faults_every_suite_run_completes():
    report = run_fault_suite(runs=3, rate=0.0)
    assert report.completed == 3 and report.injected_model == {} and report.injected_tool == {}


def test_the_honesty_check_catches_a_completed_run_with_a_failed_task():
    store = RunStore.in_memory()
    plan = {"tasks": [task("t1", "sales_by_region", "sales", {"period": "broken"})]}
    model = ScriptedModel({"plan": [plan], "score_final": [GOOD]})
    result = Engine(model, make_registry(), settings=RunSettings(max_replans=0), runs=store).run("x")
    assert check_run(result, store) == []
    lying = result.model_copy(update={"stop_reason": StopReason.COMPLETED})
    problems = check_run(lying, store)
    assert any("completed with failing tasks ['t1']" in p for p in problems)
    assert any("the record says replan_budget_exhausted" in p for p in problems)
    assert not FaultRun(index=0, problems=problems).honest


def test_faulty_model_is_seeded_and_counts_its_faults():
    def run(seed: int) -> tuple[list[str], dict[Fault, int]]:
        policy = QUICK.model_copy(update={"attempt_timeout_s": 0.05})  # a hang costs 0.05s
        model = FaultyModel(FunctionModel(lambda info: "fine"), rate=0.5, seed=seed, retry_policy=policy)
        replies = []
        for i in range(20):
            try:
                replies.append(model.complete([HumanMessage(f"q{i}")]))
            except ModelError as exc:
                replies.append(type(exc).__name__)
        return replies, dict(model.injected)

    assert run(1) == run(1) and run(1) != run(2)
    replies, injected = run(1)
    assert sum(injected.values()) > 0 and replies.count("fine") < 20


def test_a_process_killed_mid_run_leaves_an_honest_record_and_resumes_without_rerunning(tmp_path):
    check = kill_and_resume(tmp_path)
    assert check.record_status == RunStatus.RUNNING and check.record_interrupted
    assert check.record_stop_reason is None
    assert {"t1", "t2", "t3"} <= set(check.kept_before_resume)
    assert check.resumed_stop_reason == StopReason.COMPLETED
    assert check.runs_per_tool == {
        "revenue_by_region": 1,
        "shipments_by_mode": 1,
        "top_row": 1,
        "slow_summary": 1,
    }
    assert check.honest, check.problems
