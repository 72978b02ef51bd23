#!/usr/bin/env bash
# Compares a benchmark run's figures with the last accepted ones (bench/baseline.json) and
# prints those that moved by more than 20 %.
# Usage: bash scripts/bench-compare.sh [RUN.json] [--accept]
#   RUN.json  defaults to the last run of scripts/bench.sh
#   --accept  writes the run's figures into bench/baseline.json (commit it with the change)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ocp-target}"
run="$CARGO_TARGET_DIR/bench/last-run.json"
accept=()
for arg in "$@"; do
  case "$arg" in
    --accept) accept=(--accept) ;;
    *) run="$arg" ;;
  esac
done
[ -x "$CARGO_TARGET_DIR/release/ocp-bench" ] || cargo build --release --bin ocp-bench
exec "$CARGO_TARGET_DIR/release/ocp-bench" compare bench/baseline.json "$run" "${accept[@]}"
