#!/bin/bash
# DESCRIPTION: --offset/--sizelimit: writes stay inside the window, past-the-end writes are refused, a filesystem in a window survives reattach
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 186
# TIMEOUT: 945
#
# losetup --offset and --sizelimit: the device is exactly the window, and
# writes land inside it and nowhere else.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# Made once for the three window cases ($SCRATCH is emptied after every
# case): 8 MiB of a marker byte, an 80 MiB image of it, and the 64 MiB
# the device gets.  In the guest, every pass of tr over data and every
# process start is slow.
SHARED=${TMPDIR:-/tmp}/loopmap-shared.$$
trap 'rm -rf "$SHARED"' EXIT
mkdir -p "$SHARED"
M=$SHARED/marker
head -c 8M /dev/zero | tr '\0' '\245' >"$M"
cat "$M" "$M" "$M" "$M" "$M" "$M" "$M" "$M" "$M" "$M" >"$SHARED/image"
dd if=/dev/urandom of="$SHARED/data" bs=1M count=64 iflag=fullblock status=none

window_case() {
	local img=$HOST/disk.img dev
	# 80 MiB of the marker byte, every block written; the device is
	# [8 MiB, 72 MiB), with 8 MiB of marker on each side of it.  Written
	# O_DIRECT (through the page cache, an ext3-format host fs takes many
	# seconds for it in the guest), then its first 16 MiB again through
	# the page cache: attach must write back and drop the dirty pages on
	# both sides of the window's start before loop writes under them.
	dd if="$SHARED/image" of="$img" bs=1M oflag=direct status=none
	dd if="$SHARED/image" of="$img" bs=1M count=16 conv=notrunc status=none

	dev=$(attach "$img" --offset $((8 << 20)) --sizelimit $((64 << 20)))
	assert_eq "device size" $((64 << 20)) "$(blockdev --getsize64 "$dev")"
	assert_eq "loop/offset" $((8 << 20)) "$(sysfs_loop "$dev" offset)"
	assert_eq "loop/sizelimit" $((64 << 20)) "$(sysfs_loop "$dev" sizelimit)"
	dd if="$SHARED/data" of="$dev" bs=1M oflag=direct conv=fsync status=none
	assert_fails "a write past the end is refused" \
		dd if=/dev/zero of="$dev" bs=4k seek=16384 count=1 oflag=direct status=none
	assert "the device reads back what was written" cmp "$SHARED/data" "$dev"
	detach "$dev"

	assert "the data is at the offset in the image" \
		cmp -i $((8 << 20)):0 -n $((64 << 20)) "$img" "$SHARED/data"
	assert "the bytes before the offset are untouched" \
		cmp -n $((8 << 20)) "$img" "$M"
	# no -n: the rest of the image is the marker, to its unchanged end
	assert "the bytes after the size limit are untouched" \
		cmp -i $((72 << 20)):0 "$img" "$M"
}
for_each_hostfs "--offset 8M --sizelimit 64M: writes land inside the window only" window_case

fs_window_case() {
	# a 32 MiB window 1 MiB in, 7 MiB of the image after it; every block
	# written O_DIRECT, and the first 4 MiB (the window's filesystem
	# starts there) dirty in the page cache at attach, as above
	direct_image "$HOST/disk.img" 40
	dd if=/dev/zero of="$HOST/disk.img" bs=1M count=4 conv=notrunc status=none
	roundtrip "$HOST/disk.img" --offset $((1 << 20)) --sizelimit $((32 << 20))
}
for_each_hostfs "--offset --sizelimit: a filesystem in the window survives reattach" fs_window_case
