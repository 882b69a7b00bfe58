#!/bin/bash
# The test runner, for guest tests (in the guest) and host tests (on the
# host) alike:  tests/run.sh [FILTER...]
#
# Runs, in the order given, every test selected by a FILTER (an ID such
# as extmap/fill, a suite such as baseline, or a glob; with none, every
# test of $TEST_GROUP).  For each test:
# - a requirement it declares (REQUIRES) that is missing, or exit status
#   77 (tests/lib/case.sh: skip_test), makes it "ok N - ID # SKIP reason";
# - it runs in a process group of its own, with its output in
#   logs/ID.log, for at most its limit: TEST_TIMEOUT if set, else its
#   TIMEOUT header, else 1500 s; past it the whole group is killed and the
#   test fails ("TIMEOUT: 1500 stress=7200" gives the stress group its own);
# - its "ok - what" / "not ok - what" lines are numbered (tests/tap.sh)
#   and get its ID as prefix; a non-zero exit adds a failure, a test that
#   prints nothing and exits 0 passes once;
# - its part of the kernel log is scanned (tests/kernel-reports.sh): in
#   the guest, the guest's own log (kept whole in kmsg as it arrives) and
#   kmemleak (a scan every LOOPMAP_KMEMLEAK_EVERY seconds, below); on
#   the host, the console log of every guest the test booted through
#   scripts/vm.sh, after init started.  A report fails the test.
# - its wall time goes to "times" (ID SECONDS), which scripts/check.sh
#   keeps as the next run's weights, and each case's (tests/lib/case.sh:
#   run_case) to "case-times" (ID SECONDS DESCRIPTION).
# It ends with the TAP plan and "N passed, N failed, N skipped", and
# exits non-zero on any failure.
#
# Results go to $LOOPMAP_OUT (tap, times, case-times, logs/, kmsg).
# TEST_GROUP (auto) is passed on to the tests.  LOOPMAP_TESTS_DIR,
# LOOPMAP_KMEMLEAK=0 and LOOPMAP_SCAN_USER=1 exist for the runner's own
# tests (tests/harness/).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# shellcheck source=tests/testinfo.sh
. "$top/tests/testinfo.sh"
# shellcheck source=tests/kernel-reports.sh
. "$top/tests/kernel-reports.sh"

tests_dir=${LOOPMAP_TESTS_DIR:-$top/tests}
out=${LOOPMAP_OUT:-/tmp/loopmap-out}
export TEST_GROUP=${TEST_GROUP:-auto}
in_guest=${LOOPMAP_GUEST:-0}
mkdir -p "$out/logs"
tap_begin "$out/tap"
: >"$out/times"
: >"$out/case-times"
export LOOPMAP_CASE_TIMES=$out/case-times

# In the guest: the whole kernel log, kept as it arrives, so that no
# report is lost to a wrapped ring buffer.  -x prefixes each line with
# its facility: only "kern" lines can be reports, so nothing a test
# writes to /dev/kmsg fails it (LOOPMAP_SCAN_USER=1 scans those too).
kmsg=$out/kmsg kmsg_pid=
scan_re='^kern'
[ "${LOOPMAP_SCAN_USER:-0}" = 1 ] && scan_re='^(kern|user)'
if [ "$in_guest" = 1 ]; then
	dmesg --follow --decode --nopager >"$kmsg" 2>&1 &
	kmsg_pid=$!
fi
# mark WORD SEQ: a marker in the kernel log.  dmesg copies the log to
# $kmsg in order but behind: reports waits for the end marker there.
mark() {
	[ "$in_guest" = 1 ] || return 0
	echo "loopmap-test: $$ $1 $2" >/dev/kmsg
}

# A kmemleak scan costs 10-30 s in the test guest (TCG; lockdep checks
# kmemleak's own locks): the runner scans after a test once at least
# LOOPMAP_KMEMLEAK_EVERY seconds (600) have passed since the last scan,
# and once more after the last test.  A leak fails the test that ended
# before the scan, naming every test since the scan before it.
kmemleak=/sys/kernel/debug/kmemleak
have_kmemleak=0 kml_every=${LOOPMAP_KMEMLEAK_EVERY:-600} kml_window=()
if [ "$in_guest" = 1 ] && [ -w "$kmemleak" ] && [ "${LOOPMAP_KMEMLEAK:-1}" = 1 ]; then
	have_kmemleak=1
	# Whatever boot left behind is not a test's fault.
	echo scan >"$kmemleak"
	echo clear >"$kmemleak"
fi
kml_last=$EPOCHSECONDS

# limited LIMIT LOG CMD...: CMD in a process group of its own, output to
# LOG; after LIMIT seconds the group gets SIGTERM, 10 s later SIGKILL.
# Returns CMD's status, 124 when it was stopped.
limited() {
	local limit=$1 log=$2 pid sp first rc _
	shift 2
	set -m
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!
	set +m
	sleep "$limit" &
	sp=$!
	wait -n -p first "$pid" "$sp"
	rc=$?
	if [ "$first" = "$pid" ]; then
		kill "$sp" 2>/dev/null
		wait "$sp" 2>/dev/null
		return "$rc"
	fi
	kill -TERM -- -"$pid" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 -- -"$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- -"$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}

