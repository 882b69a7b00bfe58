# shellcheck shell=bash
# The case framework, the bottom layer of tests/lib.sh.
#
# A test is a list of cases; each case prints exactly one TAP line.
# run_case runs a case function in a subshell with errexit: the first
# failing command or assert fails the case, the next case still runs.
set -euo pipefail

SCRATCH=${TMPDIR:-/tmp}/loopmap-test.$$

# assert WHAT COMMAND...: fail the case, saying WHAT, unless COMMAND succeeds.
assert() {
	local what=$1
	shift
	if ! "$@"; then
		echo "assertion failed: $what" >&2
		return 1
	fi
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" != "$3" ]; then
		echo "assertion failed: $1: expected '$2', got '$3'" >&2
		return 1
	fi
}

# assert_fails WHAT COMMAND...: COMMAND must fail.
assert_fails() {
	local what=$1
	shift
	if "$@"; then
		echo "assertion failed: $what (the command succeeded)" >&2
		return 1
	fi
}

# Undo whatever a case left: mounts under /mnt, loop devices, the host fs,
# device-mapper devices (resumed first: a case may have left one
# suspended, and sync would wait for it).  Only in the guest
# (scripts/guest-init.sh sets LOOPMAP_GUEST): on the host, cases
# (tests/host/) never touch mounts or devices.  It runs after every case,
# so it reads sysfs and /proc itself and starts a tool only when there is
# something for it to do: in the guest each process start costs
# 0.15-0.5 s.
cleanup_case() {
	local f m mnts=() dms=()
	if [ "${LOOPMAP_GUEST:-0}" != 1 ]; then
		rm -rf "$SCRATCH"
		return 0
	fi
	for f in /sys/block/dm-*/dm/name; do
		[ -e "$f" ] || continue
		read -r m <"$f"
		dms+=("$m")
	done
	for m in "${dms[@]}"; do
		dmsetup resume --noudevsync "$m" 2>/dev/null || true
	done
	sync
	# the mounts under /mnt, newest first (the table is in mount order)
	while read -r _ m _; do
		if [[ $m == /mnt/* ]]; then mnts=("$m" "${mnts[@]}"); fi
	done </proc/self/mounts
	for m in "${mnts[@]}"; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	detach_loops 2>/dev/null || true
	for m in "${dms[@]}"; do
		dmsetup remove --noudevsync "$m" 2>/dev/null || true
	done
	echo 1 >/sys/module/loop/parameters/extent_map 2>/dev/null || true
	rm -rf "$SCRATCH"
}

# detach_loops: losetup -D, started only when a loop device is bound
# (/sys/block/loopN/loop exists only then).
detach_loops() {
	local f
	for f in /sys/block/loop*/loop; do
		if [ -d "$f" ]; then
			losetup -D
			return
		fi
	done
}

# run_case DESCRIPTION FUNCTION [ARGS...]
run_case() {
	local desc=$1 log=$SCRATCH.log rc start=$EPOCHSECONDS
	shift
	set +e
	(
		set -e
		trap cleanup_case EXIT
		mkdir -p "$SCRATCH"
		"$@"
	) >"$log" 2>&1
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		tail -n 15 "$log" | sed 's/^/# /'
	fi
	# the runner's per-case times (tests/run.sh: case-times)
	[ -z "${LOOPMAP_CASE_TIMES:-}" ] ||
		echo "${LOOPMAP_TEST_ID:-?} $((EPOCHSECONDS - start)) $desc" >>"$LOOPMAP_CASE_TIMES"
	# the guest's /tmp is a tmpfs that ends with it: no rm per case there
	[ "${LOOPMAP_GUEST:-0}" = 1 ] || rm -f "$log"
}

# by_group QUICK AUTO STRESS: echoes the argument for the group this run
# belongs to, $TEST_GROUP: QUICK for quick, STRESS for stress, AUTO for
# auto and for anything else (or when it is unset).  Tests size their
# work with it, the knob first:
#   FILLS=${TEST_STALE_FILLS:-$(by_group 300 2000 10000)}
by_group() {
	case ${TEST_GROUP:-auto} in
	quick) echo "$1" ;;
	stress) echo "$3" ;;
	*) echo "$2" ;;
	esac
}

# skip_test REASON: skip the whole test.  Prints "# SKIP: REASON" and
# exits with status 77, which the runner (tests/run.sh) counts as a skip
# of the test, not a failure.  Call it at the test's top level, before
# its cases: inside a case (run_case's subshell) it would end only that
# case, which would then fail.
skip_test() {
	echo "# SKIP: $*"
	exit 77
}

# gone_within SECS PID...: every PID has exited within SECS seconds.
gone_within() {
	local t=$1 p
	shift
	while [ "$t" -gt 0 ]; do
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && break
			p=
		done
		[ -z "$p" ] && return 0
		sleep 1
		t=$((t - 1))
	done
	return 1
}
