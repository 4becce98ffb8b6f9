#!/usr/bin/env bash
# Health-check benchmark (issue 4): 1,000 tasks on one agent, each a tiny HTTP server with an
# HTTP health check every second, measured over 60 s: the agent's CPU and RSS, the executors'
# total CPU and PSS. Targets: agent under 10% of one core and under 16 MiB.
#
#   bench/health/run.sh [N] [WINDOW_SECONDS]      (default 1000 tasks, 60 s)
# BUILD=dir picks the build (default /tmp/build-health-rel, set up as a release build).
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${1:-1000}
WINDOW=${2:-60}
BUILD=${BUILD:-/tmp/build-health-rel}
PY=/usr/bin/python3

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log"; exit 1; }
fi
ninja -C "$BUILD" berth src/executor/berth-executor >/dev/null ||
	{ ninja -C "$BUILD" berth src/executor/berth-executor; exit 1; }

WORK=$(mktemp -d /tmp/berth-bench-health.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
gcc -O2 -std=gnu17 -Wall -Wextra -o "$WORK/tiny-http" bench/health/tiny-http.c

echo "=== berth health-check benchmark"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "kernel:    $(uname -sr)"
echo "load:      $(cut -d" " -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews the figures)"
echo "build:     $BUILD"
echo "tasks:     $N instances of bench/health/tiny-http.c, HTTP check GET /health every 1 s, timeout 1 s"
echo
ulimit -n 65536 2>/dev/null || true
$PY bench/health/health.py --berth "$BUILD/berth" --server "$WORK/tiny-http" --work "$WORK" \
	--instances "$N" --window "$WINDOW"
