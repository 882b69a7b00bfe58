#!/usr/bin/env python3
"""Compare bench.sh runs of different kernels, device by device.

    compare.py [KIND:]RUN [[KIND:]RUN...]

Each RUN is a build/runs/bench-* directory (results.csv, host-info); its
kernel is KIND, else host-info's kind (bench.sh --kernel), else release.  For
every workload and device, the ratio to the raw device of the same round
(IOPS, and CPU per I/O), median over the rounds, per run; then the median
over the runs of each kernel (host-info's kind: release, stock, ...).
Ratios to raw, not absolute numbers: runs on a TCG guest differ in speed,
the raw device of the same round does not.  Prints Markdown.
"""
import csv
import os
import statistics
import sys
from collections import defaultdict

DEVICES = ["dm-linear", "file", "loop", "loop-dio", "loopmap"]


def load(arg):
    kind, sep, run = arg.partition(":")
    if not sep:
        kind, run = "", arg
    info = {}
    with open(os.path.join(run, "host-info")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            info[k] = v
    rows = list(csv.DictReader(open(os.path.join(run, "results.csv"))))
    raw = {(r["cpus"], r["workload"], r["round"]): r for r in rows
           if r["device"] == "raw" and r["error"] == "0"}
    ratios = defaultdict(lambda: ([], []))
    for r in rows:
        if r["device"] not in DEVICES or r["error"] != "0":
            continue
        ref = raw.get((r["cpus"], r["workload"], r["round"]))
        if not ref:
            continue
        key = (r["cpus"], r["fs"], r["workload"], r["device"])
        ratios[key][0].append(float(r["iops"]) / float(ref["iops"]))
        ratios[key][1].append(float(r["cpu_us_per_io"]) / float(ref["cpu_us_per_io"]))
    return kind or info.get("kind", "release"), {k: (statistics.median(v[0]), statistics.median(v[1]))
                                         for k, v in ratios.items()}


def main():
    runs = sys.argv[1:]
    if not runs:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    loaded = [(os.path.basename(os.path.normpath(r.partition(":")[2] or r)),) + load(r)
              for r in runs]
    kinds = sorted({k for _, k, _ in loaded}, key=lambda k: (k != "stock", k))
    keys = sorted({key for _, _, res in loaded for key in res})
    print("IOPS ratio to raw (median of the rounds), per run; then the median per kernel. "
          "CPU per I/O ratio to raw in parentheses.")
    print()
    print("| vCPU | fs | workload | device | " +
          " | ".join(f"{name} ({kind})" for name, kind, _ in loaded) + " | " +
          " | ".join(f"median {k}" for k in kinds) + " |")
    print("|---" * (4 + len(loaded) + len(kinds)) + "|")
    for key in keys:
        cells = []
        for _, _, res in loaded:
            v = res.get(key)
            cells.append(f"{v[0]:.2f} ({v[1]:.2f})" if v else "-")
        meds = []
        for k in kinds:
            vs = [res[key] for _, kind, res in loaded if kind == k and key in res]
            meds.append(f"{statistics.median(v[0] for v in vs):.2f} "
                        f"({statistics.median(v[1] for v in vs):.2f})" if vs else "-")
        print(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | " + " | ".join(cells) +
              " | " + " | ".join(meds) + " |")


if __name__ == "__main__":
    main()
