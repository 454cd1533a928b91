#!/usr/bin/env python3
"""End-to-end write throughput and CPU: logguard vs json-file, through a real dockerd.

usage: bench/throughput.py --build-dir BUILD [--gib 1.0] [--repeat 1] [--cases a,b,c,d,e]

One private engine (tests/e2e/harness.py: own dockerd, busybox image, managed plugin packaged
from BUILD). One container per case writes GIB GiB of 100-byte lines to stdout
(`yes <99 chars> | dd bs=65536 iflag=fullblock count=K`, K a multiple of 25 so the input is
whole lines), detached (an attached `docker run` would also copy everything to the client):

  a  logguard  rate=off,compress=false,max-size=100m,max-file=3
  b  logguard  rate=off,compress=true (gzip),max-size=100m,max-file=3
  c  logguard  rate=off,compress=zstd,max-size=100m,max-file=3
  d  json-file max-size=100m,max-file=3                       (the baseline)
  e  logguard  rate=1k,burst=1k,compress=false,max-size=100m,max-file=3  (drop path)

Per case: container run time (docker inspect StartedAt -> FinishedAt), docker run -d + docker wait
wall time, MB/s of input (1 MB = 1e6 bytes) over the run time, and CPU seconds (utime+stime from
/proc/PID/stat, before/after) of the plugin, dockerd, containerd and the container's
containerd-shim. The shim is not a child of dockerd or containerd (it is re-parented to init), so
it is sampled every 0.1 s while it lives; up to its last 0.1 s may be missed. For logguard with
compression the "after" sample is taken once the background compression has finished (no plain
rotated file, no temp left), so compression CPU is counted; the time it took is printed.
Exits 0 when every case ran (figures are informative; goals are not enforced).
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
import harness  # noqa: E402

LINE = "x" * 99  # 100 bytes with the newline `yes` adds
BLOCK = 65536
GIB = 1 << 30

BASE_OPTS = {"max-size": "100m", "max-file": "3"}
CASES = {
    "a": ("logguard compress=false", "logguard", dict(BASE_OPTS, rate="off", compress="false")),
    "b": ("logguard compress=gzip", "logguard", dict(BASE_OPTS, rate="off", compress="true")),
    "c": ("logguard compress=zstd", "logguard", dict(BASE_OPTS, rate="off", compress="zstd")),
    "d": ("json-file", "json-file", dict(BASE_OPTS)),
    "e": ("logguard drop 1k/s", "logguard",
          dict(BASE_OPTS, rate="1k", burst="1k", compress="false")),
}


# ---- CPU of the engine's processes ----

def cpu_or_none(pid):
    try:
        return harness.cpu_seconds(pid)
    except (OSError, TypeError):
        return None


def cmdline(pid):
    try:
        return open("/proc/%d/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def containerd_pid(engine):
    """containerd started by this engine's dockerd (its child)."""
    dockerd = engine.dockerd_pid()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open("/proc/%s/stat" % entry).read()
            except OSError:
                continue
            if "(containerd)" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == dockerd:
                return int(entry)
    return None


def check_plugin_pid(engine, pid):
    """True if pid's parent is a shim of this engine (not the plugin of another engine)."""
    try:
        ppid = int(open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[1])
    except (OSError, TypeError):
        return False
    return os.path.join(engine.dir, "exec") in cmdline(ppid)


class ShimSampler:
    """Samples the CPU of this engine's container shims (namespace moby) every `interval` s.
    New processes are recognised by their command line; a process's last sample is kept after
    it exits."""

    def __init__(self, engine, interval=0.1):
        self.marker = os.path.join(engine.dir, "exec")
        self.interval = interval
        self.known = {}      # pid -> cid (the shim's -id) for shims of ours
        self.ignored = set()
        self.last = {}       # pid -> last CPU seconds seen
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.scan()          # shims already there (the plugin's) are recorded too
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def scan(self):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid in self.known or pid in self.ignored:
                continue
            line = cmdline(pid)
            if "containerd-shim" in line and self.marker in line and "-namespace moby " in line:
                args = line.split()
                cid = args[args.index("-id") + 1] if "-id" in args else "?"
                with self.lock:
                    self.known[pid] = cid
            else:
                self.ignored.add(pid)
        for pid in list(self.known):
            value = cpu_or_none(pid)
            if value is not None:
                with self.lock:
                    self.last[pid] = value

    def loop(self):
        while not self.stop_event.wait(self.interval):
            self.scan()

    def cpu_of(self, cid):
        with self.lock:
            return sum(self.last.get(pid, 0.0) for pid, c in self.known.items() if c == cid)

    def stop(self):
        self.stop_event.set()
        self.thread.join()


# ---- one case ----

