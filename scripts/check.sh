#!/usr/bin/env bash
# make check: select tests, pack them into guests, run them, merge.
#
#   check.sh [FILTER...]    FILTER: a test ("extmap/fill"), a suite
#                           ("baseline") or a glob ("extmap/f*")
#
# GROUP (make check G=...) selects by group: quick, auto or stress.  With
# no FILTER and no GROUP the run is the auto group (what CI runs); with a
# FILTER and no GROUP, any group.  TEST_GROUP tells the tests which form
# to run (tests/lib/case.sh: by_group): the GROUP, else auto.
#
# The selected tests are packed longest-first into CHECK_GUESTS workers
# (default: the number of cores), weighted by the times the last run of
# the same group saved ($BUILD/test-times/GROUP), else by their DURATION
# header.  A worker boots one guest (1 vCPU; CHECK_CPUS with one worker)
# for its guest tests, one per kernel they need, then runs its host
# tests on the host.  All of them go through tests/run.sh.  The streams
# are merged once, numbered in one sequence (tests/tap.sh), and the run
# ends with "N passed, N failed, N skipped".  A guest that hangs, panics
# or times out (CHECK_TIMEOUT) is a failure, never a hang.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/tap.sh
. "$LOOPMAP_TOP/tests/tap.sh"
# shellcheck source=tests/testinfo.sh
. "$LOOPMAP_TOP/tests/testinfo.sh"

group=${GROUP:-}
[ -z "$group" ] && [ $# -eq 0 ] && group=auto
export TEST_GROUP=${group:-auto}
workers=${CHECK_GUESTS:-$(nproc)}
case $TEST_GROUP in
stress) guest_limit=${CHECK_TIMEOUT:-14400} ;;
*) guest_limit=${CHECK_TIMEOUT:-5400} ;;
esac

mapfile -t ids < <(ti_select "$LOOPMAP_TOP/tests" "$group" "$@")
[ ${#ids[@]} -gt 0 ] || die "no test in ${group:-any group} matches: $*"

# Weights: the last run's times for this group, else DURATION, else 300.
times=$BUILD/test-times/$TEST_GROUP
declare -A weight
for id in "${ids[@]}"; do
	w=$(awk -v id="$id" '$1 == id { w = $2 } END { print w }' "$times" 2>/dev/null || true)
	[ -n "$w" ] || w=$(ti_field "$LOOPMAP_TOP/tests/$id.sh" DURATION)
	weight[$id]=${w:-300}
done

# Longest first, each to the least loaded worker.
declare -a load plan
for ((w = 0; w < workers; w++)); do load[w]=0 plan[w]=; done
while read -r _ id; do
	best=0
	for ((w = 1; w < workers; w++)); do
		[ "${load[w]}" -lt "${load[best]}" ] && best=$w
	done
	load[best]=$((load[best] + weight[$id]))
	plan[best]+=" $id"
done < <(for id in "${ids[@]}"; do echo "${weight[$id]} $id"; done | sort -rn -k1,1 -k2)

out=$BUILD/runs/check-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
msg "results in $out (group ${group:-any}, TEST_GROUP=$TEST_GROUP)"
cpus=1
[ "$workers" = 1 ] && cpus=${CHECK_CPUS:-2}

# worker W: W's guest tests in one guest per kernel, then its host tests.
# Each run goes to $out/wW-KIND (guest) or $out/wW-host; the order of the
# runs is in $out/wW.runs.
worker() {
	local w=$1 id kind k rc
	local -A guest_ids=()
	local host_ids=()
	for id in ${plan[w]}; do
		if [ "$(ti_field "$LOOPMAP_TOP/tests/$id.sh" WHERE)" = host ]; then
			host_ids+=("$id")
		else
			kind=$(ti_field "$LOOPMAP_TOP/tests/$id.sh" KERNEL)
			guest_ids[${kind:-test}]+=" $id"
		fi
	done
	: >"$out/w$w.runs"
	for k in "${!guest_ids[@]}"; do
		echo "w$w-$k" >>"$out/w$w.runs"
		rc=0
		# shellcheck disable=SC2086 # the IDs are words
		# /dev/vda: an ordinary blk-mq disk for tests that need one
		"$LOOPMAP_TOP/scripts/vm.sh" --kernel "$k" --cpus "$cpus" --mem "${CHECK_MEM:-3G}" \
			--disk "check-w$w:256M" --fresh-disks \
			--timeout "$guest_limit" --out "$out/w$w-$k" -- tests/run.sh ${guest_ids[$k]} \
			>"$out/w$w-$k.vm.log" 2>&1 || rc=$?
		echo "$rc" >"$out/w$w-$k.rc"
		msg "worker $w: guest ($k kernel) done, status $rc"
	done
	if [ ${#host_ids[@]} -gt 0 ]; then
		echo "w$w-host" >>"$out/w$w.runs"
		rc=0
		LOOPMAP_OUT=$out/w$w-host "$LOOPMAP_TOP/tests/run.sh" "${host_ids[@]}" \
			>"$out/w$w-host.log" 2>&1 || rc=$?
		echo "$rc" >"$out/w$w-host.rc"
		msg "worker $w: host tests done, status $rc"
	fi
}

pids=()
for ((w = 0; w < workers; w++)); do
	[ -n "${plan[w]}" ] || continue
	msg "worker $w (~${load[w]} s):${plan[w]}"
	worker "$w" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done

# Merge once: every run's lines, numbered in one sequence.
tap_begin "$out/tap"
for ((w = 0; w < workers; w++)); do
	[ -f "$out/w$w.runs" ] || continue
	while read -r run; do
		rc=$(cat "$out/$run.rc" 2>/dev/null || echo 125)
		mkdir -p "$out/$run" && touch "$out/$run/tap"
		while IFS= read -r line; do tap_line "$line" || true; done <"$out/$run/tap"
		if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$out/$run/tap"; then
			case $rc in
			124) why="the guest hit its time limit (${guest_limit}s)" ;;
			125) why="the guest died (panic?) before the runner finished" ;;
			*) why="the runner did not finish (status $rc)" ;;
			esac
			tap_not_ok "run $run: $why; see $out/$run/console.log"
			tail -n 20 "$out/$run/output" 2>/dev/null | tap_diag
		elif [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out/$run/tap"; then
			tap_not_ok "run $run ended with status $rc; see $out/$run/output"
		fi
	done <"$out/w$w.runs"
done
tap_end

# The times of this run are the next run's weights.
mkdir -p "$BUILD/test-times"
cat "$out"/w*/times 2>/dev/null >"$out/times" || true
cat "$out"/w*/case-times 2>/dev/null >"$out/case-times" || true
if [ -s "$out/times" ]; then
	{ cat "$times" 2>/dev/null || true; cat "$out/times"; } |
		awk '{ t[$1] = $2 } END { for (i in t) print i, t[i] }' | sort >"$times.new"
	mv "$times.new" "$times"
fi

ln -sfn "$(basename "$out")" "$BUILD/runs/last-check"
[ "$TAP_FAIL" -eq 0 ]
