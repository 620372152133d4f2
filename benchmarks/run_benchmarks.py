"""Benchmarks: print figures, assert nothing.

    scripts/dev.sh bench [--model SPEC ...] [--systems atomwork,text2sql,react] [--dataset demo|tpch|crm]
                         [--level fact|grouped|multi] [--limit N] [--ids a,b] [--planning] [--evaluator]

The answer-accuracy benchmark runs each system (atomwork, single-shot text-to-SQL, LangGraph ReAct) on
the eval questions, each model loaded once and shared by all systems, and scores every answer against
the question's hand-written SQL. Tables are printed and a JSON record is saved under
benchmarks/results/. ``--planning`` adds the older planning-quality suite (tool recall, stop reasons)
and a plain-completion speed figure; ``--evaluator`` the evaluator's precision/recall on a labeled set.
``--systems none`` skips the accuracy benchmark.

``--load`` runs the load benchmark instead (:mod:`atomwork.evals.load`): N = 1, 4, 16 concurrent goals
on a paced scripted model with fixed tool latency (framework overhead per task, goals/min, p50/p95,
speed-up over sequential, streaming-planner saving); ``--load-model SPEC`` adds the same load of real
goals on a served model (e.g. ``vllm:http://127.0.0.1:8000/v1``), ``--load-n 1,4`` picks N.

``--faults`` runs the fault-injection bench instead (:mod:`atomwork.evals.faults`, scripted model, a few
seconds): ``--fault-runs`` runs whose model and tools fail on ``--fault-rate`` of calls (default 30%),
then a run killed with SIGKILL and resumed; prints the success rate and the figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from atomwork.evals.bench import AtomworkSystem, BenchReport, CaseRecord, System, run_bench
from atomwork.evals.cases import DatasetName, EvalCase, Level
from atomwork.evals.labeled import save as save_labeled
from atomwork.evals.report import print_reports, save_report
from atomwork.models import ChatModel, Purpose, load_model

SYSTEMS = ("atomwork", "text2sql", "react")


def build_systems(names: list[str], model: ChatModel) -> list[System]:
    from atomwork.evals.baselines import ReactSystem, TextToSqlSystem

    makers: dict[str, Callable[[], System]] = {
        "atomwork": lambda: AtomworkSystem.for_model(model),
        "text2sql": lambda: TextToSqlSystem(model),
        "react": lambda: ReactSystem(model),
    }
    return [makers[name]() for name in names]


def parse_systems(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["none"]:
        return []
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown system(s) {', '.join(unknown)}; pick from {SYSTEMS}")
    return names


def progress(record: CaseRecord) -> None:
    mark = "right" if record.correct else "WRONG"
    print(
        f"  [{record.system}] {record.case_id}: {mark}, {record.stop_reason or 'error'}, "
        f"{record.seconds:.1f}s, {record.calls} calls"
        + (f" [error: {record.error[:120]}]" if record.error else ""),
        flush=True,
    )


def planning_figures(model: ChatModel) -> None:
    """The older figures: plain completion speed and the planning-quality suite on the demo warehouse."""
    from atomwork.evals import run_suite
    from atomwork.sdk import Atomwork

    prompt = [SystemMessage("Reply with a short sentence."), HumanMessage("Say hello to the sales team.")]
    start = time.perf_counter()
    text = model.complete(prompt, max_tokens=64, purpose=Purpose.CHAT)
    seconds = time.perf_counter() - start
    words = len(text.split())
    print(f"\nplain completion: {seconds:.2f}s for ~{words} words ({words / max(seconds, 1e-9):.1f} words/s)")
    session = Atomwork(model=model, save_runs=False, memory=False)
    try:
        report = run_suite(session)
    finally:
        session.warehouse.close()  # not session.close(): the model is shared
    print(f"planning suite on {report.model}:")
    for case in report.cases:
        print(
            f"  {case.seconds:6.1f}s recall={case.tool_recall:.2f} stop={case.stop_reason or 'error'} "
            f"passed={case.tasks_passed}/{case.tasks_total} final={case.final_score} :: {case.goal[:60]}"
            + (f" [error: {case.error}]" if case.error else "")
        )
    print(f"mean tool recall: {report.mean_recall:.2f}; completed: {report.completed}/{len(report.cases)}")


def evaluator_figures(model: ChatModel) -> None:
    from atomwork.evals.labeled import evaluate_labeled

    figures = evaluate_labeled(model)
    print(f"\nevaluator on the labeled set ({model.name}):")
    for key, value in figures.items():
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"  {key}: {shown}")


RESULTS = Path(__file__).resolve().parent / "results"


def parse_levels(text: str) -> list[int]:
    try:
        levels = [int(n) for n in text.split(",") if n.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--load-n takes whole numbers like 1,4,16, got {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"--load-n takes whole numbers like 1,4,16, got {text!r}")
    return levels


def load_benchmark(levels: list[int], model_spec: str | None, out: Path) -> int:
    from atomwork.evals.load import LoadConfig, format_levels, format_table, run_load, run_served_load, save

    print(f"load benchmark: N = {', '.join(map(str, levels))} concurrent goals, scripted model", flush=True)
    report = run_load(LoadConfig(levels=levels), on_line=lambda line: print("  " + line, flush=True))
    print("\n" + format_table(report))
    print(f"saved {save(report, out, 'load-scripted')}")
    if model_spec:
        model = load_model(model_spec)
        try:
            served = run_served_load(model, levels, on_line=lambda line: print("  " + line, flush=True))
        finally:
            model.close()
        print(f"\n{served.model}, goal {served.goal!r}:\n" + format_levels(served.levels))
        print(f"saved {save(served, out, 'load-served')}")
    return 0


def fault_benchmark(runs: int, rate: float, seed: int, out: Path) -> int:
    from atomwork.evals.faults import FaultRun, format_bench, run_fault_bench, save_bench

    def progress(run: FaultRun) -> None:
        end = run.stop_reason or run.error or "?"
        mark = "honest" if run.honest else "NOT HONEST: " + "; ".join([*run.problems, *run.lost])
        print(f"  run {run.index}: {end}, {run.tasks_passed}/{run.tasks} tasks passed, {mark}", flush=True)

    bench = run_fault_bench(runs=runs, rate=rate, seed=seed, on_run=progress)
    print("\n" + format_bench(bench))
    print(f"saved {save_bench(bench, out)}")
    return 0 if bench.suite.honest == bench.suite.runs and bench.kill.honest else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="model spec (repeatable); default $ATOMWORK_MODEL or embedded",
    )
    parser.add_argument("--systems", type=parse_systems, default=list(SYSTEMS), help="comma-separated")
    parser.add_argument("--dataset", choices=[d.value for d in DatasetName])
    parser.add_argument("--level", choices=[lv.value for lv in Level])
    parser.add_argument("--limit", type=int, help="at most N questions")
    parser.add_argument("--ids", help="comma-separated case ids")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default benchmarks/results)")
    parser.add_argument("--planning", action="store_true", help="also the planning-quality suite")
    parser.add_argument("--evaluator", action="store_true", help="also evaluator precision/recall")
    parser.add_argument("--load", action="store_true", help="the load benchmark instead (see above)")
    parser.add_argument("--load-model", help="with --load: also run real goals on this served model spec")
    parser.add_argument("--load-n", type=parse_levels, default=[1, 4, 16], help="with --load: N, e.g. 1,4,16")
    parser.add_argument("--faults", action="store_true", help="the fault-injection bench instead")
    parser.add_argument("--fault-runs", type=int, default=30, help="with --faults: runs (default 30)")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="with --faults: share of calls failing")
    parser.add_argument("--fault-seed", type=int, default=0, help="with --faults: the seed")
    args = parser.parse_args(argv)

    if args.faults:
        return fault_benchmark(args.fault_runs, args.fault_rate, args.fault_seed, args.out or RESULTS)
    if args.load:
        return load_benchmark(args.load_n, args.load_model, args.out or RESULTS)

    if not (args.systems or args.planning or args.evaluator):
        print("nothing to run: --systems none without --planning or --evaluator", file=sys.stderr)
        return 2
    cases: list[EvalCase] = []
    if args.systems:
        from atomwork.evals.datasets import select_cases

        ids = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None
        cases = select_cases(dataset=args.dataset, level=args.level, limit=args.limit, ids=ids)
        if not cases:
            print("no eval cases match the filters", file=sys.stderr)
            return 2
        print(f"{len(cases)} question(s); systems: {', '.join(args.systems)}", flush=True)

    reports: list[BenchReport] = []
    for spec in args.model or [None]:
        start = time.perf_counter()
        model = load_model(spec)  # once per process and spec, shared by every system
        print(f"\nmodel {model.name} loaded in {time.perf_counter() - start:.1f}s", flush=True)
        try:
            if args.systems:
                systems = build_systems(args.systems, model)
                report = run_bench(systems, cases, model, on_record=progress)
                labeled = [
                    q for system in systems if isinstance(system, AtomworkSystem) for q in system.labeled
                ]
                if labeled:
                    count = sum(len(q.attempts) for q in labeled)
                    print(f"labeled {count} SQL results into {save_labeled(labeled)}")
                print_reports([report])
                print(f"saved {save_report(report, args.out)}")
                reports.append(report)
            if args.planning:
                planning_figures(model)
            if args.evaluator:
                evaluator_figures(model)
        finally:
            model.close()
    if len(reports) > 1:
        print("\nall models:")
        print_reports(reports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
