"""The flagship example: last quarter's sales by region, anomalies, a report for the director.

python -m atomwork.examples.quarterly_sales [MODEL_SPEC]
"""

from __future__ import annotations

import sys

import atomwork


def main(model: str | None = None) -> int:
    def show(event: atomwork.Event) -> None:
        print(f"[{event.type}] {event}")

    result = atomwork.run(
        "Analyze last quarter's sales by region, flag anomalies, draft a report for the sales director",
        model=model,
        on_event=show,
    )
    print("\n" + result.answer)
    print(f"\nstop reason: {result.stop_reason}; replans: {result.replans}")
    for task_id, table in result.tables.items():
        print(f"\n{task_id}:\n{table.to_markdown(max_rows=10)}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
