#!/usr/bin/env python3
"""Turn profile-guest.sh's perf reports into CPU microseconds per I/O.

    profile.py OUTDIR [OUTDIR...]

Each OUTDIR is one guest run (its meta, fio.T.R.json, perf.T.R.txt).  A
cpu-clock sample stands for 1/freq s of one CPU, so a symbol's samples,
divided by freq and by the I/Os fio completed in the same recording, give
its CPU time per I/O.  Idle time (the idle loop's symbols) is left out.
Writes OUTDIR/profile.md for each run and prints it.
"""
import json
import os
import re
import sys
from collections import defaultdict

TARGETS = ["raw", "dm-linear", "file", "loopmap"]
IDLE = {
    "default_idle", "pv_native_safe_halt", "native_safe_halt", "arch_cpu_idle",
    "cpu_idle_poll", "do_idle", "acpi_safe_halt", "acpi_idle_do_entry",
    "mwait_idle", "intel_idle", "poll_idle", "default_idle_call",
    "cpuidle_enter_state", "cpu_startup_entry", "__cpuidle_text_start",
}
# (group, regular expression on the symbol), first match wins
GROUPS = [
    ("loop driver", r"^(loop_|lo_|__loop_)"),
    ("fsext maps, ext4/ext2", r"^(fsext_|__fsext_|ext4_|__ext4_|ext2_|jbd2_)"),
    ("device mapper", r"^(dm_|__dm_|linear_|__map_bio|__split_and_process|"
                      r"__send_|alloc_tio|free_tio|clone_endio|alloc_io|"
                      r"free_io|__clone_and_map|__bio_clone)"),
    ("brd (the disk)", r"^brd_"),
    ("RCU, SRCU", r"^(__)?s?rcu_|^__srcu|^srcu"),
    ("blk-mq, bio", r"^(__)?(blk_|bio_|submit_bio|bvec_|disk_|part_|"
                    r"update_io_ticks|mempool_|__submit_bio|blkcg_|"
                    r"rq_qos|bdev_|should_fail_bio|dd_|kyber_)"),
    ("direct I/O, iomap, block dev", r"^(__)?(iomap_|blkdev_|dio_|"
                                     r"filemap_|iov_iter|generic_file)"),
    ("memory copy, zeroing", r"^(__)?(mem(cpy|set|move)|copy_|_copy_|"
                             r"clear_page|rep_mov)"),
    ("slab, page allocator", r"^(__)?(kmem_cache_|kmalloc|kfree|slab_|"
                             r"___slab|__slab|alloc_pages|free_unref|"
                             r"get_page_from|rmqueue|__free_pages)"),
    ("syscall entry, VFS", r"^(entry_|do_syscall|syscall_|__x64_sys_|"
                           r"ksys_|vfs_|rw_verify|fdget|__fget|fput|"
                           r"security_|__fsnotify|fsnotify|"
                           r"exit_to_user|do_sys)"),
    ("scheduler, timers, IRQ", r"^(__)?(schedule|hrtimer|irq|handle_|"
                               r"sysvec_|asm_sysvec|timerqueue|tick_|"
                               r"update_|pick_|enqueue|dequeue|"
                               r"try_to_wake|ttwu|finish_task|"
                               r"psi_|raw_spin|_raw_spin|native_)"),
]


