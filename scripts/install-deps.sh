#!/usr/bin/env bash
# Install, with apt-get, the Debian packages that building, booting and
# testing need, and those named as arguments (a tool's own, e.g.
# tools/losetup/build.sh); does nothing when they are all there.
set -euo pipefail

pkgs=(
	# kernel build
	make gcc libc6-dev flex bison bc libelf-dev libssl-dev cpio kmod xz-utils git ccache sparse
	# guest and tests (the guest uses the host's userspace over 9p)
	qemu-system-x86 qemu-utils fio util-linux e2fsprogs dmsetup parted coreutils diffutils procps python3
	# benchmark (tools/loopmap-bench): setup times, plot
	strace gnuplot-nox
	# lint
	shellcheck
	"$@"
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "install-deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
