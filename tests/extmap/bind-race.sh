#!/bin/bash
# DESCRIPTION: a hole punch that passed its checks before losetup bound the image is refused under the inode lock
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 96
# TIMEOUT: 300
# REQUIRES: cmd:dmsetup cmd:fallocate cmd:python3 path:/dev/ram3
#
# vfs_fallocate() refuses changes to a bound image (ETXTBSY), but it
# checks before ext4 takes the inode lock, and binding takes that lock.
# A punch that passes the check, then waits for the lock while losetup
# binds, would free blocks that loop has just been handed, and that
# another file may reuse.  The window is made wide and the order fixed:
# a write(2) to the image whose buffer is mmapped from a suspended
# device-mapper device faults while it holds the image's inode lock;
# losetup then queues on that lock, then fallocate --punch-hole (past its
# check); on resume the rwsem hands the lock to losetup first.  The punch
# must fail with ETXTBSY, and the device must still read the image's data.
#
# TEST_STALL_DEV: the RAM disk under the suspended device (/dev/ram3)
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=32M
STALL_DEV=${TEST_STALL_DEV:-/dev/ram3}
STALL=lm-stall

# until_blocked_in PID NR: wait up to 10 s for PID to sleep in the kernel
# (D state) inside system call NR, seen twice 0.5 s apart.  D state alone
# is not enough: under 9p a process also sleeps while it pages its own
# binary and libraries in, before it reaches the call that matters.
until_blocked_in() {
	local _ seen=0
	for _ in $(seq 100); do
		if [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = D ] &&
		   [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$2" ]; then
			seen=$((seen + 1))
			[ "$seen" -ge 2 ] && return 0
			sleep 0.5
			continue
		fi
		seen=0
		sleep 0.1
	done
	return 1
}

# x86_64 system call numbers
NR_IOCTL=16
NR_PWRITE64=18
NR_FALLOCATE=285

race_case() {
	local writer losetup punch dev stall
	head -c 2M /dev/urandom >"$HOST/disk.img"
	sync
	# what the image holds once the stalled write below has landed
	cp "$HOST/disk.img" "$SCRATCH/expected"
	dd if="$STALL_DEV" of="$SCRATCH/expected" bs=4k count=1 seek=256 conv=notrunc \
		status=none
	stall=$(dm_create "$STALL" "0 8192 linear $STALL_DEV 0")
	echo 3 >/proc/sys/vm/drop_caches
	dmsetup suspend --noudevsync "$STALL"

	# write(2) to the image from a buffer whose pages are on $STALL
	python3 -c '
import mmap, os, sys
dev = os.open(sys.argv[2], os.O_RDONLY)
buf = mmap.mmap(dev, 4096, prot=mmap.PROT_READ)
img = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(img, buf, 1 << 20)
' "$HOST/disk.img" "$stall" &
	writer=$!
	assert "the writer sleeps on the suspended device, in pwrite" \
		until_blocked_in "$writer" "$NR_PWRITE64"

	losetup -f --show "$HOST/disk.img" >"$SCRATCH/dev" &
	losetup=$!
	assert "losetup waits for the inode lock, in its ioctl" \
		until_blocked_in "$losetup" "$NR_IOCTL"

	fallocate --punch-hole --offset 0 --length 2M "$HOST/disk.img" \
		2>"$SCRATCH/punch.err" &
	punch=$!
	assert "the punch waits for the inode lock (past vfs_fallocate's check)" \
		until_blocked_in "$punch" "$NR_FALLOCATE"

	dmsetup resume --noudevsync "$STALL"
	assert "the write finished" wait "$writer"
	assert "losetup finished" wait "$losetup"
	dev=$(cat "$SCRATCH/dev")
	assert_eq "loop/extent_map of $dev" 1 "$(sysfs_loop "$dev" extent_map)"
	assert_fails "the punch of the bound image is refused" wait "$punch"
	assert "with ETXTBSY" grep -q "Text file busy" "$SCRATCH/punch.err"
	assert "the device reads the image's data, none of it punched" \
		cmp "$SCRATCH/expected" "$dev"
	detach "$dev"
	dmsetup remove --noudevsync "$STALL"
}
HOSTFS_LIST=${HOSTFS_LIST/ext2/} for_each_hostfs "fallocate racing losetup: refused once bound" race_case
