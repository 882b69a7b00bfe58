# shellcheck shell=bash
# TAP numbering and counting: the one implementation, sourced by the
# runner (tests/run.sh) and by scripts/check.sh when it merges runs.
#
#   tap_begin FILE        start a stream; lines are also appended to FILE
#   tap_ok DESC           "ok N - DESC"
#   tap_not_ok DESC       "not ok N - DESC"
#   tap_skip DESC REASON  "ok N - DESC # SKIP REASON"
#   tap_diag              stdin as "# " lines
#   tap_line LINE [PREFIX]
#                         one line of a test's or a run's output: result
#                         lines, numbered or not, are numbered again in
#                         this stream (PREFIX, e.g. "extmap/fill: ", goes
#                         before their description); "# " lines pass;
#                         plans and summaries are dropped; returns 1 for
#                         any other line
#   tap_end               the plan "1..N" and "N passed, N failed, N skipped"
#
# A skip is never a pass: it counts in TAP_SKIP only.
# shellcheck disable=SC2034 # the counters are read by the sourcing scripts

TAP_N=0 TAP_PASS=0 TAP_FAIL=0 TAP_SKIP=0 TAP_FILE=/dev/null

tap_begin() {
	TAP_FILE=$1
	TAP_N=0 TAP_PASS=0 TAP_FAIL=0 TAP_SKIP=0
	: >"$TAP_FILE"
}

# No tee: every process start costs 0.15-0.5 s in the test guest.
_tap_put() {
	printf '%s\n' "$1"
	printf '%s\n' "$1" >>"$TAP_FILE"
}

tap_ok() {
	TAP_N=$((TAP_N + 1)) TAP_PASS=$((TAP_PASS + 1))
	_tap_put "ok $TAP_N - $1"
}

tap_not_ok() {
	TAP_N=$((TAP_N + 1)) TAP_FAIL=$((TAP_FAIL + 1))
	_tap_put "not ok $TAP_N - $1"
}

tap_skip() {
	TAP_N=$((TAP_N + 1)) TAP_SKIP=$((TAP_SKIP + 1))
	_tap_put "ok $TAP_N - $1 # SKIP $2"
}

tap_diag() {
	local l
	while IFS= read -r l; do _tap_put "# $l"; done
}

tap_line() {
	local line=$1 prefix=${2:-} rest
	case $line in
	"ok "* | "not ok "*)
		rest=${line#not }
		rest=${rest#ok }
		# drop the number, if any
		if [[ $rest =~ ^[0-9]+\ (.*)$ ]]; then rest=${BASH_REMATCH[1]}; fi
		rest=${rest#- }
		if [[ $line == "not ok "* ]]; then
			tap_not_ok "$prefix$rest"
		elif [[ $rest =~ ^(.*)\ \#\ SKIP\ ?(.*)$ ]]; then
			tap_skip "$prefix${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
		else
			tap_ok "$prefix$rest"
		fi
		;;
	"#"*) _tap_put "$line" ;;
	"1.."* | [0-9]*" passed, "[0-9]*" failed"*) ;;
	*) return 1 ;;
	esac
}

tap_end() {
	_tap_put "1..$TAP_N"
	_tap_put "$TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped"
}
