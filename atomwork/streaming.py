"""One run seen from asyncio: its typed events as they happen, then its result, with cancellation.

The engine is synchronous (tools and models block), so a :class:`RunStream` runs it in a worker
thread and hands each event to the event loop. Cancelling (``stream.cancel()``, cancelling the task
awaiting :meth:`RunStream.result`, or dropping the stream mid-iteration) stops the run from
starting new tasks; the tasks already running finish and the result keeps them.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import TracebackType

from atomwork.events import Event, EventHandler
from atomwork.result import RunResult

__all__ = ["RunFunction", "RunStream"]

RunFunction = Callable[[EventHandler, threading.Event], RunResult]
"""Runs a goal to its result, reporting events to the handler and stopping once the event is set."""


class _End:
    """Put on the queue after the run's last event."""


class RunStream:
    """``async for event in stream`` yields the run's events; ``await stream.result()`` is its
    :class:`RunResult`. The run starts on first use; a stream is used once.

    >>> async for event in aw.stream("revenue by region for 1997"):
    ...     print(event)
    """

    def __init__(self, run: RunFunction) -> None:
        self._run = run
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._queue: asyncio.Queue[Event | _End] | None = None
        self._future: asyncio.Future[RunResult] | None = None
        self._ended = False

    # -- control -----------------------------------------------------------------------------
    def cancel(self) -> None:
        """Start no new task; the run ends ``cancelled`` with the tasks that finished."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def _start(self) -> tuple[asyncio.Queue[Event | _End], asyncio.Future[RunResult]]:
        if self._queue is not None and self._future is not None:
            return self._queue, self._future
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event | _End] = asyncio.Queue()
        future: asyncio.Future[RunResult] = loop.create_future()

        # The worker holds only these, never the stream: breaking out of ``async for`` must drop
        # the last reference at once, so that ``__del__`` stops the run before it starts more.
        run, cancel, done = self._run, self._cancel, self._done

        def deliver(callback: Callable[[], None]) -> None:
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop closed while the run went on: nobody is listening
                cancel.set()

        def settle(result: RunResult | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def work() -> None:
            result: RunResult | None = None
            error: BaseException | None = None
            try:
                result = run(lambda event: deliver(lambda: queue.put_nowait(event)), cancel)
            except BaseException as exc:  # handed to the awaiting side, raised there
                error = exc
            finally:
                done.set()
                deliver(lambda: settle(result, error))
                deliver(lambda: queue.put_nowait(_End()))

        threading.Thread(target=work, name="atomwork-run", daemon=True).start()
        self._queue, self._future = queue, future
        # A run that failed with nobody awaiting its result must not log "exception never retrieved".
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        return queue, future

    # -- events ------------------------------------------------------------------------------
    def __aiter__(self) -> RunStream:
        return self

    async def __anext__(self) -> Event:
        if self._ended:
            raise StopAsyncIteration
        queue, future = self._start()
        item = await queue.get()
        if isinstance(item, _End):
            self._ended = True
            error = future.exception()
            if error is not None:
                raise error  # the run failed: say why at the end of the events
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Stop the run (if it is still going) and wait for its running tasks to finish."""
        if self._future is not None and not self._done.is_set():
            self.cancel()
            await asyncio.wait([self._future])

    async def __aenter__(self) -> RunStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        # Breaking out of ``async for`` drops the stream: the run must not go on unobserved.
        if not self._done.is_set():
            self._cancel.set()

    # -- the result --------------------------------------------------------------------------
    async def result(self) -> RunResult:
        """The run's result. If the awaiting task is cancelled, the run is told to stop and this
        returns what finished (``stop_reason == "cancelled"``); a second cancellation while
        waiting for the running tasks gives up waiting."""
        _, future = self._start()
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if future.done() and future.cancelled():
                raise
            self.cancel()
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # the cancellation is answered by stopping the run, not by raising
            return await asyncio.shield(future)
