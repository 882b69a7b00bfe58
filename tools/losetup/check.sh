#!/usr/bin/env bash
# make losetup: check the EXTMAP column of the losetup that build.sh
# built (build/bin/losetup), on two kernels:
#  - this machine's own (a stock kernel: no loop/extent_map in sysfs):
#    a device over an image in /tmp lists EXTMAP 0, and --list succeeds;
#  - a guest of the test kernel (scripts/vm.sh): an image on an ext4
#    host fs comes up extent-mapped and lists 1 (--json: true); detached,
#    and another attached with the loop module's extent_map parameter at
#    0 (classic mode), that one lists 0.
# Prints the --list output of each.  Needs root (losetup).
#
#   check.sh            both
#   check.sh --guest    the guest part (what vm.sh runs in the guest)
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
bin=$BUILD/bin/losetup
[ -x "$bin" ] || die "no $bin: run tools/losetup/build.sh first"

# expect DEVICE WANT: DEVICE's EXTMAP column is WANT
expect() {
	local got
	got=$("$bin" --list --noheadings -O EXTMAP "$1" | tr -d ' ')
	[ "$got" = "$2" ] || die "$1: EXTMAP is '$got', expected $2"
}

if [ "${1:-}" = --guest ]; then
	mkfs.ext4 -q -F /dev/ram0 256M
	mkdir -p /mnt/host
	mount /dev/ram0 /mnt/host
	truncate -s 64M /mnt/host/disk.img /mnt/host/classic.img
	echo "guest, kernel $(uname -r):"
	dev=$("$bin" -f --show /mnt/host/disk.img)
	"$bin" --list -O NAME,BACK-FILE,DIO,EXTMAP "$dev"
	expect "$dev" 1
	"$bin" --list --json -O NAME,EXTMAP "$dev" | grep -q '"extmap": true' ||
		die "--json: no \"extmap\": true for $dev"
	"$bin" -d "$dev"
	# classic mode for new devices (the loop module parameter)
	echo 0 >/sys/module/loop/parameters/extent_map
	dev=$("$bin" -f --show /mnt/host/classic.img)
	"$bin" --list --noheadings -O NAME,BACK-FILE,DIO,EXTMAP "$dev"
	expect "$dev" 0
	"$bin" -d "$dev"
	echo 1 >/sys/module/loop/parameters/extent_map
	umount /mnt/host
	echo "guest: ok"
	exit 0
fi

img=$(mktemp /tmp/loopmap-losetup.XXXXXX)
truncate -s 16M "$img"
dev=$("$bin" -f --show "$img")
trap '"$bin" -d "$dev"; rm -f "$img"' EXIT
echo "host, kernel $(uname -r):"
"$bin" --list -O NAME,BACK-FILE,DIO,EXTMAP "$dev"
expect "$dev" 0
echo "host: ok"

out=$BUILD/runs/losetup-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
"$LOOPMAP_TOP/scripts/vm.sh" --kernel test --cpus 1 --timeout 300 --out "$out" \
	-- tools/losetup/check.sh --guest ||
	{ cat "$out/output" >&2; die "the guest part failed (see $out)"; }
cat "$out/output"
