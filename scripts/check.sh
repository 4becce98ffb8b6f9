#!/usr/bin/env bash
# The body of `make check`: build with -Werror, check the layers (scripts/check-layers.py),
# run the unit tests and fuzz-corpus replays, run the unit tests again under ASan+UBSan, then
# the integration tests against the built binary. Every stage runs even if an earlier one failed (unless there is nothing to test);
# the results of all stages are summed into one last line:
#   N passed, N failed[, N skipped]
# Exit status: 0 only if every stage ran and nothing failed.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
PY=/usr/bin/python3
# Build directories (overridable, so the script can be tried without touching the real ones).
BC=${CHECK_BUILD_DIR:-build-check}
BA=${CHECK_ASAN_DIR:-build-asan}
JUNIT=$BC/integration-junit.xml
# meson test's result logs: the layer check's, the unit tests', the unit tests' under ASan
LAYERS_LOG=$BC/meson-logs/layers.json
UNIT_LOG=$BC/meson-logs/testlog.json
ASAN_LOG=$BA/meson-logs/testlog.json
stage_errors=()

note() { printf '\n=== check: %s\n' "$*"; }
stage_failed() {
	stage_errors+=("$1")
	printf 'check: stage failed: %s\n' "$1" >&2
}

setup_dir() { # DIR ARGS... : configure (or reconfigure) a build dir
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson setup --reconfigure "$dir" "$@"
	else
		rm -rf "$dir"
		meson setup "$dir" "$@"
	fi
}

# 1. Build with -Werror.
note "build ($BC, -Werror)"
built=0
rm -f "$UNIT_LOG" "$LAYERS_LOG" "$JUNIT"
if setup_dir "$BC" -Dwerror=true && ninja -C "$BC"; then
	built=1
else
	stage_failed "build with -Werror"
fi

# 2. The layer check: the meson suite 'layers' (the script and its self-test), counted like
# any test. It reads the sources only, so it runs whenever the build dir is configured, even
# if the build failed.
if [ -f "$BC/build.ninja" ]; then
	note "layer check ($BC)"
	meson test -C "$BC" --no-rebuild --suite layers --logbase layers --print-errorlogs ||
		stage_failed "layer check"
	[ -f "$LAYERS_LOG" ] || stage_failed "layer check left no results"
fi

# 3. Unit tests and fuzz-corpus replays.
if [ $built = 1 ]; then
	note "unit tests and fuzz replays ($BC)"
	meson test -C "$BC" --no-suite layers --print-errorlogs || stage_failed "meson test ($BC)"
	[ -f "$UNIT_LOG" ] || stage_failed "meson test ($BC) left no results"
fi

# 4. The same under ASan+UBSan.
note "unit tests under ASan+UBSan ($BA)"
rm -f "$ASAN_LOG"
if setup_dir "$BA" -Db_sanitize=address,undefined -Db_lundef=false && ninja -C "$BA"; then
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$BA" --no-suite layers --print-errorlogs --timeout-multiplier 3 ||
		stage_failed "meson test ($BA)"
	[ -f "$ASAN_LOG" ] || stage_failed "meson test ($BA) left no results"
else
	stage_failed "build with sanitizers"
fi

# 5. Integration tests against the real binary.
if [ $built = 1 ]; then
	note "integration tests (pytest)"
	# The suites mostly wait on real processes, so they run side by side: one pytest-xdist
	# worker per file at a time (a file's tests share their fixtures), each worker with its
	# own block of agent ports (helpers.port_range). CHECK_JOBS=1 runs them one by one.
	jobs=${CHECK_JOBS:-3}
	par=()
	[ "$jobs" -gt 1 ] && par=(-n "$jobs" --dist loadfile)
	BERTH_BIN=$(realpath "$BC")/berth timeout -k 15 1500 \
		$PY -m pytest tests/integration -q -p no:cacheprovider "${par[@]}" --junitxml="$JUNIT"
	rc=$?
	case $rc in
	0) ;;
	1) stage_failed "integration tests: some failed" ;;
	5) stage_failed "integration tests: no tests collected" ;;
	124 | 137) stage_failed "integration tests: timed out" ;;
	*) stage_failed "integration tests: pytest exit status $rc" ;;
	esac
fi

# 6. Sum every stage's results.
summary=$($PY - "$JUNIT" "$LAYERS_LOG" "$UNIT_LOG" "$ASAN_LOG" <<'EOF'
import json, os, sys
import xml.etree.ElementTree as ET

junit, logs = sys.argv[1], sys.argv[2:]
passed = failed = skipped = 0
for p in logs:
    if not os.path.exists(p):
        continue
    with open(p) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line).get("result", "")
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
if os.path.exists(junit):
    # one verdict per test case (pytest may write a second entry for a teardown error)
    verdict = {}
    for tc in ET.parse(junit).getroot().iter("testcase"):
        key = (tc.get("classname"), tc.get("name"))
        if tc.find("failure") is not None or tc.find("error") is not None:
            v = "failed"
        elif tc.find("skipped") is not None:
            v = "skipped"
        else:
            v = "passed"
        if verdict.get(key) != "failed":
            verdict[key] = v if verdict.get(key) in (None, "passed") or v == "failed" else verdict[key]
    for v in verdict.values():
        if v == "passed":
            passed += 1
        elif v == "failed":
            failed += 1
        else:
            skipped += 1
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
EOF
)
if [ -z "$summary" ]; then
	summary="0 passed, 0 failed"
	stage_errors+=("summing results")
fi

if [ ${#stage_errors[@]} -gt 0 ]; then
	printf '\ncheck: problems: %s\n' "$(IFS=';'; echo "${stage_errors[*]}")" >&2
fi
echo "$summary"
case $summary in
*" 0 failed"*) [ ${#stage_errors[@]} -eq 0 ] && exit 0 ;;
esac
exit 1
