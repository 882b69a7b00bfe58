#!/usr/bin/env python3
"""Hole-fill exclusion under load.

stale.py DEVICE MARKER FILLS

One writer fills holes of DEVICE (a loop device on a sparse image whose
host filesystem's free blocks hold MARKER), in a random order of 4 KiB
blocks, alternately with whole blocks and with one 512-byte sector of a
block.  Two readers read, with O_DIRECT, the blocks the writer is about to
fill, is filling and has just filled.  No read may ever return MARKER, and
every block read must be zeros or what the writer wrote (per sector).
At the end every filled block is checked once more.  Prints TAP lines.
"""
import mmap
import os
import random
import sys
import threading

BLK = 4096
SEC = 512


def content(idx):
    """The 4 KiB the writer means for block idx (all of it or one sector)."""
    seed = (b"%08d" % idx) * 2
    return (seed * (BLK // len(seed)))[:BLK]


def sector_of(idx):
    return idx % (BLK // SEC)


def expected(idx):
    """What block idx must hold once written: whole or one sector."""
    data = content(idx)
    if idx % 2 == 0:
        return data
    s = sector_of(idx)
    out = bytearray(BLK)
    out[s * SEC:(s + 1) * SEC] = data[s * SEC:(s + 1) * SEC]
    return bytes(out)


def main():
    dev, marker, fills = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
    fd = os.open(dev, os.O_RDWR | os.O_DIRECT)
    nblocks = os.lseek(fd, 0, os.SEEK_END) // BLK
    if nblocks < fills:
        print("not ok - the device has only %d blocks" % nblocks)
        return 1
    order = random.Random(7).sample(range(nblocks), fills)
    progress = [0]
    done = threading.Event()
    bad = []
    reads = [0]

    def check(idx, got):
        if marker in got:
            bad.append("block %d returned the marker" % idx)
            return
        want = expected(idx)
        for s in range(BLK // SEC):
            part = got[s * SEC:(s + 1) * SEC]
            if part != bytes(SEC) and part != want[s * SEC:(s + 1) * SEC]:
                bad.append("block %d sector %d holds neither zeros nor its data"
                           % (idx, s))
                return

    def reader(seed):
        rng = random.Random(seed)
        buf = mmap.mmap(-1, BLK)
        while not done.is_set() and len(bad) < 10:
            i = progress[0] + rng.randrange(-2, 6)
            if i < 0 or i >= fills:
                continue
            idx = order[i]
            os.preadv(fd, [buf], idx * BLK)
            check(idx, bytes(buf))
            reads[0] += 1

    threads = [threading.Thread(target=reader, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    wbuf = mmap.mmap(-1, BLK)
    try:
        for i, idx in enumerate(order):
            progress[0] = i
            data = content(idx)
            if idx % 2 == 0:
                wbuf[:] = data
                os.pwritev(fd, [wbuf], idx * BLK)
            else:
                s = sector_of(idx)
                sbuf = mmap.mmap(-1, SEC)
                sbuf[:] = data[s * SEC:(s + 1) * SEC]
                os.pwritev(fd, [sbuf], idx * BLK + s * SEC)
            if bad:
                break
    finally:
        done.set()
        for t in threads:
            t.join()
    print("# %d fills, %d concurrent reads" % (fills, reads[0]))
    ok = True
    if bad:
        print("not ok - readers racing with hole fills never saw stale data")
        for b in bad[:10]:
            print("# " + b)
        ok = False
    else:
        print("ok - readers racing with hole fills never saw stale data")
    buf = mmap.mmap(-1, BLK)
    wrong = 0
    for idx in order:
        os.preadv(fd, [buf], idx * BLK)
        if bytes(buf) != expected(idx):
            wrong += 1
    if wrong:
        print("not ok - every filled block holds its data (%d do not)" % wrong)
        ok = False
    else:
        print("ok - every filled block holds its data")
    os.close(fd)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
