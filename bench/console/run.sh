#!/usr/bin/env bash
# The console at scale: N apps (default 1,000) of 10 instances each, then the app list opened
# in Debian's chromium (tests/browser/console.test.mjs load): prints time to first render,
# filter and page times, JS heap and DOM size. Run by hand.
#
# By default the instances are RUNNING: the master is bench-console-sim (the whole master,
# src/server, with 20 simulated agents from bench/common/agent-sim.c that answer each LAUNCH
# with TASK_RUNNING through the master's update path), and the page is opened once all
# N x 10 tasks run. WAITING=1: a plain `berth master` with no agent (the instances wait).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000}
BUILD=${BUILD:-build}
BIN=${BERTH_BIN:-$BUILD/berth}
[ -x /usr/bin/chromium ] || { echo "bench/console: needs /usr/bin/chromium (scripts/install-deps.sh --test)" >&2; exit 1; }
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund)
work=$(mktemp -d /tmp/bench-console-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$pid" ] && wait $pid 2>/dev/null; rm -rf "$work"' EXIT
if [ "${WAITING:-0}" = 1 ]; then
	[ -x "$BIN" ] || { echo "bench/console: build first (ninja -C $BUILD)" >&2; exit 1; }
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$BIN" master --http 127.0.0.1:$port --store sqlite:$work/state.db 2>$work/master.log &
	pid=$!
	running=0
else
	ninja -C "$BUILD" bench/console/bench-console-sim >/dev/null
	exec 3< <("$BUILD/bench/console/bench-console-sim" "$work" 0 2>$work/master.log)
	pid=$!
	read -r ready port <&3
	[ "$ready" = ready ] || { echo "bench/console: bench-console-sim did not start" >&2; cat $work/master.log >&2; exit 1; }
	running=1
fi
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/ping >/dev/null && break; sleep 0.1; done
echo "bench/console: $(uname -srm), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(chromium --version 2>/dev/null | head -1), $(date -u +%FT%TZ)"
(cd tests/browser && APPS=$N RUNNING=$running BERTH_URL=http://127.0.0.1:$port SCREENSHOT_DIR=$work node console.test.mjs load)
echo "bench/console: master RSS with $N apps: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
