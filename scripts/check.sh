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
passed=0 failed=0

if [ "$run_guest" = 1 ]; then
	tail -n +1 -F "$out/tap" 2>/dev/null | grep --line-buffered -vE '^[0-9]+ passed, [0-9]+ failed$' &
	tail_pid=$!
	set +e
	"$LOOPMAP_TOP/scripts/vm.sh" --kernel test --cpus "${CHECK_CPUS:-2}" --mem "${CHECK_MEM:-3G}" \
		--timeout "${CHECK_TIMEOUT:-3000}" --out "$out" -- tests/run.sh "${guest_filters[@]}"
	rc=$?
	set -e
	sleep 1
	kill "$tail_pid" 2>/dev/null || true
	wait "$tail_pid" 2>/dev/null || true

	passed=$(grep -c '^ok ' "$out/tap" || true)
	failed=$(grep -c '^not ok ' "$out/tap" || true)
	if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$out/tap"; then
		case $rc in
		124) why="the guest hit its time limit" ;;
		125) why="the guest died (panic?) before the runner finished" ;;
		*) why="the runner did not finish (status $rc)" ;;
		esac
		echo "not ok - guest run: $why; see $out/console.log"
		tail -n 20 "$out/output" 2>/dev/null | sed 's/^/# /'
		failed=$((failed + 1))
	elif [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "not ok - guest run ended with status $rc; see $out/output"
		failed=$((failed + 1))
	fi
fi

n=$((passed + failed))
for id in "${host_tests[@]}"; do
	echo "# $id"
	set +e
	"$LOOPMAP_TOP/tests/$id.sh" >"$out/host-${id#host/}.log" 2>&1
	rc=$?
	set -e
	while IFS= read -r line; do
		case $line in
		"ok - "*) n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $id: ${line#ok - }" ;;
		"not ok - "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $id: ${line#not ok - }" ;;
		"#"*) printf '%s\n' "$line" ;;
		esac
	done <"$out/host-${id#host/}.log"
	if [ $rc -ne 0 ]; then
		n=$((n + 1)); failed=$((failed + 1))
		echo "not ok $n - $id: exited with status $rc"
	fi
done

ln -sfn "$(basename "$out")" "$BUILD/runs/last-check"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
