#!/bin/bash
# DESCRIPTION: the runner on fixtures: counts, numbering, attribution of kernel reports, time limit, skips, filters
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 69
# TIMEOUT: 600
#
# The test runner itself: run it on fixtures whose outcome is known (a
# passing test, a failing one, one that exits non-zero, one that prints
# nothing, one that leaves a report in the kernel log, one that hangs)
# and check that it counts, attributes, skips and times out as documented.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
fixtures=$top/tests/harness/fixtures

# nested OUTDIR [FILTER...]: the runner on the fixtures; its status in OUTDIR/rc.
nested() {
	local o=$1 rc=0
	shift
	mkdir -p "$o"
	LOOPMAP_TESTS_DIR=$fixtures LOOPMAP_OUT=$o LOOPMAP_KMEMLEAK=0 LOOPMAP_SCAN_USER=1 \
		TEST_TIMEOUT=5 "$top/tests/run.sh" "$@" >"$o/stdout" 2>&1 || rc=$?
	echo "$rc" >"$o/rc"
}

all_case() {
	local o=$SCRATCH/all tap
	nested "$o" fx
	tap=$o/tap
	assert_eq "summary" "7 passed, 4 failed, 3 skipped" "$(tail -n 1 "$tap")"
	assert_eq "plan" "1..14" "$(tail -n 2 "$tap" | head -n 1)"
	assert "exit status is non-zero" [ "$(cat "$o/rc")" -ne 0 ]
	assert "lines are numbered 1..14 in order" \
		[ "$(grep -E '^(not )?ok ' "$tap" | awk '{ print ($1 == "ok" ? $2 : $3) }' | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 13 14 " ]
	assert "test's own lines carry its name" grep -qx 'ok 1 - fx/a-pass: one' "$tap"
	assert "diagnostics pass through" grep -qx '# a diagnostic' "$tap"
	assert "a not ok line counts as a failure" grep -qx 'not ok 4 - fx/b-fail: broken' "$tap"
	assert "a non-zero exit fails the test" grep -qx 'not ok 5 - fx/c-exit: exited with status 3' "$tap"
	assert "a silent test that exits 0 passes once" grep -qx 'ok 6 - fx/d-silent' "$tap"
	assert "a kernel-log report fails the test that caused it" \
		grep -q '^not ok 8 - fx/e-report: kernel log has reports' "$tap"
	assert "the report is quoted" grep -q '^# .*WARNING: CPU: 0 PID: 1 at selftest/fake.c:1' "$tap"
	assert "a hung test is stopped by the time limit" grep -qx 'not ok 10 - fx/f-hang: timed out after 5s' "$tap"
	assert "the next test is not blamed for the report" grep -qx 'ok 11 - fx/g-after: after' "$tap"
	assert "a missing requirement is a skip, and the test does not run" \
		grep -qx 'ok 12 - fx/h-skip # SKIP needs loopmap-no-such-tool' "$tap"
	assert "a case can skip" grep -qx 'ok 13 - fx/i-skip77: one case # SKIP not on this host fs' "$tap"
	assert "exit status 77 skips the test, with its reason" \
		grep -qx 'ok 14 - fx/i-skip77 # SKIP no device for the rest' "$tap"
	assert "each test's output is kept" grep -qx 'not ok - broken' "$o/logs/fx/b-fail.log"
	assert "each test's time is kept" grep -qx 'fx/a-pass [0-9]*' "$o/times"
	assert "the kernel log is kept" grep -q 'selftest/fake.c:1' "$o/kmsg"
}
run_case "runner: counts, attribution, exit codes, time limit on fixtures" all_case

filter_case() {
	local o=$SCRATCH/filter
	nested "$o" fx/a-pass 'fx/d-*'
	assert_eq "summary" "3 passed, 0 failed, 0 skipped" "$(tail -n 1 "$o/tap")"
	assert_eq "exit status" 0 "$(cat "$o/rc")"
	nested "$SCRATCH/none" no-such-test
	assert_eq "a filter that selects nothing fails" "0 passed, 1 failed, 0 skipped" \
		"$(tail -n 1 "$SCRATCH/none/tap")"
}
run_case "runner: filters select tests; an empty selection fails" filter_case

kern_only_case() {
	local o=$SCRATCH/kern
	mkdir -p "$o"
	LOOPMAP_TESTS_DIR=$fixtures LOOPMAP_OUT=$o LOOPMAP_KMEMLEAK=0 TEST_TIMEOUT=5 \
		"$top/tests/run.sh" fx/e-report >"$o/stdout" 2>&1 || true
	assert_eq "user-space text in /dev/kmsg is not a kernel report" \
		"1 passed, 0 failed, 0 skipped" "$(tail -n 1 "$o/tap")"
}
run_case "runner: only kernel messages count as reports" kern_only_case
