#!/bin/bash
# DESCRIPTION: loop's ioctls give stock errnos on bad arguments in extent-mapped mode, and race fio safely
# GROUPS: quick auto stress
# WHERE: guest
# KERNEL: test
# DURATION: 150
# TIMEOUT: 600
# REQUIRES: cmd:fio cmd:python3 cmd:losetup
# TEST_IOCTLS_SECONDS: how long the ioctls race fio, per host fs (quick 5, auto 10, stress 60)
#
# Extent-mapped mode hooks into loop's configuration paths (bind at
# LOOP_CONFIGURE, unbind at LOOP_CLR_FD and autoclear, maps dropped when
# the offset, size limit or block size change).  Two cases:
#  - errnos: each ioctl, given invalid arguments (or valid ones in a state
#    that refuses them), fails on an extent-mapped device exactly as on a
#    classic one (loop.extent_map=0) over the same image: LOOP_SET_FD and
#    LOOP_CONFIGURE on a bound device, LOOP_CHANGE_FD on a writable one,
#    LOOP_SET_BLOCK_SIZE 1000 and 8192, LOOP_SET_STATUS64 with an
#    encryption type, an unknown loop ioctl; a valid LOOP_SET_CAPACITY
#    succeeds on both.
#  - races, on each host fs: while fio writes and reads the device
#    (O_DIRECT, 4 KiB random, errors tolerated), one process cycles
#    LOOP_SET_CAPACITY, LOOP_SET_STATUS64 halving the size limit and
#    restoring it, and LOOP_SET_BLOCK_SIZE 4096 and back to 512.  Then,
#    with the size restored, fio writes and verifies the whole device,
#    the device is still extent-mapped, losetup -d while a reader holds
#    the device detaches it once the reader closes (autoclear), and the
#    runner checks the kernel log and kmemleak.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
HOSTFS_SIZE=64M
SECONDS_RACE=${TEST_IOCTLS_SECONDS:-$(by_group 5 10 60)}

# loopctl DEVICE COMMAND...: loop ioctls from python.  Commands:
#   errnos           one line per bad call: its name and the errno name
#   race SECONDS     cycle capacity, size limit and block size changes;
#                    prints the calls that succeeded and any errno
#                    other than EAGAIN/EBUSY, which the kernel may give
#                    while I/O is in flight
loopctl() {
	python3 - "$@" <<'PY'
import errno, fcntl, os, struct, sys, time

LOOP_SET_FD, LOOP_CLR_FD = 0x4C00, 0x4C01
LOOP_SET_STATUS64, LOOP_GET_STATUS64 = 0x4C04, 0x4C05
LOOP_CHANGE_FD, LOOP_SET_CAPACITY = 0x4C06, 0x4C07
LOOP_SET_BLOCK_SIZE, LOOP_CONFIGURE = 0x4C09, 0x4C0A
INFO = struct.Struct("<5Q4I64s64s32s2Q")          # struct loop_info64
CONFIG_SIZE = 8 + INFO.size + 64                  # struct loop_config

dev, cmd = sys.argv[1], sys.argv[2]
fd = os.open(dev, os.O_RDWR)

def call(req, arg=0):
    try:
        fcntl.ioctl(fd, req, arg)
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]

def status():
    return list(INFO.unpack(fcntl.ioctl(fd, LOOP_GET_STATUS64, bytes(INFO.size))))

if cmd == "errnos":
    img = os.open(sys.argv[3], os.O_RDWR)
    info = status()
    info[6] = 1                                    # lo_encrypt_type: XOR
    cfg = struct.pack("<2I", img, 0) + bytes(CONFIG_SIZE - 8)
    for name, req, arg in [
            ("LOOP_SET_FD on a bound device", LOOP_SET_FD, img),
            ("LOOP_CONFIGURE on a bound device", LOOP_CONFIGURE, cfg),
            ("LOOP_CHANGE_FD on a writable device", LOOP_CHANGE_FD, img),
            ("LOOP_SET_BLOCK_SIZE 1000", LOOP_SET_BLOCK_SIZE, 1000),
            ("LOOP_SET_BLOCK_SIZE 8192", LOOP_SET_BLOCK_SIZE, 8192),
            ("LOOP_SET_STATUS64 with encryption", LOOP_SET_STATUS64,
             INFO.pack(*info)),
            ("unknown loop ioctl 0x4CFF", 0x4CFF, 0),
            ("LOOP_SET_CAPACITY", LOOP_SET_CAPACITY, 0)]:
        print(f"{name}: {call(req, arg)}")
