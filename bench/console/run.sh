#!/usr/bin/env bash
# The console at scale: a berth master with N apps (default 1,000) of 10 waiting instances
# each, then the app list opened in Debian's chromium (tests/browser/console.test.mjs load):
# prints time to first render, filter and page times, JS heap and DOM size. Run by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000}
BIN=${BERTH_BIN:-build/berth}
[ -x "$BIN" ] || { echo "bench/console: build first (ninja -C build)" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "bench/console: needs /usr/bin/chromium (scripts/install-deps.sh --test)" >&2; exit 1; }
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund)
work=$(mktemp -d /tmp/bench-console-XXXXXX)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" master --http 127.0.0.1:$port --store sqlite:$work/state.db 2>$work/master.log &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.1; done
echo "bench/console: $(uname -srm), $(nproc) cores, $(chromium --version 2>/dev/null | head -1), $(date -u +%FT%TZ)"
(cd tests/browser && APPS=$N BERTH_URL=http://127.0.0.1:$port SCREENSHOT_DIR=$work node console.test.mjs load)
echo "bench/console: master RSS with $N apps: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
