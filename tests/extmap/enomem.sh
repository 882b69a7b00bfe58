#!/bin/bash
# DESCRIPTION: a request that cannot be mapped for lack of memory is retried, never failed
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 49
# TIMEOUT: 300
# REQUIRES: path:/sys/kernel/debug/fail_fsext_map
#
# Memory pressure must delay I/O, never fail it: blk-mq drivers return
# BLK_STS_RESOURCE and are called again.  In extent-mapped mode a write
# into a hole, or a read that misses the map cache, asks the host
# filesystem for a map from loop's worker; if that runs out of memory,
# loop must put the request back and try again, not end it with EIO.
# The fault attribute fail_fsext_map (CONFIG_FAIL_FS_EXTENT_MAP) makes
# the next few map allocations fail.  The case writes 256 KiB into a
# hole of a bound image and, on a fresh binding (empty map cache), reads
# it back, each with failures armed: both must succeed with the right
# data, and loop's nomem_retries counter shows that the failures reached
# loop.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=32M
FAIL=/sys/kernel/debug/fail_fsext_map

# fail_next N: the next N map allocations fail
fail_next() {
	echo 0 >"$FAIL/verbose"
	echo 0 >"$FAIL/space"
	echo 1 >"$FAIL/interval"
	echo N >"$FAIL/task-filter"
	echo 100 >"$FAIL/probability"
	echo "$1" >"$FAIL/times"
}

fail_off() {
	echo 0 >"$FAIL/probability"
	echo 0 >"$FAIL/times"
}
trap fail_off EXIT

enomem_case() {
	local dev
	truncate -s 16M "$HOST/disk.img"
	head -c 262144 /dev/urandom >"$SCRATCH/data"

	dev=$(attach "$HOST/disk.img")
	fail_next 4
	assert "a write into a hole succeeds while map allocations fail" \
		dd if="$SCRATCH/data" of="$dev" bs=256k seek=4 oflag=direct status=none
	fail_off
	assert "the write was retried" [ "$(extmap_stat "$dev" nomem_retries)" -ge 1 ]
	assert "the write reads back" \
		cmp "$SCRATCH/data" <(dd if="$dev" bs=256k skip=4 count=1 iflag=direct status=none)
	detach "$dev"

	dev=$(attach "$HOST/disk.img")
	fail_next 4
	assert "a read that misses succeeds while map allocations fail" \
		dd if="$dev" of="$SCRATCH/back" bs=256k skip=4 count=1 iflag=direct status=none
	fail_off
	assert "the read was retried" [ "$(extmap_stat "$dev" nomem_retries)" -ge 1 ]
	assert "the read returned the data" cmp "$SCRATCH/data" "$SCRATCH/back"
	assert_eq "both were remapped" 0 "$(extmap_stat "$dev" classic_reads)"
	detach "$dev"
}
for_each_hostfs "out of memory while mapping: writes and reads are retried" enomem_case
