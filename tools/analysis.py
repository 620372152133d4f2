"""The shared analysis tools, for any warehouse: read-only SQL, the schema, and anomaly detection
over an earlier task's table."""

from __future__ import annotations

import statistics
from typing import Annotated, Any

from pydantic import Field

from atomwork.errors import ToolError
from atomwork.table import Table
from atomwork.tool_result import ToolResult
from atomwork.tools.base import ChoiceSource, table_summary
from atomwork.tools.context import RunContext
from atomwork.tools.decorator import tool
from atomwork.tools.format import PARTIAL, num
from atomwork.tools.statistics import as_number, robust_z_scores
from atomwork.tools.warehouse import DEFAULT_ROW_LIMIT

__all__ = ["ANALYSIS_TOOLS", "describe_schema", "detect_anomalies", "sql_query"]


@tool(description=f"Run one read-only SELECT on the warehouse (max {DEFAULT_ROW_LIMIT} rows).")
def sql_query(
    ctx: RunContext,
    sql: Annotated[
        str,
        Field(
            description="one read-only SELECT statement (DuckDB SQL)", json_schema_extra={"maxLength": 600}
        ),
    ],
) -> ToolResult:
    result = ctx.warehouse.run_query(sql, DEFAULT_ROW_LIMIT)
    note = f" ({result.note})" if result.note else ""
    summary = f"Query returned {table_summary(result.table).removesuffix('.')}{note}."
    return ToolResult(summary=summary, table=result.table, truncated=result.truncated)


@tool(output_columns=["table", "columns", "column", "type", "rows"], numeric_columns=["rows"])
def describe_schema(
    ctx: RunContext,
    table: Annotated[
        str | None, Field(description="a table name; omit to list every table"), ChoiceSource(kind="table")
    ] = None,
) -> ToolResult:
    """List the warehouse tables and columns, or describe one table."""
    wh = ctx.warehouse
    if table is None or not table.strip():
        rows = [[name, wh.row_count(name), ", ".join(c for c, _ in wh.columns(name))] for name in wh.tables()]
        return ToolResult(
            summary=f"{len(rows)} tables:\n{wh.schema_summary()}",
            table=Table(columns=["table", "rows", "columns"], rows=rows),
        )
    name = wh.table_name(table)
    described = wh.describe(name)
    count = wh.row_count(name)
    cols = ", ".join(f"{c} {t}" for c, t in described.rows)
    return ToolResult(summary=f"Table {name} has {count:,} rows; columns: {cols}.", table=described)


