#!/bin/bash
# DESCRIPTION: a fill that needs a journal commit to find space neither hangs the host fs nor fails
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 157
# TIMEOUT: 400
#
# On an ext3-format host fs, the commit of a transaction that linked
# blocks a fill allocated waits for the fill's data (ordered mode).  A
# write through loop into a hole larger than the free space maps its
# first part onto the free blocks, then asks for more: ext4 answers
# -ENOSPC and, since blocks freed by an unlink wait for the running
# transaction's commit, forces that commit and retries.  If loop still
# holds the first part's fill at that point, the commit waits for loop
# and loop for the commit: kjournald2 and every writer of the host fs
# hang.  The case fills the host fs, frees 64 KiB for good and 1 MiB
# pending a commit (an unlink just before the write), and writes 256 KiB
# into a hole of a bound image: the write must finish within a minute,
# succeed (the retry finds the freed blocks) and read back, and the host
# fs must pass e2fsck.
#
# The second case: when ext4 cannot split an unwritten extent for lack
# of space for a new extent block, it zeroes the whole extent and marks
# it written (ext4_split_extent_at()).  A map of another part of that
# extent, cached as unwritten by an earlier read, then no longer says
# what the blocks hold: a write to them maps them as allocated, and
# unless that map drops the stale one, the next read through the device
# reads zeros instead of the data (it did on 0001-0048).  Built on a host
# fs with 1 KiB blocks: the image's 84 extents fill one extent leaf, so
# that a split needs a new block; the inode is evicted with the leaf
# cached, so that ext4 then learns one block of the unwritten extent
# alone (an O_DIRECT read of it) and loop caches a map of that block
# alone; the host fs is full, its reserve for metadata set to nothing,
# when a write into another part of the extent comes.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=64M

# fill_host: write to the host fs until ext4 refuses
fill_host() {
	dd if=/dev/zero of="$HOST/fill" bs=1M status=none 2>/dev/null || true
	dd if=/dev/zero of="$HOST/fill" bs=1k oflag=append conv=notrunc,fsync status=none \
		2>/dev/null || true
	assert_eq "the host fs is full" 0 "$(stat -f -c %a "$HOST")"
}

enospc_case() {
	local dev pid i
	mount -o remount,commit=60 "$HOST"
	truncate -s 16M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	dd if=/dev/zero of="$HOST/victim" bs=1M count=1 conv=fsync status=none
	fill_host
	truncate -s $(($(stat -c %s "$HOST/fill") - 65536)) "$HOST/fill"
	sync
	head -c 262144 /dev/urandom >"$SCRATCH/data"
	rm "$HOST/victim"
	dd if="$SCRATCH/data" of="$dev" bs=256k seek=8 oflag=direct status=none &
	pid=$!
	for i in $(seq 60); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	assert "the write finished within a minute (waited ${i} s)" [ "$i" -lt 60 ]
	assert "the write succeeded" wait "$pid"
	assert "the data reads back" \
		cmp "$SCRATCH/data" <(dd if="$dev" bs=256k skip=8 count=1 iflag=direct status=none)
	assert "the write took more than one fill" [ "$(extmap_stat "$dev" fills)" -ge 2 ]
}
HOSTFS_LIST=ext3 for_each_hostfs "write into a hole past the free space: no hang, the commit frees room" enospc_case

# leaf_entries: the entries of the image's extent leaves
leaf_entries() {
	debugfs -R "ex /disk.img" "$HOSTDEV" 2>/dev/null | grep -c -E '^ *1/ *1 '
}

zeroout_case() {
	local dev a=1536 n=1536 m=1544 misses zeroed
	mkfs_host ext4 -b 1024
	# 83 written blocks, then an unwritten extent of 64 KiB at 6 MiB
	# (4 KiB block a): the 84 extents fill one leaf of 1 KiB
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT)
for k in range(83):
	os.pwrite(fd, b"x" * 1024, k << 16)
os.ftruncate(fd, 8 << 20)
os.fsync(fd)' "$HOST/disk.img"
	fallocate -o $((a << 12)) -l 64K "$HOST/disk.img"
	sync
	assert_eq "the image's extent leaf is full" 84 "$(leaf_entries)"
	# ext4 forgets the extents (the inode is evicted, the leaf stays
	# cached), then learns block n alone: the device's first read of it
	# caches a map of n alone
	echo 2 >/proc/sys/vm/drop_caches
	dd if="$HOST/disk.img" of=/dev/null bs=4k skip=$n count=1 iflag=direct status=none
	dev=$(attach "$HOST/disk.img")
	assert "a read of the unwritten extent reads zeros" \
		cmp <(head -c 4096 /dev/zero) \
		<(dd if="$dev" bs=4k skip=$n count=1 iflag=direct status=none)
	# the split may dip into ext4's reserve for metadata: leave none
	echo 0 >"/sys/fs/ext4/$(basename "$(readlink -f "$HOSTDEV")")/reserved_clusters"
	fill_host
	head -c 4096 /dev/urandom >"$SCRATCH/m"
	head -c 4096 /dev/urandom >"$SCRATCH/n"
	# maps m to the extent's end, apart from n's map; ext4 zeroes the
	# extent, marks it written, then fails to split it for the write
	# (ENOSPC), which loop may retry: its status is not the point
	dd if="$SCRATCH/m" of="$dev" bs=4k seek=$m count=1 oflag=direct status=none \
		2>/dev/null || true
	assert "ext4 could not split it: the whole extent is written" \
		[ "$(filefrag -v "$HOST/disk.img" | grep -c unwritten)" = 0 ]
	# the state is built: n's map survived the write and still says
	# unwritten (the read hits it and is zero-filled, true zeros still)
	misses=$(extmap_stat "$dev" map_misses)
	zeroed=$(extmap_stat "$dev" zero_filled)
	dd if="$dev" of=/dev/null bs=4k skip=$n count=1 iflag=direct status=none
	assert_eq "n's map is still cached: no miss" "$misses" "$(extmap_stat "$dev" map_misses)"
	assert_eq "... as unwritten" $((zeroed + 1)) "$(extmap_stat "$dev" zero_filled)"
	assert "a write to another part of the extent succeeds" \
		dd if="$SCRATCH/n" of="$dev" bs=4k seek=$n count=1 oflag=direct status=none
	assert "... and to the first part" \
		dd if="$SCRATCH/m" of="$dev" bs=4k seek=$m count=1 oflag=direct status=none
	assert "the image file holds it" \
		cmp "$SCRATCH/n" <(dd if="$HOST/disk.img" bs=4k skip=$n count=1 iflag=direct \
				   status=none)
	assert "the device reads it back" \
		cmp "$SCRATCH/n" <(dd if="$dev" bs=4k skip=$n count=1 iflag=direct status=none)
	assert "... and the first write" \
		cmp "$SCRATCH/m" <(dd if="$dev" bs=4k skip=$m count=1 iflag=direct status=none)
	detach "$dev"
	rm "$HOST/fill"
	umount_host
}
run_case "ext4: unwritten extent zeroed whole for lack of space: later writes read back" \
	zeroout_case
