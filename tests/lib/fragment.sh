# shellcheck shell=bash
# fragment_free MNT: cut the free space of the ext4 mounted at MNT into
# single 4 KiB blocks, so that a file written after gets one extent per
# block, whatever the goals of ext4's allocator.  Used by
# tests/extmap/fragmented.sh and by the benchmark's ext4frag
# (tools/loopmap-bench/lib.sh).
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