# reports ID SEQ: the kernel reports the test ID left.  In the guest one
# awk reads the test's part of $kmsg, from its begin marker to its end
# marker; until dmesg has copied the end marker it exits 3 and is asked
# again (after 10 s, what there is is taken).
reports() {
	if [ "$in_guest" = 1 ]; then
		local i rc=3
		for ((i = 0; i < 100 && rc == 3; i++)); do
			[ $i = 0 ] || sleep 0.1
			awk -v b="loopmap-test: $$ begin $2" -v e="loopmap-test: $$ end $2" \
				-v s="$scan_re" -v r="$LOOPMAP_REPORT_RE" -v last=$((i == 99)) '
				function ends(m) {
					return substr($0, length($0) - length(m) + 1) == m
				}
				on && ends(e) { done = 1; exit }
				on && $0 ~ s && $0 ~ r { found = found $0 "\n" }
				!on && ends(b) { on = 1 }
				END {
					if (!done && !last) exit 3
					printf "%s", found
					if (!done) exit 4
				}' "$kmsg"
			rc=$?
		done
		[ "$rc" = 0 ] || echo "warning: kernel log marker end $2 not seen" >&2
	else
		local c
		[ -f "$out/logs/$1.consoles" ] || return 0
		while IFS= read -r c; do
			[ -f "$c" ] || continue
			# the boot banner names lockdep and kmemleak harmlessly
			sed '1,/as init process/d' "$c" | grep -E "$LOOPMAP_REPORT_RE" | sed "s|^|${c#"$out"/}: |"
		done <"$out/logs/$1.consoles"
	fi
	return 0
}

sel_group=
[ $# -eq 0 ] && sel_group=$TEST_GROUP
mapfile -t tests < <(ti_select "$tests_dir" "$sel_group" "$@")
[ ${#tests[@]} -gt 0 ] || tap_not_ok "no test matches: ${*:-group $TEST_GROUP}"

here=host
[ "$in_guest" = 1 ] && here=guest
# The loop below starts as few processes as it can: in the test guest
# each one costs 0.15-0.5 s, and it runs once per test.
seq_id=0
for id in "${tests[@]}"; do
	seq_id=$((seq_id + 1))
	file=$tests_dir/$id.sh
	log=$out/logs/$id.log
	[ -d "${log%/*}" ] || mkdir -p "${log%/*}"
	_tap_put "# $id"
	ti_get where "$file" WHERE
	ti_unmet why "$file"
	if [ -n "$where" ] && [ "$where" != "$here" ]; then
		why="runs on the $where"
	fi
	if [ -n "$why" ]; then
		tap_skip "$id" "$why"
		continue
	fi
	# "TIMEOUT: 1500 stress=7200": the stress group's limit may differ
	ti_get limit "$file" TIMEOUT
	if [ "$TEST_GROUP" = stress ] && [[ $limit =~ stress=([0-9]+) ]]; then
		limit=${BASH_REMATCH[1]}
	fi
	limit=${TEST_TIMEOUT:-${limit%% *}}
	limit=${limit:-1500}
	[ ! -e "$out/logs/$id.consoles" ] || rm -f "$out/logs/$id.consoles"
	mark begin "$seq_id"
	start=$EPOCHSECONDS
	LOOPMAP_TEST_ID=$id LOOPMAP_CONSOLES=$out/logs/$id.consoles limited "$limit" "$log" "$file"
	rc=$?
	secs=$((EPOCHSECONDS - start))
	kml_window+=("$id")
	scanned=0
	if [ "$have_kmemleak" = 1 ] && [ $((EPOCHSECONDS - kml_last)) -ge "$kml_every" ]; then
		echo scan >"$kmemleak"
		kml_last=$EPOCHSECONDS scanned=1
	fi
	mark end "$seq_id"

	lines=0
	while IFS= read -r line; do
		if tap_line "$line" "$id: "; then
			case $line in "ok"* | "not ok"*) lines=$((lines + 1)) ;; esac
		fi
	done <"$log"
	if [ $rc -eq 124 ]; then
		tap_not_ok "$id: timed out after ${limit}s"
		tail -n 20 "$log" | tap_diag
	elif [ $rc -eq 77 ]; then
		tap_skip "$id" "$(sed -n 's/^# SKIP: //p' "$log" | tail -n 1)"
	elif [ $rc -ne 0 ]; then
		tap_not_ok "$id: exited with status $rc"
		tail -n 20 "$log" | tap_diag
	elif [ $lines -eq 0 ]; then
		tap_ok "$id"
	fi

	found=$(reports "$id" "$seq_id")
	leaks=
	if [ "$scanned" = 1 ]; then
		IFS= read -r -d '' leaks <"$kmemleak" || true
		if [ -n "$leaks" ]; then
			printf '%s' "$leaks" >"$out/logs/$id.kmemleak"
			echo clear >"$kmemleak"
			leaks="kmemleak, one scan after: ${kml_window[*]}"$'\n'$leaks
		fi
		kml_window=()
	fi
	if [ -n "$found" ] || [ -n "$leaks" ]; then
		tap_not_ok "$id: kernel log has reports (see kmsg, console logs, logs/$id.kmemleak)"
		{ printf '%s\n' "$found" | head -n 10; printf '%s\n' "$leaks" | head -n 10; } | grep . | tap_diag
	fi
	echo "$id $secs" >>"$out/times"
	_tap_put "# $id: $secs s"
done

# kmemleak reports only objects older than 5 s: one more scan catches
# what the tests since the last scan, and the last test, may have leaked.
if [ "$have_kmemleak" = 1 ] && [ "$seq_id" -gt 0 ]; then
	sleep 6
	echo scan >"$kmemleak"
	leaks=$(cat "$kmemleak")
	if [ -n "$leaks" ]; then
		printf '%s\n' "$leaks" >"$out/logs/final.kmemleak"
		tap_not_ok "kmemleak: no leak reported after the last test"
		{ echo "tests since the scan before: ${kml_window[*]}"; printf '%s\n' "$leaks"; } |
			head -n 20 | tap_diag
	else
		tap_ok "kmemleak: no leak reported after the last test"
	fi
fi
[ -n "$kmsg_pid" ] && kill "$kmsg_pid" 2>/dev/null
tap_end
[ "$TAP_FAIL" -eq 0 ]
