#!/bin/bash
# DESCRIPTION: fills acknowledged by a flush or FUA survive a kill of QEMU: host fs clean, data intact, no stale block
# GROUPS: auto stress
# WHERE: host
# KERNEL: test
# DURATION: 400
# TIMEOUT: 2700 stress=10800
# TEST_CRASH_ROUNDS: rounds per host filesystem, one killed guest each (quick 1, auto 1, stress 50)
# TEST_CRASH_FS: the host filesystems (default "ext2 ext3 ext4")
# TEST_CRASH_KERNEL: the kernel the guests boot (quick and auto: test; stress: release, so the stress form boots the release kernel)
# TEST_CRASH_PARALLEL: 1 runs the filesystems side by side, one guest each (stress); 0 gives them one guest, one disk each (quick, auto)
# TEST_CRASH_BATCHES: batches of 16 blocks a guest plans per round (default 200; read in the guest)
#
# Crash consistency of fills: writes into the holes of a sparse image,
# acknowledged by a flush or written with FUA, then QEMU is killed
# (SIGKILL) at once.  The next boot checks, for each host filesystem
# (ext2, ext3-format, ext4 on a virtio-blk disk): e2fsck clean (ext2 after
# e2fsck -fy), every acknowledged block holds its data, no block shows the
# marker the free space held (tests/host/crash/guest.sh, check-disk.sh and
# crashio.py).
#
# TEST_CRASH_ROUNDS rounds per filesystem.  Each round kills the guest
# once every filesystem in it has acknowledged a given number of batches
# (different each round), one boot per round plus one to check the last.
# TEST_CRASH_FS picks the filesystems.  By default one guest holds them
# all, one virtio-blk disk each, and writes to their images at once;
# TEST_CRASH_PARALLEL=1 runs them side by side, one guest each.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

ROUNDS=${TEST_CRASH_ROUNDS:-$(by_group 1 1 50)}
FSES=${TEST_CRASH_FS:-ext2 ext3 ext4}
KERNEL=${TEST_CRASH_KERNEL:-$(by_group test test release)}
PARALLEL=${TEST_CRASH_PARALLEL:-$(by_group 0 0 1)}
runs=$BUILD/runs/host-crash-$KERNEL
# Kernel reports in each guest's console log after init are the runner's
# to find (tests/run.sh: vm.sh hands it every console log).

# boot "FS..." ROUND "ACKED..." [check-only]: one guest, one disk per host
# filesystem (tests/host/crash/guest.sh); kills it once every filesystem
# has acknowledged batch TARGET.  Sets $acked to the last acknowledged
# batch of each filesystem, in order (-1: none).
boot() {
	local fses=$1 round=$2 prev=$3 mode=${4:-} out fresh=() disks=() target pid fs
	out=$runs/${fses// /-}-r$round
	target=$(((round * 7) % 23 + 2))
	[ "$round" = 1 ] && fresh=(--fresh-disks)
	for fs in $fses; do disks+=(--disk "crash-$KERNEL-$fs:160M"); done
	rm -rf "$out"
	mkdir -p "$out"
	"$LOOPMAP_TOP/scripts/vm.sh" --kernel "$KERNEL" --cpus 2 --mem 2G --timeout 900 --out "$out" \
		"${fresh[@]}" "${disks[@]}" -- \
		tests/host/crash/guest.sh "$fses" "$round" "$prev" "$mode" >/dev/null 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		# QEMU writes its process id once it has started; until then, wait
		if [ -z "$mode" ] && [ -s "$out/qemu.pid" ] &&
			acks "$fses" "$round" "$out/output" "$target" >/dev/null; then
			kill -KILL "$(cat "$out/qemu.pid")" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	wait "$pid" || true
	acked=$(acks "$fses" "$round" "$out/output" || true)
	# the checks of the previous round, and any failure of this one
	grep -E '^(ok|not ok) - |^# ' "$out/output" || true
	if [ -z "$mode" ] && ! grep -qx "armed $round" "$out/output"; then
		echo "not ok - ${fses// /, }: round $round: the guest got to its writes"
		tail -n 5 "$out/output" | sed 's/^/# /'
	fi
}

# acks "FS..." ROUND OUTPUT [TARGET]: the last batch of ROUND each FS
# acknowledged in OUTPUT ("FS ack ROUND B" lines), in order, -1 for none;
# with TARGET, fails unless every one is at least TARGET.
acks() {
	{ cat "$3" 2>/dev/null || true; } | awk -v fses="$1" -v r="$2" -v t="${4:--1}" '
		$2 == "ack" && $3 == r { n[$1] = $4 }
		END {
			k = split(fses, f, " ")
			for (i = 1; i <= k; i++) {
				a = (f[i] in n) ? n[f[i]] : -1
				printf "%s%s", (i > 1 ? " " : ""), a
				if (a < t) low = 1
			}
			print ""
			exit low
		}'
}

# rounds "FS...": all rounds on a set of host filesystems, one guest for
# the set per round, then the last check
rounds() {
	local fses=$1 round fs
	acked=$(for fs in $fses; do printf -- '-1 '; done)
	for round in $(seq "$ROUNDS"); do
		boot "$fses" "$round" "$acked"
		echo "# ${fses// /, }: round $round killed after batches $acked"
	done
	boot "$fses" $((ROUNDS + 1)) "$acked" check-only
	for fs in $fses; do rm -f "$BUILD/disks/crash-$KERNEL-$fs.img"; done
}

if [ "$PARALLEL" = 1 ]; then
	pids=()
	for fs in $FSES; do
		rounds "$fs" &
		pids+=($!)
	done
	wait "${pids[@]}"
else
	rounds "$FSES"
fi
