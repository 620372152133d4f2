"""Approval of tool calls that change things, as tool authors meet it: a tool marked
``requires_approval`` runs only once a person (or the run's ``approve`` policy) says yes.

The records themselves are core types (:mod:`atomwork.approval`), kept with the run."""

from __future__ import annotations

from atomwork.approval import Approval, ApprovalDecision, ApprovalRequest, Approver

__all__ = ["Approval", "ApprovalDecision", "ApprovalRequest", "Approver"]
