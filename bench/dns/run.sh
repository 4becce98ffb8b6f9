#!/usr/bin/env bash
# DNS benchmark: berth's DNS server against NSD on the same 1,000 apps' names, alternating,
# then while tasks are replaced. See bench/README.md.
#
#   bench/dns/run.sh [APPS [SECONDS [ROUNDS [CHURN_PER_SEC]]]]   (default 1000 5 3 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build-release}
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" --buildtype=release >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log"; exit 1; }
fi
ninja -C "$BUILD" bench/dns/bench-dns-sim >/dev/null || { ninja -C "$BUILD" bench/dns/bench-dns-sim; exit 1; }
for t in dnsperf nsd; do
	command -v $t >/dev/null || { echo "bench/dns: '$t' is needed (scripts/install-deps.sh)"; exit 1; }
done
exec /usr/bin/python3 bench/dns/run.py "$BUILD" "$@"
