#!/bin/bash
# DESCRIPTION: -P on a GPT image: partitions appear with the right sizes, hold filesystems, go on detach, survive reattach
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 133
# TIMEOUT: 630
# REQUIRES: cmd:parted
#
# losetup -P on a partitioned image: partitions appear and hold data.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

part_case() {
	local img=$HOST/disk.img dev
	direct_image "$img" 128
	parted -s "$img" mklabel gpt mkpart one ext4 1MiB 41MiB mkpart two ext2 41MiB 127MiB
	dev=$(attach "$img" -P)
	assert_eq "loop/partscan" 1 "$(sysfs_loop "$dev" partscan)"
	assert "partition 1 exists" test -b "${dev}p1"
	assert "partition 2 exists" test -b "${dev}p2"
	assert_eq "partition 1 size" $((40 << 20)) "$(blockdev --getsize64 "${dev}p1")"
	assert_eq "partition 2 size" $((86 << 20)) "$(blockdev --getsize64 "${dev}p2")"
	mkfs.ext4 -q "${dev}p1"
	mkfs.ext2 -q "${dev}p2"
	mkdir -p "$UPPER/1" "$SCRATCH/m2"
	mount "${dev}p1" "$UPPER"
	write_files "$UPPER" "$SCRATCH/sums1"
	mount "${dev}p2" "$SCRATCH/m2"
	write_files "$SCRATCH/m2" "$SCRATCH/sums2"
	umount "$SCRATCH/m2" "$UPPER"
	detach "$dev"
	assert "partitions go away with the device" test ! -e "${dev}p1"

	dev=$(attach "$img" -P)
	mount -o ro "${dev}p1" "$UPPER"
	mount -o ro "${dev}p2" "$SCRATCH/m2"
	assert "partition 1 files read back" verify_files "$UPPER" "$SCRATCH/sums1"
	assert "partition 2 files read back" verify_files "$SCRATCH/m2" "$SCRATCH/sums2"
	umount "$SCRATCH/m2" "$UPPER"
	assert "partition 1 passes e2fsck -fn" e2fsck -fn "${dev}p1" >/dev/null
	assert "partition 2 passes e2fsck -fn" e2fsck -fn "${dev}p2" >/dev/null
	detach "$dev"
}
for_each_hostfs "-P: GPT partitions appear, hold data, survive reattach" part_case
