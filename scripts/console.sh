#!/usr/bin/env bash
# Builds the web console (console/dist, which ocp-server embeds): installs Node.js and npm from
# Debian's packages if this machine has no Node.js 18 or newer, then `npm ci` (packages cached
# in ~/.npm, outside the clone) and `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
node_major=$(node -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ] || ! command -v npm >/dev/null; then
  echo "installing Node.js and npm (the console is built with them)"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
cd console
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
