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


# ti_get VAR FILE FIELD: the value of FILE's header line "# FIELD:" into
# VAR (empty if none).  Read by the shell itself, with no process: the
# runner asks several times per test, and in the test guest every
# process start (and every $(...) fork) costs 0.15-0.5 s.
ti_get() {
	local _ti_l _ti_n=0
	printf -v "$1" %s ""
	while IFS= read -r _ti_l; do
		_ti_n=$((_ti_n + 1))
		[ $_ti_n = 1 ] && [[ $_ti_l == '#!'* ]] && continue
		[[ $_ti_l == '#'* ]] || break
		if [[ $_ti_l == "# $3:"* ]]; then
			_ti_l=${_ti_l#"# $3:"}
			printf -v "$1" %s "${_ti_l#"${_ti_l%%[! ]*}"}"
			return 0
		fi
	done <"$2"
}

# ti_field FILE FIELD: ti_get's value on stdout (nothing if none)
ti_field() {
	local v
	ti_get v "$1" "$2"
	[ -z "$v" ] || printf '%s\n' "$v"
}

# ti_tests DIR: the IDs of every test under DIR (files with a WHERE line)
ti_tests() {
	local dir=$1 t id where
	for t in "$dir"/*/*.sh; do
		[ -x "$t" ] || continue
		id=${t#"$dir"/}
		id=${id%.sh}
		ti_get where "$t" WHERE
		[ -n "$where" ] || continue
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
	local g groups
	ti_get groups "$1" GROUPS
	for g in $groups; do
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

# ti_unmet VAR FILE: the first requirement of FILE that is not met, as a
# reason for a skip, into VAR; empty when all are met
ti_unmet() {
	local _ti_r _ti_req
	printf -v "$1" %s ""
	ti_get _ti_req "$2" REQUIRES
	for _ti_r in $_ti_req; do
		case $_ti_r in
		cmd:*) command -v "${_ti_r#cmd:}" >/dev/null 2>&1 && continue
			printf -v "$1" %s "needs ${_ti_r#cmd:}" ;;
		path:*) [ -e "${_ti_r#path:}" ] && continue
			printf -v "$1" %s "needs ${_ti_r#path:}" ;;
		*) printf -v "$1" %s "unknown requirement $_ti_r" ;;
		esac
		return 0
	done
}
