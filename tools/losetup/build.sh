#!/usr/bin/env bash
# make losetup: Debian's util-linux source with tools/losetup/*.patch
# (losetup --list gains an EXTMAP column, from loop/extent_map in sysfs),
# built with util-linux's own autogen.sh, configure and make, losetup
# alone.
#
#   build.sh    fetch (apt-get source util-linux, adding a deb-src entry
#               for Debian's archive if apt has none), patch, build;
#               prints the path of the built losetup, build/bin/losetup
#
# Needs root for apt-get.  The source lands in build/util-linux/, which
# is rebuilt from scratch when the patches or this script change.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"
here=$LOOPMAP_TOP/tools/losetup
dir=$BUILD/util-linux
stamp=$dir/patches.sha256
sources=/etc/apt/sources.list.d/loopmap-deb-src.sources

# deb_src: make sure apt can fetch Debian source packages
deb_src() {
	if apt-get source --print-uris -qq util-linux >/dev/null 2>&1; then
		return 0
	fi
	msg "adding deb-src for Debian's archive: $sources"
	# shellcheck disable=SC1091 # the running system's release file
	. /etc/os-release
	cat >"$sources" <<EOS
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	apt-get update -qq
}

want=$(cat "$here"/*.patch "$here/build.sh" | sha256sum | cut -d' ' -f1)
src=
if [ -d "$dir" ]; then
	src=$(find "$dir" -maxdepth 1 -type d -name 'util-linux-*' | head -n 1)
fi
if [ -z "$src" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
	"$LOOPMAP_TOP/scripts/install-deps.sh" pkg-config dpkg-dev autoconf automake \
		libtool autopoint gettext
	deb_src
	rm -rf "$dir"
	mkdir -p "$dir"
	msg "apt-get source util-linux into $dir"
	# (as root, apt warns that its _apt user cannot write here: harmless)
	if ! (cd "$dir" && apt-get source -qq util-linux) >"$dir/source.log" 2>&1; then
		cat "$dir/source.log" >&2
		die "apt-get source util-linux failed"
	fi
	src=$(find "$dir" -maxdepth 1 -type d -name 'util-linux-*' | head -n 1)
	[ -n "$src" ] || die "apt-get source util-linux left no source tree in $dir"
	for p in "$here"/*.patch; do
		msg "applying ${p##*/}"
		patch -d "$src" -p1 -s <"$p"
	done
	# Debian's patches touch the autotools inputs: regenerate, as its
	# own build does (dh_autoreconf)
	msg "autogen.sh, configure (losetup only)"
	(cd "$src" && ./autogen.sh >/dev/null 2>&1 && ./configure -q --disable-all-programs --enable-losetup \
		--enable-libsmartcols --disable-shared --disable-nls --without-python \
		--without-systemd --without-udev --disable-bash-completion \
		--disable-asciidoc >/dev/null)
	echo "$want" >"$stamp"
fi
make -s -C "$src" -j"$(nproc)" losetup >/dev/null
mkdir -p "$BUILD/bin"
cp "$src/losetup" "$BUILD/bin/losetup"
msg "built $BUILD/bin/losetup ($(dpkg-parsechangelog -l "$src/debian/changelog" -S Version) + ${want:0:12})"
echo "$BUILD/bin/losetup"
