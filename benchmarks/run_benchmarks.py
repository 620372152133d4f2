"""Benchmarks: print figures, assert nothing.

    scripts/dev.sh bench [--model SPEC]

- model load time and planner latency / tokens per second on the chosen model
- the planning-quality suite (atomwork.evals): tool recall, stop reasons, scores, seconds per goal
"""

from __future__ import annotations

import argparse
import resource
import time

from atomwork.evals import run_suite
from langchain_core.messages import HumanMessage, SystemMessage

from atomwork.sdk import Atomwork


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=None)
    args = parser.parse_args()

    start = time.perf_counter()
    session = Atomwork(model=args.model, save_runs=False, memory=False)
    print(f"session start (model load + warehouse open): {time.perf_counter() - start:.2f}s")

    prompt = [SystemMessage("Reply with a short sentence."), HumanMessage("Say hello to the sales team.")]
    start = time.perf_counter()
    text = session.model.complete(prompt, max_tokens=64, purpose="bench")
    seconds = time.perf_counter() - start
    words = len(text.split())
    print(f"plain completion: {seconds:.2f}s for ~{words} words ({words / seconds:.1f} words/s)")

    report = run_suite(session)
    print(f"\nplanning suite on {report.model}:")
    for case in report.cases:
        print(
            f"  {case.seconds:6.1f}s recall={case.tool_recall:.2f} stop={case.stop_reason or 'error'} "
            f"passed={case.tasks_passed}/{case.tasks_total} final={case.final_score} :: {case.goal[:60]}"
            + (f" [error: {case.error}]" if case.error else "")
        )
    print(f"mean tool recall: {report.mean_recall:.2f}; completed: {report.completed}/{len(report.cases)}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")
    session.close()


if __name__ == "__main__":
    main()
