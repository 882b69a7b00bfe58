# shellcheck shell=bash
# What counts as a kernel report in a kernel log: sourced by tests/run.sh
# (a guest test's part of the guest's log; for a host test, the console
# logs of the guests it booted, after init).  "Call Trace:" catches every
# stack dump.
# shellcheck disable=SC2034 # used by the sourcing scripts
LOOPMAP_REPORT_RE='WARNING:|BUG:|Oops|general protection fault|Kernel panic|KASAN|kmemleak|lockdep|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|blocked for more than|soft lockup|hard LOCKUP|list_add corruption|list_del corruption|UBSAN|Call Trace:'
