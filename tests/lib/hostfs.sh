# shellcheck shell=bash
# Host filesystems, the middle layer of tests/lib.sh: the filesystem that
# holds the images (at $HOST, on $HOSTDEV), one case per filesystem, and
# the marker that shows stale blocks.  Uses the case framework
# (tests/lib/case.sh) and cleanup_loops (tests/lib/loop.sh).

# Host filesystems every baseline case runs on.  ext3 means an
# ext3-format filesystem (mkfs.ext3), mounted by the ext4 driver.
HOSTFS_LIST=${HOSTFS_LIST:-"ext2 ext3 ext4"}
# The "host disk" under those filesystems: a RAM disk (brd).
HOSTDEV=${HOSTDEV:-/dev/ram0}
HOSTFS_SIZE=${HOSTFS_SIZE:-768M}
HOST=/mnt/host
# shellcheck disable=SC2034 # used by tests/lib/loop.sh and the tests
UPPER=/mnt/upper

# mkfs_host FS [MKFS OPTIONS...]: make and mount the host filesystem FS
# on $HOSTDEV at $HOST.
mkfs_host() {
	local fs=$1
	shift
	case $fs in
	ext2 | ext3 | ext4) "mkfs.$fs" -q -F "$@" "$HOSTDEV" "$HOSTFS_SIZE" ;;
	*) echo "unknown host filesystem $fs" >&2; return 1 ;;
	esac
	[ -d "$HOST" ] || mkdir -p "$HOST"
	mount -t "$fs" "$HOSTDEV" "$HOST"
	local type
	mounted_type type "$HOST"
	assert_eq "host filesystem type" "$fs" "$type"
}

# mounted_type VAR DIR: the type of the filesystem mounted at DIR (the
# newest mount there) into VAR, empty if none; read by the shell itself,
# as it runs in every case.
mounted_type() {
	local _mt_d _mt_t
	printf -v "$1" %s ""
	while read -r _ _mt_d _mt_t _; do
		if [ "$_mt_d" = "$2" ]; then printf -v "$1" %s "$_mt_t"; fi
	done </proc/self/mounts
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

# direct_image PATH SIZE_MIB: full_image's image (every block written, zeros),
# written O_DIRECT: through the page cache and fsync, an ext3-format host
# fs takes several seconds per 16 MiB in the guest.  Nothing of it is
# left in the page cache.
direct_image() {
	dd if=/dev/zero of="$1" bs=1M count="$2" oflag=direct status=none
}

# dm_create NAME TABLE: a device-mapper device, made without udev sync
# (the guest runs no udev); prints its node.  cleanup_case removes it.
dm_create() {
	dmsetup create --noudevsync "$1" --table "$2"
	echo "/dev/dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"
}

# dm_swap NAME TABLE [SUSPEND OPTIONS...]: load TABLE into the
# device-mapper device NAME: suspend with the options, reload, resume.
# --nolockfs: no freeze of the filesystem on it, which would write (and
# commit its journal) through the old table; --noflush: the I/O in flight
# is not waited for.
dm_swap() {
	local name=$1 table=$2
	shift 2
	dmsetup suspend --noudevsync "$@" "$name"
	dmsetup reload "$name" --table "$table"
	dmsetup resume --noudevsync "$name"
}

# half_sparse_image: $HOST/disk.img of 8 MiB, its first 4 MiB random data
# (also in $SCRATCH/data), the rest a hole, after the host fs's free space
# was filled with the marker.
half_sparse_image() {
	head -c 4M /dev/urandom >"$SCRATCH/data"
	cp "$SCRATCH/data" "$HOST/disk.img"
	truncate -s 8M "$HOST/disk.img"
	mark_free_space ""
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
	local count=()
	[ -z "${1:-}" ] || count=(count="$1")
	# Two processes however large the space: in the guest every process
	# start is slow.  Without a size, dd ends at ENOSPC and yes at SIGPIPE.
	yes "$MARKER" 2>/dev/null |
		dd of="$HOST/marker" bs=1M "${count[@]}" iflag=fullblock oflag=direct status=none \
			2>/dev/null || true
	sync
	rm "$HOST/marker"
	sync
}

no_marker() {
	! grep -q -a -F "$MARKER" "$1"
}

# hostdev_sum: SHA-256 of the host filesystem's part of the host disk, as
# it is on the device, not as the block device's page cache (which ext4's
# metadata shares) remembers it.
hostdev_sum() {
	dd if="$HOSTDEV" bs=1M count=$(($(numfmt --from=iec "$HOSTFS_SIZE") >> 20)) \
		iflag=direct status=none | sha256sum
}
