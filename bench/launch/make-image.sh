#!/usr/bin/env bash
# Builds the launch benchmark's container image: an OCI image layout of Debian's static busybox
# (umoci), tarred to $1. Needs umoci and busybox-static (scripts/install-deps.sh --test).
set -euo pipefail
out=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umoci init --layout "$tmp/benchimg"
umoci new --image "$tmp/benchimg:1"
umoci unpack --image "$tmp/benchimg:1" "$tmp/b" >/dev/null
mkdir -p "$tmp/b/rootfs/bin" "$tmp/b/rootfs/tmp"
cp /bin/busybox "$tmp/b/rootfs/bin/busybox"
for a in sh echo sleep; do ln -s busybox "$tmp/b/rootfs/bin/$a"; done
umoci repack --image "$tmp/benchimg:1" "$tmp/b"
tar -C "$tmp/benchimg" -cf "$out" .
