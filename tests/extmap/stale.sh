#!/bin/bash
# DESCRIPTION: readers racing with hole fills never see the host disk's previous contents (no stale marker)
# GROUPS: quick auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 235
# TIMEOUT: 1500 stress=7200
# TEST_STALE_FILLS: hole fills on ext3-format (quick 300, auto 3000, stress 30000)
# TEST_STALE_FILLS_OTHER: hole fills on ext2 and on ext4 (quick 200, auto 1000, stress 9000)
#
# Hole-fill exclusion: readers racing with hole fills never see the disk's
# previous contents.  The host filesystem's free blocks hold a marker
# before the sparse image is created; tests/extmap/stale.py fills holes
# (whole blocks and single sectors) while two readers read around the
# block being filled: more fills on ext3-format, whose ordered-data path
# is the subtlest (TEST_STALE_FILLS), than on ext2 and ext4
# (TEST_STALE_FILLS_OTHER).  10,000 + 2 x 3,000 fills took 174 s on the
# machine of 2026-11-30 and 531 s on that of 2026-12-01, which runs the
# guests 2.5-3 times slower: group auto runs 3,000 + 2 x 1,000, group
# stress the long form.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=512M

FILLS=${TEST_STALE_FILLS:-$(by_group 300 3000 30000)}
FILLS_OTHER=${TEST_STALE_FILLS_OTHER:-$(by_group 200 1000 9000)}

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
