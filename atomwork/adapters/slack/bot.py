"""The Slack bot: a Bolt app that turns @mentions, DMs and ``/atomwork`` into conversation turns.

Every request is answered in a thread: the plan is posted at once and edited in place as tasks
start, finish and are scored; the result follows as Block Kit, with large tables and the report as
files. A reply in the thread is a follow-up in the same :class:`~atomwork.conversation.Conversation`.
A step that needs approval is posted with Approve and Reject buttons; a click decides it (as the
clicking user, kept with the run), edits the message to say who decided, and continues the run.
Slack gets its acknowledgement at once; goals run on a pool of workers, so several users are
served together and a slow goal holds up no one else.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from atomwork.adapters.slack.messages import (
    APPROVE_ACTION,
    REJECT_ACTION,
    ApprovalAction,
    SlackMessage,
    approval_message,
    decision_message,
    error_message,
    notice_message,
    plan_message,
    result_message,
)
from atomwork.adapters.slack.policy import DepartmentPolicy
from atomwork.conversation import Conversation
from atomwork.errors import AtomworkError
from atomwork.events import Event
from atomwork.progress import RunProgress
from atomwork.result import RunResult
from atomwork.sdk import Atomwork

__all__ = ["HELP", "SlackBot", "SlackDecision", "SlackRequest", "ThreadKey"]

log = logging.getLogger("atomwork.slack")

HELP = (
    "Ask me a business question or goal, e.g. `@atomwork revenue by region for 1997, flag unusual "
    "regions and draft a note for the CFO`. I plan it, run the tasks and answer in a thread; reply in "
    'the thread to follow up ("now only for ASIA", "draft that as a report").'
)
MAX_THREADS = 500
"""Conversations kept in memory; the oldest thread is forgotten first."""

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


class ThreadKey(BaseModel):
    """A Slack thread: the conversation a request belongs to."""

    model_config = ConfigDict(frozen=True)

    channel: str
    thread_ts: str


class SlackRequest(BaseModel):
    """A goal someone asked, wherever it came from."""

    model_config = ConfigDict(frozen=True)

    source: Literal["mention", "dm", "command", "thread_reply"]
    channel: str
    user: str
    thread: ThreadKey
    goal: str
    message_ts: str
    """The message that asked (a slash command has none of its own: the bot's thread parent)."""


class SlackDecision(BaseModel):
    """A click on an Approve or Reject button."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    target: ApprovalAction
    channel: str
    user: str
    thread: ThreadKey
    message_ts: str
    """The approval message, edited to show the decision."""


class _PlanUpdater:
    """Edits the plan message as events arrive, at most once per ``interval`` seconds (Slack
    rate-limits ``chat.update``); one thread sends, so edits never overtake each other."""

    def __init__(self, progress: RunProgress, send: Callable[[SlackMessage], None], interval: float) -> None:
        self.progress = progress
        self._send = send
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._shown = -1
        self._thread = threading.Thread(target=self._loop, name="atomwork-slack-plan", daemon=True)
        self._thread.start()

    def on_event(self, event: Event) -> None:
        self.progress.on_event(event)
        self._wake.set()

    def _flush(self) -> None:
        snapshot = self.progress.snapshot()
        if snapshot.version != self._shown:
            self._shown = snapshot.version
            self._send(plan_message(snapshot))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                break
            self._flush()
            self._stop.wait(self._interval)

    def finish(self) -> None:
        """Stop editing, after one last edit showing the final state."""
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._flush()


class SlackBot:
    """The Bolt ``app`` and the goals it runs, one :class:`Conversation` per Slack thread.

    ``client`` is the Web API client (its ``base_url`` can point at a test server); requests are
    verified with ``signing_secret`` in HTTP mode. ``policy`` decides the departments per channel
    and user; ``workers`` goals run at once."""

    def __init__(
        self,
        session: Atomwork,
        client: WebClient,
        *,
        signing_secret: str | None = None,
        policy: DepartmentPolicy | None = None,
        workers: int = 4,
        update_every: float = 1.0,
        bot_user_id: str | None = None,
    ) -> None:
        self.session = session
        self.policy = policy or DepartmentPolicy()
        self.update_every = update_every
        if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
            client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
        self.client = client
        self.bot_user_id = bot_user_id
        self.verifies_requests = signing_secret is not None
        self.app = App(
            client=client,
            signing_secret=signing_secret or "",
            request_verification_enabled=signing_secret is not None,
            token_verification_enabled=False,  # the token was checked with auth.test before (see server)
            name="atomwork",
            logger=log,
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="atomwork-slack-goal")
        self._threads: OrderedDict[ThreadKey, Conversation] = OrderedDict()
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()
        self._cancels: set[threading.Event] = set()
        self._register()

    # -- Slack listeners -----------------------------------------------------------------------
    def _register(self) -> None:
        self.app.event("app_mention")(self._on_mention)
        self.app.event("message")(self._on_message)
        self.app.command("/atomwork")(self._on_command)
        self.app.action(APPROVE_ACTION)(self._on_decision)
        self.app.action(REJECT_ACTION)(self._on_decision)

    def _on_mention(self, event: dict[str, Any]) -> None:
        ts = str(event["ts"])
        thread = ThreadKey(channel=event["channel"], thread_ts=str(event.get("thread_ts") or ts))
        self.accept(
            SlackRequest(
                source="mention",
                channel=event["channel"],
                user=event.get("user", ""),
                thread=thread,
                goal=_MENTION.sub("", event.get("text", "")).strip(),
                message_ts=ts,
            )
        )

    def _on_message(self, event: dict[str, Any]) -> None:
        if event.get("subtype") or event.get("bot_id") or not event.get("user"):
            return  # edits, joins, bots (this one included): not goals
        text = event.get("text", "")
        ts = str(event["ts"])
        thread_ts = event.get("thread_ts")
        if event.get("channel_type") == "im":
            thread = ThreadKey(channel=event["channel"], thread_ts=str(thread_ts or ts))
            source: Literal["dm", "thread_reply"] = "thread_reply" if thread_ts else "dm"
        else:
            if not thread_ts or (self.bot_user_id and f"<@{self.bot_user_id}" in text):
                return  # not in a thread, or a mention (answered through app_mention)
            thread = ThreadKey(channel=event["channel"], thread_ts=str(thread_ts))
            with self._lock:
                if thread not in self._threads:
                    return  # a thread the bot is not part of
            source = "thread_reply"
        self.accept(
            SlackRequest(
                source=source,
                channel=event["channel"],
                user=event["user"],
                thread=thread,
                goal=_MENTION.sub("", text).strip(),
                message_ts=ts,
            )
        )

    def _on_command(self, ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        goal = (command.get("text") or "").strip()
        if not goal or goal.lower() == "help":
            ack(text=HELP)
            return
        ack()  # Slack needs this within 3 seconds; everything else happens after it
        channel, user = command["channel_id"], command["user_id"]
        try:
            parent = self.client.chat_postMessage(channel=channel, text=f"<@{user}> asked: {goal}")
        except SlackApiError as exc:
            respond(
                text=f"I cannot post in this channel ({exc.response.get('error')}): invite me with "
                "`/invite @atomwork`, or message me directly.",
                response_type="ephemeral",
            )
            return
        ts = str(parent["ts"])
        thread = ThreadKey(channel=channel, thread_ts=ts)
        self.accept(
            SlackRequest(
                source="command", channel=channel, user=user, thread=thread, goal=goal, message_ts=ts
            )
        )

    def _on_decision(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()  # within 3 seconds; the run goes on on a worker
        try:
            target = ApprovalAction.model_validate_json(action.get("value") or "")
        except ValidationError:
            log.warning("ignored a button with an unreadable value: %r", action.get("value"))
            return
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or container.get("channel_id") or "")
        ts = str(message.get("ts") or container.get("message_ts") or "")
        decision = SlackDecision(
            approved=action.get("action_id") == APPROVE_ACTION,
            target=target,
            channel=channel,
            user=str((body.get("user") or {}).get("id") or ""),
            thread=ThreadKey(channel=channel, thread_ts=str(message.get("thread_ts") or ts)),
            message_ts=ts,
        )
        self._pool.submit(self.decide, decision)

    def decide(self, decision: SlackDecision) -> None:
        """Record a button's decision (if the user may decide that call), show it in place of the
        buttons, and continue the run in its thread."""
        target, thread = decision.target, decision.thread
        try:
            waiting = self.session.runs_store.approval(target.run_id, target.task_id)
            if waiting is None:
                self._post(thread, notice_message(f"I know of no step {target.task_id} waiting here"))
                return
            allowance = self.policy.allowance(decision.channel, decision.user, self.session.registry)
            if waiting.request.department not in allowance.departments:
                self._post(
                    thread,
                    notice_message(
                        f"<@{decision.user}> may not decide {waiting.request.tool} "
                        f"({waiting.request.department}) here",
                        icon=":no_entry:",
                    ),
                )
                return
            result = self._continue(decision)
            decided = self.session.runs_store.approval(target.run_id, target.task_id)
            if decided is not None and decided.decision is not None:
                self._update(thread, decision.message_ts, decision_message(decided, f"<@{decision.user}>"))
            self._deliver_result(thread, result)
        except AtomworkError as exc:
            self._post(thread, notice_message(str(exc), icon=":warning:"))
        except Exception as exc:  # a bug must reach the user as one line, and the log in full
            log.exception("deciding %s of run %s failed", target.task_id, target.run_id)
            problem = f"something went wrong on my side ({type(exc).__name__}: {exc})"
            self._post(thread, notice_message(problem))

    def _continue(self, decision: SlackDecision) -> RunResult:
        """Decide through the thread's conversation when it holds the run (its turn gets the new
        result), else on the session (a run from before a restart)."""
        target = decision.target
        with self._lock:
            conversation = self._threads.get(decision.thread)
        holds = conversation is not None and any(
            p.task_id == target.task_id and p.request.run_id == target.run_id for p in conversation.pending
        )
        if conversation is not None and holds:
            decide = conversation.approve if decision.approved else conversation.reject
            return decide(target.task_id, by=decision.user)
        on_session = self.session.approve if decision.approved else self.session.reject
        return on_session(target.run_id, target.task_id, by=decision.user)

    # -- running goals -------------------------------------------------------------------------
    def accept(self, request: SlackRequest) -> None:
        """Take a request: drop a repeat (Slack retries), post the plan placeholder at once and run
        the goal on a worker."""
        key = (request.channel, request.message_ts)
        with self._lock:
            if key in self._seen:
                return
            self._seen[key] = None
            if len(self._seen) > 5 * MAX_THREADS:
                self._seen.popitem(last=False)
        if not request.goal:
            self._post(request.thread, notice_message(HELP))
            return
        try:
            placeholder = self._post(request.thread, plan_message(RunProgress(request.goal).snapshot()))
        except SlackApiError:
            log.exception("cannot post in %s", request.channel)
            return
        self._pool.submit(self._run, request, placeholder)

    def conversation(self, thread: ThreadKey) -> Conversation:
        """The thread's conversation (a new one for a new thread)."""
        with self._lock:
            found = self._threads.get(thread)
            if found is None:
                found = self._threads[thread] = self.session.chat()
                if len(self._threads) > MAX_THREADS:
                    self._threads.popitem(last=False)
            self._threads.move_to_end(thread)
            return found

    def _run(self, request: SlackRequest, plan_ts: str) -> None:
        conversation: Conversation | None = None
        try:
            allowance = self.policy.allowance(request.channel, request.user, self.session.registry)
            refusal = self.policy.check(request.goal, allowance, self.session.registry)
            if refusal is not None:
                self._update(
                    request.thread,
                    plan_ts,
                    notice_message(f"I can't run this here: {refusal.reason}", icon=":no_entry:"),
                )
                return
            conversation = self.conversation(request.thread)
            progress = RunProgress(request.goal)
            updater = _PlanUpdater(
                progress, lambda m: self._update(request.thread, plan_ts, m), self.update_every
            )
            cancel = threading.Event()
            with self._lock:
                self._cancels.add(cancel)
            try:
                # The session's access policy (if any) applies to the Slack user who asked.
                result = conversation.ask(
                    request.goal,
                    on_event=updater.on_event,
                    cancel=cancel,
                    departments=allowance.departments,
                    user=request.user or None,
                )
            finally:
                with self._lock:
                    self._cancels.discard(cancel)
                updater.finish()
            self._deliver_result(request.thread, result)
        except AtomworkError as exc:
            self._fail(request, str(exc), conversation)
        except Exception as exc:  # a bug must reach the user as one line, and the log in full
            log.exception("goal %r in %s failed", request.goal, request.channel)
            self._fail(
                request, f"something went wrong on my side ({type(exc).__name__}: {exc})", conversation
            )

    def _deliver_result(self, thread: ThreadKey, result: RunResult) -> None:
        """The result in the thread, then one message with buttons per call waiting for approval."""
        registry = self.session.registry
        reports = {
            tid
            for tid, o in result.outcomes.items()
            if o.task.tool in registry and registry.writes_report(o.task.tool)
        }
        self._deliver(thread, result_message(result, reused=set(result.reused), reports=reports))
        for approval in result.pending:
            self._post(thread, approval_message(approval))

    def _fail(self, request: SlackRequest, problem: str, conversation: Conversation | None) -> None:
        kept = conversation.turns[-1].outcomes if conversation is not None and conversation.turns else {}
        try:
            self._deliver(request.thread, error_message(problem, kept))
        except SlackApiError:
            log.exception("cannot report an error in %s", request.channel)

    # -- Slack calls ---------------------------------------------------------------------------
    def _post(self, thread: ThreadKey, message: SlackMessage) -> str:
        reply = self.client.chat_postMessage(
            channel=thread.channel,
            thread_ts=thread.thread_ts,
            text=message.text,
            blocks=message.block_dicts(),
        )
        return str(reply["ts"])

    def _update(self, thread: ThreadKey, ts: str, message: SlackMessage) -> None:
        try:
            self.client.chat_update(
                channel=thread.channel, ts=ts, text=message.text, blocks=message.block_dicts()
            )
        except SlackApiError as exc:  # a missed edit is shown by the next one
            log.warning("chat.update failed in %s: %s", thread.channel, exc.response.get("error"))

    def _deliver(self, thread: ThreadKey, message: SlackMessage) -> None:
        """Post ``message`` in the thread, then its files."""
        self._post(thread, message)
        for file in message.files:
            self.client.files_upload_v2(
                channel=thread.channel,
                thread_ts=thread.thread_ts,
                filename=file.filename,
                title=file.title,
                content=file.content,
            )

    def close(self) -> None:
        """Stop the goals that are running (their finished tasks are reported) and the workers."""
        with self._lock:
            for cancel in self._cancels:
                cancel.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
