# shellcheck shell=bash
# What a test says about itself, and which tests a run selects.  Sourced
# by tests/run.sh, scripts/check.sh and scripts/new-test.
#
# A test is an executable tests/SUITE/NAME.sh (its ID is SUITE/NAME) whose
# first comment block holds header lines:
#
#   # DESCRIPTION: one line: what the test proves
#   # GROUPS: quick auto stress      (one or more)
#   # WHERE: guest|host              (host tests boot guests of their own)
#   # KERNEL: test|release           (the kernel it boots or runs in)
#   # DURATION: 120                  (seconds its auto form takes, test
#                                      kernel, 1 vCPU: the scheduler's
#                                      weight until a run has timed it)
#   # TIMEOUT: 1500 stress=7200      (optional: its time limit, seconds;
#                                      stress=N: the stress group's)
#   # REQUIRES: cmd:fio path:/dev/ram1   (optional: what it needs; when
#                                      one is missing it is skipped)
#   # TEST_KNOB: what the knob does  (every variable it reads)
#
# Groups: quick (a few minutes: the harness and a short form of the core
# tests), auto (what make check and CI run: a short form of every test),
# stress (the long forms).  A test reads $TEST_GROUP (tests/lib/case.sh:
# by_group) to size itself.


# ti_field FILE FIELD: the value of header line "# FIELD:" (empty if none)
ti_field() {
	awk -v f="# $2:" '
		NR == 1 && /^#!/ { next }
		!/^#/ { exit }
		index($0, f) == 1 { sub(/^# [A-Z_]+: */, ""); print; exit }' "$1"
}

# ti_tests DIR: the IDs of every test under DIR (files with a WHERE line)
ti_tests() {
	local dir=$1 t id
	for t in "$dir"/*/*.sh; do
		[ -x "$t" ] || continue
		id=${t#"$dir"/}
		id=${id%.sh}
		[ -n "$(ti_field "$t" WHERE)" ] || continue
		echo "$id"
	done
}

# ti_match ID FILTER: ID is FILTER, lies under suite FILTER, or matches
# the glob FILTER ("extmap/f*")
ti_match() {
	# shellcheck disable=SC2053 # the filter is a glob on purpose
	[ "$1" = "$2" ] || [[ $1 == "$2"/* ]] || [[ $1 == $2 ]]
}

# ti_in_group FILE GROUP
ti_in_group() {
	local g
	for g in $(ti_field "$1" GROUPS); do
		[ "$g" = "$2" ] && return 0
	done
	return 1
}

# ti_select DIR GROUP [FILTER...]: the tests under DIR in GROUP (any group
# when GROUP is empty) that match one of the FILTERs (all when none), in
# the order of the FILTERs, each once
ti_select() {
	local dir=$1 group=$2 id f
	local -a all
	local -A seen=()
	shift 2
	mapfile -t all < <(ti_tests "$dir")
	[ $# -gt 0 ] || set -- '*'
	for f in "$@"; do
		for id in "${all[@]}"; do
			[ -z "${seen[$id]:-}" ] || continue
			ti_match "$id" "$f" || continue
			if [ -n "$group" ] && ! ti_in_group "$dir/$id.sh" "$group"; then continue; fi
			seen[$id]=1
			echo "$id"
		done
	done
	return 0
}

# ti_missing FILE: the first requirement of FILE that is not met, as a
# reason for a skip; nothing when all are met
ti_missing() {
	local r
	for r in $(ti_field "$1" REQUIRES); do
		case $r in
		cmd:*) command -v "${r#cmd:}" >/dev/null 2>&1 || { echo "needs ${r#cmd:}"; return; } ;;
		path:*) [ -e "${r#path:}" ] || { echo "needs ${r#path:}"; return; } ;;
		*) echo "unknown requirement $r"; return ;;
		esac
	done
}
