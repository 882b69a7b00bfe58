#!/usr/bin/env bash
# make check: boot the test kernel and run the guest test suites.
#
#   check.sh [FILTER...]    FILTER: a suite ("baseline") or a test
#                           ("baseline/partscan"); none runs them all.
#
# TAP lines stream as the guest writes them; the run ends with one line
# "N passed, N failed".  A guest that hangs, panics or times out counts
# as a failure, never as a hang.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

out=$BUILD/runs/check-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
: >"$out/tap"
msg "results in $out"

tail -n +1 -F "$out/tap" 2>/dev/null | grep --line-buffered -vE '^[0-9]+ passed, [0-9]+ failed$' &
tail_pid=$!
set +e
"$LOOPMAP_TOP/scripts/vm.sh" --kernel test --cpus "${CHECK_CPUS:-2}" --mem "${CHECK_MEM:-3G}" \
	--timeout "${CHECK_TIMEOUT:-3000}" --out "$out" -- tests/run.sh "$@"
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
ln -sfn "$(basename "$out")" "$BUILD/runs/last-check"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
