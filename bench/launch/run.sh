#!/usr/bin/env bash
# Launch benchmark: how fast does berth really start 1,000 tasks on this machine, and what
# does it cost in memory? Prints the figures beside the machine's spawn floor and the
# conditions they were taken in. See bench/README.md.
#
#   bench/launch/run.sh [N]        (default N=1000; SPLIT=0 skips the master+agent variant,
#                                   ISO=0 the isolated-vs-plain rounds, which need root,
#                                   IMG=0 the containers-vs-plain rounds (root, crun, umoci),
#                                   ISO_ROUNDS=n the isolated/plain alternations (default 2))
# Ends with issue 14's table: plain N vs isolated N (each round), plain IMG_N vs IMG_N
# containers from one image with a cold and a warm image store.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${1:-1000}
BUILD=${BUILD:-$ROOT/build-release}
SPLIT=${SPLIT:-1}
PY=/usr/bin/python3

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log"; exit 1; }
fi
# only what the benchmark runs: the daemon and the executor shim
ninja -C "$BUILD" berth src/executor/berth-executor src/image/berth-image >/dev/null ||
	{ ninja -C "$BUILD" berth src/executor/berth-executor src/image/berth-image; exit 1; }

WORK=$(mktemp -d /tmp/berth-bench-launch.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
RES=$WORK/results.jsonl
gcc -O2 -std=gnu17 -Wall -Wextra -o "$WORK/spawn-floor" bench/launch/spawn-floor.c

echo "=== berth launch benchmark"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "kernel:    $(uname -sr)"
echo "load:      $(cut -d" " -f1-3 /proc/loadavg) (1, 5, 15 min; other work on the machine skews the figures)"
echo "build:     $(meson introspect --buildoptions "$BUILD" 2>/dev/null |
	$PY -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))' 2>/dev/null ||
	echo '?') ($BUILD), berth $(meson introspect --projectinfo "$BUILD" 2>/dev/null |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["version"])' 2>/dev/null || echo '?')"
echo "tasks:     $N instances, cpus 0.001, mem 1, cmd 'echo started >> MARKER; exec sleep 3600'"
echo

echo "--- floor: a tiny C program fork+exec'ing $N processes"
"$WORK/spawn-floor" "$N"
"$WORK/spawn-floor" "$N" "$WORK/floor-marker"
echo

$PY bench/launch/launch.py --berth "$BUILD/berth" --work "$WORK" --instances "$N"
if [ "$SPLIT" = 1 ]; then
	echo
	$PY bench/launch/launch.py --berth "$BUILD/berth" --work "$WORK" --instances "$N" --split
fi
if [ "${ISO:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then
	# The same launch with every task in its own cgroup and pid+mount namespaces, against
	# the plain one, alternating (plain, isolated, plain, isolated) so that load elsewhere
	# on the machine hits both alike.
	for round in $(seq 1 "${ISO_ROUNDS:-2}"); do
		echo
		$PY bench/launch/launch.py --berth "$BUILD/berth" --work "$WORK" --instances "$N" --split \
			--result "$RES" --label "plain processes, round $round"
		echo
		$PY bench/launch/launch.py --berth "$BUILD/berth" --work "$WORK" --instances "$N" \
			--split --isolation cgroups,namespaces \
			--result "$RES" --label "cgroups + namespaces, round $round"
	done
fi
if [ "${IMG:-1}" = 1 ] && [ "$(id -u)" = 0 ] && command -v crun >/dev/null &&
	command -v umoci >/dev/null; then
	# Containers: IMG_N tasks (default 100) in one busybox image through crun, against the
	# same number of plain processes: first with an empty image store (the first shim imports
	# and unpacks the image; the others wait for it), then with the store that run filled.
	IN=${IMG_N:-100}
	mkdir -p "$WORK/images"
	bench/launch/make-image.sh "$WORK/images/benchimg.tar"
	echo
	$PY bench/launch/launch.py --berth "$BUILD/berth" --work "$WORK" --instances "$IN" --split \
		--result "$RES" --label "plain processes"
	for cache in cold warm; do
		echo
		$PY bench/launch/launch.py --berth "$BUILD/berth" --work "$WORK" --instances "$IN" \
			--split --image-tar "$WORK/images/benchimg.tar" --image-store "$WORK/store" \
			--result "$RES" --label "containers (crun), $cache image store"
	done
fi
if [ -s "$RES" ]; then
	echo
	echo "=== issue 14: isolation and containers against plain processes (master + agent)"
	$PY - "$RES" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| tasks | run | started (marker) | TASK_RUNNING in the API | executors' PSS/task |")
print("|---|---|---|---|---|")
f = lambda v: "%.2f s" % v if v is not None else "not reached"
for r in rows:
    print("| %d | %s | %s | %s | %s |" % (r["n"], r["label"], f(r["started"]), f(r["running"]),
          "%.3f MiB" % r["pss_mib"] if r["pss_mib"] is not None else "-"))
EOF
fi
