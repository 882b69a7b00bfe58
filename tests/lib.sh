# shellcheck shell=bash
# Helpers for tests.  Sourced by tests/SUITE/NAME.sh; the one file tests
# source.  Three layers, each on top of the ones before it:
#   tests/lib/case.sh    the case framework: run_case, asserts, $SCRATCH,
#                        by_group (sizes by $TEST_GROUP), skip_test;
#                        sets errexit, nounset and pipefail
#   tests/lib/hostfs.sh  host filesystems: $HOST on $HOSTDEV, one case per
#                        filesystem (for_each_hostfs), the stale-data marker
#   tests/lib/loop.sh    loop devices: attach, detach, extent-map state,
#                        file round trips through an upper filesystem
# shellcheck source=tests/lib/case.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/case.sh"
# shellcheck source=tests/lib/hostfs.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/hostfs.sh"
# shellcheck source=tests/lib/loop.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/loop.sh"
