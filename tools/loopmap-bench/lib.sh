#!/bin/bash
# Helpers shared by the benchmark (bench.sh, guest.sh) and the profile
# (profile.sh, profile-guest.sh).  Sourced, never run.

# bench_guest OUT CPUS KIND TIMEOUT COMMAND...: run COMMAND in a guest of
# CPUS vCPUs on build/obj-KIND with its results in OUT/cpuCPUS, noting
# the host's load before and after in OUT/host-load (the machine may be
# shared); on failure show the end of its output and stop.  Host side:
# needs scripts/lib.sh.
#
# tsc=reliable: under TCG, with busy vCPUs, the clocksource watchdog can
# find the TSC skewed against the HPET and switch the guest to the HPET,
# whose every read is an emulated MMIO access; the request-based devices,
# which timestamp each request, would then pay far more than they do on
# hardware.  (Seen in a 2-vCPU profile: read_hpet took 9.4 µs per I/O on
# loopmap.)  The guests record their clocksource: clocksource_check.
# BENCH_APPEND in the environment adds to the guests' command line (an
# experiment's knob, e.g. workqueue.default_affinity_scope=cpu).
bench_guest() {
	local out=$1 cpus=$2 kind=$3 tmo=$4 rc
	shift 4
	echo "$cpus before $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/host-load"
	set +e
	"$LOOPMAP_TOP/scripts/vm.sh" --kernel "$kind" --cpus "$cpus" --mem 6G \
		--timeout "$tmo" --out "$out/cpu$cpus" \
		--append "tsc=reliable${BENCH_APPEND:+ $BENCH_APPEND}" -- "$@"
	rc=$?
	set -e
	echo "$cpus after $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/host-load"
	if [ $rc -ne 0 ]; then
		tail -n 30 "$out/cpu$cpus/output" >&2 || true
		die "the guest run failed (status $rc); see $out/cpu$cpus"
	fi
}

# fiemap_table IMG DISK: a dm-linear table of IMG's extents on DISK.
# Guest side.
fiemap_table() {
	file_extents "$1" 512 | awk -v d="$2" '{ printf "%d %d linear %s %d\n", $1, $4, d, $3 }'
}

# fiemap_full TABLE BYTES: whether the dm-linear TABLE (fiemap_table)
# covers BYTES, the whole image: says so on standard error when not.
# Guest side.
fiemap_full() {
	local sectors
	sectors=$(echo "$1" | awk '{ n += $2 } END { print n }')
	[ "$sectors" -eq $(($2 / 512)) ] && return 0
	echo "FIEMAP covers $sectors sectors, not $(($2 / 512))" >&2
	return 1
}

# host_fs FS DISK MNT: make a 4 KiB-block host filesystem FS (ext2, ext3
# for mkfs.ext3 mounted as ext4, ext4, or ext4frag: ext4 whose free space
# is then cut into single blocks, fragment_free) on DISK and mount it on
# MNT.  Guest side.
host_fs() {
	"mkfs.${1%frag}" -q -F -b 4096 "$2"
	mkdir -p "$3"
	mount -t "$(host_type "$1")" "$2" "$3"
	[ "$1" = "${1%frag}" ] || fragment_free "$3"
}

# host_type FS: the type host_fs mounts FS as.  Guest side.
host_type() {
	case $1 in
	ext3 | ext4frag) echo ext4 ;;
	*) echo "$1" ;;
	esac
}

# file_extents and fragment_free: tests/lib/fragment.sh.  Guest side.
# shellcheck source=tests/lib/fragment.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tests/lib/fragment.sh"

# dm_dev NAME: the /dev/dm-N node of device-mapper device NAME.  Guest side.
dm_dev() {
	echo "/dev/dm-$(dmsetup info -c --noheadings -o minor "$1" | tr -d ' ')"
}

# clocksource: the guest's current clocksource.  Guest side.
clocksource() {
	cat /sys/devices/system/clocksource/clocksource0/current_clocksource
}

# clocksource_check META: append clocksource_end to the META file, and
# warn when the run ended on another clocksource than TSC.  Guest side.
clocksource_check() {
	local cs
	cs=$(clocksource)
	echo "clocksource_end=$cs" >>"$1"
	[ "$cs" = tsc ] || echo "WARNING: the clocksource is $cs, not tsc: CPU per I/O is not comparable" >&2
}

# The module parameter that picks the mode of the next attach; absent on
# a kernel without the series (stock).  Guest side.
param=/sys/module/loop/parameters/extent_map
have_loopmap=0
[ -e "$param" ] && have_loopmap=1
set_param() { [ "$have_loopmap" = 0 ] || echo "$1" >"$param"; }

# attach MODE IMAGE [losetup options]: a loop device; MODE is loopmap
# (the module parameter at 1, extent_map asserted 1) or classic (0).
attach() {
	local mode=$1 img=$2 dev want=1
	shift 2
	[ "$mode" = classic ] && want=0
	set_param "$want"
	dev=$(losetup -f --show "$@" "$img")
	set_param 1
	if [ "$have_loopmap" = 1 ]; then
		local got
		got=$(cat "/sys/block/${dev#/dev/}/loop/extent_map")
		[ "$got" = "$want" ] || {
			echo "$dev on $img: extent_map is $got, want $want" >&2
			exit 1
		}
	fi
	echo "$dev"
}

# umount_check FS DISK OUT: unmount host filesystem FS (/mnt/FS, on
# DISK) and check it with e2fsck -fn, its report in OUT/e2fsck.FS; exits
# when it finds problems.  Guest side.
umount_check() {
	umount "/mnt/$1"
	e2fsck -fn "$2" >"$3/e2fsck.$1" 2>&1 || {
		echo "$1: e2fsck found problems" >&2
		cat "$3/e2fsck.$1" >&2
		exit 1
	}
}
