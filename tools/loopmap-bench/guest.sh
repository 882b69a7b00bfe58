#!/bin/bash
# Guest side of the benchmark (see README.md here): run by bench.sh
# through scripts/vm.sh on the release kernel.
#
#   guest.sh --fs "ext2 ext3 ext4" --workloads "randread-4k-qd1 ..."
#            --holes "hole-4k-qd1" --rounds 3 --runtime 2
#            [--size 64M] [--hole-size 32M] [--setup-reps 3] [--no-warmup]
#
# --no-warmup skips the sequential read of every device before the first
# round: loopmap then starts with no cached map, as for a write-only
# workload (a mkfs, a database) on an image no one has read through it.
#
# Disks (brd, allocated as written):
#   /dev/ram0  the anchors' disk: the raw device, and the target of the
#              dm-linear devices; filled once so every page exists
#   /dev/ram1  ext2 host filesystem     /dev/ram2  ext3-format (mkfs.ext3,
#   /dev/ram3  ext4                                mounted as ext4)
#   /dev/ram1  ext4frag: ext4 whose free space is cut into single blocks
#              before the images are written (tests/lib/fragment.sh), so
#              every image has one extent per 4 KiB block; not in the same
#              run as ext2
# On each host filesystem: one fully written image per image-backed
# device (file, loop, loop-dio, loopmap), so that writers never meet the
# extent-mapped device's ETXTBSY; dm-linear maps the loopmap image's
# FIEMAP extents onto /dev/ram0 at the same offsets (the table is first
# checked against the host disk itself, with the filesystem unmounted).
#
# Each round is one fio run over a generated job file: for each workload,
# the devices one after the other (stonewall), raw once, then per host
# filesystem dm-linear, file, loop, loop-dio, loopmap; then the first
# writes into fresh sparse images.  Every job snapshots /proc/stat (after
# a sync) before and after its I/O, so CPU per I/O counts all CPUs and
# the writeback a job leaves behind; calibration jobs measure what the
# snapshots themselves cost.  Results go to $LOOPMAP_OUT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"
fslist="ext2 ext3 ext4"
workloads="randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32 read-1m write-1m"
holes="hole-4k-qd1"
rounds=3 runtime=2 size=64M hole_size=32M setup_reps=3 warmup=1
while [ $# -gt 0 ]; do
	case $1 in
	--fs) fslist=$2; shift 2 ;;
	--workloads) workloads=$2; shift 2 ;;
	--holes) holes=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--hole-size) hole_size=$2; shift 2 ;;
	--setup-reps) setup_reps=$2; shift 2 ;;
	--no-warmup) warmup=0; shift ;;
	*) echo "guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

out=${LOOPMAP_OUT:?not in a loopmap guest}
mkdir -p "$out/json" "$out/jobs"
work=/tmp/bench # tmpfs: the /proc/stat snapshots are written here
mkdir -p "$work/stat"
log() { printf '[%6ss] %s\n' "$SECONDS" "$*"; }

declare -A disk=([ext2]=/dev/ram1 [ext3]=/dev/ram2 [ext4]=/dev/ram3 [ext4frag]=/dev/ram1)
declare -A devof # "fs.device" -> block device or file
anchor=/dev/ram0

{
	echo "kernel=$(uname -r)"
	echo "version=$(cat /proc/version)"
	echo "cpus=$(nproc)"
	echo "mem_kb=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)"
	echo "fs=$fslist"
	echo "workloads=$workloads"
	echo "holes=$holes"
	echo "rounds=$rounds"
	echo "runtime=$runtime"
	echo "size=$size"
	echo "hole_size=$hole_size"
	echo "warmup=$warmup"
	echo "have_loopmap=$have_loopmap"
	echo "fio=$(fio --version)"
	echo "clocksource=$(clocksource)"
} >"$out/meta"
cat "$out/meta"

cd "$work"
log "filling the raw device's range of $anchor"
dd if=/dev/zero of="$anchor" bs=1M count="$(numfmt --from=iec "$size")" iflag=count_bytes \
	oflag=direct status=none

# io_size FS: the size of the writes that fill FS's loopmap image and of
# the reads that warm its devices up.  On ext4frag 4 KiB (O_DIRECT for
# the writes), one allocation each: written back in larger pieces, the
# image would get any free space in one piece; and a loopmap request over
# more extents than it remaps goes through the filesystem, which would
# leave the image's pages in the page cache.
io_size() {
	if [ "$1" = "${1%frag}" ]; then echo 1M; else echo 4k; fi
}

