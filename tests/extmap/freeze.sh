#!/bin/bash
# DESCRIPTION: while the host fs is frozen, remapped writes, fills and timestamp updates wait for thaw
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 92
# TIMEOUT: 400
# REQUIRES: cmd:fsfreeze
#
# fsfreeze promises that nothing reaches a frozen filesystem's disk until
# it is thawed (snapshots of the host device rely on it).  Writes through
# loop that go straight to the image's blocks must therefore wait, as a
# write(2) to the image would: an O_DIRECT write to a mapped block, a
# write into a hole (a fill), and a flush, which updates the image's
# timestamps.  The case freezes the host fs under a bound image that was
# written before (so the flush has timestamps to update), starts the
# three, and asserts that after a few seconds none has finished and the
# host disk has not changed; after the thaw all three finish, the data
# reads back, and the host fs passes e2fsck.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=24M

# pending PID...: every process is still running
pending() {
	local pid
	for pid; do kill -0 "$pid" 2>/dev/null || return 1; done
}

frozen_case() {
	local dev before w1 w2 fl
	truncate -s 8M "$HOST/disk.img"
	dd if=/dev/zero of="$HOST/disk.img" bs=1M count=4 conv=notrunc,fsync status=none
	dev=$(attach "$HOST/disk.img")
	head -c 8192 /dev/urandom >"$SCRATCH/data"
	# caches the maps, and leaves timestamps for the next flush to update
	dd if="$dev" of=/dev/null bs=1M count=4 iflag=direct status=none
	dd if="$SCRATCH/data" of="$dev" bs=4k count=1 seek=3 oflag=direct status=none

	fsfreeze -f "$HOST"
	before=$(hostdev_sum)
	dd if="$SCRATCH/data" of="$dev" bs=4k count=1 seek=10 oflag=direct status=none &
	w1=$!
	dd if="$SCRATCH/data" of="$dev" bs=4k count=1 skip=1 seek=1500 oflag=direct status=none &
	w2=$!
	sync "$dev" &
	fl=$!
	sleep 3
	if ! pending "$w1" "$w2" "$fl"; then
		fsfreeze -u "$HOST"
		echo "assertion failed: a write, fill or flush finished on a frozen host fs" >&2
		return 1
	fi
	assert_eq "the host disk did not change while frozen" "$before" "$(hostdev_sum)"
	fsfreeze -u "$HOST"
	assert "the write to a mapped block finishes after the thaw" wait "$w1"
	assert "the write into a hole finishes after the thaw" wait "$w2"
	assert "the flush finishes after the thaw" wait "$fl"
	assert "the mapped block reads back" \
		cmp -n 4096 "$SCRATCH/data" <(dd if="$dev" bs=4k skip=10 count=1 iflag=direct status=none)
	assert "the filled block reads back" \
		cmp -n 4096 <(tail -c 4096 "$SCRATCH/data") \
		<(dd if="$dev" bs=4k skip=1500 count=1 iflag=direct status=none)
}
for_each_hostfs "frozen host fs: remapped writes, fills and flushes wait for thaw" frozen_case
