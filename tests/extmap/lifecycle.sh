#!/bin/bash
# DESCRIPTION: live reconfiguration: offset change, grow + losetup -c, LOOP_CHANGE_FD, autoclear, detach under fio
# GROUPS: auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 190
# TIMEOUT: 990
# REQUIRES: cmd:fio
# TEST_LIFECYCLE_BUSY_FS: host filesystems of the detach under fio (auto ext4, stress all three)
#
# losetup features on a live extent-mapped device: LOOP_SET_STATUS64 with a
# new offset, LOOP_SET_CAPACITY after growing the image, LOOP_CHANGE_FD,
# autoclear, and losetup -d while fio runs.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
FSOPS=$(dirname "$0")/fsops.py

offset_case() {
	local img=$HOST/disk.img dev v
	direct_image "$img" 16
	printf 'marker-at-1MiB' | dd of="$img" bs=1M seek=1 conv=notrunc,fsync status=none
	dev=$(attach "$img")
	dd if="$dev" of=/dev/null bs=1M count=4 iflag=direct status=none # cache maps
	"$FSOPS" set-offset "$dev" $((1 << 20))
	loop_attr v "$dev" offset
	assert_eq "loop/offset changed" $((1 << 20)) "$v"
	loop_attr v "$dev" extent_map
	assert_eq "still extent-mapped" 1 "$v"
	assert_eq "the device now starts at the marker" marker-at-1MiB \
		"$(dd if="$dev" bs=512 count=1 iflag=direct status=none | head -c 14)"
	assert_eq "size follows the offset" $((15 << 20)) "$(blockdev --getsize64 "$dev")"
	"$FSOPS" set-offset "$dev" 1000
	loop_attr v "$dev" extent_map
	assert_eq "an unaligned offset ends extent-mapped mode" 0 "$v"
	assert "the image is writable again in classic mode" \
		dd if=/dev/zero of="$img" bs=1 count=1 seek=$((15 << 20)) conv=notrunc status=none
	"$FSOPS" set-offset "$dev" 0
	loop_attr v "$dev" extent_map
	assert_eq "a live device does not re-enter extent-mapped mode" 0 "$v"
	assert_eq "... and reads right in classic mode" marker-at-1MiB \
		"$(dd if="$dev" bs=1M skip=1 count=1 iflag=direct status=none | head -c 14)"
	detach "$dev"
	dev=$(attach "$img")
	detach "$dev"
}
for_each_hostfs "LOOP_SET_STATUS64 offset change on a live device" offset_case

capacity_case() {
	local img=$HOST/disk.img dev v
	direct_image "$img" 16
	dev=$(attach "$img")
	dd if="$dev" of=/dev/null bs=1M iflag=direct status=none
	truncate -s 24M "$img"
	losetup -c "$dev"
	assert_eq "LOOP_SET_CAPACITY grew the device" $((24 << 20)) "$(blockdev --getsize64 "$dev")"
	assert "the new space reads zeros" \
		cmp -n $((8 << 20)) <(dd if="$dev" bs=1M skip=16 iflag=direct status=none) /dev/zero
	head -c $((1 << 20)) /dev/urandom >"$SCRATCH/data"
	dd if="$SCRATCH/data" of="$dev" bs=1M seek=20 oflag=direct status=none
	assert "writes to the new space read back" \
		cmp <(dd if="$dev" bs=1M skip=20 count=1 iflag=direct status=none) "$SCRATCH/data"
	loop_attr v "$dev" extent_map
	assert_eq "still extent-mapped" 1 "$v"
	detach "$dev"
}
for_each_hostfs "truncate -s bigger + losetup -c on a live device" capacity_case

change_fd_case() {
	local dev v
	direct_image "$HOST/a.img" 8
	dd if=/dev/urandom of="$HOST/b.img" bs=1M count=8 iflag=fullblock oflag=direct status=none
	# LOOP_CHANGE_FD needs a read-only device, which never binds its file
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/a.img" --read-only)
	"$FSOPS" change-fd "$dev" "$HOST/b.img"
	loop_attr v "$dev" extent_map
	assert_eq "still classic" 0 "$v"
	assert "the device now reads the new file" cmp "$dev" "$HOST/b.img"
	assert "the old file is writable" \
		dd if=/dev/zero of="$HOST/a.img" bs=4k count=1 conv=notrunc status=none
	assert "the new file is writable" \
		dd if=/dev/zero of="$HOST/b.img" bs=4k count=1 conv=notrunc status=none
	detach "$dev"
}
for_each_hostfs "LOOP_CHANGE_FD on a read-only device: classic, no file locked" change_fd_case

autoclear_case() {
	local dev v
	direct_image "$HOST/disk.img" 16
	dev=$(attach "$HOST/disk.img")
	mkfs.ext4 -q "$dev"
	mkdir -p "$UPPER"
	mount "$dev" "$UPPER"
	losetup -d "$dev" # autoclear: the mount keeps it
	loop_attr v "$dev" extent_map
	assert_eq "bound while mounted" 1 "$v"
	echo data >"$UPPER/f"
	umount "$UPPER"
	assert "autoclear released the device on umount" wait_unbound "$dev"
	assert "the image is writable again" \
		dd if=/dev/zero of="$HOST/disk.img" bs=4k count=1 seek=4000 conv=notrunc status=none
}
run_case "ext4: autoclear releases an extent-mapped device and its image" \
	on_hostfs ext4 autoclear_case

detach_busy_case() {
	local dev fio_pid reads=0 i
	direct_image "$HOST/disk.img" 64
	dev=$(attach "$HOST/disk.img")
	fio --name=busy --filename="$dev" --direct=1 --ioengine=libaio --iodepth=16 \
		--rw=randrw --bs=4k --time_based --runtime=8 --output=/dev/null &
	fio_pid=$!
	# fio has the device open once its I/O shows in the counters; a
	# loaded machine can take seconds to get there.  The polling starts
	# no process but sleep: it shares the vCPU with fio's start.
	for ((i = 0; i < 600; i++)); do
		loop_stat reads "$dev" remapped_reads
		[ "$reads" -gt 0 ] && break
		sleep 0.1
	done
	assert "fio is doing I/O" [ "$reads" -gt 0 ]
	assert "losetup -d while fio runs" losetup -d "$dev"
	assert "fio ends normally" wait "$fio_pid"
	assert "the device is released once fio closed it" wait_unbound "$dev"
	assert "the image is writable again" \
		dd if=/dev/zero of="$HOST/disk.img" bs=4k count=1 conv=notrunc status=none
}
HOSTFS_LIST=${TEST_LIFECYCLE_BUSY_FS:-$(by_group ext4 ext4 "ext2 ext3 ext4")} \
	for_each_hostfs "losetup -d while fio runs: released, no oops, no leak" detach_busy_case
