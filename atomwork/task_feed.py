"""Tasks handed to the executor while their plan is still being written (the streaming planner).

The planner :meth:`~TaskFeed.add`-s each task once its JSON object is complete and checked, and
:meth:`~TaskFeed.close`-s the feed when the plan is done; the executor starts each task as soon as
its dependencies passed, and waits on :meth:`~TaskFeed.changed` for more.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from atomwork.plan import AtomicTask

__all__ = ["TaskFeed"]


class TaskFeed:
    """A growing, thread-safe list of tasks that ends with :meth:`close`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: list[AtomicTask] = []
        self._closed = False
        self._next: Future[None] = Future()

    def add(self, task: AtomicTask) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError(f"task {task.id} added to a closed task feed")
            if any(t.id == task.id for t in self._tasks):
                raise ValueError(f"task {task.id} is already in the feed")
            self._tasks.append(task)
            self._wake()

    def close(self) -> None:
        """No task will be added any more. Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._wake()

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed

    def tasks(self) -> list[AtomicTask]:
        """The tasks added so far, in order."""
        with self._lock:
            return list(self._tasks)

    def changed(self) -> Future[None]:
        """A future done at the next :meth:`add` or :meth:`close`. Take it *before* reading
        :meth:`tasks`, so that a task added in between is not missed."""
        with self._lock:
            return self._next

    def _wake(self) -> None:
        done, self._next = self._next, Future()
        done.set_result(None)
