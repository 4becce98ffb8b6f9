#!/usr/bin/env bash
# The fuzzing campaign: every target of tests/fuzz under libFuzzer, with AddressSanitizer and
# UndefinedBehaviorSanitizer, for a given time each; prints per target the executions, the
# coverage (libFuzzer's cov: edges and ft: features) and the result.
#
#   scripts/fuzz.sh [-t SECONDS] [-n EXECS] [-j JOBS] [TARGET...]
#
# -t: time per target (default 60 s; 0 = no limit when -n is given); -n: stop each target after
# EXECS executions (libFuzzer's -runs; with -j, per job). With -n alone, the time limit is off:
# `scripts/fuzz.sh -n 10000000` is the campaign the security issue asks for.
#
# The whole tree is built once in build-fuzz/ with clang (-fsanitize=fuzzer-no-link on every
# file, so the libraries' code is coverage-guided too; the targets link libFuzzer). New inputs
# go to a scratch corpus under build-fuzz/fuzz-corpus/<target>/ seeded from
# tests/fuzz/corpus/<target>/; crashes to build-fuzz/fuzz-crashes/<target>/ (copy the ones
# worth keeping into tests/fuzz/corpus/, where they replay as ordinary tests). Exit status:
# 0 when no target crashed, 1 otherwise. Needs clang and libclang-rt-14-dev (install-deps.sh).
set -euo pipefail

secs=
runs=
jobs=1
while getopts "t:n:j:h" o; do
	case "$o" in
	t) secs=$OPTARG ;;
	n) runs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	*) sed -n '2,18p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "$secs" ]; then
	if [ -n "$runs" ]; then secs=0; else secs=60; fi
fi

root=$(cd "$(dirname "$0")/.." && pwd)
b="$root/build-fuzz"
if [ ! -f "$b/build.ninja" ]; then
	CC=clang CFLAGS="-fsanitize=fuzzer-no-link" \
		meson setup "$b" "$root" --buildtype=debugoptimized -Dfuzz=true -Dtests=disabled \
		-Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$b" >/dev/null

if [ $# -eq 0 ]; then
	set -- $(cd "$root/tests/fuzz" && ls fuzz-*.c | sed 's/\.c$//')
fi

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
printf '%-24s %12s %10s %7s %8s %8s  %s\n' target execs execs/s secs cov ft result
bad=0
for t in "$@"; do
	exe="$b/tests/fuzz/$t-libfuzzer"
	if [ ! -x "$exe" ]; then
		printf '%-24s %s\n' "$t" "no libFuzzer binary ($exe)"
		bad=1
		continue
	fi
	scratch="$b/fuzz-corpus/$t"
	crashes="$b/fuzz-crashes/$t"
	mkdir -p "$scratch" "$crashes"
	log="$b/fuzz-logs/$t.log"
	mkdir -p "$(dirname "$log")"
	seed="$root/tests/fuzz/corpus/$t"
	[ -d "$seed" ] || seed=
	rc=0
	par=()
	[ "$jobs" -gt 1 ] && par=(-jobs="$jobs" -workers="$jobs")
	# (cd: with -jobs, libFuzzer writes fuzz-N.log files into the current directory)
	lim=(-max_total_time="$secs")
	[ -n "$runs" ] && lim+=(-runs="$runs")
	t0=$(date +%s)
	(cd "$(dirname "$log")" && "$exe" "${lim[@]}" "${par[@]}" \
		-print_final_stats=1 -artifact_prefix="$crashes/" -rss_limit_mb=2048 -timeout=10 \
		"$scratch" ${seed:+"$seed"}) >"$log" 2>&1 || rc=$?
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
	rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}')
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
	if [ "$rc" -eq 0 ]; then
		res=ok
	else
		res="CRASH (exit $rc; $log, $crashes)"
		bad=1
	fi
	printf '%-24s %12s %10s %7s %8s %8s  %s\n' "$t" "$execs" "$rate" "$(($(date +%s) - t0))" \
		"${cov:--}" "${ft:--}" "$res"
done
exit $bad
