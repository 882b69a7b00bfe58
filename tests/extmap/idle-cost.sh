#!/bin/bash
# DESCRIPTION: loop devices start no bioset rescuer threads, in any mode; only devices that were extent-mapped dispatch under SRCU, from the first binding to a live leave or the device's removal
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 140
# TIMEOUT: 600
# REQUIRES: cmd:python3 cmd:fio
# TEST_IDLE_CYCLES: mode changes under fio (quick 3, auto 4, stress 40)
#
# Systems run dozens of loop devices (snaps, containers), most of them
# idle or classic.  Extent-mapped mode needs two bio sets and an SRCU
# with per-CPU data; loop_add() used to allocate them for every device,
# each bio set with a rescuer thread ("kworker/R-bioset").  The bio sets
# now have no rescuer (->queue_rq() allocates its clones without waiting,
# the worker may wait), so the number of rescuer threads must not change
# when idle devices are added (LOOP_CTL_ADD), a read-only device is
# bound, an image is extent-mapped, or the device leaves the mode, by an
# unaligned offset on the live device and by detach.  The per-CPU and
# slab memory that idle devices add is printed as a diagnostic
# (kmemleak, in the runner, sees leaks of what the mode allocates).
#
# Only extent-mapped mode submits bios from ->queue_rq(), so only it
# needs BLK_MQ_F_BLOCKING, whose SRCU every dispatch then enters.  The
# flag, as blk-mq's debugfs shows it, is set by a device's first
# extent-mapped binding (a freeze) and cleared when a live device leaves
# the mode (under the freeze its ioctl takes); detach (the last close,
# no freeze) keeps it, so the next binding needs no freeze, until the
# device is removed.  Until its first binding a device's queue usage
# counter stays atomic, so that the first binding's freeze does not wait
# for a grace period (debugfs state USAGE_ATOMIC); a binding in either
# mode makes it per-CPU.  A classic binding of such a device must still read
# correctly.  The mode's bio sets and SRCU are likewise kept from the
# first extent-mapped binding to the removal; a device bound again
# extent-mapped after a live leave and a detach must write and verify.
# The queue switches back while fio reads and writes the
# device, since an unaligned offset ends the mode on a live device; the
# runner fails the test on any kernel report (sleeping in an RCU
# read-side section, lockdep).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
FSOPS=$(dirname "$0")/fsops.py
CYCLES=${TEST_IDLE_CYCLES:-$(by_group 3 4 40)}

# The rescuer's comm is truncated to 15 characters.
rescuers() {
	cat /proc/[0-9]*/comm 2>/dev/null | grep -c '^kworker/R-biose' || true
}

# meminfo FIELD: a /proc/meminfo value in kB
meminfo() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# usage_atomic DEVICE: 1 if its queue's usage counter is still atomic
# (QUEUE_FLAG_USAGE_ATOMIC), else 0
usage_atomic() {
	local state
	read -r state <"/sys/kernel/debug/block/${1#/dev/}/state"
	case "|$state|" in
	*"|USAGE_ATOMIC|"*) echo 1 ;;
	*) echo 0 ;;
	esac
}

# ctl_remove DEVICE: LOOP_CTL_REMOVE, again while udev's probe of the
# detach holds the device open (EBUSY), for up to 30 s
ctl_remove() {
	local end=$((SECONDS + 30))
	until "$FSOPS" ctl-remove "${1#/dev/loop}" 2>/dev/null; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# blocking DEVICE: 1 if its hardware queue has BLK_MQ_F_BLOCKING, else 0
blocking() {
	local flags
	read -r flags <"/sys/kernel/debug/block/${1#/dev/}/hctx0/flags"
	case "|${flags#* }|" in
	*"|BLOCKING|"*) echo 1 ;;
	*) echo 0 ;;
	esac
}

