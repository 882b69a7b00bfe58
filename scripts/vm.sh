#!/usr/bin/env bash
# Boot a built kernel in QEMU and run one command in the guest.
#
#   vm.sh [options] -- command [args...]
#     --kernel test|release   which object directory (default: test)
#     --cpus N                vCPUs (default 2)
#     --mem SIZE              guest memory (default 3G)
#     --timeout SECONDS       hard limit for the whole guest run (default 1800)
#     --disk NAME:SIZE        extra virtio-blk disk backed by the sparse file
#                             build/disks/NAME.img (created if missing);
#                             repeatable, guest sees /dev/vda, /dev/vdb, ...
#     --fresh-disks           recreate the disk files first
#     --drive SPEC            extra QEMU -drive SPEC as given (a block device,
#                             say); repeatable, after the --disk ones
#     --root-disk IMAGE       boot from IMAGE (read-only, raw, ext2; /dev/vda,
#                             before the other disks) with its /init as
#                             init, instead of the host's root over 9p:
#                             /init runs the job as guest-init.sh does,
#                             without the cd (tests/extmap/vm-image/init.sh)
#     --append "ARGS"         extra kernel command line
#     --out DIR               results directory (default: a new build/runs/*)
#     --interactive           serial console on this terminal (make shell)
#
# The guest's root is the host's / shared read-only over virtio-9p, so the
# command runs with the host's Debian tools; it starts in the repository's
# top directory with a tmpfs /tmp and $LOOPMAP_OUT, a writable 9p share
# for results.  Host variables named TEST_* (the tests' knobs, such as
# TEST_TIMEOUT) are exported to it.  Its standard output and error go to
# $out/output, its exit status to $out/status.  The kernel log is in
# $out/console.log.
#
# QEMU's process id is in $out/qemu.pid while it runs: stop a guest with
# kill "$(cat "$out/qemu.pid")", never by pattern.  When LOOPMAP_CONSOLES
# names a file, the path of the console log is appended to it, so that
# the test runner scans the kernel log of every guest a host test boots.
#
# vm.sh exits with the command's status; 124 when the guest hit the time
# limit, 125 when the guest died (panic) before the command finished.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

kind=test cpus=2 mem=3G tmo=1800 out='' append='' fresh=0 interactive=0
disks=() drives=() rootdisk=''
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kind=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--timeout) tmo=$2; shift 2 ;;
	--disk) disks+=("$2"); shift 2 ;;
	--fresh-disks) fresh=1; shift ;;
	--drive) drives+=(-drive "$2"); shift 2 ;;
	--root-disk) rootdisk=$2; shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--) shift; break ;;
	*) die "unknown option $1 (see the header of $0)" ;;
	esac
done
[ $# -gt 0 ] || die "no guest command given"

kernel=$BUILD/obj-$kind/arch/x86/boot/bzImage
[ -f "$kernel" ] || die "no $kind kernel at $kernel; run 'make kernel' (or kernel-release)"

if [ -z "$out" ]; then
	out=$BUILD/runs/$(date +%Y%m%d-%H%M%S)-$kind-$$
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out/status" "$out/output" "$out/console.log" "$out/qemu.pid"
if [ -n "${LOOPMAP_CONSOLES:-}" ]; then echo "$out/console.log" >>"$LOOPMAP_CONSOLES"; fi

# The command, quoted, for the guest's init to run.
{
	[ -n "$rootdisk" ] || printf 'cd %q\n' "$LOOPMAP_TOP"
	for v in $(compgen -e | grep -E '^TEST_[A-Z0-9_]+$' || true); do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf '%q ' "$@"
	printf '\n'
} >"$out/job"

# TCG unless the CPU can really do KVM: nested KVM stalls on these hosts.
accel=(-accel "tcg,thread=multi" -cpu max)
if [ -n "${LOOPMAP_ACCEL:-}" ]; then
	accel=(-accel "$LOOPMAP_ACCEL")
elif grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
	accel=(-accel kvm -cpu host)
fi

drive_args=()
if [ ${#disks[@]} -gt 0 ]; then
	mkdir -p "$BUILD/disks"
	for d in "${disks[@]}"; do
		name=${d%%:*} size=${d#*:}
		[ "$name" != "$d" ] || die "--disk wants NAME:SIZE, got '$d'"
		img=$BUILD/disks/$name.img
		if [ "$fresh" = 1 ] || [ ! -f "$img" ]; then
			rm -f "$img"
			truncate -s "$size" "$img"
		fi
		drive_args+=(-drive "file=$img,if=virtio,format=raw,cache=writeback,discard=unmap")
	done
fi

# acpi=noirq: ACPI only enumerates the CPUs; evaluating the PCI interrupt
# links costs ~20 s each under TCG, and virtio-pci uses MSI-X anyway.
cmdline="console=ttyS0 loglevel=7 panic=-1 nokaslr acpi=noirq"
root_args=(-fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
	-device "virtio-9p-pci,fsdev=root,mount_tag=hostroot")
if [ -n "$rootdisk" ]; then
	cmdline+=" root=/dev/vda rootfstype=ext2 ro init=/init"
	root_args=(-drive "file=$rootdisk,format=raw,if=virtio,readonly=on")
else
	cmdline+=" root=hostroot rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro"
	cmdline+=" init=$LOOPMAP_TOP/scripts/guest-init.sh"
fi
# RAM disks for the tests' host filesystems: allocated as written.
cmdline+=" brd.rd_nr=4 brd.rd_size=1048576"
cmdline+="$append"

serial=(-chardev "file,id=con,path=$out/console.log" -serial chardev:con)
[ "$interactive" = 1 ] && serial=(-serial mon:stdio)
run_qemu() {
	timeout --foreground -k 10 "$tmo" qemu-system-x86_64 \
		-nodefaults -no-user-config -nographic -no-reboot -pidfile "$out/qemu.pid" \
		"${accel[@]}" -smp "$cpus" -m "$mem" \
		-kernel "$kernel" -append "$cmdline" \
		"${serial[@]}" \
		"${root_args[@]}" \
		-fsdev "local,id=out,path=$out,security_model=none" \
		-device virtio-9p-pci,fsdev=out,mount_tag=loopmap-out \
		"${drive_args[@]}" "${drives[@]}"
}
set +e
if [ "$interactive" = 1 ]; then
	run_qemu
else
	run_qemu </dev/null >"$out/qemu.log" 2>&1
fi
rc=$?
set -e

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	msg "guest hit the ${tmo}s time limit; kernel log: $out/console.log"
	exit 124
fi
if [ $rc -ne 0 ]; then
	msg "qemu failed (status $rc):"
	cat "$out/qemu.log" >&2
	exit 125
fi
if [ ! -f "$out/status" ]; then
	msg "the guest stopped before the command finished; last kernel messages:"
	tail -n 40 "$out/console.log" >&2
	exit 125
fi
exit "$(cat "$out/status")"
