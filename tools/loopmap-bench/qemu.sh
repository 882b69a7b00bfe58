#!/usr/bin/env bash
# A VM host's view: qemu-img bench (QEMU's own block layer, cache=none)
# on an extent-mapped loop device, against dm-linear over the image's
# extents, QEMU on the image file, and classic loop (buffered and
# --direct-io=on).  Boots the release kernel and runs qemu-guest.sh (its
# header says what is measured); the report goes to build/runs/qemu-*/.
#
#   qemu.sh [--cpus 1] [--fs "ext4"] [--rounds 3] [--aio "native io_uring"]
#           [--count 50000] [--publish]
#     --publish   also copy the report to
#                 tools/loopmap-bench/reports/qemu-DATE.md
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
here=$LOOPMAP_TOP/tools/loopmap-bench
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"

cpus=1 fs=ext4 rounds=3 aio="native io_uring" count=50000 publish=0
while [ $# -gt 0 ]; do
	case $1 in
	--cpus) cpus=$2; shift 2 ;;
	--fs) fs=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--aio) aio=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	--publish) publish=1; shift ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done

out=$BUILD/runs/qemu-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
msg "guest with $cpus vCPU: $fs, aio $aio, $rounds rounds"
# a generous limit: 10 minutes per round of each fs and aio engine
nfs=$(wc -w <<<"$fs") naio=$(wc -w <<<"$aio")
bench_guest "$out" "$cpus" release $((600 + 600 * nfs * naio * rounds)) tools/loopmap-bench/qemu-guest.sh \
	--fs "$fs" --rounds "$rounds" --aio "$aio" --count "$count"
"$here/qemu-report.py" "$out/cpu$cpus/results.txt" "$out/cpu$cpus/meta" >"$out/qemu.md"
{
	printf '## loopmap counters at the end (debugfs)\n\n```\n'
	cat "$out/cpu$cpus/loopmap-counters"
	printf '```\n'
} >>"$out/qemu.md"
msg "report: $out/qemu.md"
if [ "$publish" = 1 ]; then
	dest=$here/reports/qemu-$(date +%Y-%m-%d).md
	cp "$out/qemu.md" "$dest"
	msg "published $dest"
fi
