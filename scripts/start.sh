#!/usr/bin/env bash
# Starts the platform on its embedded default: SQLite metadb in ./ocp-data, the console and
# the API on http://127.0.0.1:8080, and a local agent on 127.0.0.1:62888 that joins on the
# first start (this machine becomes host 127.0.0.1). On first start it prints the admin
# password (or uses OCP_ADMIN_PASSWORD). The first run builds the console and the release
# binaries: about 6.5 minutes on 2 cores from nothing downloaded; later runs take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ocp-target}"
bash scripts/console.sh
cargo build --release --bin ocp-server --bin ocp-agent --bin ocpctl
exec "$CARGO_TARGET_DIR/release/ocp-server" --listen "${OCP_LISTEN:-127.0.0.1:8080}" \
  --data-dir "${OCP_DATA_DIR:-ocp-data}" --local-agent "${OCP_LOCAL_AGENT:-127.0.0.1:62888}" "$@"
