#!/usr/bin/env bash
# Runs the whole benchmark suite in one go: the raw framed floor, this project, tarpc and (when a
# venv with aiomas exists) Python aiomas, each server and client in its own process, over
# loopback TCP and Unix sockets, alternating implementations over several rounds.
#
#   scripts/bench.sh [--quick] [--rounds N] [--duration S] [--pin split|same] [--no-python] ...
#
# Prints a table of medians with ratios to the floor and to tarpc, and writes every figure to
# target/bench/results.json. Flags are passed to `rpcbench run` (benches/src/bin/rpcbench.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

# The Python side: scripts/python-env.sh makes (once) target/py-venv with aiomas 2.0.1.
if [[ -z "${RPC_PYTHON:-}" && " $* " != *" --no-python "* && -x scripts/python-env.sh ]]; then
    if py=$(scripts/python-env.sh); then
        export RPC_PYTHON="$py"
    else
        echo "bench.sh: scripts/python-env.sh failed; running without Python aiomas" >&2
    fi
fi

cargo build --release -p benches --bin rpcbench
exec target/release/rpcbench run "$@"
