#!/usr/bin/env bash
# Read-path benchmark (issue 12): GET /v2/apps?embed=apps.tasks with APPS apps x TASKS running
# tasks on a real `berth dev`, against nginx serving the same bytes from a file, alternating.
#   bench/read/run.sh [APPS TASKS [--flow] [--verify] [--nginx-workers N] [--perf FILE]]    (default 100 5; C=50 N=2000 ROUNDS=3)
# --flow: status updates flow during the runs (read.py); --verify: every cached answer is
# checked against a render from scratch (slower: measures correctness, not speed).
# Needs ab (apache2-utils), nginx, curl and /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-$ROOT/build-release}
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log"; exit 1; }
fi
ninja -C "$BUILD" berth src/executor/berth-executor >/dev/null ||
	{ ninja -C "$BUILD" berth src/executor/berth-executor; exit 1; }
WORK=$(mktemp -d /tmp/berth-bench-read.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "=== berth read-path benchmark"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build:   release ($BUILD), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
/usr/bin/python3 bench/read/read.py --berth "$BUILD/berth" --work "$WORK" \
	--apps "${1:-100}" --tasks "${2:-5}" -c "${C:-50}" -n "${N:-2000}" --rounds "${ROUNDS:-3}" "${@:3}"
