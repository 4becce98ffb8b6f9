#!/usr/bin/env bash
# Load benchmark (issue 16): CLIENTS API clients (reads and writes mixed) and SUBS /v2/events
# subscribers for DURATION s against a `berth master` with APPS apps and one agent, plain
# HTTP then mutual TLS. See bench/load/README.md.
#   bench/load/run.sh [--duration S] [--clients N] [--subs N] [--apps N] [--workers N] [--tls off|on|both]
# Needs openssl and /usr/bin/python3; raises its ulimit -n (the master inherits it).
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
WORK=$(mktemp -d /tmp/berth-bench-load.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
ulimit -n "$(ulimit -Hn)"
# A CA, the master's certificate (naming 127.0.0.1) and a client certificate for mTLS.
C=$WORK/certs
mkdir -p "$C"
ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/ca-key.pem" \
	-out "$C/ca.pem" -days 2 -subj /CN=bench-ca
for n in master client; do
	ssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$C/$n-key.pem" \
		-out "$C/$n.csr" -subj "/CN=$n"
	echo "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$C/$n.ext"
	ssl x509 -req -in "$C/$n.csr" -CA "$C/ca.pem" -CAkey "$C/ca-key.pem" -CAcreateserial \
		-out "$C/$n.pem" -days 2 -extfile "$C/$n.ext"
done
echo "=== berth load benchmark"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine: $(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "build:   release ($BUILD), $(git rev-parse --short HEAD 2>/dev/null || echo '?'); ulimit -n $(ulimit -n)"
/usr/bin/python3 bench/load/load.py --berth "$BUILD/berth" --work "$WORK" --certs "$C" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"; [ -z "${KEEP:-}" ] || echo "kept: $WORK"
