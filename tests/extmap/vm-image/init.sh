#!/bin/bash
# PID 1 of the VM of tests/extmap/vm-image.sh, on its read-only root disk
# (scripts/vm.sh --root-disk: /dev/vda, made by vm-image.sh from the test
# guest's own binaries): as scripts/guest-init.sh, runs the job vm.sh
# left in the results share, records its status there and ends the VM
# (QEMU runs with -no-reboot).
export PATH=/usr/sbin:/usr/bin LANG=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /mnt
mount -t tmpfs tmpfs /tmp
mkdir -p /mnt/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 loopmap-out /mnt/out
export LOOPMAP_OUT=/mnt/out
(
	# shellcheck disable=SC1091 # written by vm.sh at run time
	. "$LOOPMAP_OUT/job"
) >"$LOOPMAP_OUT/output" 2>&1
echo $? >"$LOOPMAP_OUT/status"
sync
umount /mnt/out
echo b >/proc/sysrq-trigger
sleep 10
