"""A session's governance: its access policy, what each department reads, and its audit log.

:meth:`Governance.access` resolves who may do what in one run: the policy's grants for the user,
bound by the departments the session (or the run) was restricted to, so ``departments=["sales"]``
also keeps SQL away from the tables only other departments read.
"""

from __future__ import annotations

import logging
from pathlib import Path

from atomwork.audit import AuditLog
from atomwork.errors import ConfigError
from atomwork.policy import Access, DepartmentScope, Policy
from atomwork.tools.registry import ToolRegistry

__all__ = ["Governance"]

log = logging.getLogger("atomwork.governance")


class Governance:
    """``policy`` (None: everyone may use every department of the session), the ``scopes`` of
    every department the session could use, and the ``audit`` log (None: calls are not logged)."""

    def __init__(self, policy: Policy | None, scopes: list[DepartmentScope], audit: AuditLog | None) -> None:
        self.policy = policy
        self.scopes = scopes
        self.audit = audit

    @classmethod
    def open(
        cls,
        *,
        policy: Policy | str | Path | None,
        audit: bool | str | Path,
        everything: ToolRegistry,
    ) -> Governance:
        """Load the policy (``None``: ``$ATOMWORK_POLICY``, if set) and check its names against
        ``everything`` (every department the session could use); open the audit log.

        A log that cannot be written is a :class:`ConfigError` under a policy (governed work is
        never done unaccounted for); without one, a warning, and the session runs unaudited."""
        if policy is not None and not isinstance(policy, Policy | str | Path):
            raise ConfigError(f"policy must be a Policy or a file path, got {type(policy).__name__}")
        if not isinstance(audit, bool | str | Path):
            raise ConfigError(f"audit must be True, False or a file path, got {type(audit).__name__}")
        loaded = Policy.from_env() if policy is None else policy if isinstance(policy, Policy) else None
        if isinstance(policy, str | Path):
            loaded = Policy.load(policy)
        scopes = everything.scopes()
        if loaded is not None:
            loaded.check_names(scopes, everything.names())
        log_: AuditLog | None = None
        if audit is not False:
            try:
                log_ = AuditLog.open(None if audit is True else audit)
            except ConfigError as exc:
                if loaded is not None:
                    raise
                log.warning("%s; tool calls are not audited", exc)
        return cls(loaded, scopes, log_)

    def access(self, user: str | None, registry: ToolRegistry) -> Access | None:
        """What ``user`` may use and read in a run over ``registry`` (None: no limit at all)."""
        narrowed = {s.name for s in self.scopes} - set(registry.departments())
        limit = Access.departments_only(registry.departments(), self.scopes) if narrowed else None
        if self.policy is None:
            return limit
        found = self.policy.access(user, self.scopes)
        return found.limited_to(limit) if limit is not None else found
