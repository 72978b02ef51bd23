#!/usr/bin/env bash
# The console's benchmark: builds the console and a release server, starts the server on a
# loopback port in a temporary data directory (removed, the server killed, on exit), adds a
# task of 200 subtasks, a cluster of 100 servers with a day of one metric each and 10,000
# alert events (ocp-bench seed-console), and runs console/bench/console.mjs in headless
# Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ocp-target}"
bash scripts/console.sh
cargo build --release --bin ocp-server --bin ocp-bench
data=$(mktemp -d /tmp/ocp-console-bench-XXXXXX)
password='Bench-Admin-123'
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
setsid "$CARGO_TARGET_DIR/release/ocp-server" --listen "127.0.0.1:$port" --data-dir "$data" \
  --admin-password "$password" --enable-test-tasks >"$data/server.log" 2>&1 &
server=$!
trap '{ kill -9 -- -$server; wait $server; } 2>/dev/null; rm -rf "$data"' EXIT
url="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$url/api/v2/time" >/dev/null && break; sleep 0.1; done
steps=$(python3 -c 'import json; print(json.dumps([{"name": f"step {i}", "kind": "noop", "after": [] if i < 10 else [i - 10]} for i in range(200)]))')
task=$(curl -sf -u "admin:$password" -H 'content-type: application/json' \
  -d "{\"name\": \"Two hundred subtasks\", \"steps\": $steps}" "$url/api/v2/debug/tasks" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["id"])')
big=$("$CARGO_TARGET_DIR/release/ocp-bench" seed-console "$data")
cd console
OCP_URL="$url" OCP_ADMIN_PASSWORD="$password" OCP_TASK_ID="$task" OCP_BIG_CLUSTER="$big" node bench/console.mjs
