#!/usr/bin/env python3
"""Aggregate one benchmark run (build/runs/bench-*/) into a report.

    report.py RUNDIR

RUNDIR holds one directory per guest run (cpu1/, cpu2/), each with what
guest.sh wrote: meta, json/round-N.json (fio), stat/JOB.{pre,post}run.txt
(/proc/stat snapshots around every job), setup.txt, loopmap-counters.

Writes RUNDIR/report.md (Markdown: targets met or missed, ratios to the
raw device and to dm-linear, details), RUNDIR/results.csv (one line per
fio job) and RUNDIR/plot.dat (for plot.gp).  Every ratio is taken between
jobs of the same round (the devices run interleaved), then the median and
the spread (min-max) over the rounds are reported.
"""
import csv
import glob
import json
import os
import statistics
import sys

USER_HZ = 100  # /proc/stat unit, whatever the kernel's HZ
STEADY = ["randread-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd1",
          "randwrite-4k-qd32", "read-1m", "write-1m", "randread-4k-qd1-2jobs"]
DEVICES = ["raw", "dm-linear", "file", "loop", "loop-dio", "loopmap"]
LABEL = {"raw": "raw", "dm-linear": "dm-linear", "file": "file O_DIRECT",
         "loop": "loop buffered", "loop-dio": "loop DIO", "loopmap": "loopmap"}
HOLE_DEVICES = ["file", "loop", "loop-dio", "loopmap"]


def busy_ticks(path):
    with open(path) as f:
        line = f.readline().split()
    assert line[0] == "cpu", path
    v = [int(x) for x in line[1:]]
    # user nice system idle iowait irq softirq steal ...: idle and iowait
    # are idle time.
    return sum(v) - v[3] - v[4]


def is_mb(wl):
    return wl.endswith("-1m")


def unit(wl):
    return "MB/s" if is_mb(wl) else "IOPS"


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, nd=2):
    if x != x:  # nan
        return "n/a"
    if abs(x) >= 1000:
        return f"{x:.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}" if nd < 2 else f"{x:.1f}"
    return f"{x:.{nd}f}"



def latencies(c, wl, d):
    """The p50 and p99 cells (µs, medians over the rounds) of a table row."""
    return (f"{fmt(med(c.vals(wl, d, 'p50_us')), 1)} | "
            f"{fmt(med(c.vals(wl, d, 'p99_us')), 1)}")

def spread(xs, nd=2):
    if not xs:
        return "n/a"
    return f"{fmt(med(xs), nd)} ({fmt(min(xs), nd)}-{fmt(max(xs), nd)})"


