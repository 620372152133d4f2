"""The Slack bot adapter (slack-bolt): ``atomwork slack`` answers @mentions, DMs and ``/atomwork``
in threads, with a live plan, Block Kit results and follow-ups in the thread."""

from atomwork.adapters.slack.bot import SlackBot, SlackRequest, ThreadKey
from atomwork.adapters.slack.config import Mode, SlackSettings
from atomwork.adapters.slack.policy import Allowance, DepartmentPolicy, Refusal
from atomwork.adapters.slack.server import SlackConnection, build_bot, connect, http_server, serve

__all__ = [
    "Allowance",
    "DepartmentPolicy",
    "Mode",
    "Refusal",
    "SlackBot",
    "SlackConnection",
    "SlackRequest",
    "SlackSettings",
    "ThreadKey",
    "build_bot",
    "connect",
    "http_server",
    "serve",
]
