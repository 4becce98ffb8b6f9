#!/usr/bin/env bash
# bench/scale: scaling up, scaling to 0 and deleting an app of N waiting instances (no
# agent, so none launches), restarting it, timing each and measuring the longest event-loop stall as the
# worst /ping latency seen by a client pinging back to back meanwhile (issue 12).
# usage: bench/scale/run.sh               # N = 10,000, 100,000 and 1,000,000
#        bench/scale/run.sh N...          # other sizes
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-release}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >/dev/null
ninja -C "$BUILD" berth >/dev/null
echo "=== berth scale benchmark"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cpus, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "build:   release ($BUILD); one master, SQLite store, no agent"
exec /usr/bin/python3 bench/scale/scale.py "$BUILD/berth" "$@"
