#!/bin/bash
# The main job's guest side: an ext2 host filesystem on a RAM disk, a
# fully written image on it attached with stock losetup, and a short fio
# 4k random-read comparison, queue depth 1, side by side in one run.
# Prints a Markdown table; ratios are to the raw device measured here.
set -euo pipefail

dev=/dev/ram1
host=/mnt/demo-host
runtime=${DEMO_RUNTIME:-5}
mkfs.ext2 -q -F "$dev" 1G
mkdir -p "$host"
mount -t ext2 "$dev" "$host"
dd if=/dev/zero of="$host/disk.img" bs=1M count=256 status=none conv=fsync

# fio_iops NAME FILE: read IOPS of 4k random reads, O_DIRECT, psync, qd1.
fio_iops() {
	fio --name="$1" --filename="$2" --size=256M --rw=randread --bs=4k \
		--ioengine=psync --iodepth=1 --direct=1 --runtime="$runtime" --time_based \
		--randrepeat=1 --output-format=terse --terse-version=3 | awk -F';' '{ printf "%d\n", $8 }'
}

loop_buf=$(losetup -f --show "$host/disk.img")
loop_dio=$(losetup -f --show --direct-io=on "$host/disk.img")
printf 'kernel %s, %s vCPU, brd host disk, ext2 host filesystem, fio 4k randread psync qd1, %ss each\n\n' \
	"$(uname -r)" "$(nproc)" "$runtime"

declare -A iops
order=(raw loop loop-dio)
# Interleaved rounds, median of three: the guests are noisy.
for round in 1 2 3; do
	iops[raw.$round]=$(fio_iops raw "$dev")
	iops[loop.$round]=$(fio_iops loop "$loop_buf")
	iops[loop-dio.$round]=$(fio_iops loop-dio "$loop_dio")
done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
raw=$(median "${iops[raw.1]}" "${iops[raw.2]}" "${iops[raw.3]}")
printf '| %-30s | %18s | %8s |\n' device "IOPS (median of 3)" "vs raw"
printf '|%s|%s|%s|\n' "--------------------------------" "--------------------" "----------"
for d in "${order[@]}"; do
	m=$(median "${iops[$d.1]}" "${iops[$d.2]}" "${iops[$d.3]}")
	case $d in
	raw) label="raw device ($dev)" ;;
	loop) label="classic loop, buffered" ;;
	loop-dio) label="classic loop, --direct-io=on" ;;
	esac
	printf '| %-30s | %18s | %8s |\n' "$label" "$m" "$(awk -v a="$m" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')"
done
losetup -d "$loop_buf" "$loop_dio"
umount "$host"
