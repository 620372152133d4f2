"""Pluggable model backends and the model-spec parser."""

from __future__ import annotations

import os

from atomwork.errors import ConfigError
from atomwork.models.base import ChatModel, ModelCall, parse_json_object
from atomwork.models.fake import ScriptedModel

__all__ = ["ChatModel", "ModelCall", "ScriptedModel", "load_model", "parse_json_object"]

SPEC_HELP = (
    "model spec must be 'embedded' (default: Qwen2.5-Coder-0.5B-Instruct via llama.cpp), "
    "'gguf:/path/to/model.gguf', or 'vllm:http://HOST:PORT/v1[#MODEL]' (any OpenAI-compatible server)"
)


def load_model(spec: str | ChatModel | None = None) -> ChatModel:
    """Build a model from a spec string (or pass a ChatModel through).

    ``None`` reads ``$ATOMWORK_MODEL`` and falls back to ``embedded``.
    """
    if isinstance(spec, ChatModel):
        return spec
    text = (spec if spec is not None else os.environ.get("ATOMWORK_MODEL", "embedded")).strip()
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind == "embedded" and not rest:
        from atomwork.models.llamacpp import LlamaCppModel

        return LlamaCppModel()
    if kind == "gguf" and rest:
        from atomwork.models.llamacpp import LlamaCppModel

        return LlamaCppModel(rest)
    if kind in ("vllm", "openai") and rest:
        from atomwork.models.openai_compat import OpenAICompatModel

        url, _, model = rest.partition("#")
        return OpenAICompatModel(url, model or None, api_key=os.environ.get("ATOMWORK_API_KEY", "EMPTY"))
    raise ConfigError(f"bad model spec {text!r}: {SPEC_HELP}")
