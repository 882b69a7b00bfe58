#!/bin/bash
# Guest-side test runner:  tests/run.sh [FILTER...]
#
# Runs every executable tests/SUITE/NAME.sh whose "SUITE" or "SUITE/NAME"
# starts with one of the FILTERs (all of them when none is given).  A test
# prints TAP-style lines "ok - what" / "not ok - what" (and "# ..."
# diagnostics); the runner numbers them, adds a "not ok" for a test that
# exits non-zero or times out, and after each test scans the kernel log
# (and kmemleak, where the kernel has it): a WARNING, BUG, Oops, lockdep,
# KASAN or kmemleak report fails that test.  It ends with the TAP plan
# and one line "N passed, N failed", and exits non-zero on any failure.
#
# Results go to $LOOPMAP_OUT: tap (the lines above), logs/SUITE/NAME.log,
# kmsg (the whole kernel log).  TEST_TIMEOUT (1500) limits each test;
# LOOPMAP_TESTS_DIR, LOOPMAP_KMEMLEAK=0 and LOOPMAP_SCAN_USER=1 exist for
# the runner's own self-test (tests/harness/runner.sh).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tests_dir=${LOOPMAP_TESTS_DIR:-$top/tests}
out=${LOOPMAP_OUT:-/tmp/loopmap-out}
tap=$out/tap
timeout_s=${TEST_TIMEOUT:-1500}
mkdir -p "$out/logs"
: >"$tap"

n=0 pass=0 fail=0
emit() { # STATUS DESCRIPTION: STATUS is "ok" or "not ok"
	n=$((n + 1))
	if [ "$1" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	printf '%s %d - %s\n' "$1" "$n" "$2" | tee -a "$tap"
}
diag() { sed 's/^/# /' | tee -a "$tap"; }

# The whole kernel log, kept as it arrives, so that no report is lost
# to a wrapped ring buffer.
kmsg=$out/kmsg
# -x prefixes each line with its facility: only "kern" lines can be
# reports, so nothing a test writes to /dev/kmsg fails it (the runner's
# own self-test sets LOOPMAP_SCAN_USER=1 to scan those too).
dmesg --follow --decode --nopager >"$kmsg" 2>&1 &
kmsg_pid=$!
mark() { # WORD ID: write a marker into the kernel log, wait until it is in $kmsg
	echo "loopmap-test: $$ $1 $2" >/dev/kmsg
	local _
	for _ in $(seq 100); do
		grep -q "loopmap-test: $$ $1 $2\$" "$kmsg" && return 0
		sleep 0.1
	done
	echo "warning: kernel log marker $1 $2 not seen" >&2
}
# What counts as a kernel report.  "Call Trace:" catches every stack dump.
scan_re='^kern'
[ "${LOOPMAP_SCAN_USER:-0}" = 1 ] && scan_re='^(kern|user)'
# shellcheck source=tests/kernel-reports.sh
. "$top/tests/kernel-reports.sh"
report_re=$LOOPMAP_REPORT_RE

kmemleak=/sys/kernel/debug/kmemleak
have_kmemleak=0
if [ -w "$kmemleak" ] && [ "${LOOPMAP_KMEMLEAK:-1}" = 1 ]; then
	have_kmemleak=1
	# Whatever boot left behind is not a test's fault.
	echo scan >"$kmemleak"
	echo clear >"$kmemleak"
fi

selected() { # ID: does a FILTER select the test ID (SUITE/NAME)?
	[ $# -gt 0 ] || return 1
	local id=$1 f
	shift
	[ $# -eq 0 ] && return 0
	for f in "$@"; do
		case $id in "$f"*) return 0 ;; esac
	done
	return 1
}

tests=()
for t in "$tests_dir"/*/*.sh; do
	[ -x "$t" ] || continue
	id=${t#"$tests_dir"/}
	id=${id%.sh}
	# tests/host/ runs on the host (scripts/check.sh), not in the guest.
	case $id in host/*) continue ;; esac
	selected "$id" "$@" && tests+=("$id")
done
if [ ${#tests[@]} -eq 0 ]; then
	emit "not ok" "no test matches: $*"
fi

seq_id=0
for id in "${tests[@]}"; do
	seq_id=$((seq_id + 1))
	log=$out/logs/$id.log
	mkdir -p "$(dirname "$log")"
	echo "# $id" | tee -a "$tap"
	mark begin "$seq_id"
	start=$(date +%s)
	timeout -k 10 "$timeout_s" "$tests_dir/$id.sh" >"$log" 2>&1
	rc=$?
	[ "$have_kmemleak" = 1 ] && echo scan >"$kmemleak"
	mark end "$seq_id"

	lines=0
	while IFS= read -r line; do
		case $line in
		"ok - "*) emit ok "$id: ${line#ok - }"; lines=$((lines + 1)) ;;
		"not ok - "*) emit "not ok" "$id: ${line#not ok - }"; lines=$((lines + 1)) ;;
		"#"*) printf '%s\n' "$line" | tee -a "$tap" ;;
		esac
	done <"$log"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		emit "not ok" "$id: timed out after ${timeout_s}s"
		tail -n 20 "$log" | diag
	elif [ $rc -ne 0 ]; then
		emit "not ok" "$id: exited with status $rc"
		tail -n 20 "$log" | diag
	elif [ $lines -eq 0 ]; then
		emit ok "$id"
	fi

	reports=$(awk -v b="loopmap-test: $$ begin $seq_id\$" -v e="loopmap-test: $$ end $seq_id\$" '
		$0 ~ e { exit } on { print } $0 ~ b { on = 1 }' "$kmsg" |
		grep -E "$scan_re" | grep -E "$report_re")
	leaks=
	if [ "$have_kmemleak" = 1 ]; then
		leaks=$(cat "$kmemleak")
		if [ -n "$leaks" ]; then
			printf '%s\n' "$leaks" >"$out/logs/$id.kmemleak"
			echo clear >"$kmemleak"
		fi
	fi
	if [ -n "$reports" ] || [ -n "$leaks" ]; then
		emit "not ok" "$id: kernel log has reports (see kmsg and logs/$id.kmemleak)"
		{ printf '%s\n' "$reports" | head -n 10; printf '%s\n' "$leaks" | head -n 10; } | grep . | diag
	fi
	echo "# $id: $(($(date +%s) - start)) s" | tee -a "$tap"
done

# kmemleak reports only objects older than 5 s: one more scan catches
# what the last test may have leaked.
if [ "$have_kmemleak" = 1 ] && [ ${#tests[@]} -gt 0 ]; then
	sleep 6
	echo scan >"$kmemleak"
	leaks=$(cat "$kmemleak")
	if [ -n "$leaks" ]; then
		printf '%s\n' "$leaks" >"$out/logs/final.kmemleak"
		emit "not ok" "kmemleak: no leak reported after the last test"
		printf '%s\n' "$leaks" | head -n 20 | diag
	else
		emit ok "kmemleak: no leak reported after the last test"
	fi
fi
kill "$kmsg_pid" 2>/dev/null
echo "1..$n" | tee -a "$tap"
echo "$pass passed, $fail failed" | tee -a "$tap"
[ "$fail" -eq 0 ]
