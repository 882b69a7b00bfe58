#!/bin/bash
# DESCRIPTION: --direct-io=on: loop/dio is 1, and full and sparse images round-trip
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 170
# TIMEOUT: 810
#
# losetup --direct-io=on: loop reads and writes the image with O_DIRECT.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

dio_case() {
	local dev
	direct_image "$HOST/disk.img" 96
	dev=$(attach "$HOST/disk.img" --direct-io=on)
	assert_eq "loop/dio" 1 "$(sysfs_loop "$dev" dio)"
	detach "$dev"
	roundtrip "$HOST/disk.img" --direct-io=on
}
for_each_hostfs "--direct-io=on: dio is on and files survive reattach" dio_case

sparse_dio_case() {
	truncate -s 128M "$HOST/sparse.img"
	roundtrip "$HOST/sparse.img" --direct-io=on
}
for_each_hostfs "--direct-io=on over a sparse image" sparse_dio_case
