#!/usr/bin/env bash
# make demo: the README's main job, now the benchmark's short run
# (tools/loopmap-bench/bench.sh --quick, the same as make bench QUICK=1).
set -euo pipefail
exec "$(dirname "$0")/../tools/loopmap-bench/bench.sh" --quick "$@"
