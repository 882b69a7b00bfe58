#!/bin/bash
# DESCRIPTION: a fully written image round-trips a filesystem with files of awkward sizes through losetup -d and reattach
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 118
# TIMEOUT: 450
#
# A fully written image: attach, mkfs.ext4, write, detach, reattach, verify.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

full_case() {
	direct_image "$HOST/disk.img" 96
	roundtrip "$HOST/disk.img"
	assert_eq "image size unchanged" $((96 << 20)) "$(stat -c %s "$HOST/disk.img")"
}
for_each_hostfs "full image: files survive detach and reattach" full_case
