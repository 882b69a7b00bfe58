#!/bin/bash
# DESCRIPTION: writes into holes and unwritten extents are fills: data verified, rest of new blocks zeroed, no stale marker, ENOSPC fails cleanly
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 293
# TIMEOUT: 1800
# REQUIRES: cmd:fio
#
# Writes into holes and unwritten extents take the fast path: the host
# filesystem allocates, loop writes the data straight to the new blocks
# (a "fill") and zeros the parts of them the write does not cover.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=512M

# fio_fill DEV ARGS...: seeded random writes of 512 B to 256 KiB, then
# read back and checked (crc32c).
fio_fill() {
	local dev=$1
	shift
	fio --name=fill --filename="$dev" --rw=randwrite --bsrange=512-256k \
		--size=32M --ioengine=libaio --iodepth=16 --direct=1 \
		--randseed=4242 --verify=crc32c --verify_fatal=1 "$@" \
		--output="$SCRATCH/fio.log" || { cat "$SCRATCH/fio.log" >&2; return 1; }
}

fio_case() {
	local dev
	mark_free_space 96
	truncate -s 48M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	assert "fio random writes into holes verify" fio_fill "$dev"
	assert "the writes filled holes ($(extmap_stat "$dev" fills) fills)" \
		[ "$(extmap_stat "$dev" fills)" -ge 100 ]
	detach "$dev"
	dev=$(attach "$HOST/disk.img")
	assert "the data is still there after reattach" fio_fill "$dev" --verify_only
	detach "$dev"
	assert "no byte of the image shows the marker" no_marker "$HOST/disk.img"
	assert "the image is still sparse" [ "$(du -k "$HOST/disk.img" | cut -f1)" -lt 40000 ]
}
for_each_hostfs "sparse image: fio random writes (512 B - 256 KiB) fill holes and verify" fio_case

unwritten_case() {
	local dev
	[ "$(findmnt -n -o FSTYPE "$HOST")" = ext4 ] || return 0
	mark_free_space 96
	fallocate -l 48M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	assert "fio random writes into unwritten extents verify" fio_fill "$dev"
	assert "the writes were fills" [ "$(extmap_stat "$dev" fills)" -ge 100 ]
	detach "$dev"
	dev=$(attach "$HOST/disk.img")
	assert "the extents were converted: the data is there after reattach" \
		fio_fill "$dev" --verify_only
	detach "$dev"
	assert "no byte of the image shows the marker" no_marker "$HOST/disk.img"
}
HOSTFS_LIST=ext4 for_each_hostfs "fallocated image: writes convert unwritten extents" unwritten_case

subblock_case() {
	local dev
	mark_free_space 32
	truncate -s 16M "$HOST/disk.img"
	touch -d 2020-01-01 "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	head -c 512 /dev/urandom >"$SCRATCH/data"
	head -c 16384 /dev/zero >"$SCRATCH/expect"
	dd if="$SCRATCH/data" of="$SCRATCH/expect" bs=512 seek=9 conv=notrunc status=none
	dd if="$SCRATCH/data" of="$dev" bs=512 seek=9 oflag=direct conv=fsync status=none
	assert_eq "one fill" 1 "$(extmap_stat "$dev" fills)"
	assert "the rest of the new block reads zeros" \
		cmp <(dd if="$dev" bs=16k count=1 iflag=direct status=none) "$SCRATCH/expect"
	assert "the flush updated the image's mtime" \
		[ "$(stat -c %Y "$HOST/disk.img")" -gt "$(date -d 2021-01-01 +%s)" ]
	detach "$dev"
	assert "the image file holds the same" cmp -n 16384 "$HOST/disk.img" "$SCRATCH/expect"
	assert_eq "the image has one block" "$(stat -f -c %S "$HOST")" \
		"$(($(stat -c %b "$HOST/disk.img") * 512))"
}
for_each_hostfs "512-byte write into a hole: the rest of the block is zeroed" subblock_case

enospc_case() {
	local dev
	truncate -s 256M "$HOST/disk.img"
	dev=$(attach "$HOST/disk.img")
	head -c $((8 << 20)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=1M oflag=direct status=none
	assert_fails "writing more than the host filesystem holds fails" \
		dd if=/dev/zero of="$dev" bs=1M seek=8 count=200 oflag=direct status=none
	assert "the data written before is intact" \
		cmp <(dd if="$dev" bs=1M count=8 iflag=direct status=none) "$SCRATCH/data"
	head -c $((1 << 20)) /dev/urandom >"$SCRATCH/data2"
	dd if="$SCRATCH/data2" of="$dev" bs=1M oflag=direct conv=fsync status=none
	assert "writes to allocated blocks still work" \
		cmp <(dd if="$dev" bs=1M count=1 iflag=direct status=none) "$SCRATCH/data2"
	detach "$dev"
	assert "the image file holds them" cmp -n $((1 << 20)) "$HOST/disk.img" "$SCRATCH/data2"
}
HOSTFS_SIZE=48M for_each_hostfs "ENOSPC on the host filesystem: the write fails, nothing else is lost" enospc_case
