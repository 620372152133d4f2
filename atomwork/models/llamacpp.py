"""Embedded backend: llama.cpp (llama-cpp-python) running a local GGUF file.

Structured output uses llama.cpp's JSON-schema -> grammar conversion, so even a
0.5B model can only emit JSON that fits the schema.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage

from atomwork.errors import ConfigError, ModelError
from atomwork.models.base import ChatModel

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class LlamaCppModel(ChatModel):
    """A GGUF model run in-process by llama.cpp. Calls are serialized (llama.cpp is not thread-safe)."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        from atomwork.models.embedded import QWEN_05B, ensure_embedded_model

        if model_path is None:
            path = ensure_embedded_model()
            self.name = QWEN_05B.name
        else:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise ConfigError(f"GGUF model file not found: {path}")
            self.name = path.stem
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ConfigError("llama-cpp-python is not installed; run: pip install llama-cpp-python") from exc
        try:
            self._llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads or os.cpu_count() or 2,
                seed=seed,
                verbose=False,
            )
        except Exception as exc:  # llama.cpp raises ValueError for unreadable files
            raise ConfigError(f"could not load GGUF model {path}: {exc}") from exc
        self.path = path
        self._lock = threading.Lock()

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        *,
        json_schema: dict[str, Any] | None,
        max_tokens: int,
        temperature: float,
        purpose: str,
    ) -> str:
        kwargs: dict[str, Any] = {}
        if json_schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": json_schema}
        with self._lock:
            try:
                response: Any = self._llm.create_chat_completion(
                    messages=to_openai_messages(messages),  # type: ignore[arg-type]
                    max_tokens=max_tokens,
                    temperature=temperature,
                    **kwargs,
                )
            except Exception as exc:
                raise ModelError(f"{self.name} failed during {purpose}: {exc}") from exc
        content = response["choices"][0]["message"].get("content") or ""
        return str(content)

    def close(self) -> None:
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
