#!/bin/bash
# DESCRIPTION: an extent-mapped loop device on a filesystem on another: data through both, and plug flushes that dispatch the upper device (alone, or with requests of a fragmented lower one) racing freezes of the lower device
# GROUPS: quick auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 250
# REQUIRES: cmd:fio path:/dev/vda
# TEST_NESTED_SECONDS: each plug-flush-and-freeze race (quick 5, auto 10, stress 60)
# TIMEOUT: 1200 stress=1800
#
# Nesting: brd, ext4, lower.img, loop (extent-mapped), ext4, upper.img,
# loop (extent-mapped).  Every request of the upper device sends its
# clones to the lower loop device from ->queue_rq().
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

SECONDS_RACE=${TEST_NESTED_SECONDS:-$(by_group 5 10 60)}

# frag_image PATH SIZE_MIB: an image whose every 4 KiB has an extent of its
# own.  A file of 4 KiB of zeros and 4 KiB of data in turn fills the host
# fs; digging out its zeros leaves only 4 KiB holes, which the image's
# O_DIRECT writes get one by one.
frag_image() {
	perl -e '$b = ("\0" x 4096) . ("x" x 4096); print $b while 1' 2>/dev/null |
		dd of="$HOST/filler" bs=1M iflag=fullblock oflag=direct status=none \
			2>/dev/null || true
	fallocate --dig-holes "$HOST/filler"
	sync
	direct_image "$1" "$2"
	rm "$HOST/filler"
}

# nest MAKE_IMAGE SIZE_MIB [MKFS OPTIONS...]: sets LOWER and UPPER_DEV.
# MAKE_IMAGE PATH SIZE_MIB makes lower.img.  upper.img ($UPPER_MIB MiB,
# 16 by default) alternates 8 KiB written and 8 KiB of hole, so that
# every 128 KiB read spans 16 extents and takes the upper device's
# request path.
nest() {
	"$1" "$HOST/lower.img" "$2"
	shift 2
	LOWER=$(attach "$HOST/lower.img")
	mkfs.ext4 -q -F "$@" "$LOWER"
	mkdir -p "$UPPER"
	mount "$LOWER" "$UPPER"
	truncate -s "${UPPER_MIB:-16}M" "$UPPER/upper.img"
	fio --name=frag --filename="$UPPER/upper.img" --rw=write:8k --bs=8k \
		--size="${UPPER_MIB:-16}M" --direct=1 --fallocate=none --ioengine=psync \
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
	nest direct_image 96
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
	nest direct_image 96
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

# Two levels in one plug flush.  The lower image is fragmented, so the
# lower device declines every clone of the upper one (each spans two of
# its extents) and makes requests of them, which it remaps from cached
# maps in ->queue_rq().  Reads of mixed sizes leave requests of both
# devices in one plug: a small one of the upper device (a flush comes
# only after a request of 128 KiB), then one of the lower device made
# from the clone of an 8 KiB read that the upper device took as a bio.
# The next flush, inside the submission of another bio, dispatches both:
# the upper device's clones for the lower one are queued ahead of the
# lower device's bios for the host disk, and the lower device's request
# holds its queue until those end.
frag_plug_freeze_case() {
	local q n r0 r1 u0 u1 lu0 lu1
	# no discard: it would punch the image, and the upper one's
	# writes would fill it again from the space the filler left
	UPPER_MIB=8 nest frag_image 24 -E nodiscard
	n=$(filefrag "$HOST/lower.img" | sed -n 's/.*: \([0-9]*\) extents\? found/\1/p')
	assert "the lower image is fragmented ($n extents)" [ "$n" -ge 4000 ]
	q=/sys/block/${LOWER#/dev/}/queue
	# the lower device's maps of the upper image's first 4 MiB cached
	dd if="$UPPER_DEV" of=/dev/null bs=8k count=512 iflag=direct status=none
	loop_stat r0 "$LOWER" remapped_reads
	loop_stat lu0 "$LOWER" bio_remaps
	loop_stat u0 "$UPPER_DEV" bio_remaps
	fio_racing_freezes "$q" "$SECONDS_RACE" --name=plug2 \
		--filename="$UPPER_DEV:/dev/vda" --rw=randread \
		--bssplit=8k/50:16k/10:64k/10:128k/30 \
		--direct=1 --ioengine=libaio --iodepth=16 --iodepth_batch_submit=16 \
		--iodepth_batch_complete_min=16 --file_service_type=random \
		--size=4M
	loop_stat r1 "$LOWER" remapped_reads
	loop_stat lu1 "$LOWER" bio_remaps
	loop_stat u1 "$UPPER_DEV" bio_remaps
	# The worker's redos (nowait_retries) show that the window was hit:
	# they were counted in runs at 2 vCPUs, but not in a 5 s run at 1
	# vCPU on a busy machine, so they are not asserted.
	assert "the upper device took bios" [ "$u1" -gt "$u0" ]
	assert "the lower device remapped requests" \
		[ $((r1 - lu1)) -gt $((r0 - lu0)) ]
	unnest
}

run_case "ext4 on an extent-mapped device holds another: data through both" \
	on_hostfs ext4 data_case
run_case "ext4: a plug flush from another disk dispatches the upper device while the lower one freezes: no hang" \
	on_hostfs ext4 plug_freeze_case
HOSTFS_SIZE=64M run_case "ext4, fragmented lower image: one plug flush dispatches both devices while the lower one freezes: no hang" \
	on_hostfs ext4 frag_plug_freeze_case
