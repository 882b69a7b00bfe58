#!/bin/bash
# DESCRIPTION: remapped writes honour chattr +i and +a on the image, and EXT4_IOC_MIGRATE is refused while bound
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 59
# TIMEOUT: 300
# REQUIRES: cmd:chattr cmd:tune2fs
#
# Remapped writes never pass through the filesystem's write path, so its
# checks must be made by loop: once the image is immutable or
# append-only, writes to the device fail, to mapped blocks and into holes
# alike, and nothing changes in the image.  EXT4_IOC_MIGRATE would
# convert a bound indirect-mapped image to extents under loop (its fills
# are made safe differently in the two formats): it must fail with
# ETXTBSY while bound, and work once the device is detached.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# The image: 8 MiB, the first 4 MiB written, the rest a hole.
half_image() {
	truncate -s 8M "$1"
	dd if=/dev/urandom of="$1" bs=1M count=4 conv=notrunc,fsync status=none
}

# refused_case FLAG: after chattr +FLAG, writes to the device fail
refused_case() {
	local flag=$1 dev img=$HOST/disk.img blocks
	half_image "$img"
	dev=$(attach "$img")
	dd if="$dev" of="$SCRATCH/before" bs=1M count=8 iflag=direct status=none
	blocks=$(stat -c %b "$img")
	chattr "+$flag" "$img"
	assert_fails "a write to a mapped block fails" \
		dd if=/dev/urandom of="$dev" bs=4k seek=100 count=1 oflag=direct status=none
	assert_fails "a write into a hole fails" \
		dd if=/dev/urandom of="$dev" bs=4k seek=1500 count=1 oflag=direct status=none
	assert "the device reads as before" \
		cmp <(dd if="$dev" bs=1M count=8 iflag=direct status=none) "$SCRATCH/before"
	assert_eq "no block was allocated" "$blocks" "$(stat -c %b "$img")"
	chattr "-$flag" "$img"
	assert "writes work again after chattr -$flag" \
		dd if=/dev/urandom of="$dev" bs=4k seek=1500 count=1 oflag=direct status=none
	detach "$dev"
	assert "the image holds what the device read before, but the last write" \
		cmp -n $((1500 * 4096)) "$img" "$SCRATCH/before"
}
run_case "chattr +i: writes to the device fail, the image is unchanged" on_hostfs ext4 refused_case i
run_case "chattr +a: writes to the device fail, the image is unchanged" on_hostfs ext4 refused_case a

# migrate FILE: EXT4_IOC_MIGRATE (_IO('f', 9)) on FILE
migrate() {
	python3 -c 'import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.ioctl(fd, 0x6609)' "$1"
}

migrate_case() {
	local dev img=$HOST/disk.img
	# an indirect-mapped image on an ext3-format fs that then gets extents
	full_image "$img" 8
	umount "$HOST"
	tune2fs -O extent "$HOSTDEV" >/dev/null
	mount -t ext4 "$HOSTDEV" "$HOST"
	assert "the image is indirect-mapped" [ -z "$(lsattr "$img" | cut -d' ' -f1 | tr -cd e)" ]
	dev=$(attach "$img")
	if migrate "$img" 2>"$SCRATCH/err"; then
		echo "assertion failed: EXT4_IOC_MIGRATE of the bound image succeeded" >&2
		return 1
	fi
	assert "it failed with ETXTBSY ($(tail -n 1 "$SCRATCH/err"))" grep -q "Text file busy" "$SCRATCH/err"
	detach "$dev"
	assert "after detach it works" migrate "$img"
	assert "the image now has extents" [ -n "$(lsattr "$img" | cut -d' ' -f1 | tr -cd e)" ]
}
run_case "ext3-format with extents enabled: EXT4_IOC_MIGRATE refused while bound" \
	on_hostfs ext3 migrate_case
