#!/usr/bin/env bash
# Create (idempotently) the Python virtualenvs used by the interop and mosaik tests.
#
#   scripts/python-env.sh            -> prints the main venv's python path on stdout
#   scripts/python-env.sh --mosaik37 -> prints the mosaik 3.7 venv's python path on stdout
#
# The main venv lives in <workspace>/target/py-venv (Python 3.8-3.11) and holds aiomas 2.0.1
# plus a msgpack >= 1.0 from PyPI, python-blosc 1.11.4 (PyPI name `blosc`; the 1.x line
# aiomas's MsgPackBlosc codec calls, with c-blosc 1.21 inside; a cp311 manylinux wheel, no
# build), and mosaik 3.6.0 (the last release for Python < 3.12, with mosaik-api-v3) for the
# rpc-mosaik tests. A second venv, <workspace>/target/py-venv-mosaik37,
# holds mosaik 3.7.1 (the newest release, which needs Python >= 3.12) for running the same
# rpc-mosaik scenarios under the newest mosaik; its Python 3.12 is found on PATH (python3.12)
# or under pyenv (`pyenv root`/versions/3.12.*). Both are always made; when a venv already has
# what it needs, it is left alone. Any failure exits non-zero with a message on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RPC_PY_VENV:-$ROOT/target/py-venv}"
VENV37="${RPC_PY_VENV_MOSAIK37:-$ROOT/target/py-venv-mosaik37}"
PY="$VENV/bin/python"
PY37="$VENV37/bin/python"
PYTHON3="${PYTHON3:-python3}"
MOSAIK37_VERSION="3.7.1"

die() {
    echo "python-env.sh: ERROR: $*" >&2
    echo "python-env.sh: the interop and mosaik tests need python3 (3.8-3.11) and python3.12 with venv/pip and PyPI access." >&2
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

check_mosaik() { # PYTHON VERSION
    "$1" - "$2" <<'PYEOF' 2>/dev/null
import importlib.metadata as md, sys
assert md.version("mosaik") == sys.argv[1], md.version("mosaik")
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

install_mosaik() { # PYTHON VERSION
    "$1" -m pip install --disable-pip-version-check --quiet "mosaik==$2" >&2 \
        || die "pip could not install mosaik==$2 into $(dirname "$(dirname "$1")")"
    check_mosaik "$1" "$2" || die "the venv of $1 does not import mosaik $2"
}

# The Python 3.12 for mosaik 3.7: on PATH, or pyenv's newest 3.12.
find_python312() {
    if [ -n "${PYTHON312:-}" ]; then
        echo "$PYTHON312"
        return
    fi
    local root candidate
    root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
    for candidate in $(ls -d "$root"/versions/3.12.* 2>/dev/null | sort -V -r); do
        if [ -x "$candidate/bin/python" ]; then
            echo "$candidate/bin/python"
            return
        fi
    done
    # A pyenv shim on PATH may not resolve to a 3.12: check what it runs.
    if command -v python3.12 >/dev/null 2>&1 \
        && python3.12 -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' 2>/dev/null; then
        command -v python3.12
        return
    fi
    return 1
}

make_mosaik37() {
    if [ -x "$PY37" ] && check_mosaik "$PY37" "$MOSAIK37_VERSION"; then
        return
    fi
    local py312
    py312="$(find_python312)" || die "no Python 3.12 found (python3.12 on PATH or pyenv's versions/3.12.*) for mosaik $MOSAIK37_VERSION"
    echo "python-env.sh: creating $VENV37 (mosaik $MOSAIK37_VERSION, $("$py312" --version 2>&1)) ..." >&2
    rm -rf "$VENV37"
    mkdir -p "$(dirname "$VENV37")"
    "$py312" -m venv "$VENV37" >&2 || die "'$py312 -m venv $VENV37' failed"
    install_mosaik "$PY37" "$MOSAIK37_VERSION"
}

make_main() {
    if [ -x "$PY" ] && check; then
        if ! check_blosc; then
            echo "python-env.sh: adding blosc 1.11.4 to $VENV ..." >&2
            install_blosc
        fi
        if ! check_mosaik "$PY" 3.6.0; then
            echo "python-env.sh: adding mosaik 3.6.0 to $VENV ..." >&2
            install_mosaik "$PY" 3.6.0
        fi
        return
    fi
    command -v "$PYTHON3" >/dev/null 2>&1 || die "'$PYTHON3' not found on PATH"
    "$PYTHON3" -c 'import sys; sys.exit(0 if (3, 8) <= sys.version_info[:2] <= (3, 11) else 1)' \
        || die "'$PYTHON3' is not a Python 3.8-3.11 ($("$PYTHON3" --version 2>&1)); mosaik 3.6 needs one"

    echo "python-env.sh: creating $VENV ..." >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$PYTHON3" -m venv "$VENV" >&2 || die "'$PYTHON3 -m venv $VENV' failed (is the venv module installed? e.g. apt-get install python3-venv)"
    "$PY" -m pip install --disable-pip-version-check --quiet \
        'aiomas==2.0.1' 'msgpack>=1.0' >&2 \
        || die "pip could not install aiomas==2.0.1 and msgpack>=1.0 into $VENV"
    check || die "the venv at $VENV was created but does not import aiomas 2.0.1 with msgpack >= 1.0"
    install_blosc
    install_mosaik "$PY" 3.6.0
    echo "python-env.sh: ready" >&2
}

case "${1:-}" in
    --mosaik37 | "") ;;
    *) die "unknown argument '$1': expected nothing or --mosaik37" ;;
esac

make_main
make_mosaik37

if [ "${1:-}" = --mosaik37 ]; then
    echo "$PY37"
else
    echo "$PY"
fi
