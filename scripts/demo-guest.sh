#!/bin/bash
# The main job's guest side: an ext2 host filesystem on a RAM disk, a
# fully written image on it, and fio 4k random reads at queue depth 1 and
# 32, side by side in one run, on:
#   raw       the RAM disk itself
#   dm-linear a dm-linear device built from the image's FIEMAP extents,
#             the best any remapper can do
#   loopmap   stock losetup on the image: extent-mapped mode
#   loop      classic loop (loop.extent_map=0), buffered
#   loop-dio  classic loop, --direct-io=on
# Prints a Markdown table; ratios are to dm-linear measured in this run,
# the upper anchor under TCG.
set -euo pipefail

dev=/dev/ram1
host=/mnt/demo-host
runtime=${DEMO_RUNTIME:-5}
size=256M
mkfs.ext2 -q -F "$dev" 1G
mkdir -p "$host"
mount -t ext2 "$dev" "$host"
img=$host/disk.img
dd if=/dev/zero of="$img" bs=1M count=256 status=none conv=fsync

# fio_iops FILE QD: read IOPS of 4k random reads, O_DIRECT.
fio_iops() {
	local engine=psync
	[ "$2" -gt 1 ] && engine=libaio
	fio --name=demo --filename="$1" --size="$size" --rw=randread --bs=4k \
		--ioengine="$engine" --iodepth="$2" --direct=1 --runtime="$runtime" \
		--time_based --randrepeat=1 --output-format=terse --terse-version=3 |
		awk -F';' '{ printf "%d\n", $8 }'
}

# dm-linear over the image's extents, from FIEMAP (filefrag, 512-byte units).
table=$(filefrag -b512 -v "$img" | awk -v d="$dev" '
	# ext: logical_start..end: physical_start..end: length: -> split on : and .
	$1 ~ /^[0-9]+:$/ { gsub(/[:.]/, " "); printf "%d %d linear %s %d\n", $2, $6, d, $4 }')
cp "$img" /tmp/demo-copy.img # what dm-linear must show

# dm-linear must claim the RAM disk, which the mounted host filesystem
# holds, so each round measures the loop devices with the filesystem
# mounted, then dm-linear with it unmounted.  The image's blocks do not
# move in between.
declare -A iops dev_of label
attach_loops() {
	loopmap=$(losetup -f --show "$img")
	[ "$(cat "/sys/block/${loopmap#/dev/}/loop/extent_map")" = 1 ] ||
		{ echo "stock losetup did not come up extent-mapped" >&2; exit 1; }
	echo 0 >/sys/module/loop/parameters/extent_map
	loop_buf=$(losetup -f --show "$img")
	loop_dio=$(losetup -f --show --direct-io=on "$img")
	echo 1 >/sys/module/loop/parameters/extent_map
	dev_of=([raw]=$dev [loopmap]=$loopmap [loop]=$loop_buf [loop-dio]=$loop_dio)
}
dm_create() {
	umount "$host"
	echo "$table" | dmsetup create --noudevsync loopmap-demo
	dm=/dev/dm-$(dmsetup info -c --noheadings -o minor loopmap-demo | tr -d ' ')
}
dm_remove() {
	dmsetup remove --noudevsync loopmap-demo
	mount -t ext2 "$dev" "$host"
}

order=(raw dm-linear loopmap loop loop-dio)
label=([raw]="raw device ($dev)" [dm-linear]="dm-linear from FIEMAP"
	[loopmap]="loopmap (extent-mapped loop)" [loop]="classic loop, buffered"
	[loop-dio]="classic loop, --direct-io=on")

dm_create
cmp "$dm" /tmp/demo-copy.img || { echo "dm-linear does not match the image" >&2; exit 1; }
dm_remove
rm /tmp/demo-copy.img
printf 'kernel %s, %s vCPU, brd host disk, ext2 host filesystem, fio 4k randread O_DIRECT, %ss each\n\n' \
	"$(uname -r)" "$(nproc)" "$runtime"
# Interleaved rounds, median of three: the guests are noisy.
for round in 1 2 3; do
	attach_loops
	for qd in 1 32; do
		for d in raw loopmap loop loop-dio; do
			iops[$d.$qd.$round]=$(fio_iops "${dev_of[$d]}" "$qd")
		done
	done
	counters=$(tr '\n' ' ' <"/sys/kernel/debug/loop/${loopmap#/dev/}")
	losetup -d "$loopmap" "$loop_buf" "$loop_dio"
	dm_create
	for qd in 1 32; do
		iops[dm-linear.$qd.$round]=$(fio_iops "$dm" "$qd")
	done
	dm_remove
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '| %-30s | %12s | %9s | %12s | %9s |\n' device "IOPS qd1" "vs dm" "IOPS qd32" "vs dm"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------" "--------------" "-----------" \
	"--------------" "-----------"
declare -A med
for d in "${order[@]}"; do
	for qd in 1 32; do
		med[$d.$qd]=$(median "${iops[$d.$qd.1]}" "${iops[$d.$qd.2]}" "${iops[$d.$qd.3]}")
	done
done
for d in "${order[@]}"; do
	printf '| %-30s | %12s | %9s | %12s | %9s |\n' "${label[$d]}" \
		"${med[$d.1]}" "$(ratio "${med[$d.1]}" "${med[dm-linear.1]}")" \
		"${med[$d.32]}" "$(ratio "${med[$d.32]}" "${med[dm-linear.32]}")"
done
printf '\nloopmap counters after its last round: %s\n' "$counters"
umount "$host"
