"""The engine's approval desk: each request for a tool call that needs approval is kept in the run
database with its decision, so a decision given in another process, or after a restart, is found.

An approval holds for the arguments it was given for: a call whose arguments changed is asked about
again. The run's ``approve`` policy, when there is one, may decide a new request at once.
"""

from __future__ import annotations

from atomwork.approval import Approval, ApprovalDecision, ApprovalRequest, Approver
from atomwork.run_store import RunStore

__all__ = ["POLICY", "DurableDesk"]

POLICY = "approve policy"
"""Who a decision of the run's ``approve`` callback is recorded as."""


class DurableDesk:
    """Answers a specialist's :class:`ApprovalRequest` from ``runs`` (see :class:`ApprovalDesk`)."""

    def __init__(self, runs: RunStore, run_id: str, approver: Approver | None = None) -> None:
        self.runs = runs
        self.run_id = run_id
        self.approver = approver

    def decide(self, request: ApprovalRequest) -> Approval:
        request = request.model_copy(update={"run_id": self.run_id})
        known = self.runs.approval(self.run_id, request.task_id)
        if known is not None and _same_call(known.request, request):
            return known
        approval = Approval(request=request)
        verdict = self.approver(request) if self.approver is not None else None
        if verdict is not None:
            approval = approval.model_copy(
                update={"decision": ApprovalDecision(approved=bool(verdict), by=POLICY)}
            )
        self.runs.save_approval(self.run_id, approval)
        return approval


def _same_call(a: ApprovalRequest, b: ApprovalRequest) -> bool:
    # Compared as stored (JSON): what was approved is exactly what would run.
    keep = {"tool", "department", "args"}
    return a.model_dump(mode="json", include=keep) == b.model_dump(mode="json", include=keep)
