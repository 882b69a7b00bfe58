#!/bin/bash
# DESCRIPTION: the runner on host fixtures: a hung host test is killed at its limit with its guest, a kernel report in its guest's console fails it, a missing requirement skips it
# GROUPS: quick auto
# WHERE: host
# KERNEL: test
# DURATION: 48
# TIMEOUT: 600
#
# tests/run.sh runs host tests the way it runs guest tests.  Fixtures in
# tests/harness/fixtures/hx/: a-hang boots a guest that sleeps and then
# hangs itself (limit 20 s): the runner must fail it and stop the whole
# process group, QEMU included; b-report boots a guest whose kernel dumps
# a stack (fail_make_request, verbose=2): the runner must find it in that
# guest's console log and fail the test; c-skip needs a path that does
# not exist: skipped, never run.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

o=$BUILD/runs/host-harness
rm -rf "$o"
mkdir -p "$o"
runner_rc=0
env -u TEST_TIMEOUT LOOPMAP_TESTS_DIR="$LOOPMAP_TOP/tests/harness/fixtures" LOOPMAP_OUT="$o" \
	"$LOOPMAP_TOP/tests/run.sh" hx >"$o/stdout" 2>&1 || runner_rc=$?
tap=$o/tap

summary_case() {
	assert_eq "summary" "2 passed, 2 failed, 1 skipped" "$(tail -n 1 "$tap")"
	assert "exit status is non-zero" [ "$runner_rc" -ne 0 ]
}
run_case "host runner: counts the fixtures' results" summary_case

hang_case() {
	local pid _
	assert "the hung host test fails at its limit" \
		grep -qx 'not ok 2 - hx/a-hang: timed out after 20s' "$tap"
	pid=$(cat "$o/hang-guest.pid")
	assert "its guest had started (QEMU pid $pid)" [ -n "$pid" ]
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "assertion failed: its guest's QEMU (pid $pid) still runs" >&2
		return 1
	fi
}
run_case "host runner: a hung host test is killed at its limit, with its guest" hang_case

report_case() {
	assert "the test's own line passed" grep -qx 'ok 3 - hx/b-report: the guest ran' "$tap"
	assert "the report in its guest's kernel log fails it" \
		grep -q '^not ok 4 - hx/b-report: kernel log has reports' "$tap"
	assert "the report is quoted from the console log" \
		grep -q '^# report-guest/console.log: .*Call Trace:' "$tap"
}
run_case "host runner: a kernel report in a host test's guest fails that test" report_case

skip_case() {
	assert "a missing requirement skips the test" \
		grep -qx 'ok 5 - hx/c-skip # SKIP needs /nonexistent/loopmap-fixture' "$tap"
}
run_case "host runner: a missing requirement is a skip" skip_case