idle_case() {
	local base after percpu slab n=16
	local -a ids
	mapfile -t ids < <(seq 200 $((200 + n - 1)))
	base=$(rescuers)
	percpu=$(meminfo Percpu)
	slab=$(meminfo Slab)
	"$FSOPS" ctl-add "${ids[@]}"
	after=$(rescuers)
	# fd 3: the test's stdout, past run_case's log (a TAP comment)
	echo "# $n idle devices added $(($(meminfo Percpu) - percpu)) kB per-CPU," \
		"$(($(meminfo Slab) - slab)) kB slab" >&3
	assert_eq "an idle loop device dispatches without BLK_MQ_F_BLOCKING" \
		0 "$(blocking "loop${ids[0]}")"
	"$FSOPS" ctl-remove "${ids[@]}"
	assert_eq "bioset rescuer threads after adding $n idle loop devices" \
		"$base" "$after"
}
exec 3>&1
run_case "idle loop devices start no bioset rescuer threads" idle_case

# The lifetime case binds one device that it adds itself: a device that
# an earlier test extent-mapped is blocking already.
FRESH=/dev/loop240

# fresh_device: LOOP_CTL_ADD of $FRESH (removing one left by a failed run)
fresh_device() {
	if [ -e "/sys/block/${FRESH#/dev/}" ]; then ctl_remove "$FRESH"; fi
	"$FSOPS" ctl-add "${FRESH#/dev/loop}"
}

# bind IMAGE MODE [LOSETUP OPTIONS...]: stock losetup of $FRESH; its
# loop/extent_map must be MODE
bind() {
	local img=$1 mode=$2
	shift 2
	losetup "$@" "$FRESH" "$img"
	assert_eq "loop/extent_map of $FRESH on $img" "$mode" \
		"$(sysfs_loop "$FRESH" extent_map)"
}

lifetime_case() {
	local base dev=$FRESH
	full_image "$HOST/disk.img" 8
	fresh_device
	assert_eq "a new loop device is not blocking" 0 "$(blocking "$dev")"
	assert_eq "a new loop device's queue usage counter is atomic" 1 \
		"$(usage_atomic "$dev")"
	base=$(rescuers)
	bind "$HOST/disk.img" 0 --read-only
	assert_eq "a classic binding made the usage counter per-CPU" 0 \
		"$(usage_atomic "$dev")"
	assert_eq "rescuers with a bound read-only (classic) device" \
		"$base" "$(rescuers)"
	assert_eq "a classic device dispatches without BLK_MQ_F_BLOCKING" \
		0 "$(blocking "$dev")"
	detach "$dev"

	bind "$HOST/disk.img" 1
	assert_eq "no rescuers while a device is extent-mapped" \
		"$base" "$(rescuers)"
	assert_eq "an extent-mapped device dispatches with BLK_MQ_F_BLOCKING" \
		1 "$(blocking "$dev")"
	dd if=/dev/urandom of="$dev" bs=4k count=16 oflag=direct status=none
	"$FSOPS" set-offset "$dev" 1000
	assert_eq "an unaligned offset ended extent-mapped mode" 0 \
		"$(sysfs_loop "$dev" extent_map)"
	assert_eq "rescuers after the live device left the mode" \
		"$base" "$(rescuers)"
	assert_eq "the live device left BLK_MQ_F_BLOCKING with the mode" \
		0 "$(blocking "$dev")"
	assert "the classic device still reads" \
		dd if="$dev" of=/dev/null bs=4k count=16 iflag=direct status=none
	detach "$dev"

	# The mode's bio sets and SRCU are kept from the first binding until
	# the device is removed: a binding again reuses them.
	bind "$HOST/disk.img" 1
	assert_eq "a device that re-entered the mode dispatches with BLK_MQ_F_BLOCKING" \
		1 "$(blocking "$dev")"
	assert "fio writes and verifies through the device bound again" \
		fio --name=again --filename="$dev" --direct=1 --ioengine=psync \
		--rw=randwrite --bs=4k --size=4m --verify=crc32c \
		--do_verify=1 --output=/dev/null
	assert "bios were remapped through the mode's bio sets again" \
		[ "$(extmap_stat "$dev" bio_remaps)" -gt 0 ]
	detach "$dev"
	assert_eq "rescuers after an extent-mapped device was detached" \
		"$base" "$(rescuers)"
	assert_eq "a detached device stays blocking until it is removed" \
		1 "$(blocking "$dev")"

	# The same device bound classic (read-only) dispatches under SRCU.
	bind "$HOST/disk.img" 0 --read-only
	assert_eq "a classic binding of a once extent-mapped device is blocking" \
		1 "$(blocking "$dev")"
	assert "it reads what the image holds" \
		cmp <(dd if="$dev" bs=4k count=256 iflag=direct status=none) \
		<(dd if="$HOST/disk.img" bs=4k count=256 status=none)
	detach "$dev"

	# Removed and added again, the device number starts non-blocking.
	assert "LOOP_CTL_REMOVE of the detached device" ctl_remove "$dev"
	"$FSOPS" ctl-add "${dev#/dev/loop}"
	assert_eq "a device added again with that number is not blocking" \
		0 "$(blocking "$dev")"
	assert "LOOP_CTL_REMOVE of it" ctl_remove "$dev"
}
run_case "ext4: no rescuers in any mode; blocking from the first extent-mapped binding to the device's removal" \
	on_hostfs ext4 lifetime_case

