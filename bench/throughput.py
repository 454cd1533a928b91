#!/usr/bin/env python3
"""End-to-end write throughput and CPU: logguard vs json-file vs a null reader, through a real
dockerd.

usage: bench/throughput.py --build-dir BUILD [--gib 1.0] [--repeat 2] [--cases n,a,b,c,d,e]

One private engine (tests/e2e/harness.py: own dockerd, busybox image, managed plugin packaged
from BUILD), with a second managed plugin, `nullreader` (bench/null_reader.cpp, built with
-DLOGGUARD_BENCH=ON; bench/null_plugin.py). One container per case writes GIB GiB of 100-byte
lines to stdout (`yes <99 chars> | dd bs=65536 iflag=fullblock count=K`, K a multiple of 25 so
the input is whole lines), detached (an attached `docker run` would also copy everything to the
client):

  n  null reader: reads each FIFO (made 1 MiB) 1 MiB at a time, 1 ms sleep after each read,
     discards everything: the ceiling of any plugin
  a  logguard  rate=off,compress=false,max-size=100m,max-file=3
  b  logguard  rate=off,compress=true (gzip),max-size=100m,max-file=3
  c  logguard  rate=off,compress=zstd,max-size=100m,max-file=3
  d  json-file max-size=100m,max-file=3                       (the baseline)
  e  logguard  rate=1k,burst=1k,compress=false,max-size=100m,max-file=3  (drop path)

The plugin runs with NODE_WRITE_RATE=off (the node budget would cut a flood on a slow disk, and
this measures CPU, not the disk). Rounds are interleaved (every case once per round, each round
starting one case further on), and every ratio is taken within a round, then the median over
rounds is printed, so a machine whose load drifts between rounds still compares like with like.

Per case: container run time (docker inspect StartedAt -> FinishedAt), docker run -d + docker wait
wall time, MB/s of input (1 MB = 1e6 bytes) over the run time, and CPU seconds (utime+stime from
/proc/PID/stat, before/after) of the plugin, dockerd, containerd and the container's
containerd-shim. The shim is not a child of dockerd or containerd (it is re-parented to init), so
it is sampled every 0.1 s while it lives; up to its last 0.1 s may be missed. For logguard with
compression the "after" sample is taken once the background compression has finished (no plain
rotated file, no temp left), so compression CPU is counted; the time it took is printed.
Exits 0 when every case ran (figures are informative; goals are printed, not enforced).
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
import harness  # noqa: E402
import null_plugin  # noqa: E402

LINE = "x" * 99  # 100 bytes with the newline `yes` adds
BLOCK = 65536
GIB = 1 << 30

BASE_OPTS = {"max-size": "100m", "max-file": "3"}
CASES = {
    "n": ("null reader", null_plugin.NAME, {}),
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


def run_case(engine, sampler, key, blocks, plugin_pids, containerd, compress_timeout):
    label, driver, opts = CASES[key]
    plugin_pid = plugin_pids.get(driver)
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


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def per_gib(result, field, gib):
    return None if result[field] is None else result[field] / gib


def derive(r, input_bytes, gib):
    """Adds a run's rates: MB/s, CPU per GiB of input, total CPU."""
    r["mb_s"] = input_bytes / 1e6 / r["run_s"] if r["run_s"] > 0 else None
    for name in ("plugin", "dockerd"):
        r[name + "_gib"] = per_gib(r, name + "_cpu", gib)
    parts = [r[f] for f in ("plugin_cpu", "dockerd_cpu", "containerd_cpu", "shim_cpu")
             if r[f] is not None]
    r["total_cpu"] = sum(parts)


def round_ratios(round_results):
    """Ratios within one round: {case: {name: value}}."""
    out = {}
    n, d = round_results.get("n"), round_results.get("d")
    for key, r in round_results.items():
        out[key] = {
            "mb_vs_null": ratio(r["mb_s"], n and n["mb_s"]),
            "mb_vs_json": ratio(r["mb_s"], d and d["mb_s"]),
            "dockerd_vs_null": ratio(r["dockerd_gib"], n and n["dockerd_gib"]),
            "dockerd_vs_json": ratio(r["dockerd_gib"], d and d["dockerd_gib"]),
            "plugin_vs_dockerd": ratio(r["plugin_gib"], r["dockerd_gib"]),
        }
    return out


