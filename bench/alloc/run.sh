#!/usr/bin/env bash
# bench/alloc: placement over simulated agents, by the apps framework (alloc.c) and by
# in-process v1 frameworks through real offers (fwsim.c).
# usage: bench/alloc/run.sh                  # the sweeps below
#        bench/alloc/run.sh A F T            # one run: A agents, F apps, T tasks
#        bench/alloc/run.sh --frameworks A F T   # one run: A agents, F frameworks, T tasks
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-release}
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" --buildtype=release >/dev/null
ninja -C "$BUILD" bench/alloc/bench-alloc >/dev/null
bin="$BUILD/bench/alloc/bench-alloc"
echo "=== berth allocation benchmark"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cpus, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), kernel $(uname -r)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "build:   release ($BUILD); agents: cpus 64, mem 256 GiB each; tasks: cpus 0.01, mem 1, no ports"
echo "         every placement is committed to the SQLite store before its LAUNCH is sent"
if [ $# -ge 3 ]; then
	"$bin" "$@"
	exit
fi
echo "--- the apps framework (apps stand for its clients)"
for a in 1000 10000 50000; do "$bin" "$a" 100 100000; done
"$bin" 10000 10 100000
"$bin" 10000 1000 100000
echo "--- v1 frameworks through offers (at most 100,000 framework tasks per master)"
for a in 1000 10000 50000; do "$bin" --frameworks "$a" 100 100000; done
"$bin" --frameworks 10000 10 100000
"$bin" --frameworks 10000 1000 100000
echo "--- 1,000,000 tasks"
"$bin" 10000 100 1000000
