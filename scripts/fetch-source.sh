#!/usr/bin/env bash
# Fetch the pinned linux-source-6.12 package into build/dl (once).
# Prints the path of the .deb.  Falls back to the newest 6.12 the
# archive offers when the pinned version is gone, and says so.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

dl=$BUILD/dl
mkdir -p "$dl"

pick_version() {
	local avail
	avail=$(apt-cache madison "$SRC_PKG" 2>/dev/null | awk '{print $3}')
	if [ -z "$avail" ]; then
		msg "apt knows no $SRC_PKG; running apt-get update"
		apt-get update -qq >&2 || true
		avail=$(apt-cache madison "$SRC_PKG" 2>/dev/null | awk '{print $3}')
	fi
	[ -n "$avail" ] || die "no $SRC_PKG in the configured Debian archive"
	if grep -qxF "$SRC_PIN" <<<"$avail"; then
		echo "$SRC_PIN"
		return
	fi
	local newest
	newest=$(sort -V <<<"$avail" | tail -n 1)
	msg "WARNING: pinned $SRC_PKG $SRC_PIN is gone from the archive;"
	msg "WARNING: falling back to the newest one, $newest. Update SRC_PIN in scripts/lib.sh"
	msg "WARNING: and check that patches/ still applies."
	echo "$newest"
}

# A cached .deb of the pinned version needs no network at all.
deb=$(find "$dl" -maxdepth 1 -name "${SRC_PKG}_${SRC_PIN//\~/?}_all.deb" | head -n 1)
if [ -z "$deb" ]; then
	ver=$(pick_version)
	deb=$(find "$dl" -maxdepth 1 -name "${SRC_PKG}_${ver//\~/?}_all.deb" | head -n 1)
	if [ -z "$deb" ]; then
		msg "downloading $SRC_PKG=$ver"
		(cd "$dl" && apt-get download -q "$SRC_PKG=$ver" >&2) ||
			die "apt-get download $SRC_PKG=$ver failed"
		deb=$(find "$dl" -maxdepth 1 -name "${SRC_PKG}_${ver//\~/?}_all.deb" | head -n 1)
	fi
fi
[ -f "$deb" ] || die "no .deb found in $dl"
ver=$(dpkg-deb -f "$deb" Version)

echo "$deb"
