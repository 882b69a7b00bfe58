#!/bin/bash
# Guest side of tests/host/crash.sh, one boot per round:
#   guest.sh "FS..." ROUND "ACKED..." [check-only]
# One host filesystem per FS on its own virtio-blk disk, in order
# (/dev/vda, /dev/vdb, ...), mounted at /mnt/crash-FS.  For each, checks
# the previous round (ROUND - 1, whose last acknowledged batch on that
# filesystem was the matching ACKED, -1 for none) with
# tests/host/crash/check-disk.sh: the host filesystem must be clean under
# e2fsck (ext2: after e2fsck -fy; ext3/ext4: after journal replay) and
# tests/host/crash/crashio.py check must pass.  Then, unless check-only,
# fills its free space with the marker, makes a fresh sparse image and
# attaches it; once every image is attached, writes into the holes of all
# of them at once until the host kills the guest.  Every line a
# filesystem's checks or writer print starts with (TAP: "ok - ") FS.
# TEST_CRASH_BATCHES (200) is the number of batches crashio.py plans per
# round.
set -euo pipefail
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../../lib.sh"

read -r -a fses <<<"$1"
round=$2
read -r -a acked <<<"$3"
mode=${4:-}
BATCHES=${TEST_CRASH_BATCHES:-200}
here=$(dirname "$0")
letters=abcdefghij
[ ${#fses[@]} -eq ${#acked[@]} ] || { echo "not ok - guest.sh: ${#fses[@]} filesystems, ${#acked[@]} acked"; exit 1; }

tap() { if "${@:2}"; then echo "ok - $1"; else echo "not ok - $1"; return 1; fi; }
# labelled FS CMD...: CMD's lines, TAP ones as "ok - FS: ...", comments as
# "# FS: ...", any other as "FS ..." ("ext4 ack 1 3")
labelled() {
	local fs=$1
	shift
	"$@" | sed -u -e "s/^\(ok\|not ok\) - /\1 - $fs: /;t" -e "s/^# /# $fs: /;t" -e "s/^/$fs /"
}

devs=()
for i in "${!fses[@]}"; do
	fs=${fses[i]} disk=/dev/vd${letters:i:1} HOST=/mnt/crash-${fses[i]}
	mkdir -p "$HOST"
	if [ "$round" -gt 1 ]; then
		# TAP lines; a failed check does not stop this round.
		labelled "$fs" "$here/check-disk.sh" "$fs" "$disk" "$HOST" $((round - 1)) \
			"${acked[i]}" "$BATCHES" || true
		mount -t "$fs" "$disk" "$HOST"
		rm -f "$HOST/disk.img"
		if [ "$mode" = check-only ]; then
			umount "$HOST"
			continue
		fi
	else
		"mkfs.$fs" -q -F "$disk"
		mount -t "$fs" "$disk" "$HOST"
	fi
	# Every free block holds the marker when the image is made.
	SCRATCH=/tmp mark_free_space ""
	truncate -s 32M "$HOST/disk.img"
	sync
	dev=$(losetup -f --show "$HOST/disk.img")
	tap "$fs: round $round: the image is extent-mapped" \
		[ "$(sysfs_loop "$dev" extent_map)" = 1 ]
	devs+=("$dev")
done
[ "$mode" = check-only ] && exit 0
echo "armed $round"
for i in "${!fses[@]}"; do
	labelled "${fses[i]}" python3 "$here/crashio.py" write "${devs[i]}" "$round" "$BATCHES" &
done
wait
echo "not ok - round $round: the host did not stop the guest"
exit 1
