"""Which departments a Slack request may use, by channel and by user, from a TOML file.

Results are posted where the request was asked, so the channel must allow a department (everyone in
it sees the answer) and so must the rule for the person asking. Shared departments (statistics,
the report writer) serve every department and are always allowed.

This decides where results may be posted. What a person may use and read (tools, tables, masked
columns) is the session's access policy (:mod:`atomwork.policy`), which the bot applies to the
Slack user who asked; both files share the rule syntax (``"*"`` or a list of names).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from atomwork.errors import ConfigError
from atomwork.policy import ALL, Rule, parse_rule
from atomwork.terms import relevance_terms
from atomwork.tools.registry import ToolRegistry

__all__ = ["ALL", "EXAMPLE", "Allowance", "DepartmentPolicy", "Refusal", "asked_departments"]

EXAMPLE = """\
# Which departments a request may use. A request gets the departments allowed both for the
# channel it is asked in and for the person asking; a channel or user without an entry gets
# `default`. "*" means every department. Shared departments are always allowed.
default = ["sales", "finance", "marketing", "support", "operations"]

[channels]
C0123HRPRIV = ["hr", "finance"]

[users]
U0456CFO = "*"
"""


def _rule(value: list[str] | str) -> Rule:
    return parse_rule(value, "department names")  # the same rules as the access policy's


class Allowance(BaseModel):
    """The departments one request may use, and the rules that decided it (for a refusal)."""

    model_config = ConfigDict(frozen=True)

    departments: tuple[str, ...]
    """In the registry's order, shared ones included."""
    because: str
    """Which rules applied, in words: "channel C1 allows sales; user U2 has the default (...)"."""


class Refusal(BaseModel):
    """Why a request may not run."""

    model_config = ConfigDict(frozen=True)

    reason: str


class DepartmentPolicy(BaseModel):
    """``default``, per-channel and per-user department rules (see :data:`EXAMPLE`).
    The default policy allows everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Rule = Field(default=frozenset({ALL}))
    channels: dict[str, Rule] = Field(default_factory=dict)
    users: dict[str, Rule] = Field(default_factory=dict)

    @field_validator("default", mode="before")
    @classmethod
    def _parse_default(cls, value: list[str] | str) -> Rule:
        return _rule(value)

    @field_validator("channels", "users", mode="before")
    @classmethod
    def _parse_rules(cls, value: dict[str, list[str] | str]) -> dict[str, Rule]:
        if not isinstance(value, dict):
            raise ValueError("expected a table of id = [departments]")
        return {key: _rule(item) for key, item in value.items()}

    @classmethod
    def load(cls, path: str | Path) -> DepartmentPolicy:
        """Read a policy file; a missing file or bad TOML is a one-line :class:`ConfigError`."""
        file = Path(path).expanduser()
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"Slack policy file {file} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Slack policy file {file} is not valid TOML: {exc}") from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"Slack policy file {file}: {where}: {err['msg']}") from None

    def check_departments(self, registry: ToolRegistry) -> None:
        """A one-line :class:`ConfigError` when a rule names a department ``registry`` lacks."""
        named = self.default.union(*self.channels.values(), *self.users.values()) - {ALL}
        unknown = sorted(named - set(registry.departments()))
        if unknown:
            raise ConfigError(
                f"the Slack policy names unknown department(s) {', '.join(unknown)}; "
                f"known: {', '.join(registry.departments())}"
            )

    def allowance(self, channel: str, user: str, registry: ToolRegistry) -> Allowance:
        """The departments a request by ``user`` in ``channel`` may use."""
        everything = registry.departments()

        def expand(rule: Rule) -> set[str]:
            return set(everything) if ALL in rule else set(rule)

        where = self.channels.get(channel)
        who = self.users.get(user)
        allowed = expand(self.default if where is None else where) & expand(
            self.default if who is None else who
        )
        data = [d for d in everything if not registry.department(d).shared]

        def said(rule: Rule | None, verb: str) -> str:
            if rule is None:
                return f"has the default ({_listed(expand(self.default), data)})"
            return f"{verb} {_listed(expand(rule), data)}"

        because = f"channel {channel} {said(where, 'allows')}; user {user} {said(who, 'may use')}"
        departments = tuple(d for d in everything if d in allowed or registry.department(d).shared)
        return Allowance(departments=departments, because=because)

    def check(self, goal: str, allowance: Allowance, registry: ToolRegistry) -> Refusal | None:
        """A refusal when the goal asks about a department the request may not use.

        The run is also restricted to ``allowance.departments`` (the planner never sees other
        tools), so this is the explanation the person gets, not the guard."""
        asked = asked_departments(goal, registry)
        forbidden = {d: word for d, word in asked.items() if d not in allowance.departments}
        if not forbidden:
            return None
        named = ", ".join(f"{d} (you asked about {word!r})" for d, word in forbidden.items())
        data = [d for d in allowance.departments if not registry.department(d).shared]
        return Refusal(
            reason=f"this request needs {named}, which may not be used here: {allowance.because}. "
            f"Allowed here: {', '.join(data) or 'no department data'}."
        )


def _listed(departments: set[str], order: list[str]) -> str:
    return ", ".join(d for d in order if d in departments) or "nothing"


def asked_departments(goal: str, registry: ToolRegistry) -> dict[str, str]:
    """Departments whose subject the goal names, each with the word that named it.

    A goal that names departments ("hr", "marketing") asks for those; otherwise a department is
    asked for by a concept of its tools' names that no other department's tools share (``revenue``
    is sales, ``attrition`` is hr). Shared departments are never "asked for"."""
    own = [d for d in registry.departments() if not registry.department(d).shared]
    words = re.findall(r"[A-Za-z][A-Za-z_-]*", goal)
    named = {w.lower(): w.lower() for w in words if w.lower() in own}
    if named:
        return named  # "marketing spend" is about marketing, though spend is a finance word
    owners: dict[str, set[str]] = {}
    for department in own:
        for tool in registry.for_department(department):
            for term in relevance_terms(tool.name) | relevance_terms(department):
                owners.setdefault(term, set()).add(department)
    asked: dict[str, str] = {}
    for word in words:
        for term in relevance_terms(word):
            departments = owners.get(term, set())
            if len(departments) == 1 and term.startswith("#"):  # a concept only one department owns
                asked.setdefault(next(iter(departments)), word.lower())
    return asked