# A new device's first binding is extent-mapped: its freeze finds the
# usage counter atomic (no grace period to wait for), and the device
# must then carry I/O as any other.
first_bind_case() {
	local dev=$FRESH
	full_image "$HOST/disk.img" 8
	fresh_device
	bind "$HOST/disk.img" 1
	assert_eq "the first binding made the usage counter per-CPU" 0 \
		"$(usage_atomic "$dev")"
	assert_eq "the first binding made the queue blocking" 1 \
		"$(blocking "$dev")"
	assert "fio writes and verifies through the new device" \
		fio --name=first --filename="$dev" --direct=1 --ioengine=psync \
		--rw=randwrite --bs=4k --size=4m --verify=crc32c \
		--do_verify=1 --output=/dev/null
	detach "$dev"
	assert "LOOP_CTL_REMOVE of it" ctl_remove "$dev"
}
run_case "ext4: a new device bound extent-mapped first carries I/O" \
	on_hostfs ext4 first_bind_case

# The device enters the mode (its queue becomes blocking) and leaves it by
# an unaligned offset while fio runs, then fio verifies what it wrote
# since, through the classic path.
switch_case() {
	local dev fio i
	full_image "$HOST/disk.img" 16
	for ((i = 1; i <= CYCLES; i++)); do
		dev=$(attach "$HOST/disk.img")
		assert_eq "cycle $i: blocking once bound" 1 "$(blocking "$dev")"
		fio --name=switch --filename="$dev" --direct=1 --ioengine=psync \
			--rw=randrw --bs=4k --numjobs=2 --time_based --runtime=30 \
			--continue_on_error=all --output=/dev/null >/dev/null 2>&1 &
		fio=$!
		sleep 1
		"$FSOPS" set-offset "$dev" 1000
		assert_eq "cycle $i: the offset ended the mode" 0 \
			"$(sysfs_loop "$dev" extent_map)"
		assert_eq "cycle $i: not blocking after the mode" 0 \
			"$(blocking "$dev")"
		sleep 1
		kill "$fio" 2>/dev/null || true
		wait "$fio" || true
		assert "cycle $i: the classic device writes and verifies" \
			fio --name=verify --filename="$dev" --direct=1 \
			--ioengine=psync --rw=write --bs=64k --size=4m \
			--verify=crc32c --do_verify=1 --output=/dev/null
		detach "$dev"
	done
}
run_case "ext4: the queue stops being blocking under fio, $CYCLES times" \
	on_hostfs ext4 switch_case
