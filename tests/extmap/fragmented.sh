#!/bin/bash
# DESCRIPTION: an image of one extent per block (thousands; tens of thousands in stress) reads and writes right through the device; its cached maps stay within the tree's bound, are counted by the fsext-maps shrinker, go under reclaim (drop_caches, a shrinker scan, both racing verified I/O) and come back on the next reads
# GROUPS: auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 160
# REQUIRES: cmd:fio cmd:filefrag
# TEST_FRAG_MIB: image size in MiB, 4 KiB blocks each its own extent (auto 8, stress 256)
# TEST_FRAG_BOUND: extent_map.max_maps for the image (auto 512, stress 4096)
# TEST_FRAG_FS: the host filesystems (auto ext4, stress "ext2 ext4")
# TIMEOUT: 900 stress=3600
#
# How the image gets one extent per block.  ext2 (and ext3-format): the
# image is written every other block first, synced, then the blocks
# between: ext2 allocates the first pass's blocks next to each other, so
# the second pass's go elsewhere.  ext4 (extents) would put each block of
# the second pass at the place its logical neighbours leave for it, so
# its free space is cut into single blocks first (fragment_free,
# tests/lib/fragment.sh) and the image written after, O_DIRECT, one block
# per write.  Every block of the image
# carries a fio verify header (its offset and a checksum), so a read
# through a wrong or stale map fails.  The auto form's 8 MiB image has
# about 2,048 extents against a bound of 512 maps (extent_map.max_maps,
# set for the test); the stress form's 256 MiB about 65,536 against
# 4,096.  The shrinker's count
# (/sys/kernel/debug/shrinker/fsext-maps-*/count) is a per-CPU counter
# read without summing: it may lag by 32 per CPU.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=tests/lib/fragment.sh
. "$(dirname "$0")/../lib/fragment.sh"
MIB=${TEST_FRAG_MIB:-$(by_group 8 8 256)}
BOUND=${TEST_FRAG_BOUND:-$(by_group 512 512 4096)}
HOSTFS_SIZE=$((2 * MIB + 24))M
PARAM=/sys/module/extent_map/parameters/max_maps
SLACK=64
SHRINKER=$(echo /sys/kernel/debug/shrinker/fsext-maps-*)

# maps_cached: maps linked in the trees of bound files (the shrinker's count)
maps_cached() {
	local _ n=
	read -r _ n <"$SHRINKER/count" || true
	echo "${n:-0}"
}

# within LOW HIGH VALUE: LOW <= VALUE <= HIGH
within() {
	[ "$3" -ge "$1" ] && [ "$3" -le "$2" ]
}

# fio_write IMAGE OFFSET RW [FIO OPTIONS...]: fio writes RW 4 KiB blocks
# from OFFSET to the end of the existing sparse IMAGE, through the page
# cache unless the options say otherwise, with verify headers
fio_write() {
	fio --name=frag --filename="$1" --rw="$3" --bs=4k --offset="$2" \
		--size=$((MIB * 1048576 - $2)) --fallocate=none --end_fsync=1 \
		--verify=crc32c --do_verify=0 --verify_state_save=0 --output=/dev/null "${@:4}"
}

# fragmented_image IMAGE: IMAGE of $MIB MiB, one extent per 4 KiB block
fragmented_image() {
	local img=$1 type
	truncate -s "${MIB}M" "$img"
	mounted_type type "$HOST"
	if [ "$type" != ext4 ]; then
		# indirect-block files: no fallocate
		fio_write "$img" 0 write:4k
		sync
		fio_write "$img" 4096 write:4k
		return
	fi
	fragment_free "$HOST"
	# one allocation per block: written back in larger pieces, the image
	# would get whatever free space in one piece fragment_free missed
	fio_write "$img" 0 write --direct=1
}

# extents_below IMAGE BLOCK: how many of IMAGE's extents start below 4 KiB
# block BLOCK
extents_below() {
	file_extents "$1" 4096 | awk -v b="$2" '$1 < b { n++ } END { print n + 0 }'
}

