#!/usr/bin/env bash
# make profile: where the CPU time of one I/O goes on the raw device,
# dm-linear, fio O_DIRECT on the image file, and loopmap.  Boots the
# release kernel (or --kernel K: build/obj-K) once per vCPU count, runs profile-guest.sh (perf record
# -a -e cpu-clock around each target's fio run, interleaved rounds) and
# writes profile.md per run with profile.py.
#
#   profile.sh [--cpus "1 2"] [--workload randread-4k-qd1] [--seconds 10]
#              [--rounds 2] [--fs ext4] [--kernel release] [--publish]
#     --publish   also copy the reports to
#                 tools/loopmap-bench/reports/profile-DATE-WORKLOAD.md
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
here=$LOOPMAP_TOP/tools/loopmap-bench
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"

cpus_list="1 2" workload=randread-4k-qd1 seconds=10 rounds=2 fs=ext4 publish=0
kind=release
while [ $# -gt 0 ]; do
	case $1 in
	--cpus) cpus_list=$2; shift 2 ;;
	--workload) workload=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--fs) fs=$2; shift 2 ;;
	--kernel) kind=$2; shift 2 ;;
	--publish) publish=1; shift ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done

out=$BUILD/runs/profile-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
reports=()
for cpus in $cpus_list; do
	msg "guest with $cpus vCPU ($kind kernel): $workload on $fs, $rounds rounds of ${seconds}s"
	bench_guest "$out" "$cpus" "$kind" 900 tools/loopmap-bench/profile-guest.sh \
		--workload "$workload" --seconds "$seconds" --rounds "$rounds" --fs "$fs"
	python3 "$here/profile.py" "$out/cpu$cpus" >/dev/null
	reports+=("$out/cpu$cpus/profile.md")
done
{
	for r in "${reports[@]}"; do
		cat "$r"
		echo
	done
	echo "Host load (1, 5, 15 min) before and after each guest:"
	echo
	sed 's/^/    /' "$out/host-load"
} >"$out/profile.md"
cat "$out/profile.md"
msg "results in $out"
if [ "$publish" = 1 ]; then
	dest=$here/reports/profile-$(date +%Y-%m-%d)-$workload.md
	cp "$out/profile.md" "$dest"
	msg "published $dest"
fi
