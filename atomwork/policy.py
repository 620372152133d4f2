"""Who may use what: a policy file maps users to roles, and roles to departments, tools, warehouse
tables and masked columns. :meth:`Policy.access` resolves one user's :class:`Access`.

The policy is enforced in code, twice: plan validation refuses a task whose tool the user may not
use, and the specialist refuses it again where the tool runs; a query's tables and columns are
checked where the warehouse runs user SQL (:mod:`atomwork.tools.warehouse.sql_access`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from atomwork.errors import ConfigError
from atomwork.table import Table

__all__ = [
    "ALL",
    "ENV_POLICY",
    "EXAMPLE",
    "Access",
    "DepartmentScope",
    "Grant",
    "Policy",
    "Role",
    "Rule",
    "parse_rule",
    "table_key",
]

_QUOTE = '"'
ALL = "*"
"""In a policy file: every department, tool or table."""

ENV_POLICY = "ATOMWORK_POLICY"
"""The environment variable naming the policy file a session uses when it is given none."""

EXAMPLE = """\
# Roles grant departments, tools and tables; a user gets the union of their roles' grants.
# Shared departments (analysis, reporting) come with any role. `tables` defaults to the tables
# the role's departments' tools read, plus tables no department's tools read.
default = ["analyst"]            # the roles of a user the file does not name

[roles.analyst]
departments = ["sales", "finance", "marketing", "support", "operations"]
masked_columns = ["employees.name", "employees.salary"]

[roles.hr]
departments = "*"

[users]
alice = ["hr"]
"""

Rule = frozenset[str]
"""Names (lowercased), or ``{"*"}`` for all of them."""


def parse_rule(value: Any, what: str = "names") -> Rule:
    """``"*"`` or a list of names as a :data:`Rule`; anything else is a ValueError naming ``what``."""
    if value == ALL:
        return frozenset({ALL})
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError(f'expected a list of {what} or "*", got {value!r}')
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f'expected a list of {what} or "*", got {value!r}')
    return frozenset(v.strip().lower() for v in value)


def table_key(name: str) -> str:
    """A table name as the policy compares it: lowercase, without quotes or the ``main`` schema."""
    parts = [p.strip().strip('"').lower() for p in name.split(".")]
    if len(parts) > 1 and parts[-2] == "main":
        parts = parts[-1:]
    return ".".join(parts[-2:])


def _column_key(entry: str) -> str:
    table, dot, column = entry.strip().rpartition(".")
    if not dot or not table or not column:
        raise ValueError(f"a masked column is written table.column, got {entry!r}")
    return f"{table_key(table)}.{column.strip().strip(_QUOTE).lower()}"


class Role(BaseModel):
    """What one role grants."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    departments: Rule = Field(default=frozenset({ALL}))
    """Departments whose tools the role may use (shared departments are always included)."""
    tools: Rule = Field(default=frozenset({ALL}))
    """Tools the role may use, within those departments."""
    tables: Rule | None = None
    """Warehouse tables its SQL may read; None: those its departments' tools read, plus the tables
    no department claims."""
    masked_columns: frozenset[str] = frozenset()
    """``table.column`` entries whose values the role never sees (replaced by NULL)."""

    @field_validator("departments", "tools", mode="before")
    @classmethod
    def _rule(cls, value: Any) -> Rule:
        return parse_rule(value)

    @field_validator("tables", mode="before")
    @classmethod
    def _tables(cls, value: Any) -> Rule | None:
        if value is None:
            return None
        rule = parse_rule(value, "tables")
        return rule if ALL in rule else frozenset(table_key(t) for t in rule)

    @field_validator("masked_columns", mode="before")
    @classmethod
    def _masked(cls, value: Any) -> frozenset[str]:
        if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
            raise ValueError(f"expected a list of table.column names, got {value!r}")
        return frozenset(_column_key(str(v)) for v in value)


