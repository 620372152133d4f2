"""Secrets out of messages: credentials written into URLs, bearer tokens and key parameters.

Errors quote endpoints and exception texts (``http://user:secret@host/v1``); every
:class:`~atomwork.errors.AtomworkError` message passes through :func:`redact` so none is echoed.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "redact"]

MASK = "***"

# scheme://user:password@host or scheme://token@host: everything between "//" and "@".
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/\s@]+)@")
_BEARER = re.compile(r"(?P<lead>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_KEY_PARAM = re.compile(
    r"(?P<lead>[?&](?:api[_-]?key|access[_-]?token|token|password|secret)=)[^&\s#]+", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with URL credentials, bearer tokens and key/token query parameters masked."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _BEARER.sub(lambda m: f"{m['lead']}{MASK}", text)
    return _KEY_PARAM.sub(lambda m: f"{m['lead']}{MASK}", text)
