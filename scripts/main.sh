#!/usr/bin/env bash
# The main job, for a fresh Debian 12 machine (as root): install what is
# missing, fetch and patch the 6.12 source, build the release kernel,
# boot it and run the benchmark's short run (make bench QUICK=1,
# tools/loopmap-bench): fio on loopmap against the raw device, dm-linear
# and classic loop, interleaved and repeated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make bench QUICK=1
