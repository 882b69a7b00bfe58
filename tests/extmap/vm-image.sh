#!/bin/bash
# DESCRIPTION: a VM runs on an extent-mapped loop device: QEMU's guest installs, trims, powers off, boots read-only, and recovers what it had fsynced after QEMU is killed
# GROUPS: stress
# WHERE: guest
# KERNEL: test
# DURATION: 1200
# TIMEOUT: 3600
# REQUIRES: cmd:qemu-system-x86_64 cmd:fio cmd:fstrim cmd:ldd cmd:mke2fs path:build/obj-release/arch/x86/boot/bzImage
# TEST_VM_IMAGE_FS: the host filesystems (default "ext2 ext3 ext4")
# TEST_VM_IMAGE_FILES: files of 1 MiB the VM writes and checks (default 24)
# TEST_VM_IMAGE_ACKED: files the VM has fsynced before QEMU is killed (default 6)
# TEST_VM_IMAGE_TIMEOUT: time limit of each boot of the VM in seconds (default 900)
#
# VM image hosting, as a VM host does it: a sparse raw image on the host
# filesystem, attached with stock losetup (extent-mapped), is the
# virtio-blk disk of a QEMU (TCG, inside this guest) that boots the
# release kernel (scripts/vm.sh --root-disk).  The VM's root is another,
# read-only disk that this test makes from its own binaries (bash, util-linux, e2fsprogs, fio and
# their libraries): a root over 9p from this guest's root, itself 9p,
# took 6 minutes to start a shell.  tests/extmap/vm-image/init.sh runs
# tests/extmap/vm-image/guest.sh in it.  Per host filesystem:
#  1. cache=none,aio=native,discard=unmap: the VM makes an ext4 fs, writes
#     files with known sums, runs a fio write-and-verify pass, trims and
#     powers off; the image's fs passes e2fsck -fn, its sums match through
#     the device, and on ext4 and ext3-format hosts the trim gave the
#     image holes back (it holds no more than its fs's used blocks);
#  2. ext4 host only: the same disk with readonly=on and aio=io_uring: the
#     VM checks the sums;
#  3. cache=none,aio=io_uring: the VM writes files and fsyncs each; QEMU is
#     killed (SIGKILL) once some are acknowledged; the image's fs recovers
#     (journal replay at mount, then e2fsck -fn clean) and every file the
#     VM acknowledged is intact, as are the installed ones.
# The loop device stays attached throughout, its counters must show the
# fast path (remapped reads and writes, fills), and the VM's kernel log
# no error.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

HERE=$(dirname "$0")/vm-image
FILES=${TEST_VM_IMAGE_FILES:-24}
ACKED=${TEST_VM_IMAGE_ACKED:-6}
HOSTFS_LIST=${TEST_VM_IMAGE_FS:-ext2 ext3 ext4}
VM_TIMEOUT=${TEST_VM_IMAGE_TIMEOUT:-900}
ROOT_CMDS="bash mount umount mkdir cat cut head sha256sum cp cmp rm sync sleep mke2fs mkfs.ext4 fio fstrim"

