#!/usr/bin/env bash
# The one test command: builds the Python venvs (aiomas for the interop tests, mosaik 3.6 and
# 3.7 for rpc-mosaik's scenarios), then runs every
# test of the workspace (unit, integration, interop and doc tests).
#
#   scripts/test.sh                     # everything
#   RPC_SKIP_PYTHON=1 scripts/test.sh   # without Python: the aiomas interop tests do NOT run
#
# Extra arguments go to the test runner (cargo nextest when installed, else cargo test).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ "${RPC_SKIP_PYTHON:-}" != "" ] && [ "${RPC_SKIP_PYTHON}" != "0" ]; then
    echo "============================================================================" >&2
    echo "RPC_SKIP_PYTHON is set: the Python aiomas interop tests will NOT run." >&2
    echo "============================================================================" >&2
    export RPC_SKIP_PYTHON=1
else
    RPC_PYTHON="$("$ROOT/scripts/python-env.sh")" || {
        echo "test.sh: could not set up the Python venv (see above); set RPC_SKIP_PYTHON=1 to run without the interop tests" >&2
        exit 1
    }
    RPC_PYTHON_MOSAIK37="$("$ROOT/scripts/python-env.sh" --mosaik37)" || {
        echo "test.sh: could not set up the mosaik 3.7 venv (see above); set RPC_SKIP_PYTHON=1 to run without the interop tests" >&2
        exit 1
    }
    export RPC_PYTHON RPC_PYTHON_MOSAIK37
    echo "test.sh: Python interop tests use $RPC_PYTHON; mosaik 3.7 scenarios use $RPC_PYTHON_MOSAIK37" >&2
fi

if cargo nextest --version >/dev/null 2>&1; then
    # Doctests first (rpc-core, rpc-mosaik and rpc-blosc have them), so that the run ends on
    # nextest's summary; rpc-core's with the msgpack-blosc feature, as the tests crate builds it.
    cargo test --doc -p rpc-core -p rpc-mosaik -p rpc-blosc --features rpc-core/msgpack-blosc
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi

if [ "${RPC_SKIP_PYTHON:-}" = "1" ]; then
    echo "test.sh: reminder: the Python aiomas interop tests did NOT run (RPC_SKIP_PYTHON=1)." >&2
fi
