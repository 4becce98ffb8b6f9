#!/usr/bin/env bash
# Event bus benchmark: 1,000 SSE subscribers on one master while 10,000 task status updates
# flow; prints delivery latency p50/p99 and the master's RSS, with the conditions. See
# bench/README.md.
#
#   bench/events/run.sh [SUBSCRIBERS [UPDATES]]     (defaults 1000 and 10000)
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
SUBS=${1:-1000}
UPDATES=${2:-10000}
BUILD=${BUILD:-$ROOT/build-release}
PY=/usr/bin/python3

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log"; exit 1; }
fi
ninja -C "$BUILD" berth src/executor/berth-executor >/dev/null ||
	{ ninja -C "$BUILD" berth src/executor/berth-executor; exit 1; }

# each subscriber is one socket here and one in the master (same ulimit, inherited)
want=$((SUBS + 512))
if [ "$(ulimit -n)" -lt "$want" ]; then
	ulimit -n "$want" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi

WORK=$(mktemp -d /tmp/berth-bench-events.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "=== berth event bus benchmark"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "kernel:      $(uname -sr)"
echo "load:        $(cut -d" " -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews the figures)"
echo "build:       $(meson introspect --buildoptions "$BUILD" 2>/dev/null |
	$PY -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null ||
	echo '?') ($BUILD)"
echo "ulimit -n:   $(ulimit -n)"
echo "setup:       berth dev (master+agent in one process); $SUBS subscribers with"
echo "             ?event_type=status_update_event on the same machine (python selectors,"
echo "             4 processes); an app of 'exec sleep 3600' tasks scaled 0 -> 250 -> 0 until"
echo "             $UPDATES status updates have flowed"
echo
$PY bench/events/events.py --berth "$BUILD/berth" --work "$WORK" --subscribers "$SUBS" \
	--updates "$UPDATES"
