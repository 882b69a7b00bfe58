#!/bin/bash
# DESCRIPTION: fills acknowledged by a flush or FUA survive a kill of QEMU: host fs clean, data intact, no stale block
# GROUPS: auto stress
# WHERE: host
# KERNEL: test
# DURATION: 628
# TIMEOUT: 2700 stress=10800
# TEST_CRASH_ROUNDS: rounds per host filesystem, one killed guest each (quick 1, auto 1, stress 50)
# TEST_CRASH_FS: the host filesystems (default "ext2 ext3 ext4")
# TEST_CRASH_KERNEL: the kernel the guests boot (quick and auto: test; stress: release, so the stress form boots the release kernel)
# TEST_CRASH_PARALLEL: 1 runs the filesystems side by side, one guest each (quick and auto 0, stress 1)
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
# after a different number of acknowledged batches, one boot per round
# plus one to check the last.  TEST_CRASH_FS picks the filesystems;
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

# boot FS ROUND ACKED [check-only]: one guest; kills it once batch
# TARGET is acknowledged.  Sets $acked to the last acknowledged batch.
boot() {
	local fs=$1 round=$2 prev=$3 mode=${4:-} out=$runs/$1-r$2 fresh=() target pid n
	target=$(((round * 7) % 23 + 2))
	[ "$round" = 1 ] && fresh=(--fresh-disks)
	rm -rf "$out"
	mkdir -p "$out"
	"$LOOPMAP_TOP/scripts/vm.sh" --kernel "$KERNEL" --cpus 2 --mem 2G --timeout 900 --out "$out" \
		"${fresh[@]}" --disk "crash-$KERNEL-$fs:160M" -- \
		tests/host/crash/guest.sh "$fs" "$round" "$prev" "$mode" >/dev/null 2>&1 &
	pid=$!
	acked=-1
	while kill -0 "$pid" 2>/dev/null; do
		n=$(awk -v r="$round" '$1 == "ack" && $2 == r { n = $3 } END { print n }' \
			"$out/output" 2>/dev/null || true)
		# QEMU writes its process id once it has started; until then, wait
		if [ -z "$mode" ] && [ -n "$n" ] && [ "$n" -ge "$target" ] &&
			[ -s "$out/qemu.pid" ]; then
			kill -KILL "$(cat "$out/qemu.pid")" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	wait "$pid" || true
	n=$(awk -v r="$round" '$1 == "ack" && $2 == r { n = $3 } END { print n }' \
		"$out/output" 2>/dev/null || true)
	acked=${n:--1}
	# the checks of the previous round, and any failure of this one
	grep -E '^(ok|not ok) - |^# ' "$out/output" | sed "s/^\(ok\|not ok\) - /\1 - $fs: /" || true
	if [ -z "$mode" ] && ! grep -qx "armed $round" "$out/output"; then
		echo "not ok - $fs: round $round: the guest got to its writes"
		tail -n 5 "$out/output" | sed 's/^/# /'
	fi
}

# rounds FS: all rounds on one host filesystem, then the last check
rounds() {
	local fs=$1 round
	acked=-1
	for round in $(seq "$ROUNDS"); do
		boot "$fs" "$round" "$acked"
		echo "# $fs: round $round killed after batch $acked"
	done
	boot "$fs" $((ROUNDS + 1)) "$acked" check-only
	rm -f "$BUILD/disks/crash-$KERNEL-$fs.img"
}

if [ "$PARALLEL" = 1 ]; then
	pids=()
	for fs in $FSES; do
		rounds "$fs" &
		pids+=($!)
	done
	wait "${pids[@]}"
else
	for fs in $FSES; do
		rounds "$fs"
	done
fi
