#!/bin/bash
# Guest side of tests/host/crash.sh, one boot per round:
#   guest.sh FS ROUND ACKED [check-only]
# Checks the previous round (ROUND - 1, whose last acknowledged batch was
# ACKED, -1 for none) on /dev/vda with tests/host/crash/check-disk.sh: the
# host filesystem must be clean under e2fsck (ext2: after e2fsck -fy;
# ext3/ext4: after journal replay) and tests/host/crash/crashio.py check
# must pass.  Then, unless check-only, fills the free space with the
# marker, makes a fresh sparse image, attaches it and writes into its
# holes until the host kills the guest.  TEST_CRASH_BATCHES (200) is the
# number of batches crashio.py plans per round.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../../lib.sh"

fs=$1 round=$2 acked=$3 mode=${4:-}
disk=/dev/vda
HOST=/mnt/crash
BATCHES=${TEST_CRASH_BATCHES:-200}
here=$(dirname "$0")
mkdir -p "$HOST"

tap() { if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; return 1; fi; }

if [ "$round" -gt 1 ]; then
	prev=$((round - 1))
	# It prints the results as TAP lines; a failed check does not stop this round.
	"$here/check-disk.sh" "$fs" "$disk" "$HOST" "$prev" "$acked" "$BATCHES" || true
	mount -t "$fs" "$disk" "$HOST"
	rm -f "$HOST/disk.img"
	[ "$mode" = check-only ] && { umount "$HOST"; exit 0; }
else
	"mkfs.$fs" -q -F "$disk"
	mount -t "$fs" "$disk" "$HOST"
fi

# Every free block holds the marker when the image is made.
SCRATCH=/tmp mark_free_space ""
truncate -s 32M "$HOST/disk.img"
sync
dev=$(losetup -f --show "$HOST/disk.img")
tap "round $round: the image is extent-mapped" [ "$(sysfs_loop "$dev" extent_map)" = 1 ]
echo "armed $round"
python3 "$here/crashio.py" write "$dev" "$round" "$BATCHES"
echo "not ok - round $round: the host did not stop the guest"
exit 1
