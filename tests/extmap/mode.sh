#!/bin/bash
# DESCRIPTION: loop/extent_map and LO_FLAGS_EXTENT_MAP are 1 where the fast path applies and 0 where it must not
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 107
# TIMEOUT: 420
#
# When loop comes up in extent-mapped mode, and when it must not.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
FSOPS=$(dirname "$0")/fsops.py
LO_FLAGS_EXTENT_MAP=32

full_case() {
	local dev
	direct_image "$HOST/disk.img" 32
	dev=$(attach "$HOST/disk.img")
	assert_eq "LOOP_GET_STATUS64 has LO_FLAGS_EXTENT_MAP" $LO_FLAGS_EXTENT_MAP \
		$(($("$FSOPS" flags "$dev") & LO_FLAGS_EXTENT_MAP))
	assert_eq "debugfs agrees" 1 "$(extmap_stat "$dev" extent_map)"
	detach "$dev"
}
for_each_hostfs "fully written image: loop/extent_map 1, LO_FLAGS_EXTENT_MAP set" full_case

tmpfs_case() {
	local dev
	full_image "$SCRATCH/disk.img" 8
	dev=$(EXPECT_EXTMAP=0 attach "$SCRATCH/disk.img")
	assert_eq "no LO_FLAGS_EXTENT_MAP" 0 $(($("$FSOPS" flags "$dev") & LO_FLAGS_EXTENT_MAP))
	assert "the device reads" dd if="$dev" of=/dev/null bs=1M status=none
	detach "$dev"
}
run_case "image on tmpfs: loop/extent_map 0" tmpfs_case

ninep_case() {
	local dev img
	img=$(command -v bash)
	assert_eq "the host root is 9p" 9p "$(findmnt -n -o FSTYPE -T "$img")"
	dev=$(EXPECT_EXTMAP=0 attach "$img" --read-only)
	assert "the device reads like the file" cmp -n $(($(stat -c %s "$img") / 512 * 512)) "$dev" "$img"
	detach "$dev"
}
run_case "image on 9p (host root): loop/extent_map 0" ninep_case

journal_case() {
	local dev
	full_image "$HOST/disk.img" 8
	chattr +j "$HOST/disk.img"
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/disk.img")
	assert "writes work through the classic path" \
		dd if=/dev/urandom of="$dev" bs=64k count=4 oflag=direct status=none
	detach "$dev"
}
run_case "ext4: chattr +j (journalled data) image: loop/extent_map 0" \
	on_hostfs ext4 journal_case

inline_case() {
	local dev
	umount "$HOST"
	mkfs.ext4 -q -F -O inline_data "$HOSTDEV" 64M
	mount -t ext4 "$HOSTDEV" "$HOST"
	head -c 40 /dev/urandom >"$HOST/tiny.img"
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/tiny.img")
	detach "$dev"
}
run_case "ext4: inline-data image: loop/extent_map 0" on_hostfs ext4 inline_case

param_case() {
	local dev
	full_image "$HOST/disk.img" 8
	set_extmap_param 0
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/disk.img")
	assert "the bound-file exclusion is off in classic mode" \
		dd if=/dev/zero of="$HOST/disk.img" bs=4k count=1 conv=notrunc status=none
	detach "$dev"
	set_extmap_param 1
	dev=$(attach "$HOST/disk.img")
	detach "$dev"
}
run_case "ext2: loop.extent_map=0 turns the mode off" on_hostfs ext2 param_case

unaligned_case() {
	local dev
	full_image "$HOST/disk.img" 8
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/disk.img" --offset 1000)
	detach "$dev"
}
run_case "ext4: an offset that is not sector-aligned: classic mode" on_hostfs ext4 unaligned_case
