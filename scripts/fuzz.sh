#!/usr/bin/env bash
# Runs rpc-core's fuzz targets with cargo-fuzz (libFuzzer) on nightly Rust, one after another.
#
#   scripts/fuzz.sh                    # every target, 1 000 000 inputs each
#   scripts/fuzz.sh channel            # one target
#   scripts/fuzz.sh dispatch 50000     # one target, 50 000 inputs
#   scripts/fuzz.sh all 200000 -max_total_time=60   # extra arguments go to libFuzzer
#
# Targets: frame, codec, channel, dispatch (bodies in fuzz-targets/src/, see its crate docs).
# Starts from the committed seeds in fuzz/corpus/<target>/ without adding to them (new inputs go
# to target/fuzz-corpus/<target>/). A crash leaves its input in fuzz/artifacts/<target>/;
# replay it with `cargo +nightly fuzz run <target> <file>`. Prints, per target, the inputs run,
# the time taken and whether it crashed. Installs cargo-fuzz from crates.io when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(frame codec channel dispatch)
target=${1:-all}
runs=${2:-1000000}
shift $(( $# > 2 ? 2 : $# ))

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: needs nightly Rust: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz from crates.io ..." >&2
    cargo install cargo-fuzz --locked
fi

if [ "$target" = all ]; then
    selected=("${TARGETS[@]}")
else
    selected=("$target")
fi

summary=()
status=0
for t in "${selected[@]}"; do
    work="target/fuzz-corpus/$t"
    mkdir -p "$work"
    log="target/fuzz-corpus/$t.log"
    echo "== fuzz $t: $runs inputs (log: $log)"
    start=$(date +%s)
    # The first corpus directory receives new inputs; the committed seeds stay as they are.
    if cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$work" "fuzz/corpus/$t" -- \
        -runs="$runs" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 "$@" >"$log" 2>&1; then
        result="no crash"
    else
        result="CRASH (see $log and fuzz/artifacts/$t/)"
        status=1
    fi
    secs=$(( $(date +%s) - start ))
    done_runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
    line=$(printf '%-9s %10s inputs  %5ss  %s' "$t" "$done_runs" "$secs" "$result")
    echo "$line"
    summary+=("$line")
done
echo
echo "== summary (target, inputs run, seconds including the build, result)"
printf '%s\n' "${summary[@]}"
exit $status
