"""The Slack bot's settings, read from the environment and the command line.

Socket Mode when ``SLACK_APP_TOKEN`` is set, otherwise HTTP mode, which needs
``SLACK_SIGNING_SECRET`` to verify requests. Anything missing or malformed is one
:class:`~atomwork.errors.ConfigError` line naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atomwork.errors import ConfigError
from atomwork.home import atomwork_home

__all__ = ["DEFAULT_API_URL", "Mode", "SlackSettings", "default_policy_path"]

DEFAULT_API_URL = "https://slack.com/api/"


class Mode(StrEnum):
    SOCKET = "socket"
    """A websocket Slack opens to the bot: no public URL needed."""
    HTTP = "http"
    """Slack POSTs signed requests to ``http://HOST:PORT/slack/events``."""


def default_policy_path() -> Path:
    return atomwork_home() / "slack_policy.toml"


class SlackSettings(BaseModel):
    """How the bot connects to Slack and serves requests."""

    model_config = ConfigDict(frozen=True)

    bot_token: str
    app_token: str | None = None
    signing_secret: str | None = None
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    path: str = "/slack/events"
    api_url: str = DEFAULT_API_URL
    """The Web API base URL (``SLACK_API_URL``; a test points it at a local fake)."""
    policy: Path | None = None
    """The channel/user -> departments policy file; None: every department is allowed."""
    workers: int = Field(default=4, ge=1, le=64)
    """Goals run at once; more wait their turn without holding up Slack's 3-second ack."""
    update_every: float = Field(default=1.0, ge=0.0)
    """Seconds between edits of the live plan message (Slack rate-limits chat.update)."""

    @property
    def mode(self) -> Mode:
        return Mode.SOCKET if self.app_token else Mode.HTTP

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        host: str | None = None,
        port: int | None = None,
        policy: str | Path | None = None,
        workers: int | None = None,
    ) -> SlackSettings:
        """Read ``SLACK_BOT_TOKEN``, ``SLACK_APP_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_API_URL``
        and ``PORT``; arguments override. The policy defaults to ``$ATOMWORK_HOME/slack_policy.toml``
        when that file exists."""
        bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) of your app"
            )
        if not bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        if app_token is not None and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
        secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        if app_token is None and secret is None:
            raise ConfigError(
                "set SLACK_APP_TOKEN (xapp-..., Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) "
                "to receive requests from Slack"
            )
        if port is None and env.get("PORT"):
            try:
                port = int(env["PORT"])
            except ValueError:
                raise ConfigError(f"PORT must be a number, got {env['PORT']!r}") from None
        if policy is None and default_policy_path().exists():
            policy = default_policy_path()
        values: dict[str, object] = {
            "bot_token": bot_token,
            "app_token": app_token,
            "signing_secret": secret,
            "api_url": env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL,
            "policy": Path(policy).expanduser() if policy is not None else None,
        }
        for name, value in (("host", host), ("port", port), ("workers", workers)):
            if value is not None:
                values[name] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"bad Slack setting {where}: {err['msg']} (got {err['input']!r})") from None
