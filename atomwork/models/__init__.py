"""Pluggable model backends and the model-spec parser.

``load_model("embedded:1.5b")`` and friends; see :data:`SPEC_HELP` for the accepted forms.
"""

from __future__ import annotations

import os

from atomwork.errors import ConfigError
from atomwork.models.base import ChatModel, Completion, ModelCall, Usage, UsageTotals, parse_json_object
from atomwork.models.decoding import Decoding
from atomwork.models.embedded import DEFAULT_EMBEDDED, EMBEDDED_MODELS, embedded_spec
from atomwork.models.fake import ScriptedModel
from atomwork.models.purpose import Purpose
from atomwork.settings import EndpointSettings

__all__ = [
    "DEFAULT_EMBEDDED",
    "EMBEDDED_MODELS",
    "SPEC_HELP",
    "ChatModel",
    "Completion",
    "Decoding",
    "ModelCall",
    "Purpose",
    "ScriptedModel",
    "Usage",
    "UsageTotals",
    "load_model",
    "parse_json_object",
]

SPEC_HELP = (
    f"model spec must be 'embedded' (llama.cpp, default {EMBEDDED_MODELS[DEFAULT_EMBEDDED].name}), "
    f"'embedded:SIZE' (SIZE one of {', '.join(EMBEDDED_MODELS)}: Qwen2.5-Coder-SIZE-Instruct), "
    "'gguf:/path/to/model.gguf', 'vllm:http://HOST:PORT/v1[,http://HOST2:PORT/v1...][#MODEL]' "
    "(any OpenAI-compatible servers of one model; requests are spread over them), "
    "or 'scripted:/path/to/replies.json' (canned replies per purpose, no model: tests and demos)"
)


def load_model(spec: str | ChatModel | None = None) -> ChatModel:
    """Build a model from a spec string (or pass a ChatModel through).

    ``None`` reads ``$ATOMWORK_MODEL`` and falls back to ``embedded``. A ``vllm:`` model sends at most
    ``$ATOMWORK_MAX_IN_FLIGHT`` requests at once to each endpoint (default: :class:`EndpointSettings`).
    """
    if isinstance(spec, ChatModel):
        return spec
    text = (spec if spec is not None else os.environ.get("ATOMWORK_MODEL", "embedded")).strip()
    kind, colon, rest = text.partition(":")
    kind = kind.lower()
    if kind == "embedded" and (rest.strip() or not colon):
        try:
            embedded = embedded_spec(rest or None)
        except ConfigError as exc:
            raise ConfigError(f"bad model spec {text!r}: {exc}") from None
        from atomwork.models.llamacpp import LlamaCppModel

        return LlamaCppModel(embedded=embedded)
    if kind == "gguf" and rest:
        from atomwork.models.llamacpp import LlamaCppModel

        return LlamaCppModel(rest)
    if kind in ("vllm", "openai") and rest:
        from atomwork.models.openai_compat import OpenAICompatModel

        urls, _, model = rest.partition("#")
        return OpenAICompatModel(
            [u.strip() for u in urls.split(",") if u.strip()],
            model or None,
            api_key=os.environ.get("ATOMWORK_API_KEY", "EMPTY"),
            settings=_endpoint_settings(),
        )
    if kind == "scripted" and rest:
        from atomwork.models.scripted import ScriptedModel as StrictScriptedModel

        return StrictScriptedModel.from_file(rest)
    raise ConfigError(f"bad model spec {text!r}: {SPEC_HELP}")


def _endpoint_settings() -> EndpointSettings:
    """Endpoint settings with ``$ATOMWORK_MAX_IN_FLIGHT`` applied when it is set."""
    raw = os.environ.get("ATOMWORK_MAX_IN_FLIGHT", "").strip()
    if not raw:
        return EndpointSettings()
    if not raw.isdigit():
        raise ConfigError(f"ATOMWORK_MAX_IN_FLIGHT must be a whole number of requests, got {raw!r}")
    return EndpointSettings(max_in_flight=int(raw))
