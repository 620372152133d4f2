"""What a run has spent, across resumes, and whether its budget (``RunSettings.budget``) is used up.

Spending is counted from the model's call log by run id (calls are attributed with
:mod:`atomwork.models.attribution`), so runs sharing one model are counted apart; what earlier
invocations of a resumed run spent comes from its run record.
"""

from __future__ import annotations

import threading
import time

from atomwork.models.base import ChatModel, Usage
from atomwork.settings import RunBudget

__all__ = ["RunMeter"]


class RunMeter:
    """The spending of one run from now on, plus ``earlier`` usage and ``earlier_seconds`` of work."""

    def __init__(
        self,
        model: ChatModel,
        run_id: str,
        budget: RunBudget,
        *,
        earlier: Usage | None = None,
        earlier_seconds: float = 0.0,
    ) -> None:
        self.model = model
        self.run_id = run_id
        self.budget = budget
        self.earlier = earlier or Usage()
        self.earlier_seconds = earlier_seconds
        self._mark = model.mark()
        self._started = time.perf_counter()
        self._exhausted: str | None = None
        self._lock = threading.Lock()

    def usage(self) -> Usage:
        """The run's model calls and tokens so far, in total and per purpose."""
        return self.earlier.plus(self.model.usage_for(self.run_id, since=self._mark))

    def task_usage(self, task_id: str) -> Usage:
        """What one task's model calls spent in this invocation (a task runs in one invocation)."""
        return self.model.usage_for(self.run_id, task_id=task_id, since=self._mark)

    def work_seconds(self) -> float:
        return self.earlier_seconds + (time.perf_counter() - self._started)

    @property
    def limited(self) -> bool:
        return any(v is not None for v in (self.budget.tokens, self.budget.model_calls, self.budget.seconds))

    def exhausted(self) -> str | None:
        """Which limit was reached, in words, once one was (it stays reached); None before."""
        if self._exhausted is not None or not self.limited:
            return self._exhausted
        usage = self.usage()
        reason = self.budget.exceeded(usage.total_tokens, usage.calls, self.work_seconds())
        with self._lock:
            if self._exhausted is None:
                self._exhausted = reason
            return self._exhausted
