#!/usr/bin/env bash
# Builds the server and the benchmark in release mode and prints the numbers.
# Usage: bash scripts/bench.sh [--quick] [--only tasks|agents|clusters|monitor|alerts]
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ocp-target}"
cargo build --release --bin ocp-server --bin ocp-agent --bin ocp-bench
"$CARGO_TARGET_DIR/release/ocp-bench" "$@"