def load_guest(gdir):
    meta = {}
    with open(os.path.join(gdir, "meta")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    jobs = []
    for jf in sorted(glob.glob(os.path.join(gdir, "json", "round-*.json"))):
        with open(jf) as f:
            data = json.load(f)
        for j in data["jobs"]:
            jobs.append(j)
    calib = []
    rows = []
    for j in jobs:
        name = j["jobname"]
        parts = name.split(".")
        pre = os.path.join(gdir, "stat", name + ".prerun.txt")
        post = os.path.join(gdir, "stat", name + ".postrun.txt")
        ticks = busy_ticks(post) - busy_ticks(pre)
        if parts[0] == "calib":
            calib.append(ticks)
            continue
        fs, wl, dev, rnd = parts[0], parts[1], parts[2], int(parts[3][1:])
        rd, wr = j["read"], j["write"]
        d = rd if rd["total_ios"] >= wr["total_ios"] else wr
        ios = rd["total_ios"] + wr["total_ios"]
        pct = d["clat_ns"].get("percentile", {})
        rows.append({
            "fs": fs, "workload": wl, "device": dev, "round": rnd,
            "error": j["error"], "ios": ios,
            "iops": rd["iops"] + wr["iops"],
            "mbps": (rd["bw_bytes"] + wr["bw_bytes"]) / 1e6,
            "p50_us": pct.get("50.000000", float("nan")) / 1000,
            "p99_us": pct.get("99.000000", float("nan")) / 1000,
            "runtime_ms": j["job_runtime"], "busy_ticks": ticks,
        })
    c = med(calib)
    for r in rows:
        cpu_s = max(r["busy_ticks"] - c, 0) / USER_HZ
        r["cpu_us_per_io"] = cpu_s * 1e6 / r["ios"] if r["ios"] else float("nan")
        r["value"] = r["mbps"] if is_mb(r["workload"]) else r["iops"]
    setup = []
    sp = os.path.join(gdir, "setup.txt")
    if os.path.exists(sp):
        with open(sp) as f:
            for row in csv.DictReader(f, delimiter=" "):
                setup.append(row)
    counters = ""
    cp = os.path.join(gdir, "loopmap-counters")
    if os.path.exists(cp):
        with open(cp) as f:
            counters = f.read()
    return meta, rows, calib, setup, counters


class Config:
    """One (vCPUs, host filesystem) combination of one guest run."""

    def __init__(self, cpus, fs, rows):
        self.cpus, self.fs = cpus, fs
        self.name = f"{cpus} vCPU, {fs}"
        self.key = f"{cpus}cpu-{fs}"
        self.by = {}  # (wl, dev) -> {round: row}
        for r in rows:
            if r["fs"] == fs or (r["fs"] == "raw"):
                self.by.setdefault((r["workload"], r["device"]), {})[r["round"]] = r

    def vals(self, wl, dev, field="value"):
        d = self.by.get((wl, dev), {})
        return [d[k][field] for k in sorted(d)]

    def ratios(self, wl, dev, ref, field="value"):
        a, b = self.by.get((wl, dev), {}), self.by.get((wl, ref), {})
        out = []
        for k in sorted(set(a) & set(b)):
            if b[k][field] and b[k][field] == b[k][field]:
                out.append(a[k][field] / b[k][field])
        return out

    def workloads(self):
        return [w for w in STEADY if (w, "raw") in self.by]

    def holes(self):
        return sorted({w for (w, d) in self.by if w.startswith("hole")})


def main():
    run = sys.argv[1]
    guests = sorted(d for d in glob.glob(os.path.join(run, "cpu*")) if os.path.isdir(d))
    configs, allrows, setups, metas, notes = [], [], [], [], []
    for g in guests:
        meta, rows, calib, setup, counters = load_guest(g)
        metas.append(meta)
        cpus = meta["cpus"]
        for r in rows:
            r["cpus"] = cpus
        allrows += rows
        for fs in meta["fs"].split():
            configs.append(Config(cpus, fs, rows))
        setups.append((cpus, setup))
        notes.append((cpus, calib, counters, [r for r in rows if r["error"]]))

    with open(os.path.join(run, "results.csv"), "w", newline="") as f:
        keys = ["cpus", "fs", "workload", "device", "round", "error", "ios", "iops",
                "mbps", "p50_us", "p99_us", "cpu_us_per_io", "runtime_ms", "busy_ticks"]
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        for r in allrows:
            w.writerow(r)

    L = []
    m0 = metas[0]
    kernels = sorted({m["kernel"] for m in metas})
    L.append(f"# loopmap benchmark, {os.path.basename(os.path.normpath(run))}")
    L.append("")
    L.append(f"- kernel (uname -r in the guest): {', '.join(kernels)}; {m0['fio']}")
    versions = sorted({m.get("version", "") for m in metas} - {""})
    if versions:
        L.append(f"- /proc/version: {'; '.join(versions)}")
    hi = os.path.join(run, "host-info")
    if os.path.exists(hi):
        info = {}
        with open(hi) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                info[k] = v
        L.append(f"- bzImage built {info.get('bzimage_mtime')}; repository HEAD at the "
                 f"start {info.get('head')}; last change to patches/ {info.get('patches')} "
                 "(a patches/ change after the bzImage was built is not in the measured kernel)")
    for m in metas:
        L.append(f"- guest with {m['cpus']} vCPU: host filesystems {m['fs']}; "
                 f"{m['rounds']} interleaved rounds, {m['runtime']} s per job; "
                 f"images {m['size']}, sparse images {m['hole_size']}; "
                 f"workloads {m['workloads']} {m['holes']}; clocksource "
                 f"{m.get('clocksource', '?')} at the start, "
                 f"{m.get('clocksource_end', '?')} at the end"
                 + ("; no warm-up read: loopmap started with no cached map"
                    if m.get('warmup') == '0' else ""))
    hl = os.path.join(run, "host-load")
    if os.path.exists(hl):
        with open(hl) as f:
            loads = [line.split() for line in f if line.strip()]
        L.append(f"- host: {os.cpu_count()} CPUs; load average (1, 5, 15 min) "
                 "before and after each guest run: "
                 + "; ".join(f"{x[0]} vCPU {x[1]} {' '.join(x[2:])}" for x in loads)
                 + ". A load above the guest's vCPU count means the machine was shared.")
    L.append("- QEMU TCG (no KVM): the numbers measure CPU cost, not device speed. "
             "Only ratios between devices of the same round mean anything; each "
             "ratio is the median over the rounds, with its range (min-max).")
    L.append("- CPU per I/O: busy time of all CPUs (/proc/stat, after a sync at "
             "the end of each job, so it includes the writeback the job caused), "
             "minus what the snapshots cost (calibration jobs), divided by the "
             "number of I/Os.")
    L.append("")

    # Targets.
    L.append("## Targets (a report, not a test)")
    L.append("")
    hdr = "| target | " + " | ".join(c.name for c in configs) + " |"
    L.append(hdr)
    L.append("|---|" + "---|" * len(configs))

    def cell(xs, ok):
        if not xs:
            return "n/a"
        m = med(xs)
        return f"{m:.2f} {'met' if ok(m) else 'missed'}"

    targets = [
        ("loopmap/raw >= 0.90, 4k qd1 and qd32", ["randread-4k-qd1", "randwrite-4k-qd1",
                                                 "randread-4k-qd32", "randwrite-4k-qd32"],
         "raw", "value", lambda m: m >= 0.90),
        ("loopmap/raw >= 0.95, 1 MiB", ["read-1m", "write-1m"], "raw", "value",
         lambda m: m >= 0.95),
        ("loopmap/dm-linear >= 0.97", STEADY, "dm-linear", "value", lambda m: m >= 0.97),
        ("CPU per I/O loopmap/raw <= 1.15", STEADY, "raw", "cpu_us_per_io",
         lambda m: m <= 1.15),
    ]
    verdict = {"met": 0, "missed": 0}
    for title, wls, ref, field, ok in targets:
        for wl in wls:
            cells = []
            for c in configs:
                s = cell(c.ratios(wl, "loopmap", ref, field), ok)
                for k in verdict:
                    if s.endswith(" " + k):
                        verdict[k] += 1
                cells.append(s)
            if any(x != "n/a" for x in cells):
                L.append(f"| {title}: {wl} | " + " | ".join(cells) + " |")
    for c0 in configs[:1]:
        for wl in c0.holes():
            cells = []
            for c in configs:
                s = cell(c.ratios(wl, "loopmap", "loop-dio"), lambda m: m >= 1.0)
                for k in verdict:
                    if s.endswith(" " + k):
                        verdict[k] += 1
                cells.append(s)
            L.append(f"| hole first-write loopmap/loop-DIO >= 1.0: {wl} | "
                     + " | ".join(cells) + " |")
    cells = []
    for c in configs:
        st = dict(setups)[c.cpus]
        xs = [float(r["ioctl_ms"]) for r in st if r["fs"] == c.fs and r["mode"] == "loopmap"]
        if xs:
            m = med(xs)
            s = f"{m:.1f} ms {'met' if m < 50 else 'missed'}"
            verdict["met" if m < 50 else "missed"] += 1
        else:
            s = "n/a"
        cells.append(s)
    L.append("| setup < 50 ms (LOOP_CONFIGURE, 64 GiB sparse image) | " + " | ".join(cells) + " |")
    L.append("")
    L.append(f"{verdict['met']} met, {verdict['missed']} missed.")
    L.append("")

    # Ratio tables.
    L.append("## Ratios")
    L.append("")
    L.append("Throughput (IOPS for 4k, MB/s for 1 MiB) of each device divided by the raw "
             "device's and by dm-linear's of the same round; median over the rounds. "
             "The loopmap columns also give the range. CPU ÷ raw: CPU per I/O of "
             "loopmap divided by the raw device's (lower is better).")
    L.append("")
    for c in configs:
        L.append(f"### {c.name}")
        L.append("")
        L.append("| workload | dm/raw | file/raw | loop/raw | loop-dio/raw | loopmap/raw | "
                 "loop/dm | loop-dio/dm | loopmap/dm | CPU loopmap÷raw | CPU loop-dio÷raw |")
        L.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for wl in c.workloads():
            r = lambda d, ref: fmt(med(c.ratios(wl, d, ref)))
            L.append(f"| {wl} | {r('dm-linear', 'raw')} | {r('file', 'raw')} | "
                     f"{r('loop', 'raw')} | {r('loop-dio', 'raw')} | "
                     f"{spread(c.ratios(wl, 'loopmap', 'raw'))} | "
                     f"{r('loop', 'dm-linear')} | {r('loop-dio', 'dm-linear')} | "
                     f"{spread(c.ratios(wl, 'loopmap', 'dm-linear'))} | "
                     f"{spread(c.ratios(wl, 'loopmap', 'raw', 'cpu_us_per_io'))} | "
                     f"{fmt(med(c.ratios(wl, 'loop-dio', 'raw', 'cpu_us_per_io')))} |")
        L.append("")

    # First writes into holes.
    L.append("## First writes into holes")
    L.append("")
    L.append("4k random writes at queue depth 1 into a fresh sparse image per round; "
             "each block written once.")
    L.append("")
    L.append("| config | device | IOPS | ÷ loop-dio | p50 µs | p99 µs | CPU µs/IO |")
    L.append("|---|---|---|---|---|---|---|")
    for c in configs:
        for wl in c.holes():
            for d in HOLE_DEVICES:
                if not c.vals(wl, d):
                    continue
                L.append(f"| {c.name} | {LABEL[d]} | {spread(c.vals(wl, d), 0)} | "
                         f"{fmt(med(c.ratios(wl, d, 'loop-dio')))} | {latencies(c, wl, d)} | "
                         f"{fmt(med(c.vals(wl, d, 'cpu_us_per_io')), 1)} |")
    L.append("")

    # Setup.
    L.append("## losetup setup time, 64 GiB sparse image")
    L.append("")
    L.append("LOOP_CONFIGURE: the ioctl's time (strace -T). losetup: the command's wall "
             "time, mostly exec under TCG. Median (min-max) of the repeats; loopmap "
             "and classic interleaved.")
    L.append("")
    L.append("| vCPU | fs | loopmap LOOP_CONFIGURE ms | classic LOOP_CONFIGURE ms | "
             "loopmap losetup ms | classic losetup ms | extent_map |")
    L.append("|---|---|---|---|---|---|---|")
    for cpus, st in setups:
        for fs in sorted({r["fs"] for r in st}):
            g = lambda mode, k: [float(r[k]) for r in st if r["fs"] == fs and r["mode"] == mode]
            em = sorted({r["extent_map"] for r in st if r["fs"] == fs and r["mode"] == "loopmap"})
            L.append(f"| {cpus} | {fs} | {spread(g('loopmap', 'ioctl_ms'), 1)} | "
                     f"{spread(g('classic', 'ioctl_ms'), 1)} | "
                     f"{spread(g('loopmap', 'wall_ms'), 0)} | "
                     f"{spread(g('classic', 'wall_ms'), 0)} | {','.join(em)} |")
    L.append("")

    # Details.
    L.append("## Details")
    L.append("")
    L.append("Median (min-max) over the rounds. Absolute numbers are TCG numbers: "
             "compare within a block only.")
    L.append("")
    L.append("| config | workload | device | IOPS or MB/s | p50 µs | p99 µs | CPU µs/IO |")
    L.append("|---|---|---|---|---|---|---|")
    for c in configs:
        for wl in c.workloads():
            for d in DEVICES:
                if not c.vals(wl, d):
                    continue
                L.append(f"| {c.name} | {wl} ({unit(wl)}) | {LABEL[d]} | "
                         f"{spread(c.vals(wl, d), 0)} | {latencies(c, wl, d)} | "
                         f"{spread(c.vals(wl, d, 'cpu_us_per_io'), 1)} |")
    L.append("")
    L.append("## Notes")
    L.append("")
    for cpus, calib, counters, errs in notes:
        L.append(f"- {cpus} vCPU: calibration (the two /proc/stat snapshots of a job) "
                 f"cost {fmt(med(calib) / USER_HZ * 1000, 0)} ms of CPU "
                 f"(range {fmt(min(calib) / USER_HZ * 1000, 0)}-"
                 f"{fmt(max(calib) / USER_HZ * 1000, 0)}), subtracted from every job.")
        if errs:
            L.append(f"- {cpus} vCPU: {len(errs)} fio jobs reported errors: "
                     + ", ".join(f"{e['fs']}.{e['workload']}.{e['device']}.r{e['round']}"
                                 for e in errs))
        if counters.strip():
            L.append(f"- {cpus} vCPU: loopmap debugfs counters after each round:")
            L.append("")
            L.append("  ```")
            for line in counters.strip().splitlines():
                L.append("  " + line.strip())
            L.append("  ```")
    L.append("")
    with open(os.path.join(run, "report.md"), "w") as f:
        f.write("\n".join(L))

    # Plot data: one block per configuration (gnuplot index), one line per
    # workload: throughput ratio to raw of each device, then CPU per I/O
    # ratio to raw.
    with open(os.path.join(run, "plot.dat"), "w") as f:
        for i, c in enumerate(configs):
            if i:
                f.write("\n\n")
            f.write(f"# {c.key}\n")
            f.write("workload dm-linear file loop loop-dio loopmap "
                    "cpu-dm cpu-file cpu-loop cpu-loop-dio cpu-loopmap\n")
            for wl in c.workloads():
                xs = [med(c.ratios(wl, d, "raw")) for d in DEVICES[1:]]
                ys = [med(c.ratios(wl, d, "raw", "cpu_us_per_io")) for d in DEVICES[1:]]
                f.write(wl + " " + " ".join("NaN" if x != x else f"{x:.3f}"
                                            for x in xs + ys) + "\n")
    with open(os.path.join(run, "plot.titles"), "w") as f:
        f.write(" ".join(c.key for c in configs) + "\n")


if __name__ == "__main__":
    main()
