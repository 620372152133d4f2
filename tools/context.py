"""What a tool may use besides its arguments: the model, the warehouse, earlier tables, the user.

A tool asks for it by naming a first parameter ``ctx: RunContext``; the specialist builds one per
task. Reading ``ctx.model`` marks the task as having used the model.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from atomwork.errors import ToolError
from atomwork.models.base import ChatModel
from atomwork.policy import Access
from atomwork.table import Table
from atomwork.tools.warehouse import Warehouse

__all__ = ["RunContext"]


class RunContext(BaseModel):
    """The run a tool call belongs to.

    ``model`` and ``warehouse`` raise a one-line :class:`ToolError` when the run has none (a tool
    tested on its own, an engine built without a warehouse)."""

    model_config = ConfigDict(frozen=True)

    tables: Mapping[str, Table] = Field(default_factory=dict)
    """Result tables of the run's finished tasks, by task id."""
    goal: str = ""
    task_id: str = ""
    user: str | None = None
    """Who asked (e.g. a Slack user id), when the front end knows."""
    access: Access | None = None
    """What the user may read; :attr:`warehouse` is then their governed view of it."""

    _model: ChatModel | None = PrivateAttr(default=None)
    _warehouse: Warehouse | None = PrivateAttr(default=None)
    _used_model: bool = PrivateAttr(default=False)

    def __init__(
        self,
        *,
        model: ChatModel | None = None,
        warehouse: Warehouse | None = None,
        tables: Mapping[str, Table] | None = None,
        goal: str = "",
        task_id: str = "",
        user: str | None = None,
        access: Access | None = None,
    ) -> None:
        super().__init__(tables=dict(tables or {}), goal=goal, task_id=task_id, user=user, access=access)
        self._model = model
        # A tool reads only what the user may: their governed view, never the raw warehouse.
        governed = warehouse is not None and access is not None
        self._warehouse = warehouse.governed(access) if governed and warehouse is not None else warehouse

    @property
    def model(self) -> ChatModel:
        if self._model is None:
            raise ToolError("this tool needs a model, and its run context has none")
        self._used_model = True
        return self._model

    @property
    def warehouse(self) -> Warehouse:
        if self._warehouse is None:
            raise ToolError("this tool needs a warehouse, and its run context has none")
        return self._warehouse

    @property
    def has_warehouse(self) -> bool:
        return self._warehouse is not None

    @property
    def used_model(self) -> bool:
        """True once the tool has read :attr:`model`."""
        return self._used_model

    def table(self, task_id: str) -> Table:
        """The table of an earlier task, or a ToolError naming the ones there are."""
        found = self.tables.get(task_id.lstrip("$"))
        if found is None:
            raise ToolError(
                f"no table from task {task_id!r}; tables so far: {', '.join(self.tables) or 'none'}"
            )
        return found
