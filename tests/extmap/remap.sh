#!/bin/bash
# DESCRIPTION: I/O of mapped ranges takes the remap path (debugfs counters), cached bios before requests (also after writes alone, and split ones racing freezes), holes read zeros, writes into holes fill (and keep the written blocks' maps), discards punch
# GROUPS: quick auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 360
# REQUIRES: cmd:fio
# TEST_SPLIT_SECONDS: split bios racing queue freezes (quick 5, auto 10, stress 60)
# TIMEOUT: 1200
#
# I/O on an extent-mapped device takes the remap path, and holes behave.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

remap_case() {
	local dev
	direct_image "$HOST/disk.img" 32
	dev=$(attach "$HOST/disk.img")
	head -c $((4 << 20)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=64k oflag=direct status=none
	dd if="$dev" of="$SCRATCH/back" bs=64k count=64 iflag=direct status=none
	assert "data reads back" cmp "$SCRATCH/data" "$SCRATCH/back"
	assert "reads took the remap path" [ "$(extmap_stat "$dev" remapped_reads)" -ge 64 ]
	assert "writes took the remap path" [ "$(extmap_stat "$dev" remapped_writes)" -ge 64 ]
	assert_eq "no read went through the filesystem" 0 "$(extmap_stat "$dev" classic_reads)"
	assert_eq "no write needed an allocation" 0 "$(extmap_stat "$dev" fills)"
	assert "the image file holds the data" \
		cmp -n $((4 << 20)) "$SCRATCH/data" "$HOST/disk.img"
	detach "$dev"
}
for_each_hostfs "fully written image: reads and writes are remapped" remap_case

# ios DEVICE: reads and writes completed, from /sys/block/loopN/stat
ios() {
	local f
	read -ra f <"/sys/block/${1#/dev/}/stat"
	echo $((f[0] + f[4]))
}

bio_case() {
	local dev n=256 b r w i
	direct_image "$HOST/disk.img" 32
	dev=$(attach "$HOST/disk.img")
	# Writes alone cache the maps of allocated blocks (a mkfs or a
	# database on a preallocated image may never read): only the first
	# write may miss.
	head -c $((n * 4096)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=4k seek=$n oflag=direct status=none
	b=$(extmap_stat "$dev" bio_remaps)
	dd if="$SCRATCH/data" of="$dev" bs=4k seek=$n oflag=direct status=none
	assert_eq "with no read before, every 4k rewrite was remapped as a bio" \
		$((b + n)) "$(extmap_stat "$dev" bio_remaps)"
	assert "... and the image file holds the data" \
		cmp "$SCRATCH/data" <(dd if="$HOST/disk.img" bs=4k skip=$n count=$n \
		iflag=direct status=none)
	# the first pass may miss: the worker caches the maps
	dd if="$dev" of=/dev/null bs=4k count=$n iflag=direct status=none
	b=$(extmap_stat "$dev" bio_remaps)
	i=$(ios "$dev")
	dd if="$dev" of=/dev/null bs=4k count=$n iflag=direct status=none
	assert_eq "every cached 4k read was remapped as a bio" \
		$((b + n)) "$(extmap_stat "$dev" bio_remaps)"
	assert "the disk's statistics count them" \
		[ "$(ios "$dev")" -ge $((i + n)) ]
	head -c $((n * 4096)) /dev/urandom >"$SCRATCH/data"
	b=$(extmap_stat "$dev" bio_remaps)
	dd if="$SCRATCH/data" of="$dev" bs=4k oflag=direct status=none
	assert_eq "every 4k write to allocated blocks was remapped as a bio" \
		$((b + n)) "$(extmap_stat "$dev" bio_remaps)"
	assert "they read back" \
		cmp -n $((n * 4096)) "$SCRATCH/data" "$dev"
	# O_DSYNC makes FUA writes: the request path commits before completing
	b=$(extmap_stat "$dev" bio_remaps)
	w=$(extmap_stat "$dev" remapped_writes)
	dd if="$SCRATCH/data" of="$dev" bs=4k count=64 seek=$n \
		oflag=direct,dsync status=none
	assert_eq "no FUA write was remapped as a bio" \
		"$b" "$(extmap_stat "$dev" bio_remaps)"
	assert "... they took the request path" \
		[ "$(extmap_stat "$dev" remapped_writes)" -ge $((w + 64)) ]
	# a 1 MiB read over the image's first extents still reads right
	r=$(extmap_stat "$dev" classic_reads)
	assert "the image reads back through the device" \
		cmp -n $((8 << 20)) "$dev" "$HOST/disk.img"
	assert_eq "no read went through the filesystem" \
		"$r" "$(extmap_stat "$dev" classic_reads)"
	detach "$dev"
}
for_each_hostfs "cached reads and writes are remapped before they become requests, FUA writes are not" bio_case

# A remapped bio holds the queue until its clone ends.  When blk-mq
# splits a bio, the remainder is queued for the same device before the
# clone of the front part: a freeze that starts in between must not leave
# the remainder waiting for the freeze, and the freeze for the clone.
split_freeze_case() {
	local dev q b
	direct_image "$HOST/disk.img" 32
	dev=$(attach "$HOST/disk.img")
	q=/sys/block/${dev#/dev/}/queue
	dd if="$dev" of=/dev/null bs=1M iflag=direct status=none
	# every 1 MiB bio splits into 16
	echo 64 >"$q/max_sectors_kb"
	b=$(extmap_stat "$dev" bio_remaps)
	fio_racing_freezes "$q" "$SPLIT_SECONDS" --name=split --filename="$dev" \
		--rw=randrw --bs=1M --direct=1 --ioengine=libaio --iodepth=4 \
		--numjobs=2
	assert "the front parts were remapped as bios" \
		[ "$(extmap_stat "$dev" bio_remaps)" -gt "$b" ]
	detach "$dev"
}
SPLIT_SECONDS=${TEST_SPLIT_SECONDS:-$(by_group 5 10 60)}
run_case "ext4: split bios racing queue freezes: no hang" on_hostfs ext4 split_freeze_case

hole_case() {
	local dev
	truncate -s 32M "$HOST/disk.img"
	dd if=/dev/urandom of="$HOST/disk.img" bs=1M count=1 seek=8 conv=notrunc,fsync status=none
	dev=$(attach "$HOST/disk.img")
	assert "a hole reads as zeros" cmp -n $((1 << 20)) "$dev" /dev/zero
	assert "hole reads were zero-filled" [ "$(extmap_stat "$dev" zero_filled)" -ge 1 ]
	assert "the written MiB reads back" \
		cmp -n $((1 << 20)) <(dd if="$dev" bs=1M skip=8 count=1 iflag=direct status=none) \
		<(dd if="$HOST/disk.img" bs=1M skip=8 count=1 status=none)
	head -c $((1 << 20)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=1M seek=2 oflag=direct status=none
	assert "the write into the hole was a fill" \
		[ "$(extmap_stat "$dev" fills)" -ge 1 ]
	local reads
	reads=$(extmap_stat "$dev" remapped_reads)
	assert "the filled range reads back" \
		cmp <(dd if="$dev" bs=1M skip=2 count=1 iflag=direct status=none) "$SCRATCH/data"
	assert "... through the remap path, the stale hole map dropped" \
		[ "$(extmap_stat "$dev" remapped_reads)" -gt "$reads" ]
	local before after
	if [ "$(cat "/sys/block/${dev#/dev/}/queue/discard_max_bytes")" = 0 ]; then
		# ext2 has no fallocate, so loop offers no discard on it
		assert_eq "only ext2 lacks discard" ext2 "$(findmnt -n -o FSTYPE "$HOST")"
		detach "$dev"
		return 0
	fi
	before=$(stat -c %b "$HOST/disk.img")
	blkdiscard -o $((8 << 20)) -l $((1 << 20)) "$dev"
	after=$(stat -c %b "$HOST/disk.img")
	assert "discard punched the image ($before -> $after blocks)" [ "$after" -lt "$before" ]
	assert "the discarded range reads zeros" \
		cmp -n $((1 << 20)) <(dd if="$dev" bs=1M skip=8 count=1 iflag=direct status=none) /dev/zero
	detach "$dev"
}
for_each_hostfs "sparse image: holes read zeros, writes fill them natively, discard punches" hole_case

# Written 4 KiB blocks with a hole after each: each 8 KiB write covers a
# written block and the hole after it, so loop maps it for writing
# (fsext_alloc_file()), the written block first.  That must not drop the
# written blocks' cached maps: later reads of them hit (it dropped them
# on 0001-0049, and each such read missed).
mixed_case() {
	local dev n=64 misses
	truncate -s 8M "$HOST/disk.img"
	fio --name=written --filename="$HOST/disk.img" --rw=write:4k --bs=4k \
		--size=$((n * 8))k --direct=1 --fallocate=none --ioengine=psync \
		--output=/dev/null
	dev=$(attach "$HOST/disk.img")
	# the maps of the written blocks (and of the holes) are cached
	dd if="$dev" of=/dev/null bs=4k count=$((2 * n)) iflag=direct status=none
	head -c $((n * 8192)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=8k oflag=direct status=none
	assert "the writes filled the holes" [ "$(extmap_stat "$dev" fills)" -ge "$n" ]
	misses=$(extmap_stat "$dev" map_misses)
	# the written blocks alone: 4 KiB, then 4 KiB skipped
	fio --name=written --filename="$dev" --rw=read:4k --bs=4k --number_ios="$n" \
		--direct=1 --ioengine=psync --output=/dev/null
	assert_eq "reads of the blocks written before missed no map" \
		"$misses" "$(extmap_stat "$dev" map_misses)"
	assert "the device reads the data back" \
		cmp -n $((n * 8192)) "$SCRATCH/data" "$dev"
	detach "$dev"
	assert "the image file holds it" cmp -n $((n * 8192)) "$SCRATCH/data" "$HOST/disk.img"
}
for_each_hostfs "writes over written blocks and holes keep the written blocks' cached maps" mixed_case

# While writes fill holes, the worker maps them for writing without the
# lookup that caches maps (it would find a hole); the first write that
# finds allocated blocks must turn that lookup back on.  That one write
# is mapped for writing and leaves no cached map: the second pass over a
# filled range caches the maps of all of it but that write's, the third
# the last one, and from then on every write is remapped as a bio.
fill_rewrite_case() {
	local dev n=256 b
	truncate -s 8M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	head -c $((n * 4096)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=4k oflag=direct status=none
	assert "the first pass filled holes" [ "$(extmap_stat "$dev" fills)" -ge "$n" ]
	# the second and third passes
	dd if="$SCRATCH/data" of="$dev" bs=4k oflag=direct status=none
	dd if="$SCRATCH/data" of="$dev" bs=4k oflag=direct status=none
	b=$(extmap_stat "$dev" bio_remaps)
	dd if="$SCRATCH/data" of="$dev" bs=4k oflag=direct status=none
	assert_eq "every 4k write of the fourth pass was remapped as a bio" \
		$((b + n)) "$(extmap_stat "$dev" bio_remaps)"
	detach "$dev"
	assert "the image file holds the data" \
		cmp -n $((n * 4096)) "$SCRATCH/data" "$HOST/disk.img"
}
for_each_hostfs "writes that fill holes, then rewrites of the range: the rewrites cache their maps" fill_rewrite_case
