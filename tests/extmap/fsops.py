#!/usr/bin/python3
"""System calls the guest tests need and no packaged tool makes.

    fsops.py flags DEV                 print LOOP_GET_STATUS64 lo_flags
    fsops.py set-offset DEV OFFSET     LOOP_SET_STATUS64 with a new offset
    fsops.py change-fd DEV FILE        LOOP_CHANGE_FD to FILE (read-only)
    fsops.py mmap-write FILE           MAP_SHARED|PROT_WRITE mapping of FILE
    fsops.py copy-range SRC DST        copy_file_range(2) of 4096 bytes
    fsops.py clone SRC DST             FICLONE of SRC onto DST
    fsops.py move-ext FILE DONOR       EXT4_IOC_MOVE_EXT of the first block
    fsops.py ctl-add N...              LOOP_CTL_ADD of loopN for each N
    fsops.py ctl-remove N...           LOOP_CTL_REMOVE of loopN for each N
    fsops.py attacher-writes FILE      attach FILE with LOOP_SET_FD and, with
                                       the same descriptor still open, try
                                       pwrite and a hole punch; prints the
                                       extent_map attribute and both errnos

Exit status: 0 on success; on failure the errno name is printed and the
exit status is 1.
"""
import errno
import fcntl
import mmap
import os
import struct
import sys

LOOP_SET_STATUS64 = 0x4C04
LOOP_GET_STATUS64 = 0x4C05
LOOP_CHANGE_FD = 0x4C06
LOOP_SET_FD = 0x4C00
LOOP_CLR_FD = 0x4C01
LOOP_CTL_ADD = 0x4C80
LOOP_CTL_REMOVE = 0x4C81
LOOP_CTL_GET_FREE = 0x4C82
FALLOC_FL_KEEP_SIZE = 1
FALLOC_FL_PUNCH_HOLE = 2
FICLONE = 0x40049409
EXT4_IOC_MOVE_EXT = 0xC028660F
# struct loop_info64: 5 x u64, 4 x u32, 64-byte name, 64-byte crypt name,
# 32-byte key, 2 x u64 init
INFO64 = struct.Struct("=QQQQQIIII64s64s32s2Q")


def get_status(fd):
    buf = fcntl.ioctl(fd, LOOP_GET_STATUS64, bytes(INFO64.size))
    return list(INFO64.unpack(buf))


def main(argv):
    op, args = argv[1], argv[2:]
    if op == "flags":
        fd = os.open(args[0], os.O_RDONLY)
        print(get_status(fd)[8])
    elif op == "set-offset":
        fd = os.open(args[0], os.O_RDONLY)
        info = get_status(fd)
        info[3] = int(args[1])
        fcntl.ioctl(fd, LOOP_SET_STATUS64, INFO64.pack(*info))
    elif op == "change-fd":
        fd = os.open(args[0], os.O_RDONLY)
        new = os.open(args[1], os.O_RDONLY)
        fcntl.ioctl(fd, LOOP_CHANGE_FD, new)
    elif op in ("ctl-add", "ctl-remove"):
        ctl = os.open("/dev/loop-control", os.O_RDWR)
        req = LOOP_CTL_ADD if op == "ctl-add" else LOOP_CTL_REMOVE
        for n in args:
            fcntl.ioctl(ctl, req, int(n))
    elif op == "mmap-write":
        fd = os.open(args[0], os.O_RDWR)
        m = mmap.mmap(fd, 4096, mmap.MAP_SHARED,
                      mmap.PROT_READ | mmap.PROT_WRITE)
        m[0:1] = b"x"
        m.close()
    elif op == "copy-range":
        src = os.open(args[0], os.O_RDONLY)
        dst = os.open(args[1], os.O_WRONLY)
        os.copy_file_range(src, dst, 4096, 0, 0)
    elif op == "clone":
        src = os.open(args[0], os.O_RDONLY)
        dst = os.open(args[1], os.O_WRONLY)
        fcntl.ioctl(dst, FICLONE, src)
    elif op == "move-ext":
        fd = os.open(args[0], os.O_RDWR)
        donor = os.open(args[1], os.O_RDWR)
        arg = struct.pack("=IIQQQQ", 0, donor, 0, 0, 1, 0)
        fcntl.ioctl(fd, EXT4_IOC_MOVE_EXT, arg)
    elif op == "attacher-writes":
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int,
                                   ctypes.c_longlong, ctypes.c_longlong]
        ctl = os.open("/dev/loop-control", os.O_RDWR)
        n = fcntl.ioctl(ctl, LOOP_CTL_GET_FREE)
        fd = os.open(args[0], os.O_RDWR)
        dev = os.open("/dev/loop%d" % n, os.O_RDWR)
        fcntl.ioctl(dev, LOOP_SET_FD, fd)
        with open("/sys/block/loop%d/loop/extent_map" % n) as f:
            out = [f.read().strip()]
        try:
            os.pwrite(fd, b"x", 0)
            out.append("write-ok")
        except OSError as e:
            out.append(errno.errorcode[e.errno])
        if libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                          0, 1 << 20):
            out.append(errno.errorcode[ctypes.get_errno()])
        else:
            out.append("punch-ok")
        fcntl.ioctl(dev, LOOP_CLR_FD)
        print(" ".join(out))
    else:
        print("unknown operation " + op, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
        sys.exit(1)
