#!/bin/bash
# The VM of tests/extmap/vm-image.sh: runs in a guest that QEMU (inside
# the test guest) boots with an extent-mapped loop device as its
# virtio-blk disk, /dev/vdb (its root disk is /dev/vda; init.sh there
# starts it).
#   guest.sh install N   mkfs.ext4, N files of 1 MiB of random data with
#                        their SHA-256 sums (SUMS on the disk and in
#                        $LOOPMAP_OUT/sums), a fio write-and-verify pass (4 MiB),
#                        fstrim; then the guest powers off
#   guest.sh verify      mounts the disk read-only (no journal replay) and
#                        checks SUMS, which must equal $LOOPMAP_OUT/sums
#   guest.sh crash       writes files of 1 MiB one by one, each fsynced with
#                        its directory before its sum is appended to
#                        $LOOPMAP_OUT/acked, until the test kills QEMU
set -euo pipefail

disk=/dev/vdb
mnt=/mnt/vm
mkdir -p "$mnt"
step() { echo "$(cut -d' ' -f1 /proc/uptime) s: $*"; }
step "start $1"

case $1 in
install)
	mkfs.ext4 -q -F "$disk"
	mount "$disk" "$mnt"
	step "mkfs and mount"
	mkdir "$mnt/files"
	for ((i = 0; i < $2; i++)); do
		head -c 1M /dev/urandom >"$mnt/files/f$i"
	done
	(cd "$mnt" && sha256sum files/*) >"$mnt/SUMS"
	cp "$mnt/SUMS" "$LOOPMAP_OUT/sums"
	step "files written"
	fio --name=verify --filename="$mnt/fio.dat" --size=4M --rw=randwrite \
		--bs=4k --direct=1 --ioengine=psync --verify=crc32c \
		--do_verify=1 --verify_state_save=0 --output="$LOOPMAP_OUT/fio.log"
	step "fio"
	rm "$mnt/fio.dat"
	sync
	fstrim -v "$mnt"
	umount "$mnt"
	;;
verify)
	mount -o ro,noload "$disk" "$mnt"
	(cd "$mnt" && sha256sum --quiet -c SUMS)
	cmp "$mnt/SUMS" "$LOOPMAP_OUT/sums"
	umount "$mnt"
	;;
crash)
	mount "$disk" "$mnt"
	mkdir -p "$mnt/crash"
	for ((i = 0; ; i++)); do
		head -c 1M /dev/urandom >"$mnt/crash/c$i"
		sync "$mnt/crash/c$i" "$mnt/crash"
		(cd "$mnt" && sha256sum "crash/c$i") >>"$LOOPMAP_OUT/acked"
	done
	;;
*)
	echo "guest.sh: unknown step $1" >&2
	exit 2
	;;
esac
step "done"
