#!/usr/bin/env bash
# Instructions per call through the full stack, stable on a noisy machine: runs `inproc` (N
# pipelined `add` calls over tokio::io::duplex, one thread) under callgrind at two values of N
# and divides the difference, so that setup and teardown cancel out. Does the same for the raw
# framed floor, and lists the functions whose inclusive cost grows with N, per call.
#
#   scripts/callgrind.sh            # N = 2000 and 12000; window 100, and 1 (sequential)
#   N1=1000 N2=5000 scripts/callgrind.sh
#   SPECS="ours:100 ours-dict:100" scripts/callgrind.sh   # only these (impl:window) runs
#   INPROC_ARGS="--subscriber debug" OUT=target/callgrind-debug scripts/callgrind.sh
#                                   # with a tracing subscriber (see benches/src/bin/inproc.rs)
#
# Profiles land in target/callgrind/; the per-call summary is printed and saved beside them.
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-2000}
N2=${N2:-12000}
TOP=${TOP:-30}
OUT=${OUT:-target/callgrind}
INPROC_ARGS=${INPROC_ARGS:-}
SPECS=${SPECS:-"ours:100 ours-dict:100 floor:100 ours:1 floor:1"}
mkdir -p "$OUT"
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }

cargo build --release -p benches --bin inproc

total() { grep -E '^(summary|totals):' "$1" | tail -1 | awk '{print $2}'; }

for spec in $SPECS; do
    set -- ${spec/:/ }
    impl=$1 win=$2
    for n in "$N1" "$N2"; do
        valgrind --tool=callgrind --callgrind-out-file="$OUT/$impl.w$win.$n.out" \
            target/release/inproc --impl "$impl" --calls "$n" --window "$win" $INPROC_ARGS >/dev/null 2>"$OUT/$impl.w$win.$n.log"
        callgrind_annotate --inclusive=yes --threshold=100 "$OUT/$impl.w$win.$n.out" >"$OUT/$impl.w$win.$n.txt" 2>/dev/null
        callgrind_annotate --threshold=100 "$OUT/$impl.w$win.$n.out" >"$OUT/$impl.w$win.$n.self.txt" 2>/dev/null
    done
    i1=$(total "$OUT/$impl.w$win.$N1.out")
    i2=$(total "$OUT/$impl.w$win.$N2.out")
    echo "== $impl, window $win: $(( (i2 - i1) / (N2 - N1) )) instructions per call (N=$N1: $i1, N=$N2: $i2)" | tee "$OUT/$impl.w$win.summary"
    python3 scripts/callgrind_diff.py "$OUT/$impl.w$win.$N1.txt" "$OUT/$impl.w$win.$N2.txt" $(( N2 - N1 )) "$TOP" inclusive | tee -a "$OUT/$impl.w$win.summary"
    python3 scripts/callgrind_diff.py "$OUT/$impl.w$win.$N1.self.txt" "$OUT/$impl.w$win.$N2.self.txt" $(( N2 - N1 )) "$TOP" self | tee -a "$OUT/$impl.w$win.summary"
done
