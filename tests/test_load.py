"""The load benchmark's scripted part, at a small scale: every goal completes, concurrent goals beat
the same goals run one after another, and the report round-trips as JSON."""

from __future__ import annotations

import json

from atomwork.evals.load import LoadConfig, LoadReport, format_table, run_load, save


def test_scripted_load_runs_goals_concurrently_and_reports(tmp_path):
    config = LoadConfig(levels=[1, 3], tool_seconds=0.05, seconds_per_token=0.002, streaming_repeats=1)
    lines: list[str] = []
    report = run_load(config, on_line=lines.append)
    one, three = report.levels
    assert (one.goals, one.completed, three.goals, three.completed) == (1, 1, 3, 3)
    assert three.speedup > 1.5  # three goals at once, mostly waiting on tools and the model
    assert three.p50_s <= three.p95_s and 0 <= report.overhead_ms_per_task < 1000
    assert report.tasks_per_goal == 4 and report.planned_first_s > 0 and report.streamed_s > 0
    assert any(line.startswith("N=3:") for line in lines)
    table = format_table(report)
    assert "| 3 |" in table and "Streaming planner" in table
    path = save(report, tmp_path, "load-scripted")
    assert LoadReport.model_validate(json.loads(path.read_text())) == report