@tool(
    choices={
        "value_column": ChoiceSource(kind="output_column", ref_arg="table", numeric=True),
        "label_column": ChoiceSource(kind="output_column", ref_arg="table"),
    }
)
def detect_anomalies(
    table: Annotated[Table, Field(description="a table from an earlier task, e.g. $t1")],
    value_column: Annotated[str, Field(description="the numeric column to check, e.g. revenue")],
    label_column: Annotated[
        str | None,
        Field(description="the column naming each row, e.g. month or region; omit to use text columns"),
    ] = None,
    z_threshold: Annotated[
        float, Field(gt=0, description="robust z-score above which a row is flagged")
    ] = 3.0,
) -> ToolResult:
    """Flag unusual rows of an earlier table by robust z-score (median/MAD) of one numeric column."""
    # Rows whose label ends with "(partial)" (a month only partly in the data) are not scored.
    if value_column not in table.columns:
        numeric = [c for c in table.columns if any(as_number(v) is not None for v in table.column(c))]
        raise ToolError(
            f"column {value_column!r} not in table (columns: {', '.join(table.columns)}; "
            f"numeric: {', '.join(numeric) or 'none'})"
        )
    if label_column is not None and label_column not in table.columns:
        raise ToolError(f"label column {label_column!r} not in table (columns: {', '.join(table.columns)})")
    value_idx = table.columns.index(value_column)
    if label_column is not None:
        label_idxs = [table.columns.index(label_column)]
    else:
        label_idxs = [
            i
            for i, name in enumerate(table.columns)
            if i != value_idx and all(as_number(r[i]) is None for r in table.rows if r[i] is not None)
        ] or [i for i in range(len(table.columns)) if i != value_idx][:1]

    def label_of(row: list[Any]) -> str:
        return " ".join(str(row[i]) for i in label_idxs) if label_idxs else "row"

    scored: list[tuple[list[Any], float]] = []
    skipped_partial = skipped_missing = 0
    for row in table.rows:
        if any(isinstance(v, str) and v.endswith(PARTIAL) for v in row):
            skipped_partial += 1
            continue
        number = as_number(row[value_idx])
        if number is None:
            skipped_missing += 1
            continue
        scored.append((row, number))
    if len(scored) < 3:
        raise ToolError(
            f"need at least 3 numeric values in {value_column!r} to look for anomalies, got {len(scored)}"
        )
    group_idx = _panel_group(table, value_idx, [row for row, _ in scored])
    if group_idx is not None:
        # A flagged row is named by its series and the columns that tell its rows apart.
        label_idxs = sorted(
            {*label_idxs, group_idx}
            | {
                i
                for i in range(len(table.columns))
                if i not in (value_idx, group_idx)
                and all(as_number(r[i]) is None for r, _ in scored if r[i] is not None)
            }
        )
    if group_idx is None:
        scores, median, _ = robust_z_scores([v for _, v in scored])
    else:
        # Region x month: each region's months are scored against that region's own months, so a
        # spike in a small region is not hidden by the spread between regions.
        scores = [0.0] * len(scored)
        groups: dict[str, list[int]] = {}
        for i, (row, _) in enumerate(scored):
            groups.setdefault(str(row[group_idx]), []).append(i)
        for members in groups.values():
            for i, z in zip(members, robust_z_scores([scored[i][1] for i in members])[0], strict=True):
                scores[i] = z
        median = statistics.median(v for _, v in scored)
    flagged = sorted(
        ((row, value, z) for (row, value), z in zip(scored, scores, strict=True) if abs(z) >= z_threshold),
        key=lambda item: -abs(item[2]),
    )
    out = Table(
        columns=[*table.columns, "robust_z", "direction"],
        rows=[[*row, round(z, 2), "high" if z > 0 else "low"] for row, _, z in flagged],
    )
    notes = []
    if skipped_partial:
        notes.append(f"{skipped_partial} partial period(s) not scored")
    if skipped_missing:
        notes.append(f"{skipped_missing} row(s) without a number skipped")
    if group_idx is not None:
        notes.append(f"each {table.columns[group_idx]}'s rows scored against its own")
    note = f" ({'; '.join(notes)})" if notes else ""
    if not flagged:
        summary = (
            f"No anomalies in {value_column} across {len(scored)} rows (robust z >= {z_threshold:g}; "
            f"median {num(median, 2)}){note}."
        )
    else:
        listed = "; ".join(
            f"{label_of(row)}: {num(value, 2)} (z={z:+.1f}, {'high' if z > 0 else 'low'})"
            for row, value, z in flagged[:5]
        )
        more = f" and {len(flagged) - 5} more" if len(flagged) > 5 else ""
        summary = (
            f"{len(flagged)} of {len(scored)} rows are anomalous in {value_column} (robust z >= "
            f"{z_threshold:g}; median {num(median, 2)}): {listed}{more}{note}."
        )
    return ToolResult(summary=summary, table=out, empty_is_answer=True)


PANEL_MIN_ROWS = 6
"""Rows each group needs before a panel's groups are scored apart (fewer give no usable spread)."""


def _panel_group(table: Table, value_idx: int, rows: list[list[Any]]) -> int | None:
    """The column splitting a panel (region x month) into series, or None for a plain list: a text
    column whose values each repeat on at least :data:`PANEL_MIN_ROWS` rows while another column
    tells those rows apart. The one with the fewest groups wins."""
    found: list[tuple[int, int]] = []
    for i in range(len(table.columns)):
        if i == value_idx or any(as_number(r[i]) is not None for r in rows if r[i] is not None):
            continue
        groups: dict[str, list[list[Any]]] = {}
        for row in rows:
            groups.setdefault(str(row[i]), []).append(row)
        if len(groups) < 2 or min(len(g) for g in groups.values()) < PANEL_MIN_ROWS:
            continue
        others = [j for j in range(len(table.columns)) if j not in (i, value_idx)]
        if any(all(len({str(r[j]) for r in g}) == len(g) for g in groups.values()) for j in others):
            found.append((len(groups), i))
    return min(found)[1] if found else None


ANALYSIS_TOOLS = (sql_query, describe_schema, detect_anomalies)
"""The shared analysis department's tools that work on any warehouse."""
