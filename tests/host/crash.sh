#!/bin/bash
# Crash consistency of fills: writes into the holes of a sparse image,
# acknowledged by a flush or written with FUA, then QEMU is killed
# (SIGKILL) at once.  The next boot checks, for each host filesystem
# (ext2, ext3-format, ext4 on a virtio-blk disk): e2fsck clean (ext2 after
# e2fsck -y), every acknowledged block holds its data, no block shows the
# marker the free space held (tests/host/crash/guest.sh and crashio.py).
#
# CRASH_ROUNDS rounds per filesystem (default 2; make stress runs 50).
# Each round kills the guest after a different number of acknowledged
# batches, one boot per round plus one to check the last.  CRASH_FS
# picks the filesystems (default "ext2 ext3 ext4"); CRASH_PARALLEL=1 runs
# them side by side, one guest each (make stress does).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${CRASH_ROUNDS:-2}
FSES=${CRASH_FS:-ext2 ext3 ext4}
KERNEL=${CRASH_KERNEL:-test}
runs=$top/build/runs/host-crash-$KERNEL
# Kernel reports in a crash guest's log count after init starts: the boot
# banner names lockdep and kmemleak harmlessly.
# shellcheck source=tests/kernel-reports.sh
. "$top/tests/kernel-reports.sh"
report_re=$LOOPMAP_REPORT_RE

# boot FS ROUND ACKED [check-only]: one guest; kills it once batch
# TARGET is acknowledged.  Sets $acked to the last acknowledged batch.
boot() {
	local fs=$1 round=$2 prev=$3 mode=${4:-} out=$runs/$1-r$2 fresh=() target pid n
	target=$(((round * 7) % 23 + 2))
	[ "$round" = 1 ] && fresh=(--fresh-disks)
	rm -rf "$out"
	mkdir -p "$out"
	"$top/scripts/vm.sh" --kernel "$KERNEL" --cpus 2 --mem 2G --timeout 900 --out "$out" \
		"${fresh[@]}" --disk "crash-$KERNEL-$fs:160M" -- \
		tests/host/crash/guest.sh "$fs" "$round" "$prev" "$mode" >/dev/null 2>&1 &
	pid=$!
	acked=-1
	while kill -0 "$pid" 2>/dev/null; do
		n=$(awk -v r="$round" '$1 == "ack" && $2 == r { n = $3 } END { print n }' \
			"$out/output" 2>/dev/null || true)
		if [ -z "$mode" ] && [ -n "$n" ] && [ "$n" -ge "$target" ]; then
			pkill -KILL -f "path=$out/console.log" || true
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
	if sed '1,/as init process/d' "$out/console.log" | grep -qE "$report_re"; then
		echo "not ok - $fs: round $round: no kernel report"
		sed '1,/as init process/d' "$out/console.log" | grep -m5 -E "$report_re" | sed 's/^/# /'
	fi
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
	rm -f "$top/build/disks/crash-$KERNEL-$fs.img"
}

if [ "${CRASH_PARALLEL:-0}" = 1 ]; then
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
