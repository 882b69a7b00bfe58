#!/bin/bash
# DESCRIPTION: --sector-size 4096: logical block size 4096, 512-byte direct writes refused, round trip
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 109
# TIMEOUT: 420
#
# losetup --sector-size 4096: 4 KiB logical blocks.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sector_case() {
	local dev
	direct_image "$HOST/disk.img" 96
	dev=$(attach "$HOST/disk.img" --sector-size 4096)
	assert_eq "logical block size" 4096 "$(blockdev --getss "$dev")"
	assert_fails "a 512-byte direct write is refused" \
		dd if=/dev/zero of="$dev" bs=512 count=1 oflag=direct status=none
	detach "$dev"
	roundtrip "$HOST/disk.img" --sector-size 4096
}
for_each_hostfs "--sector-size 4096: 4k blocks, files survive reattach" sector_case
