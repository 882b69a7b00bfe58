#!/bin/bash
# PID 1 of the VM of tests/extmap/vm-image.sh, on its read-only root disk
# (/dev/vdb, made by vm-image.sh from the test guest's own binaries): runs
# /guest.sh with the arguments in the results share's job file, records
# its status there, and ends the VM (QEMU runs with -no-reboot).
export PATH=/usr/sbin:/usr/bin LANG=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /mnt
mount -t tmpfs tmpfs /tmp
mkdir -p /mnt/out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /mnt/out
export LOOPMAP_OUT=/mnt/out
read -ra args </mnt/out/job
/guest.sh "${args[@]}" >/mnt/out/output 2>&1
echo $? >/mnt/out/status
sync
umount /mnt/out
echo b >/proc/sysrq-trigger
sleep 10
