#!/bin/bash
# DESCRIPTION: --read-only: writes are refused, the filesystem mounts read-only, the image is unchanged
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 151
# TIMEOUT: 495
#
# losetup --read-only: every write is refused, reads work.  A read-only
# device never binds its image (extmap/bind-rights): it runs classic.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

ro_case() {
	local img=$HOST/disk.img dev before
	direct_image "$img" 96
	populate "$img" "$SCRATCH/sums"
	before=$(sha256sum <"$img")

	dev=$(EXPECT_EXTMAP=0 attach "$img" --read-only)
	assert_eq "blockdev --getro" 1 "$(blockdev --getro "$dev")"
	assert_eq "sysfs ro" 1 "$(cat "/sys/block/${dev#/dev/}/ro")"
	assert_fails "a direct write to the device is refused" \
		dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct status=none
	assert_fails "a buffered write to the device is refused" \
		dd if=/dev/zero of="$dev" bs=4k count=1 conv=fsync status=none
	mount "$dev" "$UPPER" 2>/dev/null || true
	assert "the filesystem mounts, read-only" findmnt -n -O ro "$UPPER"
	assert_fails "a file cannot be created" touch "$UPPER/new"
	assert "files read back" verify_files "$UPPER" "$SCRATCH/sums"
	umount "$UPPER"
	detach "$dev"
	assert_eq "image unchanged" "$before" "$(sha256sum <"$img")"
}
for_each_hostfs "--read-only: writes refused, data readable, image unchanged" ro_case
