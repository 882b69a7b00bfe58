# shellcheck shell=bash
# Common settings for the host-side scripts.  Sourced, never executed.
# shellcheck disable=SC2034 # the variables are used by the sourcing scripts

LOOPMAP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$LOOPMAP_TOP/build}
# The Debian package that carries the kernel source, and the pinned version.
SRC_PKG=linux-source-6.12
SRC_PIN=${SRC_PIN:-6.12.117-1~deb12u1}
TREE=${TREE:-$BUILD/linux}
PRISTINE_TAG=pristine

msg() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { msg "error: $*"; exit 1; }
