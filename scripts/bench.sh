#!/usr/bin/env bash
# Builds the server and the benchmark in release mode and prints the numbers.
# Usage: bash scripts/bench.sh [--quick] [--only tasks|agents|clusters|monitor|alerts|backups|upgrade|standby|sql|console]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--only" ] && [ "${2:-}" = "console" ]; then
  exec bash scripts/bench-console.sh
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ocp-target}"
cargo build --release --bin ocp-server --bin ocp-agent --bin ocp-bench
# The figures go to JSON as well, and are compared with the last accepted ones.
json="${OCP_BENCH_JSON:-$CARGO_TARGET_DIR/bench/last-run.json}"
"$CARGO_TARGET_DIR/release/ocp-bench" "$@" --json "$json"
echo "figures in $json; against bench/baseline.json:"
"$CARGO_TARGET_DIR/release/ocp-bench" compare bench/baseline.json "$json"
# The console's numbers, unless one part of the server was asked for.
if [ "${1:-}" != "--only" ]; then bash scripts/bench-console.sh; fi
