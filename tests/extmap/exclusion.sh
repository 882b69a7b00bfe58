#!/bin/bash
# DESCRIPTION: while bound, every writer of the image gets ETXTBSY and readers see what loop wrote; after detach writers work again
# GROUPS: auto
# WHERE: guest
# KERNEL: test
# DURATION: 164
# TIMEOUT: 900
#
# While a file is bound in extent-mapped mode, writers through the
# filesystem get ETXTBSY, readers see what loop wrote, and detaching
# restores normal access.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
FSOPS=$(dirname "$0")/fsops.py

# expect_errno ERRNO WHAT COMMAND...: COMMAND fails, printing ERRNO's name
expect_errno() {
	local want=$1 what=$2 out
	shift 2
	if out=$("$@" 2>&1); then
		echo "assertion failed: $what succeeded" >&2
		return 1
	fi
	case $out in
	*"$want"* | *"Text file busy"*) ;;
	*) echo "assertion failed: $what: expected $want, got: $out" >&2; return 1 ;;
	esac
}

exclusion_case() {
	local img=$HOST/disk.img dev fs
	fs=$(findmnt -n -o FSTYPE "$HOST")
	full_image "$img" 16
	head -c 4096 /dev/urandom >"$HOST/other"
	head -c $((4 << 20)) /dev/urandom >"$HOST/other2"
	sync
	dev=$(attach "$img")
	expect_errno ETXTBSY "write(2)" dd if=/dev/zero of="$img" bs=4k count=1 conv=notrunc status=none
	expect_errno ETXTBSY "O_DIRECT write(2)" \
		dd if=/dev/zero of="$img" bs=4k count=1 conv=notrunc oflag=direct status=none
	expect_errno ETXTBSY "appending write(2)" \
		dd if=/dev/zero of="$img" bs=1 count=1 oflag=append conv=notrunc status=none
	expect_errno ETXTBSY "shrinking truncate" truncate -s 8M "$img"
	expect_errno ETXTBSY "writable shared mmap" "$FSOPS" mmap-write "$img"
	expect_errno ETXTBSY "copy_file_range into it" "$FSOPS" copy-range "$HOST/other" "$img"
	if [ "$fs" != ext2 ]; then
		expect_errno ETXTBSY "fallocate" fallocate -o 0 -l 1M "$img"
		expect_errno ETXTBSY "punch hole" fallocate -p -o 0 -l 1M "$img"
		expect_errno ETXTBSY "EXT4_IOC_MOVE_EXT" "$FSOPS" move-ext "$img" "$HOST/other"
		expect_errno ETXTBSY "chattr +j" chattr +j "$img"
	fi
	# ext2 and ext4 have no reflink: the VFS refuses before the
	# filesystem's remap_file_range (which would give ETXTBSY).
	assert_fails "FICLONE into it" "$FSOPS" clone "$HOST/other" "$img"
	assert_eq "the image is unchanged in size" $((16 << 20)) "$(stat -c %s "$img")"
	if [ "$fs" != ext2 ]; then
		# loop binds a file of its own, not the descriptor it was given
		assert_eq "the attaching descriptor is refused too" "1 ETXTBSY ETXTBSY" \
			"$("$FSOPS" attacher-writes "$HOST/other2")"
	fi

	# readers through the filesystem see exactly what loop wrote
	md5sum "$img" >/dev/null # page cache of the image, before the write
	dd if=/dev/urandom of="$dev" bs=1M count=4 seek=2 oflag=direct status=none
	assert "cp of the bound image equals the device" \
		sh -c "cp '$img' '$SCRATCH/copy' && cmp '$SCRATCH/copy' '$dev'"
	assert "md5sum of the image equals the device's" \
		[ "$(md5sum <"$img")" = "$(md5sum <"$dev")" ]
	detach "$dev"

	assert "write(2) works again after detach" \
		dd if=/dev/zero of="$img" bs=4k count=1 conv=notrunc status=none
	assert "shared writable mmap works again" "$FSOPS" mmap-write "$img"
	assert "truncate works again" truncate -s 8M "$img"
}
for_each_hostfs "bound image: writers get ETXTBSY, readers coherent, detach restores" exclusion_case