def print_goals(res, ratios, lines, gib):
    ok = lambda good: "n/a" if good is None else ("ok" if good else "MISSED")  # noqa: E731
    at_least = lambda v, goal: None if v is None else v >= goal  # noqa: E731
    at_most = lambda v, goal: None if v is None else v <= goal  # noqa: E731
    print()
    print("Goals (medians of the per-round ratios)")
    goals = [
        ("b", "mb_vs_null", "throughput gzip / null reader", ">= 0.90", at_least, 0.90),
        ("a", "mb_vs_null", "throughput compress=false / null reader", ">= 0.95", at_least, 0.95),
        ("b", "dockerd_vs_null", "dockerd CPU/GiB gzip / null reader", "<= 1.05", at_most, 1.05),
        ("a", "dockerd_vs_null", "dockerd CPU/GiB compress=false / null reader", "<= 1.05",
         at_most, 1.05),
        ("b", "plugin_vs_dockerd", "plugin CPU/GiB gzip (compression included) / dockerd's",
         "<= 0.25", at_most, 0.25),
        ("e", "plugin_vs_dockerd", "drop path (e): plugin CPU / dockerd's, same bytes", "<= 0.05",
         at_most, 0.05),
    ]
    for key, field, text, goal, check, bound in goals:
        if key not in ratios:
            continue
        value = ratios[key][field]
        print("  %-56s %6s  goal %s: %s" % (text, fmt(value, "%.3f"), goal,
                                             ok(check(value, bound))))
    if "e" in res:
        e = res["e"]
        written, dropped = e["written_lines"], e["dropped_lines"]
        print()
        print("Drop path (e: rate=1k,burst=1k), last round")
        print("  lines: %d written + %d dropped (notices) = %d; container wrote %d: %s" % (
            written, dropped, written + dropped, lines,
            "exact" if written + dropped == lines else "MISMATCH"))
        if "a" in res:
            print("  plugin CPU per GiB dropped / per GiB written (a): %s" % fmt(
                ratio(e["plugin_gib"], res["a"]["plugin_gib"]), "%.3f"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--gib", type=float, default=1.0, help="GiB each container writes")
    parser.add_argument("--repeat", type=int, default=2,
                        help="interleaved rounds (every case once per round); medians reported")
    parser.add_argument("--cases", default="n,a,b,c,d,e", help="subset of n,a,b,c,d,e")
    parser.add_argument("--compress-timeout", type=float, default=600,
                        help="seconds to wait for background compression after a container ends")
    parser.add_argument("--json", help="also write the raw figures to this file")
    args = parser.parse_args()
    if not harness.start_as_root("throughput"):
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

    engine = harness.Engine(args.build_dir)
    sampler = None
    rounds = []
    try:
        started = time.monotonic()
        engine.start()
        engine.configure_plugin(NODE_WRITE_RATE="off")
        pids = {"logguard": engine.plugin_pid()}
        if "n" in cases:
            pids[null_plugin.NAME] = null_plugin.install(engine, args.build_dir)
        containerd = containerd_pid(engine)
        print("engine ready in %.1f s (%s); plugin pids %s%s, dockerd pid %d, containerd pid %s"
              % (time.monotonic() - started, engine.dir, pids,
                 "" if check_plugin_pid(engine, pids["logguard"])
                 else " (logguard NOT under this engine's shim!)",
                 engine.dockerd_pid(), containerd), flush=True)
        print("input per container: %d bytes = %.3f GiB = %d lines of 100 bytes (dd count=%d)"
              % (input_bytes, gib, lines, blocks), flush=True)
        print("load average at start: %s" % " ".join(open("/proc/loadavg").read().split()[:3]),
              flush=True)
        sampler = ShimSampler(engine)
        for rep in range(args.repeat):
            order = cases[rep % len(cases):] + cases[:rep % len(cases)]
            results = {}
            for key in order:
                r = run_case(engine, sampler, key, blocks, pids, containerd,
                             args.compress_timeout)
                derive(r, input_bytes, gib)
                results[key] = r
                print("  %s round %d: %-24s exit %d, run %.2f s (%s MB/s), plugin %s s, dockerd "
                      "%s s, shim %s s%s" % (
                          key, rep + 1, r["label"], r["exit"], r["run_s"], fmt(r["mb_s"], "%.1f"),
                          fmt(r["plugin_cpu"]), fmt(r["dockerd_cpu"]), fmt(r["shim_cpu"]),
                          "" if r["compress_wait_s"] is None
                          else ", compression done %.1f s after exit" % r["compress_wait_s"]),
                      flush=True)
            rounds.append(results)
        print("load average at end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    finally:
        if sampler:
            sampler.stop()
        engine.stop()

    res = {}
    for key in cases:
        runs = [rnd[key] for rnd in rounds]
        merged = dict(runs[-1])
        for field in ("run_s", "wall_s", "mb_s", "plugin_cpu", "dockerd_cpu", "containerd_cpu",
                      "shim_cpu", "total_cpu", "plugin_gib", "dockerd_gib", "compress_wait_s"):
            merged[field] = median(r[field] for r in runs)
        res[key] = merged
    per_round = [round_ratios(rnd) for rnd in rounds]
    ratios = {key: {name: median(pr[key][name] for pr in per_round)
                    for name in per_round[0][key]} for key in cases}

    print()
    print("Throughput, %.3f GiB of 100-byte lines per container, median of %d interleaved "
          "round(s)" % (gib, args.repeat))
    header = "%-26s %6s %6s %6s %8s %6s %6s %8s %7s %7s %7s" % (
        "case", "MB/s", "x null", "x json", "dockerd", "x null", "x json", "plugin", "plug/d",
        "total s", "compr.s")
    print(header)
    print("%-26s %6s %6s %6s %8s %6s %6s %8s %7s %7s %7s" % (
        "", "", "", "", "s/GiB", "", "", "s/GiB", "", "", ""))
    print("-" * len(header))
    for key in cases:
        r, q = res[key], ratios[key]
        print("%-26s %6s %6s %6s %8s %6s %6s %8s %7s %7.1f %7s" % (
            key + " " + r["label"], fmt(r["mb_s"], "%.1f"), fmt(q["mb_vs_null"]),
            fmt(q["mb_vs_json"]), fmt(r["dockerd_gib"]), fmt(q["dockerd_vs_null"]),
            fmt(q["dockerd_vs_json"]), fmt(r["plugin_gib"]), fmt(q["plugin_vs_dockerd"], "%.3f"),
            r["total_cpu"], fmt(r["compress_wait_s"], "%.1f")))
    print("(MB/s: input over the container's run time (StartedAt->FinishedAt); CPU: utime+stime"
          " per GiB of input; plugin s/GiB for gzip/zstd counts background compression until the"
          " last rotation is compressed (compr.s after the container exited); x null, x json:"
          " ratio to the null reader's and json-file's figure of the same round; plug/d: plugin"
          " CPU / dockerd CPU of the same run; total s: plugin+dockerd+containerd+shim)")
    print_goals(res, ratios, lines, gib)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"input_bytes": input_bytes, "rounds": rounds}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
