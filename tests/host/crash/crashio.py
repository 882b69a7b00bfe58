#!/usr/bin/env python3
"""Crash-test workload and checker for fills (tests/host/crash.sh).

crashio.py write DEVICE ROUND BATCHES
    Fills holes of DEVICE, a loop device on a fresh sparse image, in
    batches of 16 blocks of 4 KiB in a random order seeded by ROUND: every
    third block gets one 512-byte sector, the others the whole block.
    Even batches end with fsync() (a flush), odd ones are written with
    O_DSYNC (FUA).  After each batch it prints "ack ROUND B": from then on
    the batch must survive a crash.  With CRASHIO_MARK=NAME in the
    environment it then logs the mark "ack-B" on the dm-log-writes device
    NAME (tests/extmap/replay.sh).  CRASHIO_NOSYNC=1 leaves out the
    flushes and FUA, for a control run whose "acknowledged" batches are
    not durable.
crashio.py check IMAGE ROUND ACKED
    After the crash: every block of batches 0..ACKED holds its data, every
    other planned block holds, per sector, zeros or its data, every other
    block is zeros, and no byte shows the marker.  Prints TAP lines.
"""
import mmap
import os
import random
import subprocess
import sys

BLK = 4096
SEC = 512
PER_BATCH = 16
MARKER = b"LOOPMAP-STALE!!"


def plan(nblocks, rnd, batches):
    order = random.Random(rnd).sample(range(nblocks), batches * PER_BATCH)
    return [order[b * PER_BATCH:(b + 1) * PER_BATCH] for b in range(batches)]


def content(rnd, idx):
    seed = b"r%04d-b%08d-" % (rnd, idx)
    return (seed * (BLK // len(seed) + 1))[:BLK]


def piece(rnd, idx):
    """(offset in block, bytes) that the workload writes to block idx."""
    data = content(rnd, idx)
    if idx % 3:
        return 0, data
    s = idx % (BLK // SEC)
    return s * SEC, data[s * SEC:(s + 1) * SEC]


def expected(rnd, idx):
    off, data = piece(rnd, idx)
    out = bytearray(BLK)
    out[off:off + len(data)] = data
    return bytes(out)


def write(dev, rnd, batches):
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    fua = os.open(dev, os.O_RDWR | os.O_DIRECT | os.O_DSYNC)
    nblocks = os.lseek(fd, 0, os.SEEK_END) // BLK
    sync = os.environ.get("CRASHIO_NOSYNC") != "1"
    mark = os.environ.get("CRASHIO_MARK")
    for b, blocks in enumerate(plan(nblocks, rnd, batches)):
        out = fua if b % 2 and sync else fd
        for idx in blocks:
            off, data = piece(rnd, idx)
            buf = mmap.mmap(-1, len(data))
            buf[:] = data
            os.pwritev(out, [buf], idx * BLK + off)
        if not b % 2 and sync:
            os.fsync(fd)
        print("ack %d %d" % (rnd, b), flush=True)
        if mark:
            subprocess.run(["dmsetup", "message", mark, "0", "mark", "ack-%d" % b],
                           check=True)
    return 0


def check(image, rnd, acked, batches):
    size = os.path.getsize(image)
    with open(image, "rb") as f:
        data = f.read()
    planned = {}
    for b, blocks in enumerate(plan(size // BLK, rnd, batches)):
        for idx in blocks:
            planned[idx] = b
    ok = True
    lost, torn, stray = [], [], []
    for idx in range(size // BLK):
        got = data[idx * BLK:(idx + 1) * BLK]
        if idx not in planned:
            if got != bytes(BLK):
                stray.append(idx)
            continue
        want = expected(rnd, idx)
        if planned[idx] <= acked:
            if got != want:
                lost.append(idx)
            continue
        for s in range(0, BLK, SEC):
            part = got[s:s + SEC]
            if part != bytes(SEC) and part != want[s:s + SEC]:
                torn.append(idx)
                break

    def report(bad, what):
        nonlocal ok
        if bad:
            ok = False
            print("not ok - %s (%d blocks, first %s)" % (what, len(bad), bad[:5]))
        else:
            print("ok - %s" % what)

    report(["marker"] if MARKER in data else [],
           "round %d: no byte of the image shows the marker" % rnd)
    report(lost, "round %d: every block of the %d acknowledged batches holds its data"
           % (rnd, acked + 1))
    report(torn, "round %d: unacknowledged blocks hold zeros or their data" % rnd)
    report(stray, "round %d: blocks never written read zeros" % rnd)
    return 0 if ok else 1


def main():
    if sys.argv[1] == "write":
        return write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    return check(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))


if __name__ == "__main__":
    sys.exit(main())
