#!/bin/bash
# DESCRIPTION: scripts/vm.sh brings back a guest's status, output and disk writes, and stops a hung or panicked guest
# GROUPS: quick auto
# WHERE: host
# KERNEL: test
# DURATION: 111
# TIMEOUT: 600
#
# Host side: scripts/vm.sh reports a guest's exit status, and a guest that
# hangs or panics ends the run with a failure instead of hanging it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/../../scripts/lib.sh"

runs=$BUILD/runs/host-vm-limits
vm() { "$LOOPMAP_TOP/scripts/vm.sh" --cpus 1 --mem 1G "$@"; }

status_case() {
	local rc=0 img=$BUILD/disks/host-vm-limits.img
	vm --timeout 300 --out "$runs/status" --fresh-disks --disk host-vm-limits:64M -- \
		sh -c 'echo guest-says-hello; echo on-the-disk | dd of=/dev/vda bs=4k conv=sync,fsync status=none; exit 7' ||
		rc=$?
	assert_eq "exit status" 7 "$rc"
	assert "output is brought back" grep -qx guest-says-hello "$runs/status/output"
	assert_eq "disk size" $((64 << 20)) "$(stat -c %s "$img")"
	assert_eq "what the guest wrote to /dev/vda is in the disk file" on-the-disk "$(head -n 1 "$img")"
	rm -f "$img"
}
run_case "vm.sh: the guest's status, output and disk writes reach the host" status_case

hang_case() {
	local rc=0 start
	start=$(date +%s)
	vm --timeout 60 --out "$runs/hang" -- sleep 100000 || rc=$?
	assert_eq "exit status of a guest past its time limit" 124 "$rc"
	assert "stopped within the limit" [ $(($(date +%s) - start)) -lt 90 ]
}
run_case "vm.sh: a hung guest is stopped at its time limit (124)" hang_case

panic_case() {
	local rc=0
	# the panic is on purpose: its console log is not for the runner's scan
	LOOPMAP_CONSOLES='' vm --timeout 300 --out "$runs/panic" -- sh -c 'echo c >/proc/sysrq-trigger; sleep 100000' || rc=$?
	assert_eq "exit status of a panicked guest" 125 "$rc"
	assert "the panic is in the console log" grep -q 'Kernel panic' "$runs/panic/console.log"
}
run_case "vm.sh: a panicking guest ends the run at once (125)" panic_case
