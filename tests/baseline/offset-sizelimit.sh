#!/bin/bash
# DESCRIPTION: --offset/--sizelimit: writes stay inside the window, past-the-end writes are refused, a filesystem in a window survives reattach
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 150
# TIMEOUT: 945
#
# losetup --offset and --sizelimit: the device is exactly the window, and
# writes land inside it and nowhere else.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

window_case() {
	local img=$HOST/disk.img dev
	# 96 MiB of a marker byte; the device is [8 MiB, 72 MiB).
	head -c 96M /dev/zero | tr '\0' '\245' >"$img"
	head -c 8M /dev/zero | tr '\0' '\245' >"$SCRATCH/marker"
	head -c 64M /dev/urandom >"$SCRATCH/data"

	dev=$(attach "$img" --offset $((8 << 20)) --sizelimit $((64 << 20)))
	assert_eq "device size" $((64 << 20)) "$(blockdev --getsize64 "$dev")"
	assert_eq "loop/offset" $((8 << 20)) "$(sysfs_loop "$dev" offset)"
	assert_eq "loop/sizelimit" $((64 << 20)) "$(sysfs_loop "$dev" sizelimit)"
	dd if="$SCRATCH/data" of="$dev" bs=1M oflag=direct conv=fsync status=none
	assert_fails "a write past the end is refused" \
		dd if=/dev/zero of="$dev" bs=4k seek=16384 count=1 oflag=direct status=none
	assert "the device reads back what was written" cmp "$SCRATCH/data" "$dev"
	detach "$dev"

	assert "the data is at the offset in the image" \
		cmp -i $((8 << 20)):0 -n $((64 << 20)) "$img" "$SCRATCH/data"
	assert "the bytes before the offset are untouched" \
		cmp -n $((8 << 20)) "$img" "$SCRATCH/marker"
	assert "the bytes after the size limit are untouched" \
		cmp -i $((72 << 20)):0 -n $((24 << 20)) "$img" <(head -c 24M /dev/zero | tr '\0' '\245')
}
for_each_hostfs "--offset 8M --sizelimit 64M: writes land inside the window only" window_case

fs_window_case() {
	head -c 96M /dev/zero >"$HOST/disk.img"
	roundtrip "$HOST/disk.img" --offset $((1 << 20)) --sizelimit $((80 << 20))
}
for_each_hostfs "--offset --sizelimit: a filesystem in the window survives reattach" fs_window_case
