# loopmap: top-level targets.  The scripts under scripts/ do the work and
# decide themselves what is out of date, so every target here is phony.
#
#   make check [T=filter]   build the test kernel, run the guest tests
#   make stress             crash tests of hole fills: extmap/replay with 30
#                           batches per host fs (TEST_REPLAY_BATCHES=N), then
#                           50 SIGKILL rounds per host fs on the release
#                           kernel (CRASH_ROUNDS=N)
#   make bench [QUICK=1]    build the release kernel, run tools/loopmap-bench
#                           (QUICK=1: the main job's short run, <= 5 min)
#   make demo               the same as make bench QUICK=1
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
KMAKE ?=
QUICK ?=

.PHONY: all check stress demo shell tree patches kernel kernel-release kernel-btrfs lint deps bench clean-runs

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

check: kernel
	scripts/check.sh $(T)

# CRASH_ROUNDS=N changes the number of rounds per host filesystem.
# The replay test with 30 batches takes 15-25 min per filesystem under TCG:
# the runner's and the guest's time limits are raised to 2 hours.
stress: kernel kernel-release
	TEST_REPLAY_BATCHES=$${TEST_REPLAY_BATCHES:-30} TEST_TIMEOUT=$${TEST_TIMEOUT:-7200} \
		CHECK_TIMEOUT=$${CHECK_TIMEOUT:-7200} CRASH_KERNEL=release \
		CRASH_ROUNDS=$${CRASH_ROUNDS:-50} CRASH_PARALLEL=$${CRASH_PARALLEL:-1} \
		scripts/check.sh extmap/replay host/crash

demo: kernel-release
	tools/loopmap-bench/bench.sh --quick

shell: kernel
	scripts/vm.sh --interactive --timeout 36000 -- \
		bash -c 'exec setsid -c bash -i </dev/ttyS0 >/dev/ttyS0 2>&1'

bench: kernel-release
	tools/loopmap-bench/bench.sh $(if $(filter-out 0,$(QUICK)),--quick)

lint:
	shellcheck -x scripts/*.sh tests/*.sh tests/*/*.sh tests/*/*/*.sh tools/loopmap-bench/*.sh .ci/run

clean-runs:
	rm -rf build/runs
