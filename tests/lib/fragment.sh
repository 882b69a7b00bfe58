# shellcheck shell=bash
# Files' extents: listing them, and cutting free space so that a file
# gets many.  Used by tests (tests/extmap/fragmented.sh, grow.sh) and by
# the benchmark (tools/loopmap-bench/lib.sh: fiemap_table, ext4frag).

# file_extents FILE UNIT: FILE's extents as FIEMAP reports them (filefrag
# -v), one line each: "LSTART LEND PSTART LEN", in UNIT-byte blocks.
file_extents() {
	# filefrag -v: "N: LSTART.. LEND: PSTART.. PEND: LEN: FLAGS"
	filefrag -v -b"$2" "$1" |
		awk '$1 ~ /^[0-9]+:$/ { gsub(/[:.]/, " "); print $2, $3, $4, $6 }'
}

# fragment_free MNT: cut the free space of the ext4 mounted at MNT into
# single 4 KiB blocks, so that a file written after gets one extent per
# block, whatever the goals of ext4's allocator.
#
# A file (MNT/spacer) is preallocated over all the space statfs says is
# available, then every other 4 KiB block of it is punched out (fio's
# falloc engine).  The rest of the free space (the root reserve and
# ext4's reserve for metadata: counts, not places) stays in one piece,
# which root's next file would get first: once the punches are committed,
# a second file (MNT/spacer2) takes the free space beyond the punched
# blocks.  What is left is half the preallocated space, in single blocks.
fragment_free() {
	local mnt=$1 size before after left
	size=$(($(stat -f -c '%a * %S' "$mnt") / 8192 * 8192))
	fallocate -l "$size" "$mnt/spacer"
	before=$(($(stat -c '%b * %B' "$mnt/spacer")))
	fio --name=punch --ioengine=falloc --filename="$mnt/spacer" --rw=trim:4k --bs=4k \
		--size="$size" --output=/dev/null
	sync -f "$mnt"
	after=$(($(stat -c '%b * %B' "$mnt/spacer")))
	left=$(($(stat -f -c '%f * %S' "$mnt") - (before - after)))
	[ "$left" -le 0 ] || fallocate -l "$left" "$mnt/spacer2"
}
