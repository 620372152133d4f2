"""Presenting benchmark results: console tables of the figures per system and model, per-dataset
accuracy, and a JSON record (machine info and every per-case record) under benchmarks/results.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from atomwork.evals.bench import BenchReport, SystemMetrics

__all__ = ["accuracy_table", "dataset_table", "machine_info", "print_reports", "save_report"]

RESULTS_DIR = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
LEVELS = ("fact", "grouped", "multi")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def accuracy_table(metrics: Sequence[SystemMetrics]) -> RichTable:
    """Rows = system x model; exact-answer rates, honesty rates, cost and time per question."""
    table = RichTable(title="Answer accuracy (rates over all questions of the row)")
    for header in (
        "system",
        "model",
        "n",
        "exact\nfact",
        "exact\ngrouped",
        "exact\nmulti",
        "exact\nall",
        "done but\nwrong",
        "honest\nfail",
        "unverif.\nright",
        "calls\n/q",
        "prompt\ntok/q",
        "compl.\ntok/q",
        "s/q\nfact",
        "s/q\nall",
        "p50\ns/q",
        "peak RSS\nMiB",
    ):
        table.add_column(header, justify="left" if header in ("system", "model") else "right", no_wrap=True)
    for m in metrics:
        table.add_row(
            m.system,
            m.model,
            str(m.cases),
            *(_pct(m.exact_by_level.get(level)) for level in LEVELS),
            _pct(m.exact),
            _pct(m.completed_but_wrong),
            _pct(m.honest_failure),
            _pct(m.unverified_but_right),
            _num(m.mean_calls),
            _num(m.mean_prompt_tokens, 0),
            _num(m.mean_completion_tokens, 0),
            _num(m.mean_seconds_by_level.get("fact")),
            _num(m.mean_seconds),
            _num(m.p50_seconds),
            _num(m.peak_rss_mib, 0),
        )
    return table


def dataset_table(metrics: Sequence[SystemMetrics]) -> RichTable:
    """Exact-answer rate per dataset for each system x model."""
    datasets = sorted({name for m in metrics for name in m.exact_by_dataset})
    table = RichTable(title="Exact answers per dataset")
    table.add_column("system")
    table.add_column("model")
    for name in datasets:
        table.add_column(name, justify="right")
    for m in metrics:
        table.add_row(m.system, m.model, *(_pct(m.exact_by_dataset.get(name)) for name in datasets))
    return table


def print_reports(reports: Sequence[BenchReport], console: Console | None = None) -> None:
    out = console or Console()
    if console is None and not out.is_terminal:
        out = Console(width=200)  # piped to a file or CI log: rich would squeeze the table into 80 columns
    metrics = [m for report in reports for m in report.metrics]
    if not metrics:
        out.print("no results")
        return
    out.print(accuracy_table(metrics))
    out.print(dataset_table(metrics))


# --------------------------------------------------------------------------- machine info and JSON


def _meminfo_mib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="utf-8")
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s+(\d+)\s+kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024, 1) if match else None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    """Where the figures were taken: they mean little without the machine."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "ram_mib": _meminfo_mib(),
        "python": sys.version.split()[0],
        "duckdb": _version("duckdb"),
        "llama_cpp_python": _version("llama_cpp_python"),
        "langgraph": _version("langgraph"),
        "git_commit": _git_commit(),
    }


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "model"


def save_report(report: BenchReport, directory: Path | None = None) -> Path:
    """Write ``<timestamp>-<model>.json`` (machine info filled in if missing); return its path."""
    folder = directory or RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    if not report.machine:
        report.machine = machine_info()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = folder / f"{stamp}-{_slug(report.model)}.json"
    payload = report.model_dump(mode="json")
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target)
    return target
