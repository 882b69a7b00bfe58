# shellcheck shell=bash
# Helpers for guest-side tests.  Sourced by tests/SUITE/NAME.sh.
#
# A test is a list of cases; each case prints exactly one TAP line.
# run_case runs a case function in a subshell with errexit: the first
# failing command or assert fails the case, the next case still runs.
set -euo pipefail

# Host filesystems every baseline case runs on.  ext3 means an
# ext3-format filesystem (mkfs.ext3), mounted by the ext4 driver.
HOSTFS_LIST=${HOSTFS_LIST:-"ext2 ext3 ext4"}
# The "host disk" under those filesystems: a RAM disk (brd).
HOSTDEV=${HOSTDEV:-/dev/ram0}
HOSTFS_SIZE=${HOSTFS_SIZE:-768M}
HOST=/mnt/host
UPPER=/mnt/upper
SCRATCH=${TMPDIR:-/tmp}/loopmap-test.$$

# assert WHAT COMMAND...: fail the case, saying WHAT, unless COMMAND succeeds.
assert() {
	local what=$1
	shift
	if ! "$@"; then
		echo "assertion failed: $what" >&2
		return 1
	fi
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	if [ "$2" != "$3" ]; then
		echo "assertion failed: $1: expected '$2', got '$3'" >&2
		return 1
	fi
}

# assert_fails WHAT COMMAND...: COMMAND must fail.
assert_fails() {
	local what=$1
	shift
	if "$@"; then
		echo "assertion failed: $what (the command succeeded)" >&2
		return 1
	fi
}

# Undo whatever a case left: mounts under /mnt, loop devices, the host fs.
# Only in the guest (scripts/guest-init.sh sets LOOPMAP_GUEST): on the
# host, cases (tests/host/) never touch mounts or loop devices.
cleanup_case() {
	local m
	if [ "${LOOPMAP_GUEST:-0}" != 1 ]; then
		rm -rf "$SCRATCH"
		return 0
	fi
	sync
	for m in $(findmnt -rn -o TARGET | grep -E '^/mnt/' | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	losetup -D 2>/dev/null || true
	echo 1 >/sys/module/loop/parameters/extent_map 2>/dev/null || true
	rm -rf "$SCRATCH"
}

# run_case DESCRIPTION FUNCTION [ARGS...]
run_case() {
	local desc=$1 log rc
	shift
	log=$(mktemp)
	set +e
	(
		set -e
		trap cleanup_case EXIT
		mkdir -p "$SCRATCH"
		"$@"
	) >"$log" 2>&1
	rc=$?
	set -e
	if [ $rc -eq 0 ]; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		tail -n 15 "$log" | sed 's/^/# /'
	fi
	rm -f "$log"
}

# mkfs_host FS: make and mount the host filesystem FS on $HOSTDEV at $HOST.
mkfs_host() {
	case $1 in
	ext2 | ext3 | ext4) "mkfs.$1" -q -F "$HOSTDEV" "$HOSTFS_SIZE" ;;
	*) echo "unknown host filesystem $1" >&2; return 1 ;;
	esac
	mkdir -p "$HOST"
	mount -t "$1" "$HOSTDEV" "$HOST"
	assert_eq "host filesystem type" "$1" "$(findmnt -n -o FSTYPE "$HOST")"
}

# umount_host: unmount the host filesystem; it must pass e2fsck -fn.
umount_host() {
	umount "$HOST"
	assert "host filesystem passes e2fsck -fn" e2fsck -fn "$HOSTDEV" >/dev/null
}

# on_hostfs FS FUNCTION [ARGS...]: FUNCTION with $HOST on a fresh FS.
on_hostfs() {
	local fs=$1
	shift
	mkfs_host "$fs"
	"$@"
	cleanup_loops
	umount_host
}

# for_each_hostfs DESCRIPTION FUNCTION [ARGS...]: one case per host fs.
for_each_hostfs() {
	local desc=$1 fs
	shift
	for fs in $HOSTFS_LIST; do
		run_case "$fs: $desc" on_hostfs "$fs" "$@"
	done
}

# cleanup_loops: unmount the upper filesystem and detach every loop device.
cleanup_loops() {
	if mountpoint -q "$UPPER"; then umount "$UPPER"; fi
	losetup -D
}

