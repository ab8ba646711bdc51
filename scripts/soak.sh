#!/usr/bin/env bash
# The soak and abuse program of issue 14 (benches/src/bin/soak.rs): lost replies, server RSS
# across rounds of connections, memory per idle connection, slow 16 MiB frames, a normal
# client's latency under a flood, descriptors running out. Each case starts soak_server in
# its own process; traffic goes to 127.0.0.1 only. Takes about a minute and a half.
#
#   scripts/soak.sh                 # the scaled-down run
#   scripts/soak.sh --full          # case a at the issue's size (1000 x 1000 x 3)
#   scripts/soak.sh --only d,f      # some cases
#
# Prints, per case, the figures and whether the bound held; --strict exits 1 when one did not.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p benches --bin soak --bin soak_server
exec target/release/soak "$@"
