#!/bin/bash
# DESCRIPTION: an extent-mapped loop device on a filesystem on another: data through both, and a plug flush from another disk racing freezes of the lower device
# GROUPS: quick auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 110
# REQUIRES: cmd:fio path:/dev/vda
# TEST_NESTED_SECONDS: the plug-flush-and-freeze race (quick 5, auto 10, stress 60)
# TIMEOUT: 300 stress=600
#
# Nesting: brd, ext4, lower.img, loop (extent-mapped), ext4, upper.img,
# loop (extent-mapped).  Every request of the upper device sends its
# clones to the lower loop device from ->queue_rq().
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SECONDS_RACE=${TEST_NESTED_SECONDS:-$(by_group 5 10 60)}

# nest: sets LOWER and UPPER_DEV.  upper.img alternates 8 KiB written and
# 8 KiB of hole, so that every 128 KiB read spans 16 extents and
# takes the upper device's request path.
nest() {
	direct_image "$HOST/lower.img" 96
	LOWER=$(attach "$HOST/lower.img")
	mkfs.ext4 -q -F "$LOWER"
	mkdir -p "$UPPER"
	mount "$LOWER" "$UPPER"
	truncate -s 16M "$UPPER/upper.img"
	fio --name=frag --filename="$UPPER/upper.img" --rw=write:8k --bs=8k \
		--size=16M --direct=1 --fallocate=none --ioengine=psync \
		--output=/dev/null
	sync
	UPPER_DEV=$(attach "$UPPER/upper.img")
	assert_eq "the upper device is extent-mapped" 1 \
		"$(sysfs_loop "$UPPER_DEV" extent_map)"
}

# unnest: detach the upper device, unmount, detach the lower one
unnest() {
	detach "$UPPER_DEV"
	umount "$UPPER"
	detach "$LOWER"
}

# lower_ios VAR: what the lower device remapped (reads and writes, as
# requests or as bios) into VAR, read by the shell itself: each $(...)
# forks, which is slow in the guest
lower_ios() {
	local _li_r _li_w _li_b
	loop_stat _li_r "$LOWER" remapped_reads
	loop_stat _li_w "$LOWER" remapped_writes
	loop_stat _li_b "$LOWER" bio_remaps
	printf -v "$1" %s $((_li_r + _li_w + _li_b))
}

data_case() {
	local r n
	nest
	assert "the upper device reads what the image holds" \
		cmp "$UPPER_DEV" "$UPPER/upper.img"
	head -c $((4 << 20)) /dev/urandom >"$SCRATCH/data"
	lower_ios r
	dd if="$SCRATCH/data" of="$UPPER_DEV" bs=64k seek=64 oflag=direct status=none
	assert "a direct read of what was written gives it back" \
		cmp <(dd if="$UPPER_DEV" bs=64k skip=64 count=64 iflag=direct status=none) \
		"$SCRATCH/data"
	lower_ios n
	assert "the upper device's I/O reached the lower one" [ "$n" -gt "$r" ]
	assert "the upper device's reads were remapped" \
		[ "$(extmap_stat "$UPPER_DEV" remapped_reads)" -gt 0 ]
	detach "$UPPER_DEV"
	assert "the image file holds what was written" \
		cmp "$SCRATCH/data" \
		<(dd if="$UPPER/upper.img" bs=64k skip=64 count=64 status=none)
	umount "$UPPER"
	assert "the upper filesystem passes e2fsck -fn" e2fsck -fn "$LOWER" >/dev/null
	detach "$LOWER"
}

# One task submits, with one plug (io_submit of a batch), 128 KiB reads
# of the upper device and of /dev/vda, an ordinary blk-mq disk.  Adding a
# request for /dev/vda to a plug whose first request is 128 KiB flushes it
# there, inside /dev/vda's submission: the upper device's ->queue_rq()
# runs inline and queues its clones for the lower device on
# current->bio_list.  Meanwhile the lower device's queue is frozen again
# and again (each store to a queue limit freezes it).  A bio the lower
# device takes holds its queue until the bio it sends to the host disk
# ends; if that one is queued behind a sibling that waits for the
# freeze, nothing moves.
plug_freeze_case() {
	local q b
	nest
	q=/sys/block/${LOWER#/dev/}/queue
	# the lower device's maps cached: its bios are taken before requests
	dd if="$LOWER" of=/dev/null bs=1M iflag=direct status=none
	b=$(extmap_stat "$LOWER" bio_remaps)
	fio_racing_freezes "$q" "$SECONDS_RACE" --name=plug \
		--filename="$UPPER_DEV:/dev/vda" --rw=randread --bs=128k \
		--direct=1 --ioengine=libaio --iodepth=16 --iodepth_batch_submit=16 \
		--iodepth_batch_complete_min=16 --file_service_type=random \
		--size=32M
	assert "the upper device sent bios to the lower one" \
		[ "$(extmap_stat "$UPPER_DEV" bios)" -gt 0 ]
	assert "the lower device took bios before requests" \
		[ "$(extmap_stat "$LOWER" bio_remaps)" -gt "$b" ]
	unnest
}

run_case "ext4 on an extent-mapped device holds another: data through both" \
	on_hostfs ext4 data_case
run_case "ext4: a plug flush from another disk dispatches the upper device while the lower one freezes: no hang" \
	on_hostfs ext4 plug_freeze_case
