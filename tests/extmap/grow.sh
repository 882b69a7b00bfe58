#!/bin/bash
# DESCRIPTION: growing a bound image (truncate -s up) loses no device write and leaves zeros past the old end
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 230
# TIMEOUT: 600
#
# The README's way to grow a loop device is truncate -s up, then
# losetup -c.  A filesystem growing a file whose old end is not block
# aligned zeroes the rest of that block; done in the page cache, the
# block goes dirty there with the device's data as it was read, and the
# next writeback puts it over whatever loop wrote since (the last
# sectors of the device: where GPT keeps its backup header).  Each case
# writes A to the device's last 2 KiB, grows the image, writes B there,
# syncs, drops the caches and reads B back, with the host fs checked by
# e2fsck.  The bytes between the old and the new end must read as zeros,
# through the file and through the grown device, even when the disk held
# something else there: the case writes a pattern past the old end
# straight to the host disk first.  Two growths: into later blocks, and
# within the old end's block (the only one ext2 zeroes); and on ext4 an
# old end inside a sector, whose head the kernel rewrites.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib/fragment.sh
. "$(dirname "$0")/../lib/fragment.sh"
HOSTFS_SIZE=64M
OLD=$((8 * 1048576 + 2560))

# grow_case NEWSIZE [OLDSIZE]
grow_case() {
	local new=$1 OLD=${2:-$OLD} img=$HOST/disk.img dev blk bs
	truncate -s "$OLD" "$img"
	dev=$(attach "$img")
	head -c 2048 /dev/urandom >"$SCRATCH/a"
	head -c 2048 /dev/urandom >"$SCRATCH/b"
	# A fills the old end's block, then lands in the page cache through
	# the file, as a reader of the image would put it there
	dd if="$SCRATCH/a" of="$dev" bs=512 seek=$((OLD / 512 - 4)) oflag=direct status=none
	sync "$dev"
	bs=$(stat -f -c %S "$HOST")
	blk=$(file_extents "$img" "$bs" |
		awk -v l=$((OLD / bs)) '$1 <= l && l <= $2 { print $3 + l - $1 }')
	assert "the old end's block is mapped (filefrag)" [ -n "$blk" ]
	# garbage past the old end, on the disk only
	{ yes LOOPMAP-TAIL || true; } | head -c $((bs - OLD % bs)) |
		dd of="$HOSTDEV" bs=$((bs - OLD % bs)) count=1 iflag=fullblock \
			seek=$((blk * bs + OLD % bs)) oflag=seek_bytes conv=notrunc status=none
	sync "$HOSTDEV"
	assert "A reads back through the file" \
		cmp -n 2048 "$SCRATCH/a" <(dd if="$img" bs=512 skip=$((OLD / 512 - 4)) count=4 status=none)

	truncate -s "$new" "$img"
	dd if="$SCRATCH/b" of="$dev" bs=512 seek=$((OLD / 512 - 4)) oflag=direct status=none
	sync
	echo 3 >/proc/sys/vm/drop_caches
	assert "B reads back from the device's last sectors after the growth" \
		cmp -n 2048 "$SCRATCH/b" <(dd if="$dev" bs=512 skip=$((OLD / 512 - 4)) iflag=direct status=none)
	assert "B reads back through the file" \
		cmp -n 2048 "$SCRATCH/b" <(dd if="$img" bs=512 skip=$((OLD / 512 - 4)) count=4 status=none)
	assert "the bytes past the old end read as zeros through the file" \
		cmp -n $((new - OLD)) /dev/zero <(tail -c +$((OLD + 1)) "$img")
	losetup -c "$dev"
	assert_eq "losetup -c grew the device" $((new / 512 * 512)) "$(blockdev --getsize64 "$dev")"
	# in 1 MiB reads: 512-byte ones would be one request per sector
	assert "the bytes past the old end read as zeros through the device" \
		cmp -n $((new / 512 * 512 - OLD / 512 * 512)) /dev/zero \
		<(dd if="$dev" bs=1M skip=$((OLD / 512 * 512)) iflag=direct,skip_bytes status=none)
}
for_each_hostfs "truncate -s up into later blocks keeps device writes" grow_case $((16 * 1048576))
for_each_hostfs "truncate -s up within the old end's block keeps device writes" grow_case $((OLD + 256))
HOSTFS_LIST=ext4 for_each_hostfs "truncate -s up from inside a sector keeps device writes" \
	grow_case $((16 * 1048576)) $((OLD + 100))
