#!/bin/bash
# PID 1 of the QEMU guest (see scripts/vm.sh).  The root filesystem is the
# host's, read-only over 9p: give the guest its own writable places, run
# the job the host left in the output share, record its status, reboot
# (QEMU runs with -no-reboot, so that ends it).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C.UTF-8 LOOPMAP_GUEST=1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug
# The repository may live under one of the directories that get a tmpfs
# (a CI clone in /tmp or /root): keep it reachable through a bind mount
# moved back into place over the new tmpfs.
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p /dev/shm/loopmap-top
mount --bind "$top" /dev/shm/loopmap-top
for d in /tmp /run /mnt /var/tmp /var/lock /root; do
	mount -t tmpfs -o mode=1777 tmpfs "$d" 2>/dev/null
done
if [ ! -x "$top/scripts/guest-init.sh" ]; then
	mkdir -p "$top"
	mount --move /dev/shm/loopmap-top "$top"
else
	umount /dev/shm/loopmap-top
fi
mkdir -p /run/lock /run/loopmap-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 loopmap-out /run/loopmap-out
export LOOPMAP_OUT=/run/loopmap-out
hostname loopmap-guest 2>/dev/null
exec 0</dev/null

(
	# shellcheck disable=SC1091 # the job is written by vm.sh at run time
	. "$LOOPMAP_OUT/job"
) >"$LOOPMAP_OUT/output" 2>&1
echo $? >"$LOOPMAP_OUT/status.tmp"
mv "$LOOPMAP_OUT/status.tmp" "$LOOPMAP_OUT/status"
sync
umount /run/loopmap-out
echo b >/proc/sysrq-trigger
sleep 10
