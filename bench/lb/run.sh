#!/usr/bin/env bash
# berth lb benchmark (issue 15): a load loop on a vhost through `berth lb` and the Debian
# HAProxy during 20 reloads and 20 scale changes; prints requests sent, failed, reloads, p99.
#
#   bench/lb/run.sh [RELOADS] [SCALES] [CONNECTIONS]      (default 20 20 4)
# BUILD=dir picks the build (default build/).
set -euo pipefail

cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
PY=/usr/bin/python3
ninja -C "$BUILD" berth >/dev/null || { ninja -C "$BUILD" berth; exit 1; }
WORK=$(mktemp -d /tmp/berth-bench-lb.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

echo "=== berth lb benchmark"
echo "date:      $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:   $(nproc) cpus ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
echo "kernel:    $(uname -sr)"
echo "load:      $(cut -d" " -f1-3 /proc/loadavg) (other work on the machine skews the figures)"
echo "haproxy:   $(/usr/sbin/haproxy -v | head -1)"
echo "build:     $BUILD"
echo
$PY bench/lb/lb.py --berth "$BUILD/berth" --work "$WORK" --reloads "${1:-20}" \
	--scales "${2:-20}" --conns "${3:-4}"
