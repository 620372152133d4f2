"""Starting the Slack bot: check the credentials (before a model is loaded), then Socket Mode or
an HTTP server.

HTTP mode serves Bolt through a threaded WSGI server; Bolt verifies every request's signature and
answers unsigned, wrongly signed and stale (replayed: older than five minutes) ones with 401.
"""

from __future__ import annotations

import logging
import socketserver
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from urllib.error import URLError
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from pydantic import BaseModel, ConfigDict
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from atomwork.adapters.slack.bot import SlackBot
from atomwork.adapters.slack.config import Mode, SlackSettings
from atomwork.adapters.slack.policy import DepartmentPolicy
from atomwork.errors import ConfigError
from atomwork.sdk import Atomwork

__all__ = ["SlackConnection", "build_bot", "connect", "http_server", "serve"]

log = logging.getLogger("atomwork.slack")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class SlackConnection(BaseModel):
    """A checked connection to the Web API: the client and who the bot is."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    client: WebClient
    bot_user_id: str


def _api_error(name: str, exc: SlackApiError) -> ConfigError:
    return ConfigError(f"Slack rejected {name}: {exc.response.get('error')}")


def connect(settings: SlackSettings) -> SlackConnection:
    """Check the bot token (``auth.test``) and, in Socket Mode, the app token
    (``apps.connections.open``); a rejected token or an unreachable Slack is one line."""
    client = WebClient(token=settings.bot_token, base_url=settings.api_url)
    try:
        reply = client.auth_test()
        if settings.app_token is not None:
            try:
                client.apps_connections_open(app_token=settings.app_token)
            except SlackApiError as exc:
                raise _api_error("SLACK_APP_TOKEN", exc) from None
    except SlackApiError as exc:
        raise _api_error("SLACK_BOT_TOKEN", exc) from None
    except (URLError, OSError) as exc:
        raise ConfigError(
            f"cannot reach Slack at {settings.api_url}: {getattr(exc, 'reason', exc)}"
        ) from None
    return SlackConnection(client=client, bot_user_id=str(reply.get("user_id") or ""))


def build_bot(
    settings: SlackSettings, session: Atomwork, connection: SlackConnection | None = None
) -> SlackBot:
    """The bot for ``settings`` on ``session``, its policy checked against the session's departments."""
    connection = connection or connect(settings)
    policy = DepartmentPolicy.load(settings.policy) if settings.policy is not None else DepartmentPolicy()
    policy.check_departments(session.registry)
    return SlackBot(
        session,
        connection.client,
        signing_secret=settings.signing_secret if settings.mode is Mode.HTTP else None,
        policy=policy,
        workers=settings.workers,
        update_every=settings.update_every,
        bot_user_id=connection.bot_user_id,
    )


def http_server(bot: SlackBot, host: str, port: int, path: str = "/slack/events") -> WSGIServer:
    """A threaded HTTP server for Slack's signed requests at ``path`` (``port`` 0: any free port)."""
    if not bot.verifies_requests:
        raise ConfigError(
            "HTTP mode needs SLACK_SIGNING_SECRET: without it anyone could send the bot requests"
        )
    try:
        return make_server(
            host,
            port,
            SlackRequestHandler(bot.app, path=path),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def serve(
    settings: SlackSettings,
    open_session: Callable[[], AbstractContextManager[Atomwork]],
    *,
    announce: Callable[[str], object] = log.info,
) -> None:
    """Run the bot until interrupted. The tokens are checked before ``open_session`` loads the
    model; ``announce`` gets one line once the bot is ready."""
    connection = connect(settings)
    if settings.policy is not None:
        DepartmentPolicy.load(settings.policy)  # a broken file fails now, not after the model loaded
    with open_session() as session:
        bot = build_bot(settings, session, connection)
        try:
            if settings.mode is Mode.SOCKET:
                handler = SocketModeHandler(bot.app, settings.app_token)
                handler.connect()
                announce("atomwork Slack bot connected in Socket Mode; Ctrl-C stops it")
                try:
                    threading.Event().wait()  # the socket client works in its own threads
                finally:
                    handler.close()
            else:
                server = http_server(bot, settings.host, settings.port, settings.path)
                announce(
                    f"atomwork Slack bot listening on http://{settings.host}:{settings.port}{settings.path}; "
                    "Ctrl-C stops it"
                )
                try:
                    server.serve_forever()
                finally:
                    server.server_close()
        finally:
            bot.close()