# make_root IMAGE: the VM's root disk, an ext2 image of the commands and
# their libraries at their paths here (/usr merged, as here).  In the
# guest every process start is slow: one ldd and one cp for them all.
make_root() {
	local dir=$1.d c l files=()
	mkdir -p "$dir"/usr/{bin,sbin,lib,lib64} "$dir"/{proc,sys,dev,mnt,tmp,etc}
	for l in bin sbin lib lib64; do ln -s "usr/$l" "$dir/$l"; done
	for c in $ROOT_CMDS; do
		files+=("$(command -v "$c")")
	done
	# "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)", and the
	# loader's "/lib64/ld-linux-x86-64.so.2 (0x...)"
	while read -r l; do
		[[ $l != *: ]] || continue # "/usr/bin/bash:", one per command
		l=${l#*=> }
		[[ $l != /* ]] || files+=("${l%% (*}")
	done < <(ldd "${files[@]}")
	mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u)
	cp -L --parents "${files[@]}" /etc/mke2fs.conf "$dir"
	cp "$HERE/init.sh" "$dir/init"
	cp "$HERE/guest.sh" "$dir/"
	mke2fs -q -t ext2 -d "$dir" "$1" 256M
	rm -rf "$dir"
}

# vm OUT DRIVE-OPTIONS STEP [ARGS...]: boot the VM (scripts/vm.sh, from
# the root disk) with the loop device $dev as its second disk; its
# results in OUT.  Fails on a status other than 0 and on a kernel report
# in its log.
vm() {
	local out=$1 opts=$2 step=$3 rc=0
	shift 2
	echo "vm-image: VM $step starts" >/dev/kmsg
	scripts/vm.sh --kernel release --cpus 1 --mem 512M --timeout "$VM_TIMEOUT" \
		--out "$out" --root-disk "$ROOT_IMG" \
		--drive "file=$dev,format=raw,if=virtio,$opts" -- /guest.sh "$@" || rc=$?
	echo "vm-image: VM $step ended with status $rc" >/dev/kmsg
	if [ "$rc" -ne 0 ]; then
		echo "the VM's kernel log:"
		tail -n 20 "$out/console.log"
		echo "the VM ended with status $rc (124: its time limit); its output:"
	fi >&2
	cat "$out/output" 2>/dev/null
	# the release kernel's own reports: the test kernel's are the runner's
	! grep -E 'WARNING:|BUG:|Oops|I/O error|EXT4-fs error' "$out/console.log" >&2 || rc=1
	return "$rc"
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
	local fs img=$HOST/vm.img out=$SCRATCH/vm dev before used n pid i
	mounted_type fs "$HOST"
	truncate -s 2G "$img"
	dev=$(attach "$img")
	rm -rf "$out"

	# 1. install, verify, trim
	assert "the VM installs, verifies and trims (aio=native)" \
		vm "$out/install" cache=none,aio=native,discard=unmap install "$FILES"
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
		# pass's blocks among them: the host fs punched them out of the
		# image, which holds no more than the blocks its fs uses (and
		# the host's own indirect or extent blocks: 1 MiB of slack)
		assert "fstrim gave the image holes back" [ "$before" -le $((used + 1024)) ]
	fi

	# 2. read-only boot
	if [ "$fs" = ext4 ]; then
		mkdir -p "$out/verify"
		cp "$out/install/sums" "$out/verify/sums"
		assert "the VM verifies the sums from a read-only disk (aio=io_uring)" \
			vm "$out/verify" cache=none,aio=io_uring,readonly=on verify
		assert "reads went the fast path" [ "$(extmap_stat "$dev" remapped_reads)" -gt 0 ]
	fi

	# 3. killed mid-write
	mkdir -p "$out/crash"
	: >"$out/crash/acked"
	vm "$out/crash" cache=none,aio=io_uring,discard=unmap crash >"$SCRATCH/crash.log" 2>&1 &
	pid=$!
	n=0
	for ((i = 0; i < VM_TIMEOUT; i++)); do
		n=$(wc -l <"$out/crash/acked")
		[ "$n" -lt "$ACKED" ] || break
		sleep 1
	done
	[ "$n" -ge "$ACKED" ] || cat "$SCRATCH/crash.log"
	assert "the VM acknowledged $ACKED files in time" [ "$n" -ge "$ACKED" ]
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
	echo "image allocated at the end: $(allocated_kib "$img") KiB"
	detach "$dev"
}

# made once, outside $SCRATCH (which each case's cleanup removes)
ROOT_IMG=${TMPDIR:-/tmp}/vm-image-root.$$.img
trap 'rm -f "$ROOT_IMG"' EXIT
make_root "$ROOT_IMG"
for_each_hostfs "a VM installs, trims, (ext4: reboots read-only) and survives a kill on its extent-mapped disk" vm_case
