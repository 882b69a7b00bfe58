# loopmap: top-level targets.  The scripts under scripts/ do the work and
# decide themselves what is out of date, so every target here is phony.
#
#   make check [G=group] [T="filter..."]
#                           build the test kernel, run the tests (default:
#                           group auto, what CI runs; G=quick, G=stress;
#                           T=extmap/fill, T=baseline, T='extmap/f*')
#   make quick              make check G=quick (a few minutes)
#   make stress             make check G=stress: the long forms (also
#                           builds the release kernel the crash test boots)
#   make bench [QUICK=1]    build the release kernel, run tools/loopmap-bench
#                           (QUICK=1: the main job's short run, <= 5 min)
#   make demo               the same as make bench QUICK=1
#   make profile [W=workload]
#                           perf profile of one workload (default
#                           randread-4k-qd1) on raw, dm-linear, the image
#                           file and loopmap: CPU µs per I/O by symbol
#   make scale              attach and detach 1,000 loop devices, loopmap
#                           and classic: wall time, kernel memory per device
#   make losetup            build/bin/losetup: Debian's util-linux with
#                           tools/losetup/*.patch (an EXTMAP column), then
#                           check it on this machine's kernel and the
#                           test kernel
#   make new-test ID=suite/name [WHERE=guest|host]
#                           a commented skeleton for a new test
#   make tree               build/linux: pristine 6.12 + patches/series
#   make patches            export build/linux's commits to patches/
#   make kernel             test kernel (debug options) in build/obj-test
#   make kernel-release     release kernel in build/obj-release
#   make kernel-btrfs       link check: fsext and btrfs in one kernel (obj-btrfs)
#   make shell              boot the test kernel with a shell on this terminal
#   make lint               shellcheck every script
#   make deps               install missing Debian packages (root)
#
# KMAKE passes extra kbuild arguments, e.g. make kernel KMAKE="C=1 W=1".

T ?=
G ?=
KMAKE ?=
QUICK ?=
W ?= randread-4k-qd1

.PHONY: all check quick stress new-test demo shell tree patches kernel kernel-release kernel-btrfs lint deps bench profile scale losetup deb qemu-bench clean-runs

all: check

deps:
	scripts/install-deps.sh

tree: deps
	scripts/tree.sh

patches:
	scripts/export-patches.sh

kernel: tree
	scripts/build-kernel.sh test $(KMAKE)

kernel-release: tree
	scripts/build-kernel.sh release $(KMAKE)

kernel-btrfs: tree
	scripts/build-kernel.sh btrfs $(KMAKE)

check: kernel $(if $(filter stress,$(G)),kernel-release)
	GROUP=$(G) scripts/check.sh $(T)

quick: kernel
	GROUP=quick scripts/check.sh $(T)

stress: kernel kernel-release
	GROUP=stress scripts/check.sh $(T)

new-test:
	scripts/new-test $(ID) $(WHERE)

demo: kernel-release
	tools/loopmap-bench/bench.sh --quick

shell: kernel
	scripts/vm.sh --interactive --timeout 36000 -- \
		bash -c 'exec setsid -c bash -i </dev/ttyS0 >/dev/ttyS0 2>&1'

bench: kernel-release
	tools/loopmap-bench/bench.sh $(if $(filter-out 0,$(QUICK)),--quick)

profile: kernel-release
	tools/loopmap-bench/profile.sh --workload $(W)

scale: kernel-release
	tools/loopmap-bench/scale.sh

qemu-bench: kernel-release
	tools/loopmap-bench/qemu.sh

deb: tree
	scripts/build-deb.sh

losetup: kernel
	tools/losetup/build.sh
	tools/losetup/check.sh

lint:
	shellcheck -x scripts/*.sh scripts/new-test tests/*.sh tests/*/*.sh tests/*/*/*.sh \
		tests/*/*/*/*.sh tools/loopmap-bench/*.sh tools/losetup/*.sh .ci/run

clean-runs:
	rm -rf build/runs
