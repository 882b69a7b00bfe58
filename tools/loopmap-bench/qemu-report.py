#!/usr/bin/env python3
"""Report of qemu.sh: qemu-report.py RESULTS META > report.md

RESULTS is qemu-guest.sh's results.txt (one line per qemu-img bench run).
Per host filesystem, aio engine and workload: the median over rounds of
each target's requests per second, its ratio to dm-linear (the anchor)
and to QEMU on the image file, and the CPU time per request (all CPUs'
non-idle time, USER_HZ 100, over the run, less that of a run of one
request: starting qemu-img and opening and closing the target).
"""
import statistics
import sys
from collections import defaultdict

TARGETS = ["dm-linear", "file", "loop", "loop-dio", "loopmap"]


def main():
    results, meta = sys.argv[1], sys.argv[2]
    runs = defaultdict(list)
    order = []
    with open(results) as f:
        next(f)
        for line in f:
            fs, aio, wl, target, _rnd, secs, n, busy, calib = line.split()
            key = (fs, aio, wl)
            if key not in order:
                order.append(key)
            runs[key + (target,)].append((int(n) / float(secs),
                                          (int(busy) - int(calib)) * 10000.0
                                          / int(n)))
    print("# qemu-img bench: a VM's disk on loopmap and the alternatives\n")
    print("```")
    with open(meta) as f:
        print(f.read().rstrip())
    print("```\n")
    print("Medians of interleaved rounds. `x dm` is the ratio to dm-linear over")
    print("the image's extents, `x file` to QEMU opening the image file itself")
    print("(cache=none); `µs/req` is all CPUs' busy time per request (less")
    print("a one-request run's: qemu-img's start, open and close).\n")
    for fs, aio, wl in order:
        print(f"## {fs}, aio={aio}, {wl}\n")
        print("| target | req/s | x dm | x file | µs/req | rounds |")
        print("|---|---|---|---|---|---|")
        med = {}
        for t in TARGETS:
            r = runs.get((fs, aio, wl, t))
            if r:
                med[t] = (statistics.median(x[0] for x in r),
                          statistics.median(x[1] for x in r), len(r))
        for t, (iops, cpu, n) in med.items():
            dm = iops / med["dm-linear"][0] if "dm-linear" in med else float("nan")
            fl = iops / med["file"][0] if "file" in med else float("nan")
            print(f"| {t} | {iops:.0f} | {dm:.2f} | {fl:.2f} | {cpu:.1f} | {n} |")
        print()


if __name__ == "__main__":
    main()
