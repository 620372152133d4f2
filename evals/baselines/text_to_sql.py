"""Baseline (b): single-shot text-to-SQL. The schema and the question go to the model once, its one
SELECT runs on the warehouse, and the result table is the answer. No retries, no checking.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from atomwork.evals.bench import SystemAnswer, WarehousePool
from atomwork.evals.cases import DatasetName, EvalCase
from atomwork.models.base import ChatModel
from atomwork.models.purpose import Purpose
from atomwork.tools.base import Table
from atomwork.tools.warehouse import Warehouse

__all__ = ["TextToSqlSystem", "extract_sql", "render_answer", "render_table"]

MAX_TOKENS = 400

SYSTEM_PROMPT = """You write DuckDB SQL for a company data warehouse.

Tables:
{schema}

Write ONE read-only DuckDB SELECT statement that answers the user's question.
Give result columns clear names. Reply with the SQL in a ```sql block and nothing else."""

_FENCED = re.compile(r"```(?:sql|duckdb|SQL)?\s*\n?(.*?)(?:```|$)", re.DOTALL)
_BARE = re.compile(r"\b(?:WITH|SELECT)\b.*", re.DOTALL | re.IGNORECASE)


def extract_sql(text: str) -> str | None:
    """The SQL of a reply: the first fenced block if any, else from the first WITH/SELECT on,
    cut at the first ``;`` (the warehouse runs a single statement)."""
    fenced = _FENCED.search(text)
    candidate = fenced.group(1) if fenced else None
    if candidate is None or not _BARE.search(candidate):
        bare = _BARE.search(text)
        candidate = bare.group(0) if bare else None
    if candidate is None:
        return None
    sql = candidate.split(";", 1)[0].strip()
    return sql or None


def _plain(value: Any) -> str:
    # Full precision: rounding here could push a right figure outside the scorer's tolerance.
    return "" if value is None else str(value)


def render_table(table: Table, max_rows: int = 200) -> str:
    """A markdown table with unrounded values."""
    head = "| " + " | ".join(table.columns) + " |"
    sep = "| " + " | ".join("---" for _ in table.columns) + " |"
    body = ["| " + " | ".join(_plain(v) for v in row) + " |" for row in table.rows[:max_rows]]
    return "\n".join([head, sep, *body])


def render_answer(table: Table) -> str:
    """A 1x1 result as ``column: value``, anything else as a markdown table."""
    if len(table.rows) == 1 and len(table.columns) == 1:
        return f"{table.columns[0]}: {_plain(table.rows[0][0])}"
    if not table.rows:
        return "The query returned no rows."
    return render_table(table)


class TextToSqlSystem:
    """One model call for one SELECT; ``completed`` means the SQL ran (whatever it computed)."""

    name = "text2sql"

    def __init__(
        self,
        model: ChatModel,
        path_for: Callable[[DatasetName], Path] | None = None,
        *,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self._pool = WarehousePool(path_for)
        self._schemas: dict[DatasetName, str] = {}

    def _schema(self, dataset: DatasetName, warehouse: Warehouse) -> str:
        if dataset not in self._schemas:
            # Row counts cost a query per table and prompt tokens, and do not help write the SQL.
            self._schemas[dataset] = warehouse.schema_summary(with_counts=False)
        return self._schemas[dataset]

    def answer(self, case: EvalCase) -> SystemAnswer:
        warehouse = self._pool.get(case.dataset)
        messages = [
            SystemMessage(SYSTEM_PROMPT.format(schema=self._schema(case.dataset, warehouse))),
            HumanMessage(case.question),
        ]
        reply = self.model.complete(
            messages, max_tokens=self.max_tokens, temperature=0.0, purpose=Purpose.TEXT2SQL
        )
        sql = extract_sql(reply)
        if sql is None:
            return SystemAnswer(answer=reply, stop_reason="no_sql", error="the reply holds no SELECT")
        try:
            result = warehouse.run_query(sql)
        except Exception as exc:  # WarehouseError for bad SQL; anything else is a failure just the same
            return SystemAnswer(answer=reply, stop_reason="sql_error", error=str(exc).strip()[:300])
        return SystemAnswer(
            answer=render_answer(result.table), tables=[result.table], completed=True, stop_reason="completed"
        )

    def close(self) -> None:
        self._pool.close()