class DepartmentScope(BaseModel):
    """What the policy needs to know of one department: whether it is shared, and which tables
    its tools read (see :meth:`atomwork.tools.registry.ToolRegistry.scopes`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    shared: bool = False
    tables: frozenset[str] = frozenset()


class Grant(BaseModel):
    """One role resolved against the session's departments. ``None`` means "all"."""

    model_config = ConfigDict(frozen=True)

    role: str
    departments: frozenset[str] | None
    """Shared departments included."""
    tools: frozenset[str] | None
    tables: frozenset[str] | None
    denied_tables: frozenset[str] = frozenset()
    """Tables read only by departments this grant does not include (when ``tables`` is derived)."""
    masked: frozenset[str] = frozenset()

    @classmethod
    def resolve(cls, name: str, role: Role, scopes: Sequence[DepartmentScope]) -> Grant:
        shared = {s.name.lower() for s in scopes if s.shared}
        departments = None if ALL in role.departments else role.departments | shared
        allowed = [s for s in scopes if departments is None or s.name.lower() in departments]
        denied: frozenset[str] = frozenset()
        tables = None if role.tables is None or ALL in role.tables else role.tables
        if role.tables is None:
            # Shared departments (statistics, comparisons) read every department's tables: they claim none.
            own = set().union(*(s.tables for s in allowed if not s.shared))
            others = set().union(*(s.tables for s in scopes if s not in allowed and not s.shared))
            denied = frozenset(others - own)
        return cls(
            role=name,
            departments=departments,
            tools=None if ALL in role.tools else role.tools,
            tables=tables,
            denied_tables=denied,
            masked=role.masked_columns,
        )

    def allows_department(self, department: str) -> bool:
        return self.departments is None or department.lower() in self.departments

    def allows_tool(self, tool: str, department: str) -> bool:
        return self.allows_department(department) and (self.tools is None or tool.lower() in self.tools)

    def allows_table(self, table: str) -> bool:
        key = table_key(table)
        return (self.tables is None or key in self.tables) and key not in self.denied_tables


class Access(BaseModel):
    """What one user may do in one session: the union of their roles' grants, within the
    session's own limit (the departments it was restricted to)."""

    model_config = ConfigDict(frozen=True)

    user: str | None = None
    grants: tuple[Grant, ...]
    within: Grant | None = None
    """A limit every permission must also pass (a session restricted to some departments)."""
    source: str = "the policy"
    """Where the grants come from, for refusals ("policy file p.toml", "this session")."""

    @classmethod
    def departments_only(cls, departments: Iterable[str], scopes: Sequence[DepartmentScope]) -> Access:
        """A session restricted to ``departments``: their tools, and the tables their tools read
        plus the tables no other department claims (no policy file involved)."""
        limit = Grant.resolve("session", Role(departments=frozenset(departments)), scopes)
        everything = Grant(role="session", departments=None, tools=None, tables=None)
        return cls(grants=(everything,), within=limit, source="this session's departments")

    def limited_to(self, limit: Access) -> Access:
        """This access, also bound by ``limit``'s session limit (see :meth:`departments_only`)."""
        return self.model_copy(update={"within": limit.within})

    def _who(self) -> str:
        roles = ", ".join(g.role for g in self.grants) or "none"
        who = f"user {self.user!r}" if self.user else "this user"
        return f"{who} (roles: {roles}; {self.source})"

    def tool_refusal(self, tool: str, department: str) -> str | None:
        """Why ``tool`` of ``department`` may not be used, or None when it may."""
        if self.within is not None and not self.within.allows_tool(tool, department):
            return f"tool {tool!r} of department {department!r} is outside this session's departments"
        if any(g.allows_tool(tool, department) for g in self.grants):
            return None
        if any(g.allows_department(department) for g in self.grants):
            return f"{self._who()} may not use tool {tool!r}"
        return f"{self._who()} may not use department {department!r} (tool {tool!r})"

    def table_refusal(self, table: str) -> str | None:
        """Why ``table`` may not be read, or None when it may."""
        if self.within is not None and not self.within.allows_table(table):
            return f"table {table_key(table)!r} is outside this session's departments"
        if any(g.allows_table(table) for g in self.grants):
            return None
        return f"{self._who()} may not read table {table_key(table)!r}"

    def masked_columns(self, table: str) -> frozenset[str]:
        """Lowercased names of ``table``'s columns this user sees as NULL: masked by every grant
        that lets them read the table."""
        key = table_key(table)
        readers = [g for g in self.grants if g.allows_table(table)]
        if not readers:
            return frozenset()
        masked = set.intersection(
            *({c.rpartition(".")[2] for c in g.masked if c.rpartition(".")[0] == key} for g in readers)
        )
        return frozenset(masked)

    def mask_table(self, table: Table, read: Iterable[str]) -> tuple[Table, tuple[str, ...]]:
        """A tool's result table with every column named like a masked column of the tables it
        ``read`` emptied (None), and the ``table.column`` names that were masked."""
        hidden = {column: t for t in read for column in self.masked_columns(t)}
        indexes = [i for i, c in enumerate(table.columns) if c.lower() in hidden]
        if not indexes:
            return table, ()
        rows = [[None if i in indexes else v for i, v in enumerate(row)] for row in table.rows]
        masked = tuple(f"{table_key(hidden[table.columns[i].lower()])}.{table.columns[i]}" for i in indexes)
        return table.model_copy(update={"rows": rows}), masked