def read_meta(d):
    meta = {}
    with open(os.path.join(d, "meta")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return meta


def read_ios(path):
    with open(path) as f:
        text = f.read()
    # fio may print notes before the JSON
    data = json.loads(text[text.index("{"):])
    ios = 0
    for job in data["jobs"]:
        for kind in ("read", "write", "trim"):
            ios += job.get(kind, {}).get("total_ios", 0)
    return ios


LINE = re.compile(r"^\s*(\d+)\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$")


def read_samples(path):
    out = defaultdict(int)
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            n, dso, kind, sym = int(m[1]), m[2], m[3], m[4]
            if kind == "k":
                out[("kernel", sym)] += n
            else:
                out[("user", os.path.basename(dso))] += n
    return out


def group_of(key):
    where, sym = key
    if where == "user":
        return "user space (fio, libc)"
    if sym in IDLE:
        return None
    for name, pat in GROUPS:
        if re.search(pat, sym):
            return name
    return "other kernel"


def analyse(d):
    meta = read_meta(d)
    freq = float(meta["freq"])
    rounds = int(meta["rounds"])
    per_sym = {}      # target -> key -> us per I/O
    summary = {}      # target -> (ios, iops, busy us/io, idle share)
    for t in TARGETS:
        samples = defaultdict(int)
        ios = 0
        for r in range(1, rounds + 1):
            p = os.path.join(d, f"perf.{t}.{r}.txt")
            if not os.path.exists(p):
                continue
            for k, v in read_samples(p).items():
                samples[k] += v
            ios += read_ios(os.path.join(d, f"fio.{t}.{r}.json"))
        if not ios:
            continue
        idle = sum(v for k, v in samples.items() if group_of(k) is None)
        total = sum(samples.values())
        us = {k: v / freq / ios * 1e6 for k, v in samples.items()
              if group_of(k) is not None}
        per_sym[t] = us
        secs = float(meta["seconds"]) * rounds
        summary[t] = (ios, ios / secs, sum(us.values()),
                      idle / total if total else 0.0)
    return meta, per_sym, summary


def fmt(x):
    return f"{x:.2f}"


def report(d):
    meta, per_sym, summary = analyse(d)
    ts = [t for t in TARGETS if t in per_sym]
    lines = []
    lines.append(f"# Per-I/O profile: {meta['workload']}, {meta['cpus']} vCPU, "
                 f"{meta['fs']} host fs")
    lines.append("")
    lines.append(f"Kernel {meta['kernel']}; {meta['rounds']} interleaved rounds of "
                 f"{meta['seconds']} s per target; `perf record -a -e cpu-clock "
                 f"-F {meta['freq']}` around each fio run; {meta['perf']}. "
                 "CPU time per I/O = non-idle samples / frequency / I/Os. Under "
                 "TCG these are emulated-CPU microseconds: compare targets, not "
                 "absolute values. Clocksource at the start and end: "
                 f"{meta.get('clocksource', '?')}, {meta.get('clocksource_end', '?')}.")
    lines.append("")
    lines.append("| target | I/Os | IOPS | CPU µs per I/O | idle share |")
    lines.append("|---|---|---|---|---|")
    for t in ts:
        ios, iops, busy, idle = summary[t]
        lines.append(f"| {t} | {ios} | {iops:.0f} | {fmt(busy)} | {idle:.0%} |")
    lines.append("")
    if "raw" in summary and "dm-linear" in summary and "loopmap" in summary:
        raw = summary["raw"][2]
        dm = summary["dm-linear"][2] - raw
        lm = summary["loopmap"][2] - raw
        lines.append(f"Excess over raw: dm-linear {fmt(dm)} µs, loopmap {fmt(lm)} µs "
                     f"per I/O (loopmap's excess / dm-linear's: "
                     f"{lm / dm if dm > 0 else float('nan'):.2f}).")
        lines.append("")
    groups = defaultdict(lambda: defaultdict(float))
    for t in ts:
        for k, v in per_sym[t].items():
            groups[group_of(k)][t] += v
    lines.append("## CPU µs per I/O by subsystem")
    lines.append("")
    # the anchor: dm-linear, or for first writes into holes (no dm-linear)
    # fio O_DIRECT into holes of a file on the same fs
    ref = "dm-linear" if "dm-linear" in ts else "file"
    diff = "loopmap" in ts and ref in ts
    hdr = "| subsystem | " + " | ".join(ts) + " |"
    if diff:
        hdr += f" loopmap − {ref} |"
    lines.append(hdr)
    lines.append("|---" * (len(ts) + 1 + diff) + "|")
    order = sorted(groups, key=lambda g: -groups[g].get("loopmap", 0))
    for g in order:
        row = f"| {g} | " + " | ".join(fmt(groups[g].get(t, 0)) for t in ts) + " |"
        if diff:
            row += f" {groups[g].get('loopmap', 0) - groups[g].get(ref, 0):+.2f} |"
        lines.append(row)
    lines.append("")
    if "loopmap" in per_sym:
        lines.append("## Kernel symbols, by loopmap's CPU µs per I/O")
        lines.append("")
        lines.append("| symbol | subsystem | " + " | ".join(ts) + " |")
        lines.append("|---|---" + "|---" * len(ts) + "|")
        lm = per_sym["loopmap"]
        keys = [k for k in lm if k[0] == "kernel"]
        keys.sort(key=lambda k: -lm[k])
        for k in keys[:30]:
            lines.append(f"| `{k[1]}` | {group_of(k)} | " +
                         " | ".join(fmt(per_sym[t].get(k, 0)) for t in ts) + " |")
        lines.append("")
        extra = [k for k in lm if k[0] == "kernel" and
                 not any(per_sym[t].get(k) for t in ts if t != "loopmap")]
        extra.sort(key=lambda k: -lm[k])
        lines.append(f"Symbols only loopmap runs (absent from {' and '.join(t for t in ts if t != 'loopmap')}), "
                     "µs per I/O: " +
                     ", ".join(f"`{k[1]}` {fmt(lm[k])}" for k in extra[:25]) + ".")
        lines.append("")
    text = "\n".join(lines)
    with open(os.path.join(d, "profile.md"), "w") as f:
        f.write(text)
    return text


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    for d in sys.argv[1:]:
        print(report(d))


if __name__ == "__main__":
    main()