# verify_reads DEVICE BLOCKS: each of the first BLOCKS 4 KiB blocks once,
# in random order, each one's verify header checked
verify_reads() {
	fio --name=check --filename="$1" --rw=randread --bs=4k --size=$(($2 * 4096)) \
		--direct=1 --verify=crc32c --verify_fatal=1 --verify_state_load=0 \
		--output="$SCRATCH/fio.out"
}

frag_case() {
	local img=$HOST/frag.img dev n count want reclaimer case_pid=$BASHPID
	assert "the fsext-maps shrinker is in debugfs" [ -f "$SHRINKER/count" ]
	fragmented_image "$img"
	n=$(filefrag "$img" | awk '{ print $(NF - 2) }')
	assert "the image has at least one extent per two blocks ($n extents)" \
		[ "$n" -ge $((MIB * 128)) ]
	dev=$(attach "$img")

	assert "every block reads back right through the device" \
		verify_reads "$dev" $((MIB * 256))
	count=$(maps_cached)
	assert "the tree caches as many maps as its bound allows ($count, bound $BOUND)" \
		within $((n < BOUND ? n - SLACK : BOUND - SLACK)) $((BOUND + SLACK)) "$count"

	echo 2 >/proc/sys/vm/drop_caches
	count=$(maps_cached)
	assert "drop_caches reclaims the maps ($count left)" [ "$count" -le "$SLACK" ]
	assert "the first $BOUND blocks read back right after reclaim" \
		verify_reads "$dev" "$BOUND"
	count=$(maps_cached)
	want=$(extents_below "$img" "$BOUND")
	assert "the first $BOUND blocks hold at least $((BOUND / 2)) extents ($want)" \
		[ "$want" -ge $((BOUND / 2)) ]
	assert "the maps are cached again ($count, for $want extents)" \
		[ "$count" -ge $((want - SLACK)) ]
	echo "0 0 $((BOUND / 2))" >"$SHRINKER/scan"
	n=$(maps_cached)
	assert "a shrinker scan of $((BOUND / 2)) evicts as many maps ($count -> $n)" \
		within $((BOUND / 2 - SLACK)) $((BOUND / 2 + SLACK)) $((count - n))

	# reclaim racing remapped writes and reads of the same ranges, until
	# told to stop or the case ends
	(
		while [ ! -e "$SCRATCH/stop" ] && kill -0 "$case_pid" 2>/dev/null; do
			echo 2 >/proc/sys/vm/drop_caches
			echo "0 0 256" >"$SHRINKER/scan"
			sleep 0.2
		done
	) &
	reclaimer=$!
	assert "random writes verify while reclaim runs" \
		fio --name=rw --filename="$dev" --rw=randwrite --bs=4k --size="${MIB}M" \
		--io_size=$((MIB / 4))M --direct=1 --verify=crc32c --verify_fatal=1 \
		--verify_state_save=0 --output="$SCRATCH/fio.out"
	assert "random reads verify while reclaim runs" verify_reads "$dev" $((MIB * 128))
	touch "$SCRATCH/stop"
	wait "$reclaimer"
	assert "the image file holds what the device holds" cmp "$dev" "$img"
	detach "$dev"
	count=$(maps_cached)
	assert "a detached image's maps leave the count ($count)" [ "$count" -le "$SLACK" ]
}
# The bound is the guest's: it goes back to what it was however the test
# ends, also when the runner stops it past its time limit (SIGTERM).
old_bound=
restore_bound() { [ -z "$old_bound" ] || echo "$old_bound" >"$PARAM"; }
if [ -w "$PARAM" ]; then
	read -r old_bound <"$PARAM"
	trap restore_bound EXIT
	trap 'exit 143' TERM
	echo "$BOUND" >"$PARAM"
fi
HOSTFS_LIST=${TEST_FRAG_FS:-$(by_group ext4 ext4 "ext2 ext4")} for_each_hostfs \
	"fragmented image: verified I/O, bounded maps, reclaimed and found again" frag_case