elif cmd == "race":
    end = time.monotonic() + float(sys.argv[3])
    info = status()
    half = os.lseek(fd, 0, os.SEEK_END) // 2
    done, odd = {}, set()
    while time.monotonic() < end:
        for name, req, arg in [
                ("capacity", LOOP_SET_CAPACITY, 0),
                ("sizelimit", LOOP_SET_STATUS64,
                 INFO.pack(*info[:4], half, *info[5:])),
                ("sizelimit-back", LOOP_SET_STATUS64, INFO.pack(*info)),
                ("bs4096", LOOP_SET_BLOCK_SIZE, 4096),
                ("bs512", LOOP_SET_BLOCK_SIZE, 512)]:
            r = call(req, arg)
            if r == "ok":
                done[name] = done.get(name, 0) + 1
            elif r not in ("EAGAIN", "EBUSY"):
                odd.add(f"{name}:{r}")
    # leave the device as it was, whatever the last call did
    for _ in range(100):
        if call(LOOP_SET_STATUS64, INFO.pack(*info)) == "ok" and \
           call(LOOP_SET_BLOCK_SIZE, 512) == "ok":
            break
        time.sleep(0.1)
    print(" ".join(f"{k}={v}" for k, v in sorted(done.items())))
    for o in sorted(odd):
        print("odd", o)
PY
}

errnos_case() {
	local dev
	full_image "$HOST/disk.img" 16
	dev=$(attach "$HOST/disk.img")
	loopctl "$dev" errnos "$HOST/disk.img" >"$SCRATCH/extmap"
	detach "$dev"
	set_extmap_param 0
	dev=$(EXPECT_EXTMAP=0 attach "$HOST/disk.img")
	loopctl "$dev" errnos "$HOST/disk.img" >"$SCRATCH/classic"
	detach "$dev"
	set_extmap_param 1
	sed 's/^/# extent-mapped: /' "$SCRATCH/extmap"
	assert "every call fails or succeeds as in classic mode" \
		diff "$SCRATCH/classic" "$SCRATCH/extmap"
	assert "the bad calls fail" \
		[ "$(grep -c ': ok$' "$SCRATCH/extmap")" = 1 ]
}

race_case() {
	local dev fio reader
	truncate -s 16M "$HOST/disk.img"
	dd if=/dev/urandom of="$HOST/disk.img" bs=1M count=8 conv=notrunc status=none
	dev=$(attach "$HOST/disk.img")
	fio --name=race --filename="$dev" --direct=1 --ioengine=psync --rw=randrw \
		--bs=4k --numjobs=2 --time_based --runtime="$((SECONDS_RACE + 30))" \
		--continue_on_error=all --output=/dev/null >/dev/null 2>&1 &
	fio=$!
	loopctl "$dev" race "$SECONDS_RACE" >"$SCRATCH/race"
	kill "$fio" 2>/dev/null || true
	wait "$fio" || true
	sed 's/^/# /' "$SCRATCH/race"
	assert "no ioctl failed with an unexpected errno" \
		[ "$(grep -c '^odd' "$SCRATCH/race")" = 0 ]
	assert "every kind of change went through at least once" \
		[ "$(head -1 "$SCRATCH/race" | wc -w)" = 5 ]
	assert_eq "loop/extent_map after the race" 1 "$(sysfs_loop "$dev" extent_map)"
	assert_eq "the size is back" $((16 << 20)) "$(blockdev --getsize64 "$dev")"
	assert "fio writes and verifies the whole device" \
		fio --name=verify --filename="$dev" --direct=1 --ioengine=psync --rw=write \
		--bs=64k --verify=crc32c --do_verify=1 --output=/dev/null
	exec {reader}<"$dev"
	losetup -d "$dev"
	assert "a reader still holds the device: it stays bound" losetup "$dev"
	exec {reader}<&-
	assert "the reader closed it: autoclear detaches it" wait_unbound "$dev"
}

run_case "bad arguments: the errnos of classic mode" on_hostfs ext4 errnos_case
for_each_hostfs "ioctls racing fio: no oops, no hang, data intact after" race_case
