#!/usr/bin/env bash
# make bench [QUICK=1]: boot the release kernel, run guest.sh (the same
# fio workloads on the raw device, dm-linear, fio on the image file,
# classic loop buffered and --direct-io=on, and loopmap, interleaved and
# repeated), then aggregate: build/runs/bench-*/ gets fio's JSON, the
# Markdown report with its ratio tables and targets, and a PNG plot.
#
#   bench.sh [--quick] [--publish] [--rounds N] [--runtime S] [--kernel KIND]
#            [--run "VCPUS|FILESYSTEMS|WORKLOADS|SETUP_REPS"]... [--no-warmup]
#     --quick     the main job's short run (at most 5 minutes): 1 vCPU,
#                 ext4, four workloads and the hole first-writes
#     (default)   the full run (at most 20 minutes): 1 vCPU on ext2,
#                 ext3-format and ext4, then 2 vCPUs on ext4; six workloads
#                 (plus 4k random reads by two jobs at 2 vCPUs) and the
#                 hole first-writes
#     --publish   also copy the report and plot to
#                 tools/loopmap-bench/reports/DATE.{md,png}
#     --kernel K  boot build/obj-K (default release); stock is the pristine
#                 6.12 tree (scripts/build-kernel.sh stock), which has
#                 classic loop only
#     --run SPEC  instead of the quick or full run's guests, one guest per
#                 --run: e.g. --run "2|ext4|randwrite-4k-qd1|1"; every run
#                 also does the hole first-writes
#     --no-warmup no sequential read of the devices before the first round
#                 (guest.sh): loopmap starts with no cached map, as for a
#                 write-only workload on an image never read through it
# QUICK=1 in the environment is the same as --quick.  BENCH_APPEND adds
# to the guests' kernel command line (tools/loopmap-bench/lib.sh).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
here=$LOOPMAP_TOP/tools/loopmap-bench
# shellcheck source=tools/loopmap-bench/lib.sh
. "$here/lib.sh"

quick=${QUICK:-0} publish=0 rounds=3 runtime=1 kind=release
own_runs=() guest_opts=()
[ "$quick" = 0 ] || quick=1
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	--publish) publish=1; shift ;;
	--rounds) rounds=$2; shift 2 ;;
	--runtime) runtime=$2; shift 2 ;;
	--kernel) kind=$2; shift 2 ;;
	--run) own_runs+=("$2"); shift 2 ;;
	--no-warmup) guest_opts+=(--no-warmup); shift ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done

all="randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 randwrite-4k-qd32 read-1m write-1m"
# Guest runs, one after the other:
# "vCPUs|host filesystems|workloads|repeats of the setup-time measurement".
if [ "$quick" = 1 ]; then
	runs=("1|ext4|randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 read-1m|3")
	tmo=420
	tag=bench-quick
else
	# two fio jobs at 2 vCPUs: scaling
	runs=("1|ext2 ext3 ext4|$all|3" "2|ext4|$all randread-4k-qd1-2jobs|1")
	tmo=900
	tag=bench
fi
if [ ${#own_runs[@]} -gt 0 ]; then
	runs=("${own_runs[@]}")
	tag=bench-own
fi

out=$BUILD/runs/$tag-$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
# Which kernel: the bzImage's build time and the series it was built from
# may differ from the repository's HEAD (the kernel is built separately).
kernel=$BUILD/obj-$kind/arch/x86/boot/bzImage
{
	echo "kind=$kind"
	echo "bzimage_mtime=$(date -u -r "$kernel" '+%Y-%m-%d %H:%M:%S UTC')"
	echo "head=$(git -C "$LOOPMAP_TOP" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo unknown)"
	echo "patches=$(git -C "$LOOPMAP_TOP" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' -- patches 2>/dev/null || echo unknown)"
} >"$out/host-info"
start=$SECONDS
for r in "${runs[@]}"; do
	IFS='|' read -r cpus fs wls setup_reps <<<"$r"
	msg "guest with $cpus vCPU: $fs; $wls; $rounds rounds of ${runtime}s jobs"
	bench_guest "$out" "$cpus" "$kind" "$tmo" tools/loopmap-bench/guest.sh --fs "$fs" \
		--workloads "$wls" --holes hole-4k-qd1 --rounds "$rounds" --runtime "$runtime" \
		--setup-reps "$setup_reps" ${guest_opts[@]+"${guest_opts[@]}"}
done
python3 "$here/report.py" "$out"
gnuplot -e "dat='$out/plot.dat'; titles='$(cat "$out/plot.titles")'; out='$out/plot.png'" \
	"$here/plot.gp"
elapsed=$((SECONDS - start))
printf '\nWall time of the guest runs and the report: %dm%02ds\n' $((elapsed / 60)) $((elapsed % 60)) \
	>>"$out/report.md"
ln -sfn "$(basename "$out")" "$BUILD/runs/last-bench"
sed -n '/^## Targets/,/^## First writes/p' "$out/report.md" | sed '$d'
msg "results in $out (report.md, plot.png, results.csv, cpu*/json)"
msg "wall time ${elapsed}s"
if [ "$publish" = 1 ]; then
	day=$(date +%Y-%m-%d)
	mkdir -p "$here/reports"
	{
		cat "$out/report.md"
		printf '\n![ratios to the raw device](%s.png)\n' "$day"
	} >"$here/reports/$day.md"
	cp "$out/plot.png" "$here/reports/$day.png"
	msg "published $here/reports/$day.md and $day.png"
fi
