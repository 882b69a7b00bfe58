#!/bin/bash
# The checks of a host disk after a crash, one implementation for the
# crash test (tests/host/crash/guest.sh, on /dev/vda) and the replay test
# (tests/extmap/replay.py, on a disk image file):
#
#   check-disk.sh FS DEVICE_OR_IMAGE MOUNTPOINT ROUND ACKED BATCHES
#
# DEVICE_OR_IMAGE holds the host filesystem FS (ext2, ext3 or ext4) as a
# crash left it, with the image disk.img that tests/host/crash/crashio.py
# wrote BATCHES batches into in round ROUND, of which batches 0..ACKED
# were acknowledged (ACKED -1: none).  A regular file is mounted through
# a loop device (mount -o loop), a block device directly.  The steps:
#   1. ext2: e2fsck -fy must exit 0 or 1 (it repairs what ext2 left);
#      ext3, ext4: a mount and umount replay the journal;
#   2. e2fsck -fn must find the filesystem clean;
#   3. mounted read-only at MOUNTPOINT, disk.img must pass crashio.py
#      check.
# Each step prints "ok - round ROUND: ..." or "not ok - round ROUND: ...",
# a failed one the tail of its command's output as "# " lines; crashio.py
# check prints its own such lines.  A failed step does not stop the next.
# The filesystem is left unmounted.  Exits 0 when every step passed, 1
# when one failed, 2 on wrong arguments.
set -euo pipefail

if [ $# -ne 6 ]; then
	echo "usage: $0 FS DEVICE_OR_IMAGE MOUNTPOINT ROUND ACKED BATCHES" >&2
	exit 2
fi
fs=$1 disk=$2 mnt=$3 round=$4 acked=$5 batches=$6
here=$(dirname "$0")
case $fs in
ext2 | ext3 | ext4) ;;
*) echo "$0: unknown filesystem $fs" >&2; exit 2 ;;
esac
if [ ! -e "$disk" ]; then
	echo "$0: no device or image $disk" >&2
	exit 2
fi
# Whatever is mounted at $mnt on exit is ours to unmount.
if mountpoint -q "$mnt"; then
	echo "$0: $mnt is in use" >&2
	exit 2
fi

log=$(mktemp)
failed=0
# On any exit: unmount what this script mounted, remove the log.
trap 'if mountpoint -q "$mnt"; then umount "$mnt" || true; fi; rm -f "$log"' EXIT

# result DESCRIPTION TEST...: the TAP line of a step whose command wrote
# its output to $log; TEST (a command, such as [ "$rc" = 0 ]) says
# whether it passed.
result() {
	if "${@:2}"; then
		echo "ok - round $round: $1"
	else
		echo "not ok - round $round: $1"
		sed 's/^/# /' "$log" | tail -n 20
		failed=1
	fi
}

# mount_disk [OPTIONS]: mount the disk at $mnt, through a loop device
# when it is a file
mount_disk() {
	local opts=${1:-} args=(-t "$fs")
	if [ -f "$disk" ]; then opts=${opts:+$opts,}loop; fi
	if [ -n "$opts" ]; then args+=(-o "$opts"); fi
	mount "${args[@]}" "$disk" "$mnt"
}

rc=0
case $fs in
ext2)
	e2fsck -fy "$disk" >"$log" 2>&1 || rc=$?
	result "e2fsck -fy repairs what ext2 left (status $rc)" [ "$rc" -le 1 ]
	;;
*)
	{ mount_disk && umount "$mnt"; } >"$log" 2>&1 || rc=$?
	result "a mount replays the journal" [ "$rc" = 0 ]
	;;
esac

rc=0
e2fsck -fn "$disk" >"$log" 2>&1 || rc=$?
result "the host filesystem is clean under e2fsck -fn" [ "$rc" = 0 ]

rc=0
mount_disk ro >"$log" 2>&1 || rc=$?
if [ "$rc" != 0 ]; then
	result "the host filesystem mounts" false
elif [ ! -f "$mnt/disk.img" ]; then
	echo "not ok - round $round: the host filesystem holds disk.img"
	failed=1
elif ! python3 "$here/crashio.py" check "$mnt/disk.img" "$round" "$acked" "$batches"; then
	failed=1
fi
if mountpoint -q "$mnt" && ! umount "$mnt"; then
	echo "not ok - round $round: the host filesystem unmounts"
	failed=1
fi
exit "$failed"
