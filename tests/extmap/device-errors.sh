#!/bin/bash
# DESCRIPTION: host disk errors under remapped reads, writes and fills reach the caller as EIO, with no hang
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 128
# TIMEOUT: 600
# REQUIRES: cmd:dmsetup path:/dev/ram0
#
# Remapped I/O goes to the host disk without the filesystem, so the disk's
# errors must come back to loop's caller as they would through the
# filesystem: an I/O error, never a hang, a success or a kernel report.
# The host fs sits on a device-mapper device over /dev/ram0 whose table
# is swapped, under a bound image that is half written and half sparse,
# for dm-flakey tables that fail I/O: with error_writes (writes fail,
# reads work) an O_DIRECT write to a mapped block and one into a hole
# fail and the mapped block reads back as before; with every I/O failing
# a read of a mapped block fails.  Then the linear table comes back: the
# device reads its old data, and the hole whose fill failed reads zeros,
# through the device and through the host fs, never the blocks' old
# contents (the host fs's free space holds a marker first: ext2 and
# ext3-format link a fill's blocks into the file at allocation); after
# detach the image still reads zeros there.  The host fs is repaired by
# e2fsck -fy (exit 0 or 1) and then passes e2fsck -fn.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=32M
FAULTY=lm-faulty
SECTORS=$(($(numfmt --from=iec "$HOSTFS_SIZE") >> 9))
RAM=/dev/ram0

# table TABLE: swap the device's table
table() {
	dm_swap "$FAULTY" "$1" --noflush
}

errors_case() {
	local fs=$1 dev rc
	HOSTDEV=$(dm_create "$FAULTY" "0 $SECTORS linear $RAM 0")
	mkfs_host "$fs"
	# no periodic journal commit while writes fail: its failure would
	# abort the journal and shut the host fs down, and then reads
	# through it fail instead of showing what the failed fill left
	[ "$fs" = ext2 ] || mount -o remount,commit=300 "$HOST"
	half_sparse_image
	dev=$(attach "$HOST/disk.img")
	head -c 64k /dev/urandom >"$SCRATCH/new"

	table "0 $SECTORS flakey $RAM 0 0 3600 1 error_writes"
	assert_fails "a write to mapped blocks fails" \
		dd if="$SCRATCH/new" of="$dev" bs=64k seek=8 count=1 oflag=direct status=none
	assert_fails "a write into a hole fails" \
		dd if="$SCRATCH/new" of="$dev" bs=64k seek=96 count=1 oflag=direct status=none
	assert "the mapped blocks read back as before" \
		cmp <(dd if="$dev" bs=64k skip=8 count=1 iflag=direct status=none) \
		<(dd if="$SCRATCH/data" bs=64k skip=8 count=1 status=none)

	table "0 $SECTORS flakey $RAM 0 0 3600"
	assert_fails "a read of mapped blocks fails" \
		dd if="$dev" of=/dev/null bs=64k skip=16 count=1 iflag=direct status=none

	table "0 $SECTORS linear $RAM 0"
	assert "the device reads its data once the disk works" \
		cmp <(dd if="$dev" bs=1M count=4 iflag=direct status=none) "$SCRATCH/data"
	head -c 64k /dev/zero >"$SCRATCH/zero"
	assert "the failed fill reads zeros through the device" \
		cmp <(dd if="$dev" bs=64k skip=96 count=1 iflag=direct status=none) "$SCRATCH/zero"
	assert "... and through the host fs, O_DIRECT" \
		cmp <(dd if="$HOST/disk.img" bs=64k skip=96 count=1 iflag=direct status=none) \
		"$SCRATCH/zero"
	assert "... and buffered" \
		cmp <(dd if="$HOST/disk.img" bs=64k skip=96 count=1 status=none) "$SCRATCH/zero"
	losetup -d "$dev"
	assert "$dev is released" wait_unbound "$dev"
	echo 3 >/proc/sys/vm/drop_caches
	assert "after detach the image reads zeros there, never the marker" \
		cmp <(dd if="$HOST/disk.img" bs=64k skip=96 count=1 iflag=direct status=none) \
		"$SCRATCH/zero"
	umount "$HOST" || umount -l "$HOST"
	rc=0
	e2fsck -fy "$HOSTDEV" >/dev/null 2>&1 || rc=$?
	assert "e2fsck -fy repairs the host fs (exit $rc)" [ "$rc" -le 1 ]
	assert "the host fs then passes e2fsck -fn" e2fsck -fn "$HOSTDEV" >/dev/null
	dmsetup remove --noudevsync "$FAULTY"
}

for fs in $HOSTFS_LIST; do
	run_case "$fs: host disk errors under remapped I/O" errors_case "$fs"
done
