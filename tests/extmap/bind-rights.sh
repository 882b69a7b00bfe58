#!/bin/bash
# DESCRIPTION: only an owner (or CAP_FOWNER) who lets loop write the image binds it; others get classic mode and never lock the owner out
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 64
# TIMEOUT: 300
# REQUIRES: cmd:setpriv
#
# Binding an image to extent-mapped mode makes every other writer of it
# fail with ETXTBSY while the device exists.  A user who can set up a
# loop device on a file he may only read (udisks lets local users), or on
# somebody else's file he may write, must not be able to do that to the
# file's owner: such devices stay classic.  An unprivileged user stands
# in for udisks' caller: the loop device node is given to uid 65534 and
# losetup runs under setpriv without capabilities.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

NOBODY=65534

# as_nobody CMD...: CMD as uid/gid 65534, no supplementary groups, no caps
as_nobody() {
	setpriv --reuid="$NOBODY" --regid="$NOBODY" --clear-groups --inh-caps=-all "$@"
}

# owner_writes IMAGE DEVICE: the image's owner (root here) writes a block
# of the image through the filesystem; the device reads it.
owner_writes() {
	head -c 4096 /dev/urandom >"$SCRATCH/block"
	assert "the owner can write the image while the device exists" \
		dd if="$SCRATCH/block" of="$1" bs=4k seek=3 conv=notrunc,fsync status=none
	assert "the device reads what the owner wrote" \
		cmp <(dd if="$2" bs=4k skip=3 count=1 iflag=direct status=none) "$SCRATCH/block"
}

read_only_case() {
	local dev
	full_image "$HOST/disk.img" 8
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/disk.img" --read-only)
	owner_writes "$HOST/disk.img" "$dev"
	detach "$dev"
}
run_case "losetup --read-only: classic mode, the image's owner keeps writing it" \
	on_hostfs ext4 read_only_case

other_user_case() {
	local dev
	full_image "$HOST/disk.img" 8
	chmod 0666 "$HOST/disk.img"
	dev=$(losetup -f)
	chown "$NOBODY" "$dev"
	as_nobody losetup "$dev" "$HOST/disk.img"
	assert_eq "a writable device on another user's image is classic" 0 \
		"$(sysfs_loop "$dev" extent_map)"
	assert "the device is writable" \
		dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct status=none
	owner_writes "$HOST/disk.img" "$dev"
	detach "$dev"
}
run_case "another user with write permission: classic mode, the owner is not locked out" \
	on_hostfs ext4 other_user_case

owner_case() {
	local dev
	full_image "$HOST/disk.img" 8
	chown "$NOBODY:$NOBODY" "$HOST/disk.img"
	dev=$(losetup -f)
	chown "$NOBODY" "$dev"
	as_nobody losetup "$dev" "$HOST/disk.img"
	assert_eq "the owner's own device is extent-mapped" 1 "$(sysfs_loop "$dev" extent_map)"
	assert_fails "and, while bound, writers of the image get ETXTBSY" \
		dd if=/dev/zero of="$HOST/disk.img" bs=4k count=1 conv=notrunc status=none
	detach "$dev"
	# root has CAP_FOWNER: attach asserts the device is extent-mapped
	dev=$(attach "$HOST/disk.img")
	detach "$dev"
}
run_case "the image's owner, unprivileged, and root bind it" on_hostfs ext4 owner_case