class Policy(BaseModel):
    """Roles, the roles of each user, and the roles of everyone else (see :data:`EXAMPLE`).

    Load one with :meth:`load` (TOML, or YAML for ``.yaml``/``.yml``); a bad file is one
    :class:`ConfigError` line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    roles: dict[str, Role] = Field(default_factory=dict)
    users: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    default: tuple[str, ...] = ()
    """Roles of a user the file does not name (and of runs that name no user)."""
    path: Path | None = Field(default=None, exclude=True)

    @field_validator("users", mode="before")
    @classmethod
    def _users(cls, value: Any) -> dict[str, tuple[str, ...]]:
        if not isinstance(value, dict):
            raise ValueError("expected a table of user = [roles]")
        return {str(user): _roles(roles) for user, roles in value.items()}

    @field_validator("default", mode="before")
    @classmethod
    def _default(cls, value: Any) -> tuple[str, ...]:
        return _roles(value)

    @model_validator(mode="after")
    def _known_roles(self) -> Policy:
        named = {r for roles in self.users.values() for r in roles} | set(self.default)
        unknown = sorted(named - set(self.roles))
        if unknown:
            raise ValueError(
                f"unknown role(s) {', '.join(unknown)}; roles: {', '.join(self.roles) or 'none'}"
            )
        return self

    @classmethod
    def load(cls, path: str | Path) -> Policy:
        """Read a policy file; a missing file, bad syntax or a bad entry is one ConfigError line."""
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"policy file {file} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read policy file {file}: {exc}") from None
        try:
            if file.suffix.lower() in (".yaml", ".yml"):
                data = yaml.safe_load(text) or {}
            else:
                data = tomllib.loads(text)
        except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
            kind = "YAML" if file.suffix.lower() in (".yaml", ".yml") else "TOML"
            raise ConfigError(f"policy file {file} is not valid {kind}: {_one_line(exc)}") from None
        return cls.parse(data, source=str(file)).model_copy(update={"path": file})

    @classmethod
    def parse(cls, data: Any, *, source: str = "policy") -> Policy:
        """A policy from already-read data (a dict); errors are one ConfigError line."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a table of roles and users, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            raise ConfigError(f"{source}: {where + ': ' if where else ''}{message}") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Policy | None:
        """The policy named by ``$ATOMWORK_POLICY``, or None when it is unset."""
        value = (env if env is not None else os.environ).get(ENV_POLICY, "").strip()
        return cls.load(value) if value else None

    def roles_of(self, user: str | None) -> tuple[str, ...]:
        if user is not None and user in self.users:
            return self.users[user]
        return self.default

    def access(self, user: str | None, scopes: Sequence[DepartmentScope]) -> Access:
        """``user``'s access to the departments in ``scopes`` (a user with no role gets nothing)."""
        grants = tuple(Grant.resolve(name, self.roles[name], scopes) for name in self.roles_of(user))
        source = f"policy file {self.path}" if self.path is not None else "the policy"
        return Access(user=user, grants=grants, source=source)

    def check_names(self, scopes: Sequence[DepartmentScope], tools: Iterable[str]) -> None:
        """A one-line ConfigError when a role names a department or tool the session lacks."""
        departments = {s.name.lower() for s in scopes}
        known_tools = {t.lower() for t in tools}
        for name, role in self.roles.items():
            for kind, named, known in (
                ("department", role.departments, departments),
                ("tool", role.tools, known_tools),
            ):
                unknown = sorted(named - known - {ALL})
                if unknown:
                    raise ConfigError(
                        f"policy role {name!r} names unknown {kind}(s) {', '.join(unknown)}; "
                        f"known: {', '.join(sorted(known))}"
                    )


def _roles(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"expected a list of role names, got {value!r}")
    return tuple(v.strip() for v in value)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
