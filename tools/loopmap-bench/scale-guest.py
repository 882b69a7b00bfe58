#!/usr/bin/env python3
"""Guest side of scale.sh: attach and detach many loop devices.

    scale-guest.py [--count 1000] [--rounds 2] [--image-size 1M]

On an ext4 host filesystem on /dev/ram1, COUNT sparse images; COUNT loop
devices made beforehand (LOOP_CTL_ADD), so that only binding is
measured.  Each round binds every device to its image with LOOP_CONFIGURE
and unbinds them all (LOOP_CLR_FD, then the last close, where loop tears
the binding down), once in extent-mapped mode (the module parameter
extent_map at 1) and once classic (0), the order alternating by round.
One process makes every call, so the times are the kernel's and not
losetup's fork and exec.  Kernel memory per device: /proc/meminfo's
Slab + Percpu + KernelStack + PageTables + VmallocUsed with every device
bound, minus the same before, after dropping caches, divided by COUNT;
for extent-mapped mode "before" is before the first round, because a
device keeps that mode's resources from its first extent-mapped binding
until it is removed, so what a rebinding reuses is counted in every
round, and "left after detach" shows it.
The mode of every bound device is checked (sysfs loop/extent_map).
Round 1 binds fresh devices, the first extent-mapped binding of each one,
which makes its queue blocking for good and allocates the mode's
resources; later rounds rebind devices that have both already.  The first round
is reported on its own row, and the medians (of every round) are the
rebinding cost once there are three rounds or more.
Writes scale.json and scale.md to $LOOPMAP_OUT.
"""
import argparse
import fcntl
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import time

LOOP_CLR_FD = 0x4C01
LOOP_CONFIGURE = 0x4C0A
LOOP_CTL_ADD = 0x4C80
PARAM = "/sys/module/loop/parameters/extent_map"
KERNEL_MEM = ["Slab", "Percpu", "KernelStack", "PageTables", "VmallocUsed"]


def meminfo():
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            key, val = line.split(":")
            out[key] = int(val.split()[0])
    return sum(out[k] for k in KERNEL_MEM), {k: out[k] for k in KERNEL_MEM}


def loop_config(fd):
    # struct loop_config: fd, block_size, struct loop_info64 (232 bytes),
    # __reserved[8]; all zero but the fd: offset 0, read-write.
    return struct.pack("=II", fd, 0) + bytes(232) + bytes(64)


def set_param(value):
    if os.path.exists(PARAM):
        with open(PARAM, "w") as f:
            f.write(f"{value}\n")


