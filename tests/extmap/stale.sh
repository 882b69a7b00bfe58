#!/bin/bash
# Hole-fill exclusion: readers racing with hole fills never see the disk's
# previous contents.  The host filesystem's free blocks hold a marker
# before the sparse image is created; tests/extmap/stale.py fills holes
# (whole blocks and single sectors) while two readers read around the
# block being filled: 10,000 fills on ext3-format, whose ordered-data path
# is the subtlest, 3,000 on ext2 and ext4 (STALE_FILLS, STALE_FILLS_OTHER).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=512M

FILLS=${STALE_FILLS:-10000}
FILLS_OTHER=${STALE_FILLS_OTHER:-3000}

stale_case() {
	local dev fills=$1
	mark_free_space 160
	truncate -s 128M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	python3 "$(dirname "$0")/stale.py" "$dev" "$MARKER" "$fills" >"$SCRATCH/out" ||
		{ cat "$SCRATCH/out" >&2; return 1; }
	cat "$SCRATCH/out" >&2
	assert "at least $fills fills ($(extmap_stat "$dev" fills))" \
		[ "$(extmap_stat "$dev" fills)" -ge "$fills" ]
	detach "$dev"
	assert "no byte of the image shows the marker" no_marker "$HOST/disk.img"
}
HOSTFS_LIST=ext3 for_each_hostfs "$FILLS hole fills raced by readers: no stale data" \
	stale_case "$FILLS"
HOSTFS_LIST="ext2 ext4" for_each_hostfs "$FILLS_OTHER hole fills raced by readers: no stale data" \
	stale_case "$FILLS_OTHER"
