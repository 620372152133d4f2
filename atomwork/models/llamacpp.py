"""Embedded backend: llama.cpp (llama-cpp-python) running a local GGUF file.

Structured output uses llama.cpp's JSON-schema -> grammar conversion, so even a small model can only
emit JSON that fits the schema; a RAM prefix cache keeps long shared prompt prefixes from being re-read.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage

from atomwork.deadline import remaining
from atomwork.errors import ConfigError, ModelError
from atomwork.home import atomwork_home
from atomwork.models.base import ChatModel, Completion
from atomwork.models.decoding import Decoding
from atomwork.models.embedded import EmbeddedModelSpec, embedded_spec, ensure_embedded_model
from atomwork.models.guard import check_model_requests_allowed
from atomwork.models.purpose import Purpose
from atomwork.models.retry import RetryPolicy

if TYPE_CHECKING:
    from atomwork.models.llamacpp_cache import PrefixStateCache

_ROLES = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}

PREFIX_CACHE_BYTES = 2 << 30
"""Default bound of the KV-state cache (2 GiB; a 1,500-token state is ~18 MB on 0.5B, ~42 MB on 1.5B)."""


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]


class LlamaCppModel(ChatModel):
    """A GGUF model run in-process by llama.cpp. Calls are serialized (llama.cpp is not thread-safe).

    ``model_path`` None runs an embedded model: ``embedded`` names it (``0.5b``, ``1.5b``, or a spec;
    None: the default). A path runs that GGUF file.

    Prompt prefixes are reused two ways. llama.cpp keeps the previous call's KV cache and only
    evaluates the tokens after the longest common prefix, which covers consecutive calls with one
    system prompt. Calls that alternate between prompts (planner catalog, SQL schema, scorer) would
    each evict the other's prefix, so after every call the KV state is also kept in a RAM cache
    bounded by ``prefix_cache_bytes`` (LRU; 0 disables it) and the state sharing the longest prefix
    with a new prompt is restored instead of recomputed. With ``disk_cache``, the first state of
    each long prompt is also kept on disk for the next process (:mod:`.llamacpp_cache`).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        embedded: str | EmbeddedModelSpec | None = None,
        n_ctx: int = 8192,
        n_threads: int | None = None,
        seed: int = 0,
        prefix_cache_bytes: int = PREFIX_CACHE_BYTES,
        disk_cache: bool = True,
    ) -> None:
        super().__init__()
        check_model_requests_allowed(f"load the llama.cpp model {model_path or 'embedded'}")
        if model_path is None:
            spec = embedded if isinstance(embedded, EmbeddedModelSpec) else embedded_spec(embedded)
            path = ensure_embedded_model(spec)
            self.name = spec.name
        else:
            path = Path(model_path).expanduser()
            if not path.is_file():
                raise ConfigError(f"GGUF model file not found: {path}")
            self.name = path.stem
        try:
            import llama_cpp
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ConfigError("llama-cpp-python is not installed; run: pip install llama-cpp-python") from exc
        from atomwork.models.llamacpp_cache import PrefixStateCache
        from atomwork.models.llamacpp_draft import SCORE_ROWS, DraftingLlama, drafting_llama

        self._llama_cpp = llama_cpp
        try:
            with _weight_buffers(llama_cpp, extra=not cpu_has_amx()):
                self._llm: DraftingLlama = drafting_llama(llama_cpp.Llama)(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_threads=n_threads or os.cpu_count() or 2,
                    seed=seed,
                    verbose=False,
                )
        except Exception as exc:  # llama.cpp raises ValueError for unreadable files
            raise ConfigError(f"could not load GGUF model {path}: {exc}") from exc
        # Without logits_all, llama-cpp-python never writes its n_batch x n_vocab score buffer (sampling
        # reads llama.cpp's logits), yet save_state/load_state copy it: 300 MB per state for Qwen's
        # 152k vocabulary, about a second per call. A few rows keep every index it uses valid (-1,
        # and one per token sampled from a drafted batch).
        self._llm.scores = self._llm.scores[:SCORE_ROWS].copy()
        self._cache: PrefixStateCache | None = None
        if prefix_cache_bytes > 0:
            # A state fits one model file, context size and llama.cpp build: they name its directory.
            stat = path.stat()
            kv_dir = atomwork_home() / "kv" / f"{path.stem}-{stat.st_size}-{n_ctx}-{llama_cpp.__version__}"
            self._cache = PrefixStateCache(prefix_cache_bytes, kv_dir if disk_cache else None)
            self._llm.set_cache(self._cache)
        self.path = path
        self._lock = threading.Lock()
        # A failed generation would fail again: one attempt. The deadline bounds the wait for the
        # model while other calls use it (a generation under way is not interrupted).
        self.retry_policy = RetryPolicy.from_env(attempts=1, deadline_s=900.0, attempt_timeout_s=900.0)

    @contextmanager
    def _turn(self, purpose: Purpose) -> Iterator[None]:
        """The model to this call alone (llama.cpp is not thread-safe), waited for no longer than
        the call's deadline."""
        wait = remaining(self.retry_policy.deadline_s)
        if wait <= 0:  # a call whose time is up starts no generation
            raise ModelError(f"{self.name} {purpose} call not made: its deadline had passed")
        if not self._lock.acquire(timeout=wait):
            raise ModelError(
                f"{self.name} stayed busy with other calls for {wait:.1f}s, "
                f"past the deadline of the {purpose} call"
            )
        try:
            yield
        finally:
            self._lock.release()

    def _complete(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Completion:
        purpose = decoding.purpose
        check_model_requests_allowed(f"{self.name} {purpose} call")
        kwargs = _llama_kwargs(decoding)
        with self._turn(purpose):
            # The model counts the prompt tokens it really evaluates; the rest came from the live KV
            # cache or a restored prefix state.
            self._llm.start_generation(decoding.logprobs)
            if decoding.prediction or decoding.lookup:
                from atomwork.models.llamacpp_draft import LOOKUP_MIN_NGRAM, PredictionDraft

                # A predicted reply is followed from any shared token; a looked-up text only from a run.
                if decoding.prediction:
                    text, least = decoding.prediction, 1
                else:
                    text, least = decoding.lookup or "", LOOKUP_MIN_NGRAM
                predicted = self._llm.tokenize(text.encode(), add_bos=False, special=False)
                self._llm.draft_model = PredictionDraft(predicted, min_ngram=least)
            given = decoding.reply_start or ""
            if given:
                self._llm.reply_start = self._llm.tokenize(given.encode(), add_bos=False, special=False)
            try:
                response: Any = self._llm.create_chat_completion(
                    messages=to_openai_messages(messages),  # type: ignore[arg-type]
                    max_tokens=decoding.max_tokens,
                    temperature=decoding.temperature,
                    **kwargs,
                )
            except Exception as exc:
                raise ModelError(f"{self.name} failed during {purpose}: {exc}") from exc
            finally:
                self._llm.draft_model = None
                self._llm.reply_start = None
            evaluated = self._llm.prompt_evaluated
            # The tokens of the reply; a stop string's tokens sampled past its end are left out.
            completion_tokens = int((response.get("usage") or {}).get("completion_tokens") or 0)
            token_logprobs = self._llm.token_logprobs[:completion_tokens] if decoding.logprobs else None
        content = response["choices"][0]["message"].get("content") or ""
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        return Completion(
            text=given + str(content),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_prompt_tokens=max(0, prompt_tokens - evaluated),
            logprobs=token_logprobs,
            given=given,
        )

    def _stream(
        self,
        messages: Sequence[BaseMessage],
        decoding: Decoding,
    ) -> Iterator[str | Completion]:
        purpose = decoding.purpose
        check_model_requests_allowed(f"{self.name} {purpose} call")
        kwargs = _llama_kwargs(decoding)
        # The lock is held until the reply ends (or the reader stops): one generation at a time.
        with self._turn(purpose):
            ctx = self._llm.ctx
            self._llama_cpp.llama_perf_context_reset(ctx)
            self._llm.start_generation()  # no token log-probabilities are kept for a stream
            try:
                chunks: Any = self._llm.create_chat_completion(
                    messages=to_openai_messages(messages),  # type: ignore[arg-type]
                    max_tokens=decoding.max_tokens,
                    temperature=decoding.temperature,
                    stream=True,
                    **kwargs,
                )
                for chunk in chunks:
                    piece = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
                    if piece:
                        yield piece
            except Exception as exc:
                raise ModelError(f"{self.name} failed during {purpose}: {exc}") from exc
            perf = self._llama_cpp.llama_perf_context(ctx)
            evaluated, generated = int(perf.n_p_eval), int(perf.n_eval)
            # A stream reports no usage: the context holds the prompt and the generated tokens.
            prompt_tokens = max(evaluated, int(self._llm.n_tokens) - generated)
        yield Completion(
            text="",
            prompt_tokens=prompt_tokens,
            completion_tokens=generated,
            cached_prompt_tokens=max(0, prompt_tokens - evaluated),
        )

    def close(self) -> None:
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
        cache = getattr(self, "_cache", None)
        if cache is not None:
            cache.close()


def _llama_kwargs(decoding: Decoding) -> dict[str, Any]:
    """llama.cpp's arguments for a JSON schema, stop strings and a repeat penalty (unset ones left out)."""
    kwargs: dict[str, Any] = {}
    if decoding.json_schema is not None:
        kwargs["response_format"] = {"type": "json_object", "schema": decoding.json_schema}
    if decoding.stop:
        kwargs["stop"] = list(decoding.stop)
    if decoding.repeat_penalty is not None:
        kwargs["repeat_penalty"] = decoding.repeat_penalty
    return kwargs


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU has AMX (Sapphire Rapids and later). llama.cpp built for such a CPU repacks
    Q4_K weights into AMX buffers, and its first decode then segfaults (ggml-org/llama.cpp#20824)."""
    try:
        return "amx_int8" in cpuinfo.read_text()
    except OSError:
        return False


@contextmanager
def _weight_buffers(llama_cpp: Any, *, extra: bool) -> Iterator[None]:
    """Load with or without llama.cpp's extra weight buffer types (AMX and repacked layouts).

    ``Llama()`` reads ``llama_model_default_params()`` and loads the model in one step, and no
    argument of it reaches ``use_extra_bufts``: the defaults it reads are swapped while it loads."""
    if extra:
        yield
        return
    bindings = llama_cpp.llama_cpp
    original = bindings.llama_model_default_params

    def plain() -> Any:
        params = original()
        params.use_extra_bufts = False
        return params

    bindings.llama_model_default_params = plain
    try:
        yield
    finally:
        bindings.llama_model_default_params = original
