#!/usr/bin/env bash
# The main job, for a fresh Debian 12 machine (as root): install what is
# missing, fetch and patch the 6.12 source, build the release kernel,
# boot it and print the fio comparison of scripts/demo-guest.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make demo
