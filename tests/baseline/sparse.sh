#!/bin/bash
# DESCRIPTION: a sparse image round-trips a filesystem, gets blocks as written and stays sparse
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 128
# TIMEOUT: 600
#
# A sparse image (truncate -s): the filesystem allocates as loop writes.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

sparse_case() {
	local img=$HOST/sparse.img blocks
	truncate -s 256M "$img"
	assert_eq "a new sparse image has no blocks" 0 "$(stat -c %b "$img")"
	roundtrip "$img"
	blocks=$(stat -c %b "$img")
	assert "image got blocks" [ "$blocks" -gt 0 ]
	assert "image is still sparse ($blocks sectors of 524288)" [ "$blocks" -lt 524288 ]
}
for_each_hostfs "sparse image: files survive detach and reattach" sparse_case