for fs in $fslist; do
	d=${disk[$fs]} mnt=/mnt/$fs
	log "$fs: mkfs.$fs on $d, images of $size"
	host_fs "$fs" "$d" "$mnt"
	# The loopmap image carries fio verify headers (offset and checksum
	# of every block), so a wrong dm-linear table cannot go unnoticed.
	wbs=$(io_size "$fs") wdirect=0
	[ "$wbs" = 1M ] || wdirect=1
	fio --name=fill --filename="$mnt/loopmap.img" --size="$size" --rw=write --bs="$wbs" \
		--direct=$wdirect \
		--verify=crc32c --do_verify=0 --verify_state_save=0 --end_fsync=1 --output=/dev/null
	for dev in file loop loop-dio; do
		dd if=/dev/zero of="$mnt/$dev.img" bs=1M count="$(numfmt --from=iec "$size")" \
			iflag=count_bytes conv=fsync status=none
	done
	table=$(fiemap_table "$mnt/loopmap.img" "$d")
	fiemap_full "$table" "$(numfmt --from=iec "$size")" || exit 1
	echo "$table" >"$out/dm-table.$fs"
	log "$fs: $(echo "$table" | wc -l) extents; checking the table on $d"
	umount "$mnt"
	echo "$table" | dmsetup create --noudevsync "check-$fs"
	fio --name=check --filename="$(dm_dev "check-$fs")" --size="$size" --rw=read --bs=1M \
		--verify_interval="$wbs" \
		--verify=crc32c --verify_fatal=1 --verify_state_load=0 --output=/dev/null
	dmsetup remove --noudevsync "check-$fs"
	mount -t "$(host_type "$fs")" "$d" "$mnt"
	echo "$table" | sed "s|$d|$anchor|" | dmsetup create --noudevsync "anchor-$fs"
	devof[$fs.dm-linear]=$(dm_dev "anchor-$fs")
	# brd allocates as written: give every mapped page of the anchor disk
	# a page before measuring.
	dd if=/dev/zero of="${devof[$fs.dm-linear]}" bs=1M count="$(numfmt --from=iec "$size")" \
		iflag=count_bytes oflag=direct status=none
	devof[$fs.file]=$mnt/file.img
	devof[$fs.loop]=$(attach classic "$mnt/loop.img")
	devof[$fs.loop-dio]=$(attach classic "$mnt/loop-dio.img" --direct-io=on)
	if [ "$have_loopmap" = 1 ]; then
		devof[$fs.loopmap]=$(attach loopmap "$mnt/loopmap.img")
	fi
done
# Warm up: one sequential read of every device (the loop buffered
# image's page cache, loopmap's extent map), in io_size pieces.
[ "$warmup" = 1 ] && for fs in $fslist; do
	for dev in dm-linear file loop loop-dio loopmap; do
		[ -n "${devof[$fs.$dev]:-}" ] || continue
		dd if="${devof[$fs.$dev]}" of=/dev/null bs="$(io_size "$fs")" iflag=direct status=none
	done
done
devices="dm-linear file loop loop-dio"
[ "$have_loopmap" = 1 ] && devices+=" loopmap"
hole_devices="file loop loop-dio"
[ "$have_loopmap" = 1 ] && hole_devices+=" loopmap"

# job NAME WORKLOAD FILENAME SIZE: one job section of a round's job file.
job() {
	printf '\n[%s]\nfilename=%s\nsize=%s\nruntime=%s\n' "$1" "$3" "$4" "$runtime"
	grep -v -e '^[;#]' -e '^\[' -e '^$' "$here/jobs/$2.fio"
}

# counters ROUND WHAT: each filesystem's loopmap counters, one line each;
# WHAT "sparse image " for the hole-write devices, "" for the others.
counters() {
	local fs dev
	for fs in $fslist; do
		if [ -n "$2" ]; then dev=${holeof[$fs.loopmap]}; else dev=${devof[$fs.loopmap]}; fi
		printf 'round %s %s %s' "$1" "$fs" "$2"
		tr '\n' ' ' <"/sys/kernel/debug/loop/${dev#/dev/}"
		echo
	done >>"$out/loopmap-counters"
}

