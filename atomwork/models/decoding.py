"""One reply's generation controls, as the caller asked for them.

Every backend and every wrapper (paced, faulty) takes the same typed request instead of eight
keyword arguments threaded through each adapter: a new control is added here once.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from atomwork.models.purpose import Purpose


class Decoding(BaseModel):
    """How one reply is generated."""

    model_config = ConfigDict(frozen=True)

    purpose: Purpose = Purpose.CHAT
    """The agent step (plan, args, score, ...) for logs, usage and fakes."""
    json_schema: dict[str, Any] | None = None
    """The reply must be JSON obeying it."""
    max_tokens: int = 512
    temperature: float = 0.0
    stop: list[str] | None = None
    """Strings that end generation (not included in the reply)."""
    repeat_penalty: float | None = None
    """> 1.0 discourages repeating tokens; None keeps the backend's default (off)."""
    prediction: str | None = None
    """Text the reply is expected to resemble; a backend that can speculate from it does."""
    lookup: str | None = None
    """Text the reply is likely to quote stretches of (the question and its notes): a backend that
    can speculate drafts what follows a run of tokens the reply shares with it. Used only where no
    ``prediction`` is given."""
    logprobs: int = 0
    """> 0: each generated token's log-probability with that many alternatives."""
    reply_start: str | None = None
    """Text the reply begins with, given to the model rather than generated (a code fence it always
    opens with): it continues from there, and the reply's text includes it. A backend that cannot
    give it lets the model write its reply whole."""

    @model_validator(mode="after")
    def _one_way_to_shape_the_reply(self) -> Decoding:
        # A schema's grammar starts at the reply's first token: a given start would break it.
        if self.reply_start and self.json_schema is not None:
            raise ValueError("reply_start cannot be combined with json_schema")
        return self
