#!/bin/bash
# Guest side of qemu.sh: the disk of a VM as QEMU's block layer drives it
# (cache=none, aio=native or io_uring), measured with qemu-img bench, on
# the same targets as the fio benchmark.
#
#   qemu-guest.sh [--fs "ext4"] [--rounds 3] [--size 128M]
#                 [--aio "native io_uring"] [--count 50000]
#
# Per host filesystem (ext2 on /dev/ram1, ext3-format on /dev/ram2, ext4
# on /dev/ram3), fully written images of --size:
#   dm-linear  the loopmap image's FIEMAP extents on /dev/ram0 (the
#              static-remap anchor; its pages allocated first)
#   file       the image file itself: QEMU opening the image, no loop
#   loop       classic loop, buffered    loop-dio  classic, --direct-io=on
#   loopmap    extent-mapped loop (stock losetup)
# qemu-img bench does sequential I/O (it has no random mode) of 4 KiB at
# queue depth 1 and 32, reads and writes, and 1 MiB reads at depth 4:
# COUNT requests per run (a tenth for 1 MiB), wrapping at the end of the
# image.  Rounds interleave the targets.  results.txt gets one line per
# run: fs aio workload target round seconds requests busy_jiffies (all
# CPUs' non-idle time from /proc/stat around the run) calib_jiffies (the
# same around a run of one request, subtracted in the report).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"
fslist=ext4 rounds=3 size=128M aiolist=native count=50000
while [ $# -gt 0 ]; do
	case $1 in
	--fs) fslist=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--aio) aiolist=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	*) echo "qemu-guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ "$have_loopmap" = 1 ] || { echo "qemu-guest.sh: this kernel has no loopmap" >&2; exit 2; }

out=${LOOPMAP_OUT:?not in a loopmap guest}
log() { printf '[%6ss] %s\n' "$SECONDS" "$*"; }
declare -A disk=([ext2]=/dev/ram1 [ext3]=/dev/ram2 [ext4]=/dev/ram3)
declare -A devof
anchor=/dev/ram0
bytes=$(numfmt --from=iec "$size")
{
	echo "kernel=$(uname -r)"
	echo "cpus=$(nproc)"
	echo "fs=$fslist"
	echo "aio=$aiolist"
	echo "rounds=$rounds"
	echo "size=$size"
	echo "count=$count"
	echo "qemu_img=$(qemu-img --version | head -n 1)"
	echo "clocksource=$(clocksource)"
} >"$out/meta"
cat "$out/meta"

for fs in $fslist; do
	d=${disk[$fs]} mnt=/mnt/$fs
	log "$fs: mkfs on $d, images of $size"
	host_fs "$fs" "$d" "$mnt"
	for t in loopmap file loop loop-dio; do
		dd if=/dev/zero of="$mnt/$t.img" bs=1M count=$((bytes >> 20)) conv=fsync status=none
	done
	table=$(fiemap_table "$mnt/loopmap.img" "$anchor")
	fiemap_full "$table" "$bytes" || exit 1
	echo "$table" >"$out/dm-table.$fs"
	echo "$table" | dmsetup create --noudevsync "anchor-$fs"
	devof[$fs.dm-linear]=$(dm_dev "anchor-$fs")
	# brd allocates as written: every mapped page of the anchor first
	dd if=/dev/zero of="${devof[$fs.dm-linear]}" bs=1M count=$((bytes >> 20)) oflag=direct \
		status=none
	devof[$fs.file]=$mnt/file.img
	devof[$fs.loop]=$(attach classic "$mnt/loop.img")
	devof[$fs.loop-dio]=$(attach classic "$mnt/loop-dio.img" --direct-io=on)
	devof[$fs.loopmap]=$(attach loopmap "$mnt/loopmap.img")
	# warm up: the buffered loop's page cache, loopmap's extent map
	for t in dm-linear file loop loop-dio loopmap; do
		dd if="${devof[$fs.$t]}" of=/dev/null bs=1M iflag=direct status=none
	done
done

# workload name and its qemu-img bench options, and its request count
declare -A wl=(
	[read-4k-qd1]="-s 4096 -d 1"
	[read-4k-qd32]="-s 4096 -d 32"
	[write-4k-qd1]="-w -s 4096 -d 1"
	[write-4k-qd32]="-w -s 4096 -d 32"
	[read-1m-qd4]="-s 1M -d 4"
)
declare -A wl_count=([read-1m-qd4]=$((count / 10)))
workloads="read-4k-qd1 read-4k-qd32 write-4k-qd1 write-4k-qd32 read-1m-qd4"
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

echo "fs aio workload target round seconds requests busy_jiffies calib_jiffies" >"$out/results.txt"
for round in $(seq 1 "$rounds"); do
	log "round $round"
	for aio in $aiolist; do
		for w in $workloads; do
			for fs in $fslist; do
				for t in dm-linear file loop loop-dio loopmap; do
					n=${wl_count[$w]:-$count}
					# shellcheck disable=SC2086 # the options split
					set -- -f raw -t none -i "$aio" ${wl[$w]}
					# what a run costs besides its requests (starting
					# qemu-img, opening, closing): a run of one request
					sync
					b0=$(busy)
					qemu-img bench "$@" -c 1 "${devof[$fs.$t]}" >/dev/null
					b1=$(busy)
					res=$(qemu-img bench "$@" -c "$n" "${devof[$fs.$t]}")
					b2=$(busy)
					secs=$(echo "$res" | awk '/Run completed in/ { print $4 }')
					[ -n "$secs" ] || { echo "$res" >&2; exit 1; }
					echo "$fs $aio $w $t $round $secs $n $((b2 - b1)) $((b1 - b0))" \
						>>"$out/results.txt"
				done
			done
		done
	done
done

for fs in $fslist; do
	dev=${devof[$fs.loopmap]}
	echo "$fs loopmap counters: $(tr '\n' ' ' <"/sys/kernel/debug/loop/${dev#/dev/}")" |
		tee -a "$out/loopmap-counters"
	for t in loop loop-dio loopmap; do
		losetup -d "${devof[$fs.$t]}"
	done
	dmsetup remove --noudevsync "anchor-$fs"
	umount_check "$fs" "${disk[$fs]}" "$out"
done
clocksource_check "$out/meta"
log "done"
