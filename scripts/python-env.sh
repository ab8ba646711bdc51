#!/usr/bin/env bash
# Create (idempotently) the Python virtualenv used by the aiomas interop tests.
#
#   scripts/python-env.sh        -> prints the venv's python path on stdout
#
# The venv lives in <workspace>/target/py-venv and holds aiomas 2.0.1 plus a
# msgpack >= 1.0 from PyPI, python-blosc 1.11.4 (PyPI name `blosc`; the 1.x line aiomas's
# MsgPackBlosc codec calls, with c-blosc 1.21 inside; a cp311 manylinux wheel, no build),
# and mosaik 3.6.0 (the last release for Python < 3.12, with mosaik-api-v3) for the
# rpc-mosaik tests. When the venv already has them, this returns at once; a venv that
# only lacks blosc or mosaik gets them added.
# Any failure exits non-zero with a message on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RPC_PY_VENV:-$ROOT/target/py-venv}"
PY="$VENV/bin/python"
PYTHON3="${PYTHON3:-python3}"

die() {
    echo "python-env.sh: ERROR: $*" >&2
    echo "python-env.sh: the aiomas interop tests need python3 (>= 3.8) with venv/pip and PyPI access." >&2
    echo "python-env.sh: set RPC_SKIP_PYTHON=1 to skip them explicitly." >&2
    exit 1
}

check() {
    # Succeeds only when the venv imports the exact versions we need.
    "$PY" - <<'PYEOF' 2>/dev/null
import importlib.metadata as md, sys
assert md.version("aiomas") == "2.0.1", md.version("aiomas")
import msgpack
assert msgpack.version >= (1, 0, 0), msgpack.version
import aiomas, aiomas.rpc, aiomas.codecs  # noqa: F401
PYEOF
}

check_mosaik() {
    "$PY" - <<'PYEOF' 2>/dev/null
import importlib.metadata as md
assert md.version("mosaik") == "3.6.0", md.version("mosaik")
import mosaik, mosaik_api_v3  # noqa: F401
PYEOF
}

check_blosc() {
    "$PY" - <<'PYEOF' 2>/dev/null
import importlib.metadata as md
assert md.version("blosc") == "1.11.4", md.version("blosc")
import blosc  # noqa: F401
PYEOF
}

install_blosc() {
    "$PY" -m pip install --disable-pip-version-check --quiet 'blosc==1.11.4' >&2 \
        || die "pip could not install blosc==1.11.4 (python-blosc) into $VENV"
    check_blosc || die "the venv at $VENV does not import blosc 1.11.4"
}

install_mosaik() {
    "$PY" -m pip install --disable-pip-version-check --quiet 'mosaik==3.6.0' >&2 \
        || die "pip could not install mosaik==3.6.0 into $VENV"
    check_mosaik || die "the venv at $VENV does not import mosaik 3.6.0"
}

if [ -x "$PY" ] && check; then
    if ! check_blosc; then
        echo "python-env.sh: adding blosc 1.11.4 to $VENV ..." >&2
        install_blosc
    fi
    if ! check_mosaik; then
        echo "python-env.sh: adding mosaik 3.6.0 to $VENV ..." >&2
        install_mosaik
    fi
    echo "$PY"
    exit 0
fi

command -v "$PYTHON3" >/dev/null 2>&1 || die "'$PYTHON3' not found on PATH"
"$PYTHON3" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 8) else 1)' \
    || die "'$PYTHON3' is older than 3.8 ($("$PYTHON3" --version 2>&1))"

echo "python-env.sh: creating $VENV ..." >&2
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PYTHON3" -m venv "$VENV" >&2 || die "'$PYTHON3 -m venv $VENV' failed (is the venv module installed? e.g. apt-get install python3-venv)"
"$PY" -m pip install --disable-pip-version-check --quiet \
    'aiomas==2.0.1' 'msgpack>=1.0' >&2 \
    || die "pip could not install aiomas==2.0.1 and msgpack>=1.0 into $VENV"
check || die "the venv at $VENV was created but does not import aiomas 2.0.1 with msgpack >= 1.0"
install_blosc
install_mosaik

echo "python-env.sh: ready" >&2
echo "$PY"