for round in $(seq 1 "$rounds"); do
	# Fresh sparse images for the first writes into holes.
	declare -A holeof=()
	for fs in $fslist; do
		for dev in $hole_devices; do
			img=/mnt/$fs/hole-$dev.img
			rm -f "$img"
			truncate -s "$hole_size" "$img"
			case $dev in
			file) holeof[$fs.$dev]=$img ;;
			loop) holeof[$fs.$dev]=$(attach classic "$img") ;;
			loop-dio) holeof[$fs.$dev]=$(attach classic "$img" --direct-io=on) ;;
			loopmap) holeof[$fs.$dev]=$(attach loopmap "$img") ;;
			esac
		done
	done
	jf=$out/jobs/round-$round.fio
	{
		printf '[global]\nstonewall\n'
		# fio cuts option values at ';', and runs them with system():
		# shell builtins, so that a snapshot costs one exec of sh.
		# shellcheck disable=SC2016 # $c is for that shell
		printf 'exec_prerun=read -r c </proc/stat && echo "$c"\n'
		# shellcheck disable=SC2016
		printf 'exec_postrun=sync && read -r c </proc/stat && echo "$c"\n'
		for c in 1 2; do
			job "calib.$c.r$round" calib "$anchor" 4k
		done
		for wl in $workloads; do
			job "raw.$wl.raw.r$round" "$wl" "$anchor" "$size"
			for fs in $fslist; do
				for dev in $devices; do
					job "$fs.$wl.$dev.r$round" "$wl" "${devof[$fs.$dev]}" "$size"
				done
			done
		done
		for wl in $holes; do
			for fs in $fslist; do
				for dev in $hole_devices; do
					job "$fs.$wl.$dev.r$round" "$wl" "${holeof[$fs.$dev]}" "$hole_size"
				done
			done
		done
	} >"$jf"
	log "round $round: $(grep -c '^\[' "$jf") jobs"
	(cd "$work/stat" && fio --output-format=json --output="$out/json/round-$round.json" "$jf")
	[ "$have_loopmap" = 1 ] && counters "$round" "sparse image "
	for fs in $fslist; do
		for dev in $hole_devices; do
			[ "$dev" = file ] || losetup -d "${holeof[$fs.$dev]}"
			rm -f "/mnt/$fs/hole-$dev.img"
		done
	done
	[ "$have_loopmap" = 1 ] && counters "$round" ""
done
mkdir -p "$out/stat"
cp "$work"/stat/*.txt "$out/stat/"
# Map memory: the maps the loopmap devices cache after the last round
# (the fsext-maps shrinker's count; 80 bytes each)
for f in /sys/kernel/debug/shrinker/fsext-maps-*/count; do
	[ -e "$f" ] || continue
	awk '{ n += $2 } END { printf "fsext_maps=%d\n", n }' "$f" | tee -a "$out/meta"
done

# losetup setup time for a 64 GiB sparse image: the command's wall time
# (which, under TCG, is mostly exec) and the LOOP_CONFIGURE ioctl's time
# (strace -T), loopmap and classic loop interleaved.
log "setup time, 64 GiB sparse images"
for fs in $fslist; do
	truncate -s 64G "/mnt/$fs/big.img"
done
modes=classic
[ "$have_loopmap" = 1 ] && modes="loopmap classic"
echo "fs mode rep wall_ms ioctl_ms extent_map" >"$out/setup.txt"
for rep in $(seq 1 "$setup_reps"); do
	for fs in $fslist; do
		for mode in $modes; do
			want=1
			[ "$mode" = classic ] && want=0
			set_param "$want"
			t0=$(date +%s%N)
			dev=$(losetup -f --show "/mnt/$fs/big.img")
			t1=$(date +%s%N)
			em=0
			[ "$have_loopmap" = 1 ] && em=$(cat "/sys/block/${dev#/dev/}/loop/extent_map")
			losetup -d "$dev"
			strace -T -e trace=ioctl -o "$work/strace" losetup -f --show "/mnt/$fs/big.img" >"$work/dev"
			losetup -d "$(cat "$work/dev")"
			set_param 1
			ioctl=$(awk -F'<' '/LOOP_CONFIGURE/ { sub(/>.*/, "", $NF); print $NF * 1000 }' "$work/strace")
			echo "$fs $mode $rep $(((t1 - t0) / 1000)) ${ioctl:-nan} $em" |
				awk '{ printf "%s %s %s %.1f %s %s\n", $1, $2, $3, $4 / 1000, $5, $6 }' >>"$out/setup.txt"
		done
	done
done
cat "$out/setup.txt"

for fs in $fslist; do
	for dev in loop loop-dio loopmap; do
		[ -n "${devof[$fs.$dev]:-}" ] && losetup -d "${devof[$fs.$dev]}"
	done
	dmsetup remove --noudevsync "anchor-$fs"
	rm -f "/mnt/$fs/big.img"
	umount_check "$fs" "${disk[$fs]}" "$out"
done
clocksource_check "$out/meta"
log "done"