def one_pass(mode, count, images, base=None):
    """One binding and unbinding of every device.  Memory is counted from
    base (the state before any binding, for extent-mapped mode: a device
    keeps that mode's resources from its first binding until it is
    removed) or else from just before this pass."""
    want = "1" if mode == "loopmap" else "0"
    set_param(want)
    os.sync()
    before, parts_before = base if base else meminfo()
    fds = []
    t0 = time.monotonic()
    for i in range(count):
        dev = os.open(f"/dev/loop{i}", os.O_RDWR)
        img = os.open(images[i], os.O_RDWR)
        fcntl.ioctl(dev, LOOP_CONFIGURE, loop_config(img))
        os.close(img)
        fds.append(dev)
    attach = time.monotonic() - t0
    set_param("1")
    wrong = 0
    if os.path.exists(PARAM):
        for i in range(count):
            with open(f"/sys/block/loop{i}/loop/extent_map") as f:
                if f.read().strip() != want:
                    wrong += 1
    if wrong:
        sys.exit(f"{mode}: {wrong} of {count} devices not in mode {want}")
    bound, parts_bound = meminfo()
    t0 = time.monotonic()
    for dev in fds:
        fcntl.ioctl(dev, LOOP_CLR_FD)
        os.close(dev)
    detach = time.monotonic() - t0
    after, _ = meminfo()
    return {
        "mode": mode,
        "attach_s": attach,
        "detach_s": detach,
        "kib_per_device": (bound - before) / count,
        "parts_kib_per_device": {k: (parts_bound[k] - parts_before[k]) / count
                                 for k in KERNEL_MEM},
        "kib_left_per_device": (after - before) / count,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--image-size", default="1M")
    args = ap.parse_args()
    out = os.environ["LOOPMAP_OUT"]
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.count + 256,) * 2)

    mnt = "/mnt/scale"
    os.makedirs(mnt, exist_ok=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "4096", "/dev/ram1"], check=True)
    subprocess.run(["mount", "-t", "ext4", "/dev/ram1", mnt], check=True)
    size = int(subprocess.run(["numfmt", "--from=iec", args.image_size], check=True,
                              capture_output=True, text=True).stdout)
    images = []
    for i in range(args.count):
        path = f"{mnt}/img{i}"
        with open(path, "wb") as f:
            f.truncate(size)
        images.append(path)
    with open("/dev/loop-control", "rb") as ctl:
        for i in range(args.count):
            try:
                fcntl.ioctl(ctl, LOOP_CTL_ADD, i)
            except FileExistsError:
                pass
    for i in range(args.count):
        while not os.path.exists(f"/dev/loop{i}"):
            time.sleep(0.01)

    results = []
    base = meminfo()
    for r in range(args.rounds):
        order = ["loopmap", "classic"] if r % 2 == 0 else ["classic", "loopmap"]
        for mode in order:
            if mode == "loopmap" and not os.path.exists(PARAM):
                continue
            res = one_pass(mode, args.count, images,
                           base if mode == "loopmap" else None)
            res["round"] = r + 1
            print(json.dumps(res), flush=True)
            results.append(res)
    with open(f"{out}/scale.json", "w") as f:
        json.dump({"count": args.count, "image_size": args.image_size,
                   "kernel": os.uname().release, "results": results}, f, indent=1)

    def med(mode, key):
        vals = [r[key] for r in results if r["mode"] == mode]
        return statistics.median(vals) if vals else float("nan")

    modes = [m for m in ("loopmap", "classic") if any(r["mode"] == m for r in results)]
    lines = [f"{args.count} loop devices on sparse {args.image_size} images, ext4 on brd; "
             f"{args.rounds} rounds, median; kernel {os.uname().release}, "
             f"{os.cpu_count()} vCPU.", "",
             "| | " + " | ".join(modes) + (" | loopmap ÷ classic |" if len(modes) == 2 else " |"),
             "|---" * (len(modes) + 1 + (len(modes) == 2)) + "|"]

    def first(mode, key):
        vals = [r[key] for r in results if r["mode"] == mode and r["round"] == 1]
        return vals[0] if vals else float("nan")

    for key, label, fmt in [("attach_s", "attach all, s", "{:.2f}"),
                            ("first_attach_s", "attach all in round 1 (loopmap: "
                             "each device's first binding), s", "{:.2f}"),
                            ("detach_s", "detach all, s", "{:.2f}"),
                            ("kib_per_device", "kernel memory per bound device, KiB", "{:.1f}"),
                            ("first_kib_per_device", "the same in round 1 (loopmap "
                             "first, fresh devices), KiB", "{:.1f}"),
                            ("kib_left_per_device", "left after detach, KiB per device", "{:.1f}")]:
        if key.startswith("first_"):
            vals = [first(m, key[len("first_"):]) for m in modes]
        else:
            vals = [med(m, key) for m in modes]
        row = f"| {label} | " + " | ".join(fmt.format(v) for v in vals)
        if len(modes) == 2:
            ratio = vals[0] / vals[1] if vals[1] else float("nan")
            row += f" | {ratio:.2f}"
        lines.append(row + " |")
    lines += ["", "Kernel memory per bound device by /proc/meminfo field, KiB (median):", "",
              "| field | " + " | ".join(modes) + " |", "|---" * (len(modes) + 1) + "|"]
    for k in KERNEL_MEM:
        vals = [statistics.median([r["parts_kib_per_device"][k] for r in results
                                   if r["mode"] == m]) for m in modes]
        lines.append(f"| {k} | " + " | ".join(f"{v:.1f}" for v in vals) + " |")
    with open(f"{out}/scale.md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
