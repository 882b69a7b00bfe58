#!/bin/bash
# DESCRIPTION: readers of a bound image through the host fs never see the old contents of blocks being filled
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 160
# TIMEOUT: 900
# REQUIRES: cmd:dmsetup path:/dev/ram0
#
# ext2 and ext3-format files link the blocks of a fill into the file when
# they are allocated, before loop's data write reaches them.  A reader of
# the image through the host filesystem (read(2) with or without
# O_DIRECT) that maps those blocks meanwhile must read zeros (or, once the
# fill is over, the data), never what the disk held before: deleted data
# of other files.  The window is made deterministic: the host fs sits on
# a dm-delay device whose free space first holds a marker; for the race,
# its table is swapped for one that holds writes for 8 s (reads are not
# delayed).  A 4 KiB write into a hole of a bound image is then in flight
# while the image's block is read through the host fs, O_DIRECT and
# buffered (caches dropped).  Neither read may hold the marker; after the
# write, the device and the file (whose page the buffered read cached)
# read the data, and the host fs passes e2fsck.
#
# TEST_HOSTREAD_DELAY_MS: how long the slow table holds writes (14000: the two reads,
# with the caches dropped between them, took more than 8 s in the CI rehearsal of
# 2026-12-03 evening on a slow machine, and the fill ended before the second)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=32M
DELAY_MS=${TEST_HOSTREAD_DELAY_MS:-14000}
DELAYED=lm-delay
SECTORS=$(($(numfmt --from=iec "$HOSTFS_SIZE") >> 9))
RAM=/dev/ram0

# delay_writes MS: the dm-delay table that holds writes for MS ms
delay_writes() {
	dmsetup reload "$DELAYED" --table "0 $SECTORS delay $RAM 0 0 $RAM 0 $1"
	dmsetup resume --noudevsync "$DELAYED"
}

# zeros_or_data FILE: FILE holds 4 KiB of zeros or the case's data
zeros_or_data() {
	cmp -s "$1" "$SCRATCH/zeros" || cmp -s "$1" "$SCRATCH/data"
}

reader_case() {
	local fs=$1 dev writer blk=100
	HOSTDEV=$(dm_create "$DELAYED" "0 $SECTORS delay $RAM 0 0")
	mkfs_host "$fs"
	mark_free_space ""
	truncate -s 8M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	head -c 4096 /dev/urandom >"$SCRATCH/data"
	head -c 4096 /dev/zero >"$SCRATCH/zeros"
	sync

	delay_writes "$DELAY_MS"
	dd if="$SCRATCH/data" of="$dev" bs=4k seek=$blk count=1 oflag=direct status=none &
	writer=$!
	sleep 1
	dd if="$HOST/disk.img" of="$SCRATCH/direct" bs=4k skip=$blk count=1 iflag=direct \
		status=none
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$HOST/disk.img" of="$SCRATCH/buffered" bs=4k skip=$blk count=1 status=none
	assert "an O_DIRECT read of the image during the fill has no stale data" \
		no_marker "$SCRATCH/direct"
	assert "a buffered read of the image during the fill has no stale data" \
		no_marker "$SCRATCH/buffered"
	assert "the fill was still in flight during both reads" kill -0 "$writer"
	assert "the O_DIRECT read gave zeros or the data" zeros_or_data "$SCRATCH/direct"
	assert "the write succeeded" wait "$writer"
	delay_writes 0
	assert "the device reads the data" \
		cmp "$SCRATCH/data" <(dd if="$dev" bs=4k skip=$blk count=1 iflag=direct status=none)
	assert "the file reads the data (no zeros left in its page cache)" \
		cmp "$SCRATCH/data" <(dd if="$HOST/disk.img" bs=4k skip=$blk count=1 status=none)
	detach "$dev"
	umount_host
	dmsetup remove --noudevsync "$DELAYED"
}

for fs in $HOSTFS_LIST; do
	run_case "$fs: reads through the host fs during a fill" reader_case "$fs"
done
