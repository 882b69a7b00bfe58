#!/bin/bash
# DESCRIPTION: a VM runs on an extent-mapped loop device: QEMU's guest installs, trims, powers off, boots read-only, and recovers what it had fsynced after QEMU is killed
# GROUPS: stress
# WHERE: guest
# KERNEL: test
# DURATION: 900
# TIMEOUT: 2400
# REQUIRES: cmd:qemu-system-x86_64 cmd:fio cmd:fstrim path:build/obj-release/arch/x86/boot/bzImage
# TEST_VM_IMAGE_FS: the host filesystems (default "ext2 ext3 ext4")
# TEST_VM_IMAGE_FILES: files of 1 MiB the VM writes and checks (default 24)
# TEST_VM_IMAGE_ACKED: files the VM has fsynced before QEMU is killed (default 6)
# TEST_VM_IMAGE_TIMEOUT: time limit of each boot of the VM in seconds (default 900)
#
# VM image hosting, as a VM host does it: a sparse raw image on the host
# filesystem, attached with stock losetup (extent-mapped), is the
# virtio-blk disk of a QEMU (TCG, inside this guest) that boots the release
# kernel with this guest's root over 9p as its userspace
# (tests/extmap/vm-image/guest.sh runs in it).  Per host filesystem:
#  1. cache=none,aio=native: the VM makes an ext4 fs, writes files with
#     known sums, runs a fio write-and-verify pass, trims and powers off;
#     the image passes e2fsck -fn, its sums match, and on ext4 and
#     ext3-format hosts the trim gave the image holes back;
#  2. the same disk read-only (readonly=on): the VM checks the sums;
#  3. cache=none,aio=io_uring: the VM writes files and fsyncs each; QEMU is
#     killed (SIGKILL) once some are acknowledged; the image's fs recovers
#     (journal replay at mount, then e2fsck -fn clean) and every file the VM
#     acknowledged is intact.
# The loop device stays attached throughout and the device's counters must
# show the fast path (remapped reads and writes, fills).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

GUEST=tests/extmap/vm-image/guest.sh
FILES=${TEST_VM_IMAGE_FILES:-24}
ACKED=${TEST_VM_IMAGE_ACKED:-6}
HOSTFS_LIST=${TEST_VM_IMAGE_FS:-ext2 ext3 ext4}
VM_TIMEOUT=${TEST_VM_IMAGE_TIMEOUT:-900}

# vm OUT DRIVE-OPTIONS STEP [ARGS...]: the VM, with the loop device $dev
# as its disk; its results in OUT.  A kernel report in its log fails.
vm() {
	local out=$1 opts=$2 rc=0
	shift 2
	mkdir -p "$out"
	scripts/vm.sh --kernel release --cpus 1 --mem 768M --timeout "$VM_TIMEOUT" \
		--out "$out" --drive "file=$dev,format=raw,if=virtio,$opts" \
		-- "$GUEST" "$@" || rc=$?
	if [ $rc -ne 0 ]; then
		echo "the VM ended with status $rc; its output, then its kernel log:"
		tail -n 20 "$out/output" 2>/dev/null
		tail -n 20 "$out/console.log"
	fi >&2
	vm_clean "$out" || rc=1
	return $rc
}

# vm_clean OUT: the VM's kernel log has no report (the release kernel's
# own warnings: the test kernel's are the runner's to find).
vm_clean() {
	! grep -E 'WARNING:|BUG:|Oops|I/O error|EXT4-fs error|blk_update_request' "$1/console.log" >&2
}

allocated_kib() {
	du -k "$1" | cut -f1
}

# used_kib DEV: KiB of the blocks the (unmounted, clean) ext4 fs on DEV uses
used_kib() {
	dumpe2fs -h "$1" 2>/dev/null | awk -F: '
		/^Block count/ { n = $2 } /^Free blocks/ { f = $2 }
		/^Block size/ { b = $2 } END { print (n - f) * b / 1024 }'
}

vm_case() {
	local fs img=$HOST/vm.img out=$SCRATCH/vm dev before used after n pid i
	mounted_type fs "$HOST"
	truncate -s 2G "$img"
	dev=$(attach "$img")

	# 1. install, verify, trim
	assert "the VM installs, verifies and trims (aio=native)" \
		vm "$out/install" cache=none,aio=native,discard=unmap install "$FILES"
	cat "$out/install/output"
	assert_eq "files the VM summed" "$FILES" "$(wc -l <"$out/install/sums")"
	assert "fills went the fast path" [ "$(extmap_stat "$dev" fills)" -gt 0 ]
	assert "writes went the fast path" [ "$(extmap_stat "$dev" remapped_writes)" -gt 0 ]
	before=$(allocated_kib "$img")
	used=$(used_kib "$dev")
	echo "after install and trim: image allocated $before KiB, its fs uses $used KiB"
	assert "the image's fs passes e2fsck -fn" e2fsck -fn "$dev"
	mkdir -p /mnt/vmfs
	mount -o ro,noload "$dev" /mnt/vmfs
	assert "the sums match, read through the device" \
		sh -c "cd /mnt/vmfs && sha256sum --quiet -c SUMS"
	umount /mnt/vmfs
	if [ "$fs" != ext2 ]; then
		# fstrim discarded every free block of the image's fs, the fio
		# pass's 16 MiB among them: the host fs punched them out of the
		# image, which holds no more than the blocks its fs uses (and
		# the host's own indirect or extent blocks, the 1 MiB of slack)
		assert "fstrim gave the image holes back" \
			[ "$before" -le $((used + 1024)) ]
	fi

	# 2. read-only boot
	assert "the VM verifies the sums from a read-only disk" \
		vm "$out/verify" cache=none,aio=io_uring,readonly=on verify
	assert "reads went the fast path" [ "$(extmap_stat "$dev" remapped_reads)" -gt 0 ]

	# 3. killed mid-write
	mkdir -p "$out/crash"
	: >"$out/crash/acked"
	vm "$out/crash" cache=none,aio=io_uring,discard=unmap crash &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		n=$(wc -l <"$out/crash/acked")
		[ "$n" -lt "$ACKED" ] || break
		sleep 1
	done
	assert "the VM acknowledged $ACKED files within 600 s" [ "$n" -ge "$ACKED" ]
	kill -KILL "$(cat "$out/crash/qemu.pid")"
	wait "$pid" || true
	cp "$out/crash/acked" "$SCRATCH/acked"
	echo "QEMU killed with $(wc -l <"$SCRATCH/acked") files acknowledged"
	# the mount replays the journal; then the fs must be clean
	mount "$dev" /mnt/vmfs
	assert "every file the VM acknowledged is intact" \
		sh -c "cd /mnt/vmfs && sha256sum --quiet -c $SCRATCH/acked"
	assert "the installed files are intact" \
		sh -c "cd /mnt/vmfs && sha256sum --quiet -c SUMS"
	umount /mnt/vmfs
	assert "after recovery the image's fs passes e2fsck -fn" e2fsck -fn "$dev"
	after=$(allocated_kib "$img")
	echo "image allocated at the end: $after KiB"
	detach "$dev"
	assert "the image file passes e2fsck -fn after detach" e2fsck -fn "$img"
}
for_each_hostfs "a VM installs, trims, reboots read-only and survives a kill on its extent-mapped disk" vm_case
