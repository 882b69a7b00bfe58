#!/bin/bash
# DESCRIPTION: a fill that needs a journal commit to find space neither hangs the host fs nor fails
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 48
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
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=64M

enospc_case() {
	local dev pid i
	mount -o remount,commit=60 "$HOST"
	truncate -s 16M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	dd if=/dev/zero of="$HOST/victim" bs=1M count=1 conv=fsync status=none
	dd if=/dev/zero of="$HOST/fill" bs=1M status=none 2>/dev/null || true
	dd if=/dev/zero of="$HOST/fill" bs=1k oflag=append conv=notrunc,fsync status=none \
		2>/dev/null || true
	assert_eq "the host fs is full" 0 "$(stat -f -c %a "$HOST")"
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
