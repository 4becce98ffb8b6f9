#!/usr/bin/env bash
# bench/alloc: the apps framework's placement over simulated agents (see alloc.c).
# usage: bench/alloc/run.sh            # 1k/10k/50k agents × 100 apps × 100k tasks, then 1M tasks on 10k agents
#        bench/alloc/run.sh A F T      # one run: A agents, F apps, T tasks
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
if [ $# -eq 3 ]; then
	"$bin" "$1" "$2" "$3"
	exit
fi
for a in 1000 10000 50000; do "$bin" "$a" 100 100000; done
"$bin" 10000 10 100000
"$bin" 10000 1000 100000
"$bin" 10000 100 1000000
