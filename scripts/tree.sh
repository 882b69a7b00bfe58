#!/usr/bin/env bash
# make tree: build/linux becomes a git repository holding the pristine
# Debian 6.12 source (one commit, tag "pristine") with patches/series
# applied on top by git am, on branch "loopmap".
#
# Nothing is redone when the series has not changed since the last
# apply or export.  Commits in build/linux that were never exported are
# never thrown away: the script stops and says so (FORCE=1 overrides).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

pdir=$LOOPMAP_TOP/patches
stamp=$TREE/.git/loopmap-applied

series_hash() {
	local p
	{
		cat "$pdir/series" 2>/dev/null || true
		while read -r p; do
			case $p in '' | '#'*) continue ;; esac
			cat "$pdir/$p"
		done < <(cat "$pdir/series" 2>/dev/null || true)
	} | sha256sum | cut -d' ' -f1
}

g() { git -C "$TREE" "$@"; }

if [ ! -d "$TREE/.git" ]; then
	deb=$("$LOOPMAP_TOP/scripts/fetch-source.sh")
	ver=$(dpkg-deb -f "$deb" Version)
	tmp=$TREE.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	msg "extracting $SRC_PKG $ver"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$tmp" --strip-components=1
	msg "committing the pristine source (tag $PRISTINE_TAG)"
	git -C "$tmp" init -q -b loopmap
	git -C "$tmp" config gc.auto 0
	git -C "$tmp" add -A -f
	# Only the pristine commit has this identity; the developers' own
	# commits in build/linux use their git identity.
	GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
		GIT_AUTHOR_NAME="loopmap tree" GIT_AUTHOR_EMAIL="loopmap@localhost" \
		GIT_COMMITTER_NAME="loopmap tree" GIT_COMMITTER_EMAIL="loopmap@localhost" \
		git -C "$tmp" commit -q -m "Linux $ver (Debian $SRC_PKG, pristine)"
	git -C "$tmp" tag "$PRISTINE_TAG"
	mv "$tmp" "$TREE"
fi

want=$(series_hash)
head=$(g rev-parse HEAD)
base=$(g rev-parse "$PRISTINE_TAG^{commit}")
have_hash='' have_head=''
if [ "${1:-}" = --stamp-only ]; then
	echo "$want $head" >"$stamp"
	exit 0
fi
if [ -f "$stamp" ]; then
	read -r have_hash have_head <"$stamp"
fi

if [ "$want" = "$have_hash" ] && [ "${FORCE:-0}" != 1 ] &&
	g merge-base --is-ancestor "$have_head" HEAD 2>/dev/null; then
	msg "build/linux is up to date with patches/ ($(g rev-list --count "$base..HEAD") commits on $PRISTINE_TAG)"
	exit 0
fi

if [ "${FORCE:-0}" != 1 ]; then
	if [ -n "$(g status --porcelain --untracked-files=no)" ]; then
		die "build/linux has uncommitted changes; commit and 'make patches', or FORCE=1 to discard"
	fi
	if [ "$head" != "$base" ] && [ "$head" != "$have_head" ]; then
		die "build/linux has commits that are not in patches/; run 'make patches' first, or FORCE=1 to discard them"
	fi
fi

msg "applying patches/series to build/linux"
# git am needs a committer; fall back to the tree's own identity.
if ! g config user.name >/dev/null || ! g config user.email >/dev/null; then
	export GIT_COMMITTER_NAME="loopmap tree" GIT_COMMITTER_EMAIL="loopmap@localhost"
fi
g am --abort >/dev/null 2>&1 || true
g checkout -q -B loopmap
g reset -q --hard "$PRISTINE_TAG"
n=0
while read -r p; do
	case $p in '' | '#'*) continue ;; esac
	if ! g am -q --keep-cr "$pdir/$p"; then
		g am --abort || true
		die "patch $p does not apply"
	fi
	n=$((n + 1))
done < <(cat "$pdir/series" 2>/dev/null || true)
echo "$want $(g rev-parse HEAD)" >"$stamp"
msg "build/linux: $n patches applied on $PRISTINE_TAG"
