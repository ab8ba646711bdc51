#!/usr/bin/env bash
# The rpc-mosaik benchmark (docs/performance.md, "mosaik simulators"): the same simulator in
# Rust (rpc-mosaik's `counter_sim` example) and in Python (mosaik-api-python,
# rpc-mosaik/bench/counter_sim_py.py), each started by real mosaik 3.6 with `cmd`, N Counter
# entities fed by a constant and read by a sink, STEPS steps; Rust and Python runs alternate
# (the order flips every round). Reports each simulator process's CPU time and peak RSS, the
# medians, and Rust's ratio to Python; then the memory of a step's inputs kept STEPS times
# (InputData against Python's dicts).
#
#   scripts/mosaik-bench.sh [--rounds R] [--steps S] [--entities "1000 10000"]
#   RUST_SIM=/tmp/counter_sim-old scripts/mosaik-bench.sh   # another build of the Rust side
#
# Every run's figures go to target/bench/mosaik.jsonl as well.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=3
STEPS=300
ENTITIES="1000 10000"
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS="$2"; shift 2 ;;
        --steps) STEPS="$2"; shift 2 ;;
        --entities) ENTITIES="$2"; shift 2 ;;
        *) echo "mosaik-bench.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

PY="$(scripts/python-env.sh)"
cargo build --release -p rpc-mosaik --example counter_sim --example inputs_memory
# RUST_SIM=path runs another build of the Rust simulator (to compare two builds).
SIM="${RUST_SIM:-$PWD/target/release/examples/counter_sim}"
OUT="$PWD/target/bench/mosaik.jsonl"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"

cd rpc-mosaik/bench
for n in $ENTITIES; do
    for round in $(seq 1 "$ROUNDS"); do
        if [ $((round % 2)) -eq 1 ]; then order="rust python"; else order="python rust"; fi
        for kind in $order; do
            if [ "$kind" = rust ]; then sim="$SIM"; else sim="counter_sim_py.py"; fi
            line="$("$PY" counter_bench.py "$kind" "$sim" "$n" "$STEPS" 2>/dev/null | tail -n 1)"
            echo "$line" | tee -a "$OUT"
        done
    done
done
for n in $ENTITIES; do
    "$PWD/../../target/release/examples/inputs_memory" "$n" "$STEPS" | tee -a "$OUT"
    "$PY" inputs_memory.py "$n" "$STEPS" | tee -a "$OUT"
done

"$PY" - "$OUT" <<'PYEOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print()
print("%8s %6s | %-28s | %-28s | %s" % ("entities", "steps", "rust CPU s / peak RSS MB", "python CPU s / peak RSS MB", "rust/python CPU, RSS (median)"))
for n in sorted({r["entities"] for r in runs if "sim" in r}):
    med = {}
    for kind in ("rust", "python"):
        rs = [r for r in runs if r.get("sim") == kind and r["entities"] == n]
        med[kind] = (statistics.median(r["cpu_s"] for r in rs), statistics.median(r["peak_rss_mb"] for r in rs),
                     " ".join("%.2f" % r["cpu_s"] for r in rs))
    steps = next(r["steps"] for r in runs if r.get("entities") == n)
    print("%8d %6d | %-28s | %-28s | %.3fx, %.2fx" % (
        n, steps,
        "%.2f / %.0f (%s)" % (med["rust"][0], med["rust"][1], med["rust"][2]),
        "%.2f / %.0f (%s)" % (med["python"][0], med["python"][1], med["python"][2]),
        med["rust"][0] / med["python"][0], med["rust"][1] / med["python"][1]))
print()
for n in sorted({r["entities"] for r in runs if "impl" in r}):
    rs = {r["impl"]: r for r in runs if r.get("impl") and r["entities"] == n}
    rust, py = rs["rust InputData"], rs["python dicts"]
    print("inputs kept, %d entities x %d steps: InputData %.1f MB (%.0f B/input), Python dicts %.1f MB (%.0f B/input): %.2fx" % (
        n, rust["steps"], rust["rss_growth_mb"], rust["bytes_per_input"], py["rss_growth_mb"], py["bytes_per_input"],
        rust["rss_growth_mb"] / py["rss_growth_mb"]))
PYEOF
