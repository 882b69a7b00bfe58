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
# of other files.  The window is held open, with no time in it: the host
# fs sits on a dm-delay device whose free space first holds a marker; for
# the race its table is swapped for one that holds every write (reads
# pass) until the table is swapped back, which releases what it holds
# (dm-delay's presuspend).  A 4 KiB write into a hole of a bound image is
# started, and once the delay device holds a write, the image's block is
# read through the host fs, O_DIRECT and buffered (caches dropped).
# Neither read may hold the marker, and the write must still be in
# flight; then the writes are released, and the device and the file
# (whose page the buffered read cached) read the data, and the host fs
# passes e2fsck.
#
# TEST_HOSTREAD_HOLD_S: the longest the slow table holds a write (300): only a
# failing case waits that long, the test releases the writes after its reads
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=32M
HOLD_MS=$((${TEST_HOSTREAD_HOLD_S:-300} * 1000))
DELAYED=lm-delay
SECTORS=$(($(numfmt --from=iec "$HOSTFS_SIZE") >> 9))
RAM=/dev/ram0

# delay_writes MS: the dm-delay table that holds writes for MS ms.  The
# switch suspends the device without freezing the host fs (a freeze would
# write, and wait for the writes the old table holds); the suspend
# releases what the old table held.
delay_writes() {
	dm_swap "$DELAYED" "0 $SECTORS delay $RAM 0 0 $RAM 0 $1" --nolockfs
}

# writes_held: the delay device holds a write now (its status line ends
# with the numbers of reads, writes and flushes it holds)
writes_held() {
	local st w
	st=$(dmsetup status "$DELAYED")
	read -r _ w _ <<<"${st#* delay }"
	[ "${w:-0}" -gt 0 ]
}

# wait_held: until the delay device holds a write, at most 60 s
wait_held() {
	local end=$((SECONDS + 60))
	until writes_held; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
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

	delay_writes "$HOLD_MS"
	dd if="$SCRATCH/data" of="$dev" bs=4k seek=$blk count=1 oflag=direct status=none &
	writer=$!
	assert "the fill's write reaches the delay device" wait_held
	assert "an O_DIRECT read of the image returns during the fill" \
		timeout 60 dd if="$HOST/disk.img" of="$SCRATCH/direct" bs=4k skip=$blk \
		count=1 iflag=direct status=none
	echo 3 >/proc/sys/vm/drop_caches
	assert "a buffered read of the image returns during the fill" \
		timeout 60 dd if="$HOST/disk.img" of="$SCRATCH/buffered" bs=4k skip=$blk \
		count=1 status=none
	assert "an O_DIRECT read of the image during the fill has no stale data" \
		no_marker "$SCRATCH/direct"
	assert "a buffered read of the image during the fill has no stale data" \
		no_marker "$SCRATCH/buffered"
	assert "the fill was still in flight during both reads" kill -0 "$writer"
	assert "the O_DIRECT read gave zeros or the data" zeros_or_data "$SCRATCH/direct"
	delay_writes 0
	assert "the write succeeded" wait "$writer"
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
