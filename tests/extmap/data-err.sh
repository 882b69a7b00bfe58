#!/bin/bash
# DESCRIPTION: with data_err=abort a failed fill aborts the host fs's journal before the blocks it linked commit; after a crash the hole reads zeros
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 60
# TIMEOUT: 600
# REQUIRES: cmd:dmsetup path:/dev/ram0
#
# ext3-format files get a fill's new blocks linked into the file when
# they are allocated; the transaction that links them waits for the
# fill's data (ordered mode).  If that write fails, the blocks hold what
# the disk held before.  Mounted with data_err=abort, ext4 aborts the
# journal when an ordered data write fails, so that no transaction
# linking such blocks commits: a failed fill is such a write.
#
# The host fs sits on a device-mapper device over /dev/ram0, its free
# space holding the marker, mounted data_err=abort with commit=300 (no
# periodic commit at the wrong moment).  A write into a hole of the bound
# image fails under dm-flakey error_writes; the linear table comes back
# (no freeze: that would commit the journal through the failing table);
# a new file is created and the host fs synced; then a crash: dm-flakey
# drop_writes, so that nothing more reaches the disk, while the device is
# detached and the host fs unmounted; then /dev/ram0 itself is mounted
# (journal replay).  ext3-format: the new file cannot be created (the
# journal is aborted) and after the crash the hole reads zeros, never the
# marker.  ext4 extent files fill through unwritten extents, which read
# zeros whatever happens: the journal is not aborted (as for ext4's own
# writeback into unwritten extents), the new file is there after the
# crash, the hole reads zeros.  e2fsck -fy, then e2fsck -fn must pass.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=32M
FAULTY=lm-data-err
SECTORS=$(($(numfmt --from=iec "$HOSTFS_SIZE") >> 9))
RAM=/dev/ram0

# swap TABLE: load TABLE with neither a freeze of the host fs (it would
# commit the journal through the old table) nor a flush
swap() {
	dm_swap "$FAULTY" "$1" --nolockfs --noflush
}

abort_case() {
	local fs=$1 dev rc
	HOSTDEV=$(dm_create "$FAULTY" "0 $SECTORS linear $RAM 0")
	mkfs_host "$fs"
	umount "$HOST"
	mount -t "$fs" -o data_err=abort,commit=300 "$HOSTDEV" "$HOST"
	half_sparse_image
	dev=$(attach "$HOST/disk.img")
	head -c 64k /dev/urandom >"$SCRATCH/new"
	head -c 64k /dev/zero >"$SCRATCH/zero"

	swap "0 $SECTORS flakey $RAM 0 0 3600 1 error_writes"
	assert_fails "a write into a hole fails" \
		dd if="$SCRATCH/new" of="$dev" bs=64k seek=96 count=1 oflag=direct status=none
	swap "0 $SECTORS linear $RAM 0"
	if [ "$fs" = ext3 ]; then
		assert_fails "the journal is aborted: no new file on the host fs" \
			touch "$HOST/after"
	else
		assert "the journal is not aborted: a new file on the host fs" \
			touch "$HOST/after"
	fi
	sync -f "$HOST" || true

	# the crash: from here on nothing reaches the disk
	swap "0 $SECTORS flakey $RAM 0 0 3600 1 drop_writes"
	losetup -d "$dev"
	assert "$dev is released" wait_unbound "$dev"
	umount "$HOST" || umount -l "$HOST"
	dmsetup remove --noudevsync "$FAULTY"
	mount -t "$fs" "$RAM" "$HOST"
	assert "after the crash the hole reads zeros" \
		cmp <(dd if="$HOST/disk.img" bs=64k skip=96 count=1 iflag=direct status=none) \
		"$SCRATCH/zero"
	assert "... and the image holds no marker" no_marker "$HOST/disk.img"
	assert "... and its data" \
		cmp <(head -c 4M "$HOST/disk.img") "$SCRATCH/data"
	if [ "$fs" = ext4 ]; then
		assert "the new file is there" [ -e "$HOST/after" ]
	fi
	umount "$HOST"
	rc=0
	e2fsck -fy "$RAM" >/dev/null 2>&1 || rc=$?
	assert "e2fsck -fy finds the host fs sound or repairs it (exit $rc)" [ "$rc" -le 1 ]
	assert "the host fs then passes e2fsck -fn" e2fsck -fn "$RAM" >/dev/null
}

for fs in $HOSTFS_LIST; do
	case $fs in
	ext3 | ext4) run_case "$fs: a failed fill with data_err=abort" abort_case "$fs" ;;
	esac
done
