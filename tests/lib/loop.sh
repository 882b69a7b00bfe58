# shellcheck shell=bash
# Loop devices, the top layer of tests/lib.sh: attach and detach images
# with stock losetup, read the extent-map state, and round trips of files
# through an upper filesystem on a loop device.  Uses the case framework
# (tests/lib/case.sh) and the host filesystem's paths (tests/lib/hostfs.sh).

# cleanup_loops: unmount the upper filesystem and detach every loop device.
cleanup_loops() {
	local type
	mounted_type type "$UPPER"
	if [ -n "$type" ]; then umount "$UPPER"; fi
	detach_loops
}

# attach IMAGE [LOSETUP OPTIONS...]: stock losetup; prints the device.
# An image on the ext2/ext3/ext4 host filesystem must come up in
# extent-mapped mode (loop/extent_map 1), unless the case sets
# EXPECT_EXTMAP (0 or 1; empty: no check).
attach() {
	local img=$1 dev want
	shift
	dev=$(losetup -f --show "$@" "$img")
	case $img in
	"$HOST"/*) want=${EXPECT_EXTMAP-1} ;;
	*) want=${EXPECT_EXTMAP-} ;;
	esac
	if [ -n "$want" ]; then
		assert_eq "loop/extent_map of $dev on $img" "$want" \
			"$(sysfs_loop "$dev" extent_map)" >&2
	fi
	echo "$dev"
}

# extmap_stat DEVICE FIELD: a counter of /sys/kernel/debug/loop/loopN
# (loop_stat, below, reads it into a variable)
extmap_stat() {
	local v
	loop_stat v "$1" "$2"
	echo "$v"
}

# set_extmap_param 0|1: the loop module parameter extent_map
set_extmap_param() {
	echo "$1" >/sys/module/loop/parameters/extent_map
}

# detach DEVICE: losetup -d; the device must be free afterwards.
detach() {
	losetup -d "$1"
	assert "$1 is released after losetup -d" wait_unbound "$1"
}

wait_unbound() {
	local _
	for _ in $(seq 50); do
		losetup "$1" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	return 1
}

# write_files DIR SUMS: files of awkward sizes with random contents;
# their SHA-256 sums go to SUMS (relative names).
write_files() {
	local dir=$1 sums=$2 size
	for size in 1 511 4095 4096 65537 1048576 3145735; do
		head -c "$size" /dev/urandom >"$dir/f$size"
	done
	mkdir -p "$dir/sub/deeper"
	head -c 200000 /dev/urandom >"$dir/sub/deeper/g"
	(cd "$dir" && find . -type f ! -path './lost+found/*' -print0 | sort -z |
		xargs -0 sha256sum) >"$sums"
}

# verify_files DIR SUMS
verify_files() {
	(cd "$1" && sha256sum --quiet -c "$2")
}

# populate IMAGE SUMS [LOSETUP OPTIONS...]: attach, mkfs.ext4 on the loop
# device, mount, write files (their sums to SUMS), umount, detach.
populate() {
	local img=$1 sums=$2 dev
	shift 2
	dev=$(attach "$img" "$@")
	mkfs.ext4 -q "$dev"
	mkdir -p "$UPPER"
	mount "$dev" "$UPPER"
	write_files "$UPPER" "$sums"
	umount "$UPPER"
	detach "$dev"
}

# roundtrip IMAGE [LOSETUP OPTIONS...]: populate, attach again, verify the
# files, and check the upper filesystem with e2fsck.
roundtrip() {
	local img=$1 dev
	shift
	populate "$img" "$SCRATCH/sums" "$@"
	dev=$(attach "$img" "$@")
	mount -o ro "$dev" "$UPPER"
	assert "files read back with their checksums after reattach" \
		verify_files "$UPPER" "$SCRATCH/sums"
	umount "$UPPER"
	assert "upper filesystem passes e2fsck -fn" e2fsck -fn "$dev" >/dev/null
	detach "$dev"
}

# sysfs_loop DEVICE ATTRIBUTE: /sys/block/loopN/loop/ATTRIBUTE
sysfs_loop() {
	local v
	loop_attr v "$1" "$2"
	echo "$v"
}

# loop_attr VAR DEVICE ATTRIBUTE: sysfs_loop's value into VAR, read by the
# shell itself: $(sysfs_loop ...) forks, which is slow in the guest.
loop_attr() {
	read -r "$1" <"/sys/block/${2#/dev/}/loop/$3"
}

# loop_stat VAR DEVICE FIELD: extmap_stat's value into VAR, the same way.
# Its locals have names no caller passes as VAR (printf -v would set the
# local instead).
loop_stat() {
	local _ls_k _ls_v
	while read -r _ls_k _ls_v; do
		if [ "$_ls_k" = "$3" ]; then
			printf -v "$1" %s "$_ls_v"
			return 0
		fi
	done <"/sys/kernel/debug/loop/${2#/dev/}"
	echo "no $3 in /sys/kernel/debug/loop/${2#/dev/}" >&2
	return 1
}

# freeze_queue_for QUEUE SECONDS COUNT_FILE: store the queue's own
# max_sectors_kb (QUEUE is /sys/block/NAME/queue) again and again for
# SECONDS, each store a freeze of the queue, then write the number of
# stores to COUNT_FILE.  Tests run it in the background, next to I/O.
freeze_queue_for() {
	local q=$1 end=$((SECONDS + $2)) n=0 kb
	read -r kb <"$q/max_sectors_kb"
	while [ "$SECONDS" -lt "$end" ]; do
		echo "$kb" >"$q/max_sectors_kb"
		n=$((n + 1))
	done
	echo "$n" >"$3"
}

# fio_racing_freezes QUEUE SECONDS FIO_OPTIONS...: fio, time-based for
# SECONDS, while freeze_queue_for freezes QUEUE.  Both must end within
# SECONDS + 60 s (a hang fails the case, not the guest's time limit), fio
# must succeed, and the queue must have been frozen at least 10 times.
fio_racing_freezes() {
	local q=$1 secs=$2 fio_pid freeze_pid
	shift 2
	fio --time_based --runtime="$secs" --output="$SCRATCH/fio.out" "$@" &
	fio_pid=$!
	freeze_queue_for "$q" "$secs" "$SCRATCH/freezes" &
	freeze_pid=$!
	assert "fio and the freezes end: no hang" \
		gone_within $((secs + 60)) "$fio_pid" "$freeze_pid"
	assert "fio succeeded" wait "$fio_pid"
	assert "the queue was frozen again and again" \
		[ "$(cat "$SCRATCH/freezes")" -ge 10 ]
}
