#!/usr/bin/env bash
# make kernel / make kernel-release: build bzImage of build/linux into an
# out-of-tree object directory, build/obj-test or build/obj-release.
#
#   build-kernel.sh test|release|btrfs|stock [extra kbuild arguments, e.g. C=1 W=1]
#
# stock: the release configuration built from the pristine tree (a git
# worktree of build/linux at the pristine tag, build/stock-tree), the
# baseline of classic loop without the series.
#
# The .config is tinyconfig plus the fragments of configs/, regenerated
# only when a fragment changes; compilation goes through ccache, so a
# rebuild compiles only what changed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

kind=${1:?usage: build-kernel.sh test|release|btrfs|stock [kbuild args]}
shift
case $kind in
test) frags="base loopmap debug" ;;
release) frags="base loopmap release" ;;
btrfs) frags="base loopmap btrfs" ;;
stock) frags="base loopmap release" ;;
*) die "unknown kernel kind '$kind' (test, release, btrfs or stock)" ;;
esac
[ -e "$TREE/.git" ] || die "no build/linux; run 'make tree' first"
if [ "$kind" = stock ]; then
	stock=$BUILD/stock-tree
	if [ ! -e "$stock/.git" ]; then
		msg "checking out the pristine tree in $stock"
		git -C "$TREE" worktree add -q --detach "$stock" "$PRISTINE_TAG"
	fi
	TREE=$stock
fi

obj=$BUILD/obj-$kind
mkdir -p "$obj"
export CCACHE_DIR=${CCACHE_DIR:-$BUILD/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-4G}
# A fixed build stamp keeps init/version.c and friends cacheable.
export KBUILD_BUILD_TIMESTAMP="loopmap"
export KBUILD_BUILD_USER=loopmap KBUILD_BUILD_HOST=loopmap
jobs=$(($(nproc) + 1))
kmake() { make -s -C "$TREE" O="$obj" ARCH=x86_64 CC="ccache gcc" HOSTCC="ccache gcc" -j"$jobs" "$@"; }

files=()
for f in $frags; do files+=("$LOOPMAP_TOP/configs/$f.config"); done
want=$(cat "${files[@]}" | sha256sum | cut -d' ' -f1)

# missing_options: the options a fragment asks for that $obj/.config lacks.
# Every one must have taken: a silent dependency failure would leave a
# test without what it relies on.
missing_options() {
	awk '
		FNR == NR { have[$0] = 1; next }
		/^CONFIG_[A-Za-z0-9_]+=/ { if (!($0 in have)) print; next }
		/^# CONFIG_[A-Za-z0-9_]+ is not set/ {
			split($2, a, "="); opt = a[1]
			for (h in have) if (index(h, opt "=") == 1 && h !~ /=n$/) { print; break }
		}' "$obj/.config" "${files[@]}"
}

# Regenerate when a fragment changed, and also when an option went
# missing since: building an older commit of the tree, whose Kconfig
# lacks an option, makes kbuild drop it from .config for good.
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.loopmap-config" 2>/dev/null)" != "$want" ] ||
	[ -n "$(missing_options)" ]; then
	msg "configuring $obj: tinyconfig + ${frags// /, }"
	rm -f "$obj/.loopmap-config"
	kmake tinyconfig >/dev/null
	"$TREE/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${files[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	bad=$(missing_options)
	if [ -n "$bad" ]; then
		printf '%s\n' "$bad" >&2
		# A commit older than an option's Kconfig entry (git rebase -x
		# of the series) cannot have it: LOOPMAP_ALLOW_MISSING=1 builds
		# it anyway, and the next build configures again.
		[ "${LOOPMAP_ALLOW_MISSING:-0}" = 1 ] ||
			die "the options above from configs/ did not take in $obj/.config"
		msg "building without them (LOOPMAP_ALLOW_MISSING=1)"
	else
		echo "$want" >"$obj/.loopmap-config"
	fi
fi

start=$(date +%s)
kmake bzImage "$@"
msg "$kind kernel: $obj/arch/x86/boot/bzImage ($(($(date +%s) - start)) s)"
