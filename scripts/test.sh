#!/usr/bin/env bash
# Runs every check and test on a fresh machine: installs what the tests need (PostgreSQL,
# Chromium, mariadb-client, Prometheus, python3-venv, Node.js from Debian's packages; the console's npm
# packages; moto's S3 server from PyPI on first use),
# builds the console, then formatting, clippy, the console's checks and the whole test suite
# (which drives the console in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ocp-target}"

if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  echo "installing PostgreSQL (the store suite and the HA tests run a throwaway server)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

if ! command -v chromium >/dev/null || ! command -v mariadb >/dev/null; then
  echo "installing Chromium and mariadb-client (the console's tests drive one and check seekdb with the other)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium mariadb-client >/dev/null
fi
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  echo "installing Prometheus (the tests of --metrics-backend prometheus run a real one)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
if ! python3 -c "import ensurepip" >/dev/null 2>&1; then
  echo "installing python3-venv (the S3 backup tests run moto's server from a virtualenv)"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
fi
bash scripts/console.sh
(cd console && npm run --silent api:check && npm run --silent lint)

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The tests start the real binaries (server, agent, ocpctl): build them first, since cargo
# builds a package's binaries only for that package's own integration tests.
cargo build --workspace --bins
cargo test --workspace
