#!/usr/bin/env bash
# make patches: regenerate patches/ (git format-patch) and patches/series
# from the commits on top of the pristine tag in build/linux.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ -d "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
g() { git -C "$TREE" "$@"; }
if [ -n "$(g status --porcelain --untracked-files=no)" ]; then
	die "build/linux has uncommitted changes: commit them first"
fi

pdir=$LOOPMAP_TOP/patches
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g format-patch -q --zero-commit --no-signature --abbrev=12 -o "$tmp" "$PRISTINE_TAG..HEAD"
rm -f "$pdir"/*.patch
mkdir -p "$pdir"
: >"$pdir/series"
for f in "$tmp"/*.patch; do
	[ -e "$f" ] || continue
	cp "$f" "$pdir/"
	basename "$f" >>"$pdir/series"
done
# Record what is applied, so that 'make tree' knows the tree is current.
"$LOOPMAP_TOP/scripts/tree.sh" --stamp-only
msg "patches/: $(wc -l <"$pdir/series") patches"
