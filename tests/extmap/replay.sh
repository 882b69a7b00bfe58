#!/bin/bash
# DESCRIPTION: at every crash point replayed from dm-log-writes, acknowledged fills are intact, no stale marker, e2fsck clean
# GROUPS: auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 398
# TIMEOUT: 1500 stress=10800
# REQUIRES: cmd:dmsetup
# TEST_REPLAY_BATCHES: batches of the crash workload per host filesystem, about two crash points each (quick 2, auto 2, stress 30)
# TEST_REPLAY_LOGDEV: the device dm-log-writes logs to (default /dev/ram1)
#
# Crash points by replay: the host filesystem sits on dm-log-writes, which
# logs each write to a second RAM disk once it is on stable storage (at
# the flush that follows it, or at completion for FUA).  The workload of
# the crash test (tests/host/crash/crashio.py) fills holes of a sparse
# image in batches, acknowledged by a flush or by FUA, and logs a mark
# "ack-B" after batch B.  Then the log is replayed onto a copy of the
# disk as it was when logging began (tests/extmap/replay.py), and at each
# mark and at a flush in the middle of each batch the disk as a crash at
# that moment would leave it is checked, as the crash test does: e2fsck
# clean (ext2 after e2fsck -fy, ext3/ext4 after journal replay), every
# acknowledged block holds its data, unacknowledged blocks hold zeros or
# their data, no byte shows the marker the free space held.
#
# TEST_REPLAY_BATCHES batches per filesystem, each giving about two
# crash points (the auto form's 2: about 5 points).  The checks are
# tests/host/crash/check-disk.sh's.  Each point's result goes to
# $LOOPMAP_OUT/replay-FS.txt.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=64M
LOG_DEV=${TEST_REPLAY_LOGDEV:-/dev/ram1}
BATCHES=${TEST_REPLAY_BATCHES:-$(by_group 2 2 30)}
crashio=$(dirname "$0")/../host/crash/crashio.py
replay=$(dirname "$0")/replay.py
LW=loopmap-lw
REPLAY=/mnt/replay

# log_workload BATCHES [VAR=VALUE...]: a fresh sparse image on the host
# filesystem at $HOST (unmounted on return), the crash workload's BATCHES
# batches written to it over dm-log-writes with the environment given.
# Leaves the disk as logging began in $SCRATCH/disk, the log on $LOG_DEV.
log_workload() {
	local batches=$1 fs dev lw sectors
	shift
	fs=$(findmnt -n -o FSTYPE "$HOST")
	mark_free_space ""
	truncate -s 32M "$HOST/disk.img"
	umount "$HOST"
	sectors=$(($(numfmt --from=iec "$HOSTFS_SIZE") / 512))
	dd if="$HOSTDEV" of="$SCRATCH/disk" bs=1M count=$((sectors / 2048)) status=none
	lw=$(dm_create "$LW" "0 $sectors log-writes $HOSTDEV $LOG_DEV")
	mount -t "$fs" "$lw" "$HOST"
	dev=$(attach "$HOST/disk.img")
	env CRASHIO_MARK="$LW" "$@" python3 "$crashio" write "$dev" 1 "$batches" >/dev/null
	assert "the batches filled holes" [ "$(extmap_stat "$dev" fills)" -ge $((batches * 16)) ]
	detach "$dev"
	umount "$HOST"
	dmsetup remove --noudevsync "$LW"
	mkdir -p "$REPLAY"
}

replay_case() {
	local fs n
	fs=$(findmnt -n -o FSTYPE "$HOST")
	log_workload "$BATCHES"
	if ! python3 "$replay" "$fs" "$LOG_DEV" "$SCRATCH/disk" "$BATCHES" "$REPLAY" \
		>"$SCRATCH/replay.out"; then
		grep -v ': ok$' "$SCRATCH/replay.out" >&2
		return 1
	fi
	tail -n 1 "$SCRATCH/replay.out" >&2
	# every point's line, kept with the run's results
	if [ -n "${LOOPMAP_OUT:-}" ]; then cp "$SCRATCH/replay.out" "$LOOPMAP_OUT/replay-$fs.txt"; fi
	n=$(awk '/crash points checked/ { print $1 }' "$SCRATCH/replay.out")
	assert "every batch was checked at its mark and in its middle ($n points)" \
		[ "$n" -ge $((BATCHES * 2)) ]
	# the host device itself, as the run left it, is clean too
	mount -t "$fs" "$HOSTDEV" "$HOST"
}
for_each_hostfs "at least $((BATCHES * 2)) crash points replayed from dm-log-writes: acknowledged fills intact, no marker, e2fsck clean" \
	replay_case

# The control: the same workload without its flushes and FUA.  Its writes
# are on the host disk but never flushed, so the replay must find the
# first "acknowledged" batch missing at its mark.  ext2, because nothing
# else there issues a flush (ext3/ext4 journal commits do).
control_case() {
	log_workload 2 CRASHIO_NOSYNC=1
	if python3 "$replay" ext2 "$LOG_DEV" "$SCRATCH/disk" 2 "$REPLAY" >"$SCRATCH/replay.out"; then
		cat "$SCRATCH/replay.out" >&2
		echo "the replay found unflushed writes durable" >&2
		return 1
	fi
	assert "the replay reports the unflushed batch lost" \
		grep -q "^not ok - round 1: every block of the 1 acknowledged batches holds its data" \
		"$SCRATCH/replay.out"
	mount -t ext2 "$HOSTDEV" "$HOST"
}
HOSTFS_LIST=ext2 for_each_hostfs "control: unflushed writes are lost at a replayed crash point" \
	control_case
