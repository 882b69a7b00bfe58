#!/bin/bash
# DESCRIPTION: the KUnit suites built into the test kernel, one TAP line per case
# GROUPS: quick auto
# WHERE: guest
# KERNEL: test
# DURATION: 17
# TIMEOUT: 300
#
# KUnit suites built into the test kernel, run again from here so that the
# runner's kernel-log scan covers them: one TAP line per test case.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"

kunit=/sys/kernel/debug/kunit
if [ ! -d "$kunit" ]; then
	echo "not ok - the test kernel has KUnit with debugfs (CONFIG_KUNIT_DEBUGFS)"
	exit 0
fi
suites=$(find "$kunit" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort)
if [ -z "$suites" ]; then
	echo "not ok - the test kernel has KUnit suites built in"
	exit 0
fi
for s in $suites; do
	echo run >"$kunit/$s/run"
	# Case results are the lines indented once: "    ok 3 name".
	awk -v suite="$s" '
		/^    (not )?ok [0-9]+ / {
			status = ($2 == "not") ? "not ok" : "ok"
			sub(/^    (not )?ok [0-9]+ /, "")
			printf "%s - %s: %s\n", status, suite, $0
			n++
		}
		END { if (n == 0) printf "not ok - %s: no case results\n", suite }
	' "$kunit/$s/results"
done
