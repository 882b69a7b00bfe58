#!/bin/bash
# DESCRIPTION: fio verify over mapped ranges and holes on a small-block, small-journal, then nearly full host fs, with discards and syncs
# GROUPS: quick auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 248
# TIMEOUT: 900 stress=2400
# REQUIRES: cmd:fio cmd:mkfs.ext3
# TEST_NEAR_FULL_MIB: MiB of the device each fio phase covers (quick 4, auto 4, stress 64)
#
# The conditions a review found defects under, built together: a host fs
# with 1 KiB blocks (loop's page-sized requests cover several blocks,
# and its rounding to max(block, page) makes neighbours collide), a
# 1 MiB journal on ext3-format and ext4 (commits come often, and a
# fill's allocation may wait for one), and a host fs with almost no free
# space (ENOSPC in the middle of a write that spans several maps).  On
# each filesystem, over an image whose first part has every other
# 64 KiB written (mapped ranges and holes alternate):
#  - fio writes 512 B to 256 KiB at random with crc32c verify over that
#    part, with an fsync every 8 writes (flushes: commit before
#    completion), while a second job writes and a third discards (not on
#    ext2, which offers no discard) the part after it: verify passes;
#  - the host fs is filled to its last 512 KiB and fio writes into the
#    holes of the discarded part: some writes fail (ENOSPC), none hangs;
#  - the filler is removed and fio writes and verifies that part again:
#    the blocks allocated before ENOSPC are writable, verify passes;
# and the host fs passes e2fsck -fn.  Every phase has the guest's time
# limit over it: a deadlock fails the test.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
MIB=${TEST_NEAR_FULL_MIB:-$(by_group 4 4 64)}
# room for the image's three parts, and the journal and metadata
HOSTFS_SIZE=$((4 * MIB + 32))M

# mkfs_small FS: the host fs with 1 KiB blocks and, with a journal, 1 MiB of it
mkfs_small() {
	local journal=()
	[ "$1" = ext2 ] || journal=(-J size=1)
	mkfs_host "$1" -b 1024 "${journal[@]}"
	assert_eq "host block size" 1024 "$(stat -f -c %S "$HOST")"
}

# run_fio LOG ARGS...: fio with the global options first, then ARGS
# (jobs start at --name=); output in $SCRATCH/LOG.log and LOG.err, whose
# tail goes to the case's log on failure
run_fio() {
	local log=$SCRATCH/$1
	shift
	fio --direct=1 --ioengine=psync --output="$log.log" "$@" 2>"$log.err" ||
		{ tail -n 30 "$log.log" "$log.err" >&2; return 1; }
}

near_full_case() {
	local fs=$1 dev part=$((MIB << 20)) jobs
	mkfs_small "$fs"
	truncate -s $((3 * part)) "$HOST/disk.img"
	# every other 64 KiB of the first part written: mapped and holes alternate
	run_fio prep --name=prep --filename="$HOST/disk.img" --rw=write:64k --bs=64k \
		--size="$part"
	dev=$(attach "$HOST/disk.img")

	jobs=(--name=v --filename="$dev" --offset=0 --size="$part" --rw=randwrite
	      --bsrange=512-256k --randseed=4242 --fsync=8 --verify=crc32c --verify_fatal=1
	      --name=w --filename="$dev" --offset="$part" --size="$part" --rw=randwrite
	      --bs=4k --time_based --runtime=600)
	if [ "$(cat "/sys/block/${dev#/dev/}/queue/discard_max_bytes")" != 0 ]; then
		jobs+=(--name=t --filename="$dev" --offset="$part" --size="$part"
		       --rw=randtrim --bs=64k --time_based --runtime=600)
	else
		assert_eq "only ext2 lacks discard" ext2 "$fs"
	fi
	# --exitall: the others stop once the verify job is done
	assert "verify passes under concurrent writes, discards and fsyncs" \
		run_fio mixed --exitall "${jobs[@]}"

	dd if=/dev/zero of="$HOST/filler" bs=1M status=none 2>/dev/null || true
	dd if=/dev/zero of="$HOST/filler" bs=1k oflag=append conv=notrunc status=none \
		2>/dev/null || true
	truncate -s $(($(stat -c %s "$HOST/filler") - (512 << 10))) "$HOST/filler"
	sync
	assert_fails "writes past the free space fail" \
		run_fio enospc --name=enospc --filename="$dev" --offset="$part" --size="$part" \
		--rw=randwrite --bsrange=4k-256k --randseed=77
	assert "... with ENOSPC or EIO" \
		grep -E -q "No space left on device|Input/output error" \
		"$SCRATCH/enospc.log" "$SCRATCH/enospc.err"

	rm "$HOST/filler"
	sync
	assert "with room again, the same range is written and verified" \
		run_fio again --name=again --filename="$dev" --offset="$part" --size="$part" \
		--rw=randwrite --bsrange=512-256k --randseed=78 --verify=crc32c --verify_fatal=1
	assert_eq "still extent-mapped" 1 "$(sysfs_loop "$dev" extent_map)"
	detach "$dev"
	umount_host
}

for fs in $HOSTFS_LIST; do
	run_case "$fs: 1 KiB blocks, small journal, nearly full: fio verify, no hang" \
		near_full_case "$fs"
done