def compression_idle(directory, cid):
    """No plain rotated file and no compression temp left in a logguard container dir."""
    base = cid + "-json.log."
    try:
        names = os.listdir(directory)
    except OSError:
        return True
    for name in names:
        if name.endswith(".tmp"):
            return False
        if name.startswith(base) and name[len(base):].isdigit():
            return False
    return True


def wait_compression(engine, cid, timeout):
    directory = engine.log_dir(cid)
    started = time.monotonic()
    idle_polls = 0
    while time.monotonic() - started < timeout:
        idle_polls = idle_polls + 1 if compression_idle(directory, cid) else 0
        if idle_polls >= 3:
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def count_lines(engine, cid):
    """(written lines, dropped lines from notices) of a logguard container's files."""
    written = dropped = 0
    for record in harness.all_records(engine.log_dir(cid), cid):
        if harness.is_notice(record):
            dropped += int(record["attrs"]["logguard.dropped_lines"])
        else:
            written += 1
    return written, dropped


def run_case(engine, sampler, key, blocks, plugin_pid, containerd, compress_timeout):
    label, driver, opts = CASES[key]
    script = "yes %s | dd bs=%d count=%d iflag=fullblock 2>/dev/null" % (LINE, BLOCK, blocks)
    dockerd = engine.dockerd_pid()
    before = {"plugin": cpu_or_none(plugin_pid), "dockerd": cpu_or_none(dockerd),
              "containerd": cpu_or_none(containerd)}
    t0 = time.monotonic()
    cid, _ = engine.run(script, driver=driver, opts=opts, detach=True)
    status = engine.wait(cid, timeout=7200)
    wall = time.monotonic() - t0
    state = engine.inspect(cid)["State"]
    run_s = harness.run_seconds(state)
    compress_s = None
    if driver == "logguard" and opts.get("compress") not in (None, "false"):
        compress_s = wait_compression(engine, cid, compress_timeout)
    time.sleep(0.3)  # let the sampler see the shim's end
    after = {"plugin": cpu_or_none(plugin_pid), "dockerd": cpu_or_none(dockerd),
             "containerd": cpu_or_none(containerd)}
    result = {"case": key, "label": label, "cid": cid, "exit": status, "run_s": run_s,
              "wall_s": wall, "compress_wait_s": compress_s}
    for name in before:
        result[name + "_cpu"] = (after[name] - before[name]
                                 if before[name] is not None and after[name] is not None else None)
    result["shim_cpu"] = sampler.cpu_of(cid)
    if key == "e":
        result["written_lines"], result["dropped_lines"] = count_lines(engine, cid)
    # Free the disk: json-file's files go with the container, logguard's stay in its log root.
    engine.docker("rm", "-f", cid, check=False)
    if driver == "logguard":
        shutil.rmtree(engine.log_dir(cid), ignore_errors=True)
    return result


# ---- report ----

def fmt(value, spec="%.2f"):
    return "n/a" if value is None else spec % value


def ratio(a, b):
    return None if a is None or b in (None, 0) else a / b


