#!/usr/bin/env bash
# make demo (the README's main job): boot the release kernel, attach an
# ext2 image with stock losetup and print a short fio comparison.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

out=$BUILD/runs/demo-$(date +%Y%m%d-%H%M%S)
set +e
"$LOOPMAP_TOP/scripts/vm.sh" --kernel release --cpus 1 --mem 2G --timeout 900 --out "$out" \
	-- scripts/demo-guest.sh
rc=$?
set -e
cat "$out/output" 2>/dev/null || true
[ $rc -eq 0 ] || die "the demo failed (status $rc); kernel log in $out/console.log"
