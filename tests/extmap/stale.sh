#!/bin/bash
# Hole-fill exclusion: readers racing with hole fills never see the disk's
# previous contents.  The host filesystem's free blocks hold a marker
# before the sparse image is created; tests/extmap/stale.py fills 10,000
# holes (whole blocks and single sectors) while two readers read around
# the block being filled.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

FILLS=${STALE_FILLS:-10000}

stale_case() {
	local dev
	mark_free_space 256M
	truncate -s 128M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	python3 "$(dirname "$0")/stale.py" "$dev" "$MARKER" "$FILLS" >"$SCRATCH/out" ||
		{ cat "$SCRATCH/out" >&2; return 1; }
	cat "$SCRATCH/out" >&2
	assert "at least $FILLS fills ($(extmap_stat "$dev" fills))" \
		[ "$(extmap_stat "$dev" fills)" -ge "$FILLS" ]
	detach "$dev"
	assert "no byte of the image shows the marker" no_marker "$HOST/disk.img"
}
for_each_hostfs "$FILLS hole fills raced by readers: no stale data" stale_case
