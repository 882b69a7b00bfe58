#!/usr/bin/env bash
# make check: boot the test kernel and run the guest test suites, then
# the host-side tests (tests/host/: they boot guests of their own).
#
#   check.sh [FILTER...]    FILTER: a suite ("baseline") or a test
#                           ("baseline/partscan", "host/vm-limits");
#                           none runs everything.
#
# TAP lines stream as they come; the run ends with one line
# "N passed, N failed".  A guest that hangs, panics or times out counts
# as a failure, never as a hang.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

guest_filters=() host_tests=()
run_guest=1
if [ $# -gt 0 ]; then
	run_guest=0
	for f in "$@"; do
		case $f in
		host*) ;;
		*) guest_filters+=("$f"); run_guest=1 ;;
		esac
	done
fi
for t in "$LOOPMAP_TOP"/tests/host/*.sh; do
	id=host/$(basename "$t" .sh)
	if [ $# -eq 0 ]; then host_tests+=("$id"); continue; fi
	for f in "$@"; do
		case $id in "$f"*) host_tests+=("$id"); break ;; esac
	done
done

out=$BUILD/runs/check-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
: >"$out/tap"
msg "results in $out"
passed=0 failed=0 n=0

# The guest tests run in two guests side by side, one vCPU each: most of
# their time is one process at a time under TCG, so two guests nearly
# halve the wall time on two cores.  "a" runs the baseline suite and
# extmap/replay, then the host tests run; "b" runs everything else.
# CHECK_GUESTS=1 runs one guest with CHECK_CPUS vCPUs, as before.
groups=()
if [ "$run_guest" = 1 ]; then
	if [ "${CHECK_GUESTS:-2}" -ge 2 ] && [ ${#guest_filters[@]} -eq 0 ]; then
		groups=(a b)
		filters_a=(baseline extmap/replay)
		filters_b=()
		for t in "$LOOPMAP_TOP"/tests/*/*.sh; do
			t=${t#"$LOOPMAP_TOP"/tests/}
			case $t in baseline/* | host/* | extmap/replay.sh) ;; *) filters_b+=("${t%.sh}") ;; esac
		done
	else
		groups=(a)
		filters_a=("${guest_filters[@]}")
	fi
fi

# guest NAME VCPUS FILTERS...: one guest run of tests/run.sh into $out/NAME
guest() {
	local name=$1 cpus=$2 rc=0
	shift 2
	"$LOOPMAP_TOP/scripts/vm.sh" --kernel test --cpus "$cpus" --mem "${CHECK_MEM:-3G}" \
		--timeout "${CHECK_TIMEOUT:-3600}" --out "$out/$name" -- tests/run.sh "$@" \
		>"$out/$name.vm.log" 2>&1 || rc=$?
	echo "$rc" >"$out/$name.rc"
}

# host_tests: run each host test, its TAP lines into $out/host-*.log
host_tests() {
	local id
	for id in "${host_tests[@]}"; do
		set +e
		"$LOOPMAP_TOP/tests/$id.sh" >"$out/host-${id#host/}.log" 2>&1
		echo $? >"$out/host-${id#host/}.rc"
		set -e
	done
}

cpus=${CHECK_CPUS:-2}
[ ${#groups[@]} -eq 2 ] && cpus=1
pids=()
if [ ${#groups[@]} -ge 1 ]; then
	msg "guest a: ${filters_a[*]:-all tests}"
	(guest a "$cpus" "${filters_a[@]}"; [ ${#groups[@]} -eq 2 ] && host_tests) &
	pids+=($!)
fi
if [ ${#groups[@]} -eq 2 ]; then
	msg "guest b: ${filters_b[*]}"
	guest b 1 "${filters_b[@]}" &
	pids+=($!)
fi
for p in "${pids[@]}"; do wait "$p" || true; done
[ ${#groups[@]} -eq 2 ] || host_tests

# Merge: number the guests' lines in one sequence.
for g in "${groups[@]}"; do
	rc=$(cat "$out/$g.rc" 2>/dev/null || echo 125)
	mkdir -p "$out/$g" && touch "$out/$g/tap"
	summary=0
	while IFS= read -r line; do
		case $line in
		"ok "[0-9]*) n=$((n + 1)); passed=$((passed + 1)); echo "ok $n ${line#ok [0-9]* }" ;;
		"not ok "[0-9]*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n ${line#not ok [0-9]* }" ;;
		[0-9]*" passed, "[0-9]*" failed") summary=1 ;;
		"1.."*) ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$out/$g/tap"
	if [ "$summary" = 0 ]; then
		case $rc in
		124) why="the guest hit its time limit" ;;
		125) why="the guest died (panic?) before the runner finished" ;;
		*) why="the runner did not finish (status $rc)" ;;
		esac
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n - guest run $g: $why; see $out/$g/console.log"
		tail -n 20 "$out/$g/output" 2>/dev/null | sed 's/^/# /'
	elif [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out/$g/tap"; then
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n - guest run $g ended with status $rc; see $out/$g/output"
	fi
done | tee -a "$out/tap" || true
passed=$(grep -c '^ok ' "$out/tap" || true)
failed=$(grep -c '^not ok ' "$out/tap" || true)
n=$((passed + failed))

for id in "${host_tests[@]}"; do
	echo "# $id"
	rc=$(cat "$out/host-${id#host/}.rc" 2>/dev/null || echo 1)
	touch "$out/host-${id#host/}.log"
	while IFS= read -r line; do
		case $line in
		"ok - "*) n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $id: ${line#ok - }" ;;
		"not ok - "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $id: ${line#not ok - }" ;;
		"#"*) printf '%s\n' "$line" ;;
		esac
	done <"$out/host-${id#host/}.log"
	if [ "$rc" -ne 0 ]; then
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n - $id: exited with status $rc"
	fi
done | tee -a "$out/tap" || true
passed=$(grep -c '^ok ' "$out/tap" || true)
failed=$(grep -c '^not ok ' "$out/tap" || true)

ln -sfn "$(basename "$out")" "$BUILD/runs/last-check"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
