#!/bin/bash
# DESCRIPTION: the same seeded fio writes leave an extent-mapped and a classic image byte-identical; fio verify passes on both
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 273
# TIMEOUT: 1200
# REQUIRES: cmd:fio
#
# Data equivalence on extent-mapped and classic loop, over two copies of
# one partly sparse image, at a non-zero offset:
#  - fio random writes of 512 bytes to 1 MiB from a fixed seed: the two
#    image files end byte-identical;
#  - the same writes with verify=crc32c: no verify errors on either.
# (fio 3.33 stamps the time into each verify header, so the verify run
# cannot give identical images; the seeded run without headers does.)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

# run_fio DEVICE NAME [FIO OPTIONS...]
run_fio() {
	local dev=$1 name=$2
	shift 2
	fio --name=equiv --filename="$dev" --direct=1 --ioengine=psync \
		--rw=randwrite --bsrange=512-1m --size=40m --io_size=24m \
		--randrepeat=1 --randseed=4242 --norandommap "$@" \
		--output="$SCRATCH/fio-$name.out" >/dev/null
}

verify_opts=(--verify=crc32c --verify_fatal=1 --do_verify=1)

equivalence_case() {
	local dev
	truncate -s 64M "$HOST/base.img"
	dd if=/dev/urandom of="$HOST/base.img" bs=1M count=24 seek=4 conv=notrunc,fsync status=none
	cp --sparse=always "$HOST/base.img" "$HOST/a.img"
	cp --sparse=always "$HOST/base.img" "$HOST/b.img"

	local window=(--offset $((3 << 20)) --sizelimit $((48 << 20)))
	dev=$(attach "$HOST/a.img" "${window[@]}")
	run_fio "$dev" extmap --refill_buffers
	assert "extent-mapped writes took the remap path" \
		[ "$(extmap_stat "$dev" remapped_writes)" -gt 0 ]
	detach "$dev"
	set_extmap_param 0
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/b.img" "${window[@]}")
	run_fio "$dev" classic --refill_buffers
	detach "$dev"
	set_extmap_param 1
	assert "the two images are byte-identical" cmp "$HOST/a.img" "$HOST/b.img"
	assert_fails "and differ from the base image" cmp -s "$HOST/a.img" "$HOST/base.img"

	dev=$(attach "$HOST/a.img" "${window[@]}")
	assert "fio verifies on extent-mapped loop" \
		run_fio "$dev" extmap-verify "${verify_opts[@]}"
	detach "$dev"
	set_extmap_param 0
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/b.img" "${window[@]}")
	assert "fio verifies on classic loop" \
		run_fio "$dev" classic-verify "${verify_opts[@]}"
	detach "$dev"
	set_extmap_param 1
}
for_each_hostfs "fio randwrite 512B-1M verify=crc32c: extent-mapped == classic" equivalence_case
