#!/usr/bin/env bash
# Many devices: attach and detach COUNT loop devices, extent-mapped and
# classic, interleaved; wall time and kernel memory per device.  Boots the
# release kernel and runs scale-guest.py (its docstring says what is
# measured and how).
#
#   scale.sh [--count 1000] [--rounds 3] [--cpus 1] [--publish]
#     --publish   also copy the report to
#                 tools/loopmap-bench/reports/scale-DATE.md
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
here=$LOOPMAP_TOP/tools/loopmap-bench
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"

count=1000 rounds=3 cpus=1 publish=0
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--publish) publish=1; shift ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done

out=$BUILD/runs/scale-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
msg "guest with $cpus vCPU: $count devices, $rounds rounds"
bench_guest "$out" "$cpus" release 1800 tools/loopmap-bench/scale-guest.py \
	--count "$count" --rounds "$rounds"
cp "$out/cpu$cpus/scale.md" "$out/scale.md"
msg "results in $out"
if [ "$publish" = 1 ]; then
	dest=$here/reports/scale-$(date +%Y-%m-%d).md
	cp "$out/scale.md" "$dest"
	msg "published $dest"
fi
