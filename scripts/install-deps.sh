#!/usr/bin/env bash
# Installs what berth needs to build, run and test, from Debian's packages only.
# Packages already present are skipped; apt-get runs only when something is missing.
set -euo pipefail

build_pkgs=(gcc make meson ninja-build pkg-config libevent-dev libjansson-dev libsqlite3-dev libssl-dev
	libcurl4-openssl-dev libcmocka-dev libzookeeper-mt-dev tzdata zlib1g-dev
	libprotobuf-c-dev protobuf-c-compiler)
test_pkgs=(python3 bind9-dnsutils python3-pytest python3-pytest-xdist python3-requests procps iproute2 curl openssl etcd-server etcd-client python3-kazoo
	postgresql zookeeper)
# The console's browser tests (tests/browser): Debian's chromium, driven from node by
# playwright-core (npm ci, run by the tests). npm comes with some nodejs builds, not Debian's.
test_pkgs+=(chromium nodejs)
command -v npm >/dev/null 2>&1 || test_pkgs+=(npm)
# berth lb's tests and bench drive a real HAProxy.
test_pkgs+=(haproxy)
# The DNS forwarding test's upstream, and bench/dns's yardstick.
test_pkgs+=(nsd)
# Container images (tests/integration/test_images.py): crun runs them; the tests build a
# busybox image with umoci and push it with skopeo into a loopback docker-registry.
test_pkgs+=(crun umoci skopeo docker-registry busybox-static)
# examples/galera.json's test: a MariaDB Galera cluster (rsync for its state transfers).
test_pkgs+=(mariadb-server mariadb-client galera-4 rsync python3-pymysql)
# scripts/fuzz.sh: libFuzzer with ASan and UBSan.
test_pkgs+=(clang libclang-rt-14-dev)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
	want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
