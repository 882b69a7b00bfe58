#!/bin/bash
# Guest side of the per-I/O profile (profile.sh here): run through
# scripts/vm.sh on the release kernel.
#
#   profile-guest.sh [--workload randread-4k-qd1] [--seconds 10]
#                    [--rounds 2] [--freq 2000] [--fs ext4]
#
# One host filesystem on /dev/ram3 (ext4, or ext2/ext3 with --fs) holds
# two fully written images (a hole-* workload: fresh sparse images, see
# below); dm-linear maps the first one's FIEMAP extents
# onto /dev/ram0, as in guest.sh.  Targets: the raw /dev/ram0, dm-linear,
# fio O_DIRECT on the second image file (the bound one refuses writers),
# and the first image on loopmap.  Each round runs
# the workload on every target in turn, each under
#   perf record -a -e cpu-clock -F FREQ
# so a sample stands for 1/FREQ s of one CPU's time, whatever ran there
# (fio, interrupts, kworkers, idle).  Results in $LOOPMAP_OUT:
#   fio.TARGET.ROUND.json     fio's results (the number of I/Os)
#   perf.TARGET.ROUND.txt     perf report: samples by DSO and symbol
#   meta                      kernel, CPUs, parameters
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"
workload=randread-4k-qd1 seconds=10 rounds=2 freq=2000 fs=ext4 size=64M
while [ $# -gt 0 ]; do
	case $1 in
	--workload) workload=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--freq) freq=$2; shift 2 ;;
	--fs) fs=$2; shift 2 ;;
	*) echo "profile-guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
out=${LOOPMAP_OUT:?not in a loopmap guest}
job=$here/jobs/$workload.fio
[ -r "$job" ] || { echo "profile-guest.sh: no job file $job" >&2; exit 2; }
param=/sys/module/loop/parameters/extent_map
[ -e "$param" ] || { echo "profile-guest.sh: this kernel has no loopmap" >&2; exit 2; }

case $workload in hole-*) size=512M ;; esac
log() { printf '[%6ss] %s\n' "$SECONDS" "$*"; }

anchor=/dev/ram0 disk=/dev/ram3 mnt=/mnt/host
bytes=$(numfmt --from=iec "$size")

{
	echo "kernel=$(uname -r)"
	echo "cpus=$(nproc)"
	echo "workload=$workload"
	echo "seconds=$seconds"
	echo "rounds=$rounds"
	echo "freq=$freq"
	echo "fs=$fs"
	echo "size=$size"
	echo "fio=$(fio --version)"
	echo "perf=$(perf --version)"
	echo "clocksource=$(clocksource)"
} >"$out/meta"
cat "$out/meta"

# perf resolves kernel symbols through /proc/kallsyms.
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid

# attach_loopmap IMAGE: print the loop device bound to IMAGE, which must be
# extent-mapped
attach_loopmap() {
	local dev
	dev=$(losetup -f --show "$1")
	[ "$(cat "/sys/block/${dev#/dev/}/loop/extent_map")" = 1 ] || {
		echo "$dev is not extent-mapped" >&2
		exit 1
	}
	echo "$dev"
}

# record TARGET DEV ROUND: the workload on DEV under perf; fio's JSON and
# perf's report by symbol into $out
record() {
	log "round $3: $1"
	perf record -q -a -e cpu-clock -F "$freq" -o "/tmp/perf.data" -- \
		fio --filename="$2" --size="$size" --runtime="$seconds" \
		--output-format=json --output="$out/fio.$1.$3.json" "$job" \
		>/dev/null 2>&1
	perf report -i /tmp/perf.data --stdio --no-children --sort dso,sym \
		-F sample,dso,sym -q >"$out/perf.$1.$3.txt" 2>/dev/null
	rm -f /tmp/perf.data
}

case $workload in
hole-*)
	# First writes into holes: fresh sparse images in every round, for
	# fio O_DIRECT into holes of a file and for loopmap; no anchor has
	# holes to fill.
	log "$fs on $disk; fresh sparse images of $size in every round"
	host_fs "$fs" "$disk" "$mnt"
	echo 1 >"$param"
	for round in $(seq 1 "$rounds"); do
		for t in file loopmap; do
			img=$mnt/hole-$t.img
			rm -f "$img"
			truncate -s "$size" "$img"
			if [ "$t" = loopmap ]; then
				dev=$(attach_loopmap "$img")
				record "$t" "$dev" "$round"
				losetup -d "$dev"
			else
				record "$t" "$img" "$round"
			fi
		done
	done
	umount "$mnt"
	clocksource_check "$out/meta"
	log "done"
	exit 0
	;;
esac
log "$fs on $disk, an image of $size; dm-linear over its extents on $anchor"
host_fs "$fs" "$disk" "$mnt"
# Two images: the bound one is closed to writers through the filesystem.
for img in image file.img; do
	fio --name=fill --filename="$mnt/$img" --size="$size" --rw=write --bs=1M \
		--end_fsync=1 --output=/dev/null
done
table=$(fiemap_table "$mnt/image" "$anchor")
sectors=$(echo "$table" | awk '{ n += $2 } END { print n }')
[ "$sectors" -eq $((bytes / 512)) ] || {
	echo "FIEMAP covers $sectors sectors, not $size" >&2
	exit 1
}
echo "$table" | dmsetup create --noudevsync profile-linear
linear=$(dm_dev profile-linear)
# brd allocates as written: every page the targets read must exist.
dd if=/dev/zero of="$linear" bs=1M count="$((bytes >> 20))" oflag=direct status=none
echo 1 >"$param"
loopmap=$(attach_loopmap "$mnt/image")
declare -A target=([raw]=$anchor [dm-linear]=$linear [file]=$mnt/file.img [loopmap]=$loopmap)
order="raw dm-linear file loopmap"
for t in $order; do
	dd if="${target[$t]}" of=/dev/null bs=1M count="$((bytes >> 20))" iflag=direct \
		status=none
done

for round in $(seq 1 "$rounds"); do
	for t in $order; do
		record "$t" "${target[$t]}" "$round"
	done
done

losetup -d "$loopmap"
dmsetup remove --noudevsync profile-linear
umount "$mnt"
clocksource_check "$out/meta"
log "done"
