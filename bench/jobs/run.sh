#!/usr/bin/env bash
# bench/jobs: N Chronos jobs every minute on the real jobs framework and resource manager,
# simulated agents (jobs.c). usage: bench/jobs/run.sh [JOBS [MINUTES [AGENTS]]]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-release}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >/dev/null
ninja -C "$BUILD" bench/jobs/bench-jobs >/dev/null
echo "=== berth jobs benchmark"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cpus, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "build:   release ($BUILD); every run is recorded in the SQLite store before its LAUNCH"
"$BUILD/bench/jobs/bench-jobs" "${1:-10000}" "${2:-2}" "${3:-100}"
