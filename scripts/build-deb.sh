#!/usr/bin/env bash
# make deb: Debian packages (kbuild's bindeb-pkg) of build/linux, the
# series applied, configured for real virtual machines: x86_64_defconfig
# + kernel/configs/kvm_guest.config + configs/loopmap.config +
# configs/deb.config (release -loopmap).  Not part of make check: it
# builds a full defconfig kernel (54 minutes here, cold, at nice 19 beside
# other work).
#
#   build-deb.sh [extra kbuild arguments]
#
# The packages land in build/deb/ (linux-image-*, linux-headers-*,
# linux-libc-dev_*); the object directory is build/deb/obj.  Installing
# them on a Debian 12 VM: README.md, "An installable kernel".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ -e "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
# dpkg-buildpackage, and debhelper: bindeb-pkg checks the build
# dependencies and debian/rules runs dh_* tools
"$LOOPMAP_TOP/scripts/install-deps.sh" dpkg-dev debhelper rsync

dest=$BUILD/deb
obj=$dest/obj
mkdir -p "$obj"
export CCACHE_DIR=${CCACHE_DIR:-$BUILD/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
export KBUILD_BUILD_USER=loopmap KBUILD_BUILD_HOST=loopmap
# set, even empty, it keeps setlocalversion from adding "+" (the tree is
# not at an upstream release tag): the release is 6.12.N-loopmap
export LOCALVERSION=
jobs=$(($(nproc) + 1))
kmake() { make -s -C "$TREE" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" -j"$jobs" "$@"; }

files=("$TREE/kernel/configs/kvm_guest.config" "$LOOPMAP_TOP/configs/loopmap.config"
	"$LOOPMAP_TOP/configs/deb.config")
want=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.loopmap-config" 2>/dev/null)" != "$want" ]; then
	msg "configuring $obj: x86_64_defconfig + kvm_guest, loopmap, deb"
	rm -f "$obj/.loopmap-config"
	kmake x86_64_defconfig >/dev/null
	"$TREE/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${files[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	echo "$want" >"$obj/.loopmap-config"
fi
# What loopmap needs must have taken (a failed dependency is silent).
for opt in CONFIG_FS_EXTENT_MAP=y CONFIG_BLK_DEV_LOOP=y CONFIG_EXT2_FS=y CONFIG_EXT4_FS=y \
	CONFIG_BLK_DEV_DM=y CONFIG_VIRTIO_BLK=y 'CONFIG_LOCALVERSION="-loopmap"'; do
	grep -qx "$opt" "$obj/.config" || die "$obj/.config lacks $opt"
done

rm -f "$dest"/*.deb "$dest"/*.buildinfo "$dest"/*.changes
start=$(date +%s)
kmake bindeb-pkg "$@"
msg "built in $(($(date +%s) - start)) s: $(kmake -s kernelrelease)"
for deb in "$dest"/*.deb; do
	echo "== $deb"
	dpkg-deb -I "$deb"
done