def median_result(results):
    """Median of each numeric figure over repeats of one case."""
    merged = dict(results[0])
    for field in ("run_s", "wall_s", "plugin_cpu", "dockerd_cpu", "containerd_cpu", "shim_cpu",
                  "compress_wait_s"):
        values = [r[field] for r in results if r[field] is not None]
        merged[field] = statistics.median(values) if values else None
    return merged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--gib", type=float, default=1.0, help="GiB each container writes")
    parser.add_argument("--repeat", type=int, default=1, help="runs per case (median reported)")
    parser.add_argument("--cases", default="a,b,c,d,e", help="subset of a,b,c,d,e")
    parser.add_argument("--compress-timeout", type=float, default=600,
                        help="seconds to wait for background compression after a container ends")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (it runs dockerd)", file=sys.stderr)
        return 1
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error("unknown cases: %s" % ",".join(unknown))

    # 65536 * 25 bytes = 16384 whole 100-byte lines.
    blocks = max(25, int(round(args.gib * GIB / BLOCK / 25.0)) * 25)
    input_bytes = blocks * BLOCK
    lines = input_bytes // 100
    gib = input_bytes / GIB

    def terminate(signum, frame):
        raise SystemExit("throughput: stopped by signal %d" % signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    engine = harness.Engine(args.build_dir)
    sampler = None
    try:
        started = time.monotonic()
        engine.start()
        plugin_pid = engine.plugin_pid()
        containerd = containerd_pid(engine)
        print("engine ready in %.1f s (%s); plugin pid %s%s, dockerd pid %d, containerd pid %s"
              % (time.monotonic() - started, engine.dir, plugin_pid,
                 "" if check_plugin_pid(engine, plugin_pid) else " (NOT under this engine's shim!)",
                 engine.dockerd_pid(), containerd), flush=True)
        print("input per container: %d bytes = %.3f GiB = %d lines of 100 bytes (dd count=%d)"
              % (input_bytes, gib, lines, blocks), flush=True)
        sampler = ShimSampler(engine)
        per_case = {}
        for rep in range(args.repeat):
            for key in cases:
                r = run_case(engine, sampler, key, blocks, plugin_pid, containerd,
                             args.compress_timeout)
                per_case.setdefault(key, []).append(r)
                print("  %s run %d: %-24s exit %d, run %.2f s, wall %.2f s, plugin %s s, dockerd "
                      "%s s, shim %s s%s" % (
                          key, rep + 1, r["label"], r["exit"], r["run_s"], r["wall_s"],
                          fmt(r["plugin_cpu"]), fmt(r["dockerd_cpu"]), fmt(r["shim_cpu"]),
                          "" if r["compress_wait_s"] is None
                          else ", compression done %.1f s after exit" % r["compress_wait_s"]),
                      flush=True)
    finally:
        if sampler:
            sampler.stop()
        engine.stop()

    res = {k: median_result(v) for k, v in per_case.items()}
    for r in res.values():
        r["mb_s"] = input_bytes / 1e6 / r["run_s"] if r["run_s"] > 0 else None
        parts = [r[f] for f in ("plugin_cpu", "dockerd_cpu", "containerd_cpu", "shim_cpu")
                 if r[f] is not None]
        r["total_cpu"] = sum(parts)

    print()
    print("Throughput, %.3f GiB of 100-byte lines per container (median of %d run(s))"
          % (gib, args.repeat))
    header = "%-26s %8s %8s %8s %9s %9s %9s %8s %9s %9s" % (
        "case", "run s", "wall s", "MB/s", "plugin s", "dockerd s", "ctrd s", "shim s", "total s",
        "compr. s")
    print(header)
    print("-" * len(header))
    for key in cases:
        r = res[key]
        print("%-26s %8.2f %8.2f %8s %9s %9s %9s %8s %9.2f %9s" % (
            r["case"] + " " + r["label"], r["run_s"], r["wall_s"], fmt(r["mb_s"], "%.1f"),
            fmt(r["plugin_cpu"]), fmt(r["dockerd_cpu"]), fmt(r["containerd_cpu"]),
            fmt(r["shim_cpu"]), r["total_cpu"], fmt(r["compress_wait_s"], "%.1f")))
    print("(run s: StartedAt->FinishedAt; wall s: docker run -d + docker wait; MB/s: input over run s;"
          " CPU in seconds; total = plugin+dockerd+containerd+shim; compr. s: wait for background"
          " compression after exit, inside plugin s)")

    print()
    print("Ratios")
    if "a" in res and "d" in res:
        a, d = res["a"], res["d"]
        print("  throughput logguard(a) / json-file(d):       %s" % fmt(ratio(a["mb_s"], d["mb_s"])))
        print("  total CPU  logguard(a) / json-file(d):       %s" % fmt(ratio(a["total_cpu"],
                                                                            d["total_cpu"])))
        print("  dockerd CPU logguard(a) / json-file(d):      %s" % fmt(ratio(a["dockerd_cpu"],
                                                                            d["dockerd_cpu"])))
    if "a" in res:
        for key, name in (("b", "gzip"), ("c", "zstd")):
            if key in res:
                print("  throughput compress=%s / compress=false:   %s"
                      % (name, fmt(ratio(res[key]["mb_s"], res["a"]["mb_s"]))))
                print("  plugin CPU compress=%s / compress=false:   %s"
                      % (name, fmt(ratio(res[key]["plugin_cpu"], res["a"]["plugin_cpu"]))))
    if "e" in res:
        e = res["e"]
        written, dropped = e["written_lines"], e["dropped_lines"]
        print()
        print("Drop path (e: rate=1k,burst=1k)")
        print("  lines: %d written + %d dropped (notices) = %d; container wrote %d: %s" % (
            written, dropped, written + dropped, lines,
            "exact" if written + dropped == lines else "MISMATCH"))
        dropped_gib = dropped * 100 / GIB
        per_dropped = ratio(e["plugin_cpu"], dropped_gib)
        print("  plugin CPU per GiB dropped:                  %s s" % fmt(per_dropped, "%.3f"))
        if "a" in res:
            per_written = ratio(res["a"]["plugin_cpu"], gib)
            print("  plugin CPU per GiB written (a):              %s s" % fmt(per_written, "%.3f"))
            print("  ratio dropped / written:                     %s" % fmt(ratio(per_dropped,
                                                                                per_written), "%.3f"))
        print("  dockerd CPU per GiB in the drop case:        %s s" % fmt(ratio(e["dockerd_cpu"],
                                                                               gib), "%.3f"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"input_bytes": input_bytes, "runs": per_case}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
