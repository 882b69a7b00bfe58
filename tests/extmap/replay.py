#!/usr/bin/env python3
"""Replay a dm-log-writes log and check crash points (tests/extmap/replay.sh).

replay.py FS LOG DISK BATCHES MOUNTPOINT
    DISK is a file holding the host disk as it was when logging began.
    The log is replayed onto it, and at each crash point a copy of DISK
    is checked like a disk after a crash, by the crash test's
    tests/host/crash/check-disk.sh (round 1, BATCHES batches, mounted at
    MOUNTPOINT): FS's e2fsck clean (ext2 after e2fsck -fy, ext3/ext4
    after a mount replays the journal), then crashio.py's checks of
    disk.img on it.  Prints one line per point; exits 1 at the first
    point that fails, after the lines of check-disk.sh other than its
    "ok" lines (its "not ok" lines and diagnostics).

The crash points are every mark and, between two marks, the flush or FUA
entry in the middle: the disk as it was at that moment if every write not
yet flushed was lost.  The workload logs the mark "ack-B" once batch B is
acknowledged, so at a point the batches up to the last such mark must be
intact.

The log format is the one drivers/md/dm-log-writes.c writes: a super
block in sector 0, then per entry one header sector (sector, nr_sectors,
flags, data_len; a mark's name follows the header) and the data, all in
units of the device's logical block size.
"""
import os
import shutil
import struct
import subprocess
import sys

CHECK_DISK = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "host", "crash", "check-disk.sh")

MAGIC = 0x6a736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8
HEADER = struct.Struct("<QQQQ")


def entries(log):
    """[(sector, nr_sectors, flags, mark, data offset)], sector size."""
    out = []
    with open(log, "rb") as f:
        magic, version, nr, secsize = struct.unpack("<QQQI", f.read(28))
        if magic != MAGIC or version != 1:
            sys.exit("%s: not a dm-log-writes log (magic %#x, version %d)"
                     % (log, magic, version))
        pos = secsize
        for _ in range(nr):
            f.seek(pos)
            hdr = f.read(secsize)
            sector, nsec, flags, dlen = HEADER.unpack_from(hdr)
            mark = None
            if flags & MARK:
                mark = hdr[HEADER.size:HEADER.size + dlen].decode()
            elif dlen:
                sys.exit("%s: inline entry data is not supported" % log)
            pos += secsize
            out.append((sector, nsec, flags, mark, pos))
            if not flags & DISCARD:
                pos += nsec * secsize
    return out, secsize


def points(log_entries):
    """[(end, acked, what)]: replay entries [0, end), batches <= acked done."""
    out, acked, flushes = [], -1, []
    for i, (_, _, flags, mark, _) in enumerate(log_entries):
        if mark is not None:
            if flushes:
                out.append((flushes[len(flushes) // 2], acked, "flush"))
                flushes = []
            if mark.startswith("ack-"):
                acked = int(mark[4:])
            out.append((i + 1, acked, "mark"))
        elif flags & (FLUSH | FUA):
            flushes.append(i + 1)
    if flushes:
        out.append((flushes[len(flushes) // 2], acked, "flush"))
    return out


def apply(log, disk, log_entries, secsize, first, end):
    with open(log, "rb") as src, open(disk, "r+b") as dst:
        for sector, nsec, flags, mark, off in log_entries[first:end]:
            if mark is not None or not nsec:
                continue
            dst.seek(sector * secsize)
            if flags & DISCARD:
                dst.write(bytes(nsec * secsize))
                continue
            src.seek(off)
            dst.write(src.read(nsec * secsize))


def run(*cmd):
    """(status, output) of cmd."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode, p.stdout


def check_point(fs, image, batches, mnt, acked):
    """None if the crashed disk in image passes, else what failed."""
    rc, out = run(CHECK_DISK, fs, image, mnt, "1", str(acked), str(batches))
    if rc:
        return "\n".join(line for line in out.splitlines()
                         if not line.startswith("ok ")) or \
            "check-disk.sh exited %d" % rc
    return None


def main():
    fs, log, disk, batches, mnt = sys.argv[1:6]
    batches = int(batches)
    log_entries, secsize = entries(log)
    done = 0
    image = disk + ".check"
    todo = points(log_entries)
    for n, (end, acked, what) in enumerate(todo):
        apply(log, disk, log_entries, secsize, done, end)
        done = end
        shutil.copyfile(disk, image)
        bad = check_point(fs, image, batches, mnt, acked)
        os.unlink(image)
        print("point %d: log entry %d (%s), %s acknowledged: %s"
              % (n + 1, end, what, "batches 0-%d" % acked if acked >= 0 else "no batch",
                 "ok" if bad is None else "FAILED"), flush=True)
        if bad is not None:
            print(bad)
            return 1
    print("%d crash points checked, %d log entries (%d flush or FUA)"
          % (len(todo), len(log_entries),
             sum(1 for e in log_entries if e[2] & (FLUSH | FUA))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