# attach IMAGE [LOSETUP OPTIONS...]: stock losetup; prints the device.
# An image on the ext2/ext3/ext4 host filesystem must come up in
# extent-mapped mode (loop/extent_map 1), unless the case sets
# EXPECT_EXTMAP (0 or 1; empty: no check).
attach() {
	local img=$1 dev want
	shift
	dev=$(losetup -f --show "$@" "$img")
	case $img in
	"$HOST"/*) want=${EXPECT_EXTMAP-1} ;;
	*) want=${EXPECT_EXTMAP-} ;;
	esac
	if [ -n "$want" ]; then
		assert_eq "loop/extent_map of $dev on $img" "$want" \
			"$(sysfs_loop "$dev" extent_map)" >&2
	fi
	echo "$dev"
}

# extmap_stat DEVICE FIELD: a counter of /sys/kernel/debug/loop/loopN
extmap_stat() {
	awk -v f="$2" '$1 == f { print $2 }' "/sys/kernel/debug/loop/${1#/dev/}"
}

# set_extmap_param 0|1: the loop module parameter extent_map
set_extmap_param() {
	echo "$1" >/sys/module/loop/parameters/extent_map
}

# detach DEVICE: losetup -d; the device must be free afterwards.
detach() {
	losetup -d "$1"
	assert "$1 is released after losetup -d" wait_unbound "$1"
}

wait_unbound() {
	local _
	for _ in $(seq 50); do
		losetup "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

# write_files DIR SUMS: files of awkward sizes with random contents;
# their SHA-256 sums go to SUMS (relative names).
write_files() {
	local dir=$1 sums=$2 size
	for size in 1 511 4095 4096 65537 1048576 3145735; do
		head -c "$size" /dev/urandom >"$dir/f$size"
	done
	mkdir -p "$dir/sub/deeper"
	head -c 200000 /dev/urandom >"$dir/sub/deeper/g"
	(cd "$dir" && find . -type f ! -path './lost+found/*' -print0 | sort -z |
		xargs -0 sha256sum) >"$sums"
}

# verify_files DIR SUMS
verify_files() {
	(cd "$1" && sha256sum --quiet -c "$2")
}

# populate IMAGE SUMS [LOSETUP OPTIONS...]: attach, mkfs.ext4 on the loop
# device, mount, write files (their sums to SUMS), umount, detach.
populate() {
	local img=$1 sums=$2 dev
	shift 2
	dev=$(attach "$img" "$@")
	mkfs.ext4 -q "$dev"
	mkdir -p "$UPPER"
	mount "$dev" "$UPPER"
	write_files "$UPPER" "$sums"
	umount "$UPPER"
	detach "$dev"
}

# roundtrip IMAGE [LOSETUP OPTIONS...]: populate, attach again, verify the
# files, and check the upper filesystem with e2fsck.
roundtrip() {
	local img=$1 dev
	shift
	populate "$img" "$SCRATCH/sums" "$@"
	dev=$(attach "$img" "$@")
	mount -o ro "$dev" "$UPPER"
	assert "files read back with their checksums after reattach" \
		verify_files "$UPPER" "$SCRATCH/sums"
	umount "$UPPER"
	assert "upper filesystem passes e2fsck -fn" e2fsck -fn "$dev" >/dev/null
	detach "$dev"
}

# sysfs_loop DEVICE ATTRIBUTE: /sys/block/loopN/loop/ATTRIBUTE
sysfs_loop() {
	cat "/sys/block/${1#/dev/}/loop/$2"
}

# full_image PATH SIZE_MIB: an image file with every block written.
full_image() {
	dd if=/dev/zero of="$1" bs=1M count="$2" status=none conv=fsync
}

# A pattern that no test writes: free blocks of a host filesystem are
# filled with it (mark_free_space SIZE_MIB, or until it is full without
# SIZE_MIB) before a sparse image is made, so that a block handed to the
# image without its data shows it (no_marker).  O_DIRECT: the page cache
# would make this the slowest part of a test.
MARKER='LOOPMAP-STALE!!'
mark_free_space() {
	local mib=${1:-} n=100000 count=()
	# 16 MiB at a time: every process start is slow in the guest
	yes "$MARKER" 2>/dev/null | head -c $((16 << 20)) >"$SCRATCH/marker.16m" || true
	if [ -n "$mib" ]; then
		n=$(((mib + 15) / 16))
		count=(count="$mib")
	fi
	# shellcheck disable=SC2034 # i only counts
	for i in $(seq "$n"); do cat "$SCRATCH/marker.16m" || break; done 2>/dev/null |
		dd of="$HOST/marker" bs=1M "${count[@]}" iflag=fullblock oflag=direct status=none \
			2>/dev/null || true
	rm -f "$SCRATCH/marker.16m"
	sync
	rm "$HOST/marker"
	sync
}

no_marker() {
	! grep -q -a -F "$MARKER" "$1"
}
