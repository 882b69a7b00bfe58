#!/bin/bash
# The main job's guest side is now tools/loopmap-bench/guest.sh; this
# runs it with the short run's settings (see tools/loopmap-bench/bench.sh):
#   scripts/vm.sh --kernel release --cpus 1 --mem 6G -- scripts/demo-guest.sh
set -euo pipefail
exec "$(dirname "$0")/../tools/loopmap-bench/guest.sh" --fs ext4 \
	--workloads "randread-4k-qd1 randread-4k-qd32 randwrite-4k-qd1 read-1m" \
	--holes hole-4k-qd1 --rounds 3 --runtime 1 "$@"
