#!/bin/bash
# DESCRIPTION: after the host fs shuts down, or errors=remount-ro stops it, remapped I/O fails and nothing reaches its disk
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 155
# TIMEOUT: 600
#
# A shut-down filesystem (EXT4_IOC_SHUTDOWN, what xfs_io -x -c shutdown
# does) must not be written any more, nor read: remapped I/O, which goes
# straight to the disk with maps loop cached before, must fail with EIO,
# and the host disk must not change.  A filesystem that errors=remount-ro
# stopped (an error injected through ext4's trigger_fs_error) must not be
# written through loop either, and reads go as the filesystem's own reads
# of the image go.  Afterwards the
# host filesystem recovers (journal replay, e2fsck -fy) and is clean.
# ext4 and ext3-format host filesystems (ext2 has no shutdown and no
# error trigger).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=64M

# The image: 8 MiB, the first 4 MiB written, the rest a hole; its maps
# cached by a read of the written half.
image_bound() {
	truncate -s 8M "$HOST/disk.img"
	dd if=/dev/urandom of="$HOST/disk.img" bs=1M count=4 conv=notrunc,fsync status=none
	dev=$(attach "$HOST/disk.img")
	dd if="$dev" of=/dev/null bs=1M count=4 iflag=direct status=none
	assert "a write to a mapped block works before" \
		dd if=/dev/urandom of="$dev" bs=4k seek=10 count=1 oflag=direct status=none
}

# writes_fail DEV: O_DIRECT writes to a mapped block and into a hole fail
writes_fail() {
	assert_fails "a write to a mapped block fails" \
		dd if=/dev/urandom of="$1" bs=4k seek=20 count=1 oflag=direct status=none
	assert_fails "a write into a hole fails" \
		dd if=/dev/urandom of="$1" bs=4k seek=1500 count=1 oflag=direct status=none
}

# recover FS: unmount, replay the journal, repair, mount again (on_hostfs
# then wants e2fsck -fn clean)
recover() {
	local rc=0
	losetup -D
	umount "$HOST"
	mount -t "$1" "$HOSTDEV" "$HOST"
	umount "$HOST"
	e2fsck -fy "$HOSTDEV" >"$SCRATCH/fsck" 2>&1 || rc=$?
	assert "e2fsck -fy after recovery exits 0 or 1 (got $rc)" [ "$rc" -le 1 ]
	mount -t "$1" "$HOSTDEV" "$HOST"
}

# reads_as_image DEV: the device reads a mapped block exactly when the
# host fs still reads the image
reads_as_image() {
	if dd if="$HOST/disk.img" of=/dev/null bs=4k count=1 iflag=direct status=none; then
		assert "the device reads, as the image does" \
			dd if="$1" of=/dev/null bs=4k skip=30 count=1 iflag=direct status=none
	else
		assert_fails "the device does not read, as the image does not" \
			dd if="$1" of=/dev/null bs=4k skip=30 count=1 iflag=direct status=none
	fi
}

# EXT4_IOC_SHUTDOWN, EXT4_GOING_FLAGS_NOLOGFLUSH: a sudden stop.  ext4
# refuses reads afterwards, so the device must too.
stop_by_shutdown() {
	python3 -c 'import fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x8004587D, struct.pack("I", 2))' "$HOST"
	assert_fails "the host fs refuses reads of the image" \
		dd if="$HOST/disk.img" of=/dev/null bs=4k count=1 iflag=direct status=none
}

# ext4 since 6.6 handles errors=remount-ro by shutting the filesystem
# down (EXT4_FLAGS_SHUTDOWN) rather than setting SB_RDONLY: it refuses
# writes, and reads too.  loop must do as the filesystem does.
stop_by_error() {
	echo "loopmap test" >"/sys/fs/ext4/${HOSTDEV#/dev/}/trigger_fs_error"
	assert_fails "the error stopped writes to the host fs" touch "$HOST/new"
	# the error record reaches the superblock from a work item
	sleep 2
}

# stopped_case HOW: stop the host fs (stop_by_HOW) under a bound image;
# then writes fail, reads go as the host fs's, the disk does not change
stopped_case() {
	local how=$1 dev fs before
	fs=$(findmnt -n -o FSTYPE "$HOST")
	if [ "$how" = error ]; then mount -o remount,errors=remount-ro "$HOST"; fi
	image_bound
	"stop_by_$how"
	before=$(hostdev_sum)
	writes_fail "$dev"
	reads_as_image "$dev"
	assert_eq "nothing reached the host disk after the $how" \
		"$before" "$(hostdev_sum)"
	recover "$fs"
}
HOSTFS_LIST="ext3 ext4" for_each_hostfs "shutdown: remapped I/O fails with EIO, the host disk is unchanged" \
	stopped_case shutdown
HOSTFS_LIST="ext3 ext4" for_each_hostfs "errors=remount-ro: remapped writes fail, reads as the host fs's" \
	stopped_case error
