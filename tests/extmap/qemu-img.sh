#!/bin/bash
# DESCRIPTION: qemu-img as a client: a qcow2 converted into an extent-mapped device (over old data) and back out is unchanged
# GROUPS: auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 55
# REQUIRES: cmd:qemu-img
# TEST_QEMU_IMG_MIB: size of the virtual disk in MiB (auto 32, stress 256)
# TEST_QEMU_IMG_FS: the host filesystems (auto ext4; stress "ext2 ext3 ext4")
#
# What a VM host does with a loop device: qemu-img writes a guest disk
# into it and reads it back out.  The source is a qcow2 with data, runs
# of zeros and unallocated clusters.  The image is sparse, and written
# first with another pattern, so that the conversion's zero runs (qemu-img
# may not assume a block device zeroed, and writes them, as zeroes or as
# write-zeroes requests) must replace data.  Each step goes O_DIRECT on the
# device (-t none / -T none), as QEMU with cache=none does.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

MIB=${TEST_QEMU_IMG_MIB:-$(by_group 32 32 256)}
# the fills of all three are the business of extmap/fill and extmap/stale
HOSTFS_LIST=${TEST_QEMU_IMG_FS:-$(by_group ext4 ext4 "ext2 ext3 ext4")}

# src_raw PATH: MIB MiB of: random data, a run of zeros written as data,
# a hole, more random data; the pattern repeats every 8 MiB.
src_raw() {
	local i
	truncate -s "${MIB}M" "$1"
	for ((i = 0; i < MIB; i += 8)); do
		dd if=/dev/urandom of="$1" bs=64K seek=$((i * 16)) count=24 conv=notrunc status=none
		dd if=/dev/zero of="$1" bs=64K seek=$((i * 16 + 24)) count=16 conv=notrunc status=none
		dd if=/dev/urandom of="$1" bs=64K seek=$((i * 16 + 80)) count=9 conv=notrunc status=none
	done
}

roundtrip_case() {
	local dev img=$HOST/vm.img fills
	src_raw "$SCRATCH/src.raw"
	qemu-img convert -f raw -O qcow2 "$SCRATCH/src.raw" "$SCRATCH/src.qcow2"
	truncate -s "${MIB}M" "$img"
	dev=$(attach "$img")
	# old data everywhere, written by qemu-img too (fills of the holes)
	head -c "${MIB}M" /dev/zero | tr '\0' Z >"$SCRATCH/old.raw"
	qemu-img convert -n -f raw -O raw -t none "$SCRATCH/old.raw" "$dev"
	fills=$(extmap_stat "$dev" fills)
	assert "qemu-img's writes into the holes were fills" [ "$fills" -gt 0 ]
	# the guest disk into the device
	qemu-img convert -n -p -f qcow2 -O raw -t none "$SCRATCH/src.qcow2" "$dev" >/dev/null
	assert "the device holds the guest disk" cmp "$SCRATCH/src.raw" "$dev"
	assert_eq "extent-mapped throughout" 1 "$(sysfs_loop "$dev" extent_map)"
	# and back out, reading O_DIRECT
	qemu-img convert -f raw -T none -O qcow2 "$dev" "$SCRATCH/out.qcow2"
	assert "qemu-img compare: the qcow2 made from the device equals the source" \
		qemu-img compare -q -f qcow2 -F qcow2 "$SCRATCH/src.qcow2" "$SCRATCH/out.qcow2"
	assert "qemu-img compare: the device equals the source" \
		qemu-img compare -q -f qcow2 -F raw -T none "$SCRATCH/src.qcow2" "$dev"
	detach "$dev"
	assert "the image file holds the guest disk" cmp "$SCRATCH/src.raw" "$img"
}
for_each_hostfs "qemu-img convert of a qcow2 into the device and back out, checksums equal" roundtrip_case
