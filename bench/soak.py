#!/usr/bin/env python3
"""Chaos soak: nothing one container, one file or one fault does takes logging down or loses a
line that was not announced.

usage: bench/soak.py [--build-dir BUILD] [--minutes 2] [--seed N] [--json FILE]

A private engine (--live-restore) with the logguard plugin at its defaults, its log root on a
small filesystem of its own (a loop device whose image is in /dev/shm). Twenty containers print
numbered lines at mixed paces while the soak injects faults one after another, a few seconds
apart, in a random order (--seed):

  kill-9        the plugin killed with SIGKILL (the engine starts it again)
  disable       `docker plugin disable -f`, 1-3 s, `docker plugin enable`
  dockerd       dockerd stopped (SIGTERM) and started again; containers go on (live-restore)
  fill          the log filesystem filled past NODE_MIN_FREE for a few seconds, then freed
  plant         links and FIFOs planted where the plugin writes: a symbolic link and a FIFO at
                rotated names of a container, a hard link at <root>/.logguard-probe, each
                pointing at a file of the soak's whose content must never change
  churn         a container that prints 5,000 lines and exits (some start, some end)

The containers (all at the plugin's defaults but where said): 4 floods (rate=off, as fast as
busybox awk goes), 4 floods at rate=200k (dropping), 8 steady (20 lines every 100 ms), 4 quiet
(a line every 500 ms). At the end each prints END <n> after a pause and exits. Then, for every
container, from its files (rotated and compressed ones included):
  - every line is there once and in order (numbers strictly increasing);
  - the lines missing are the ones its drop notices count (any limit: rate, node-free,
    restart...), exactly for a container whose files are all there, and within the notices that
    straddle the oldest kept file's start for one whose oldest files were rotated or evicted
    away (those lines and their counts went together);
  - its END line is there;
  - it never waited longer than the longest fault took (the gap between the engine's times of
    two consecutive lines, for the steady and quiet ones) plus 5 s;
and the planted targets are unchanged, the plugin's RSS stayed under 256 MiB. Prints the faults,
the lines written, kept, announced as dropped (by limit) and lost (must be 0); exits 1 on any
violation.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import harness  # noqa: E402

LOG_FS_MB = 2048
RSS_LIMIT = 256 << 20
BLOCK_SLACK = 5.0
# A notice's logguard.since is the plugin's clock when it dropped the line; a record's time is
# the engine's when it read it, earlier by the plugin's read delay. So a line dropped just
# before the oldest kept file's first line can carry a since just after that line's time: its
# notice counts a line from before the kept range. Notices this close to the start count as
# straddling it (once, in a CI run: one line over-counted, -1 unexplained).
STRADDLE_SLACK_NS = 2_000_000_000
PAD = "p" * 60


def log(text):
    print(text, flush=True)


# ---- what the containers run ----

def flood_script():
    # awk prints as fast as it can and looks for the stop flag every 5,000 lines.
    return ("awk 'BEGIN{for (i = 1; ; i++) {printf \"%%08d flood %s\\n\", i; "
            "if (i %% 5000 == 0 && (getline x < \"/go/stop\") > 0) break; close(\"/go/stop\")} "
            "system(\"sleep 2\"); printf \"END %%d\\n\", i}'" % PAD)


def paced_script(lines, pause):
    return ("i=0; while [ ! -e /go/stop ]; do j=0; while [ $j -lt %d ]; do i=$((i+1)); "
            "printf '%%08d paced %s\\n' $i; j=$((j+1)); done; sleep %s; done; sleep 2; "
            "echo END $i" % (lines, PAD, pause))


def churn_script(lines):
    return ("i=0; while [ $i -lt %d ]; do i=$((i+1)); printf '%%08d churn %s\\n' $i; done; "
            "echo END $i" % (lines, PAD))


KINDS = [  # (kind, count, script, log-opts)
    ("flood", 4, flood_script(), {"rate": "off", "max-size": "10m", "max-file": "20"}),
    ("limited", 4, flood_script(), {"rate": "200k", "burst": "1m", "max-size": "5m"}),
    ("steady", 8, paced_script(20, "0.1"), {}),
    ("quiet", 4, paced_script(1, "0.5"), {}),
]
CHURN_LINES = 5000


# ---- the soak's engine ----

class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.engine = None
        self.containers = {}   # cid -> kind
        self.faults = []       # (kind, seconds it took)
        self.rss_peak = 0
        self.rss_samples = 0
        self.victims = {}      # path -> content that must stay
        self.sampling = threading.Event()

    # -- set-up --
    def start(self, workdir, log_root):
        os.environ["DOCKERD_EXTRA_ARGS"] = "--live-restore"
        self.engine = harness.Engine(self.args.build_dir)
        self.engine.start()
        self.engine.configure_plugin(**{"logroot.source": log_root})
        self.engine.log_root = log_root  # where log_dir() looks
        self.plugin_id = self.engine.docker("plugin", "inspect", "-f", "{{.Id}}",
                                            harness.PLUGIN).stdout.decode().strip()
        self.log_root = log_root
        self.go = os.path.join(workdir, "go")
        os.makedirs(self.go)
        for path, content in (("victim-symlink", b"symlink target\n"),
                              ("victim-hardlink", b"hard link target\n")):
            full = os.path.join(workdir, path)
            with open(full, "wb") as f:
                f.write(content)
            self.victims[full] = content

    def run_container(self, kind, script, opts, detach=True):
        cid, _ = self.engine.run(script, opts=opts, detach=detach, volumes={self.go: "/go"})
        self.containers[cid] = kind
        return cid

    # -- faults --
    def kill_9(self):
        old = self.plugin_process()
        if old is None:
            raise RuntimeError("no plugin process to kill")
        os.kill(old, signal.SIGKILL)
        if not harness.wait_until(lambda: self.plugin_process() not in (None, old), 60, 0.1):
            raise RuntimeError("the engine did not start the plugin again")

    def disable_enable(self):
        self.engine.docker("plugin", "disable", "-f", harness.PLUGIN)
        time.sleep(self.rng.uniform(1, 3))
        self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)

    def restart_dockerd(self):
        pid = self.engine.dockerd_pid()
        os.kill(pid, signal.SIGTERM)
        if not harness.wait_until(lambda: not os.path.exists("/proc/%d" % pid), 60, 0.1):
            raise RuntimeError("dockerd did not stop")
        out = subprocess.run([os.path.join(REPO, "scripts", "dockerd.sh"), "start",
                              self.engine.dir], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("dockerd did not start again: " + out.stderr)

    def fill(self):
        """Fills the log filesystem past the plugin's 15 % floor, holds it, frees it."""
        st = os.statvfs(self.log_root)
        total, free = st.f_blocks * st.f_frsize, st.f_bavail * st.f_frsize
        target = max(0, int(free - 0.10 * total))
        path = os.path.join(os.path.dirname(self.log_root), "filler")
        with open(path, "wb") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(target >> 20):
                try:
                    f.write(chunk)
                except OSError:
                    break
        time.sleep(self.rng.uniform(3, 6))
        os.remove(path)

    def plant(self):
        """A symbolic link and a FIFO at rotated names of a flooding container, a hard link at
        the probe's file: the plugin must write through none of them, nor wait on the FIFO."""
        floods = [cid for cid, kind in self.containers.items() if kind == "flood"]
        cid = self.rng.choice(floods)
        directory = os.path.join(self.log_root, cid)
        base = os.path.join(directory, cid + "-json.log")
        symlink_victim, hardlink_victim = sorted(self.victims)
        for path, make in ((base + ".4", lambda p: os.symlink(symlink_victim, p)),
                           (base + ".3", lambda p: os.mkfifo(p))):
            try:
                os.lstat(path)
            except FileNotFoundError:
                try:
                    make(path)
                except OSError:
                    pass  # the directory went meanwhile
        probe = os.path.join(self.log_root, ".logguard-probe")
        try:
            os.remove(probe)
            os.link(hardlink_victim, probe)
        except OSError:
            pass

    def churn(self):
        cid = self.run_container("churn", churn_script(CHURN_LINES), {}, detach=False)
        return cid

    FAULTS = {"kill-9": kill_9, "disable": disable_enable, "dockerd": restart_dockerd,
              "fill": fill, "plant": plant, "churn": churn}

    def inject(self, deadline):
        order = list(self.FAULTS)
        while time.monotonic() < deadline:
            time.sleep(self.rng.uniform(3, 8))
            if time.monotonic() >= deadline:
                break
            if not order:
                order = list(self.FAULTS)
            kind = order.pop(self.rng.randrange(len(order)))
            started = time.monotonic()
            self.FAULTS[kind](self)
            took = time.monotonic() - started
            self.faults.append((kind, took))
            log("  %6.1f s  %-8s %.1f s" % (time.monotonic() - self.t0, kind, took))

    # -- the plugin's memory --
    def plugin_process(self):
        """The plugin's PID from /proc (no engine call: dockerd may be down); None if none."""
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if self.plugin_id in open("/proc/%s/cgroup" % entry).read() and \
                        os.readlink("/proc/%s/exe" % entry).endswith("/logguard"):
                    return int(entry)
            except OSError:
                continue
        return None

    def sample_rss(self):
        while not self.sampling.wait(1.0):
            pid = self.plugin_process()
            if not pid:
                continue
            try:
                for line in open("/proc/%d/status" % pid):
                    if line.startswith("VmRSS:"):
                        self.rss_peak = max(self.rss_peak, int(line.split()[1]) * 1024)
                        self.rss_samples += 1
            except OSError:
                pass

    # -- the run --
    def soak(self):
        for kind, count, script, opts in KINDS:
            for _ in range(count):
                self.run_container(kind, script, opts)
        self.t0 = time.monotonic()
        sampler = threading.Thread(target=self.sample_rss, daemon=True)
        sampler.start()
        try:
            self.inject(self.t0 + self.args.minutes * 60)
        finally:
            with open(os.path.join(self.go, "stop"), "w") as f:
                f.write("stop\n")  # awk's getline needs a line to read
            self.sampling.set()
            sampler.join()
        deadline = time.monotonic() + 300
        for cid in list(self.containers):
            try:
                self.engine.wait(cid, timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                running = [c[:12] + " " + k for c, k in self.containers.items()
                           if self.engine.inspect(c)["State"]["Running"]]
                raise RuntimeError("containers still running 300 s after the stop flag: %s; "
                                   "the engine's log is in %s" % (running, self.engine.dir))


# ---- checking what the logs hold ----

NUMBERED = re.compile(r"^(\d{8}) ")


def check_container(engine, cid, kind, longest_fault):
    """(problems, figures) of one container's logs."""
    directory = engine.log_dir(cid)
    files = harness.read_files(directory, cid)  # oldest first
    if not files and kind == "churn":
        # An ended container's logs are the first the guard deletes to keep the disk's floor.
        return [], {"kind": kind, "written": CHURN_LINES, "kept": 0, "announced": 0,
                    "dropped": {}, "rotated_away": CHURN_LINES, "straddling": 0,
                    "unexplained": 0, "blocked_s": 0.0, "files": 0}
    problems = []
    numbers, times, notices = [], [], []
    end = None
    first_file_start = None
    for path, records in files:
        for record in records:
            if first_file_start is None:
                first_file_start = harness.nanos(record["time"])
            if harness.is_notice(record):
                notices.append(record["attrs"])
                continue
            text = record["log"]
            if text.startswith("END "):
                end = int(text.split()[1])
                continue
            match = NUMBERED.match(text)
            if not match:
                problems.append("a line that is not the container's: %r" % text[:80])
                continue
            numbers.append(int(match.group(1)))
            times.append(harness.nanos(record["time"]))
    dropped = {}
    straddling = 0
    for attrs in notices:
        lines = int(attrs["logguard.dropped_lines"])
        for limit in attrs["logguard.limit"].split(","):
            dropped[limit] = dropped.get(limit, 0) + lines
        since = harness.nanos(attrs["logguard.since"])
        rotated_away = bool(numbers) and numbers[0] > 1  # else every notice is in range
        if rotated_away and since < first_file_start + STRADDLE_SLACK_NS:
            straddling += lines
    announced = sum(int(a["logguard.dropped_lines"]) for a in notices)
    if end is None:
        problems.append("no END line")
        end = numbers[-1] if numbers else 0
    repeats = [(a, b) for a, b in zip(numbers, numbers[1:]) if b <= a]
    if repeats:
        problems.append("%d lines repeated or out of order, first %s" % (len(repeats), repeats[0]))
    first = numbers[0] if numbers else end + 1
    expected = end - first + 1          # lines from the first kept one on
    complete = first == 1  # nothing rotated or evicted away before the first kept line
    unexplained = expected - len(set(numbers)) - (announced - straddling)
    if unexplained < 0 or unexplained > straddling or (complete and unexplained != 0):
        problems.append("lines %d..%d: %d kept, %d announced as dropped (%d of them in notices "
                        "older than the oldest kept file): %d unexplained"
                        % (first, end, len(set(numbers)), announced, straddling, unexplained))
    blocked = 0.0
    if kind in ("steady", "quiet"):
        gaps = [(t2 - t1) / 1e9 for (a, t1), (b, t2) in
                zip(zip(numbers, times), zip(numbers[1:], times[1:])) if b == a + 1]
        blocked = max(gaps, default=0.0)
        if blocked > longest_fault + BLOCK_SLACK:
            problems.append("waited %.1f s between two lines; the longest fault took %.1f s"
                            % (blocked, longest_fault))
    return problems, {"kind": kind, "written": end, "kept": len(set(numbers)),
                      "announced": announced, "dropped": dropped, "rotated_away": first - 1,
                      "straddling": straddling, "unexplained": unexplained,
                      "blocked_s": blocked, "files": len(files)}


def check(soak):
    longest = max((took for _, took in soak.faults), default=0.0)
    results, problems = {}, []
    for cid, kind in soak.containers.items():
        found, figures = check_container(soak.engine, cid, kind, longest)
        results[cid] = figures
        problems += ["%s (%s): %s" % (cid[:12], kind, p) for p in found]
    for path, content in soak.victims.items():
        if open(path, "rb").read() != content:
            problems.append("%s was written through a planted link" % path)
    if soak.rss_peak > RSS_LIMIT:
        problems.append("plugin RSS reached %d MiB" % (soak.rss_peak >> 20))
    return results, problems, longest


def report(soak, results, problems, longest, elapsed):
    by_fault = {}
    for kind, _ in soak.faults:
        by_fault[kind] = by_fault.get(kind, 0) + 1
    written = sum(r["written"] for r in results.values())
    kept = sum(r["kept"] for r in results.values())
    announced = sum(r["announced"] for r in results.values())
    dropped = {}
    for r in results.values():
        for limit, n in r["dropped"].items():
            dropped[limit] = dropped.get(limit, 0) + n
    rotated = sum(r["rotated_away"] for r in results.values())
    straddling = sum(r["straddling"] for r in results.values())
    lost = sum(r["unexplained"] for r in results.values())
    log("")
    log("chaos soak: %.1f min, %d containers (%d churned), %d faults: %s" % (
        elapsed / 60, len(results), sum(1 for r in results.values() if r["kind"] == "churn"),
        len(soak.faults), ", ".join("%s %d" % kv for kv in sorted(by_fault.items()))))
    log("  lines written %d, kept %d, announced as dropped %d (by limit: %s; a notice may name "
        "several), before the oldest kept file (rotated or evicted away) %d; not accounted for "
        "%d (at most the %d counted by notices older than a container's oldest kept file)" % (
            written, kept, announced,
            ", ".join("%s %d" % kv for kv in sorted(dropped.items())) or "none", rotated, lost,
            straddling))
    log("  longest fault %.1f s; longest wait of a steady or quiet container %.1f s; plugin RSS "
        "peak %.1f MiB (%d samples)" % (
            longest, max((r["blocked_s"] for r in results.values()), default=0.0),
            soak.rss_peak / 2**20, soak.rss_samples))
    for p in problems:
        log("  PROBLEM " + p)
    log("  %s" % ("no problem" if not problems else "%d problems" % len(problems)))
    return {"minutes": elapsed / 60, "faults": soak.faults, "written": written, "kept": kept,
            "announced": announced, "dropped": dropped, "rotated_away": rotated,
            "unexplained": lost,
            "longest_fault_s": longest, "rss_peak": soak.rss_peak, "problems": problems,
            "containers": results}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build"))
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true",
                        help="leave the engine running at the end (debugging; its log root goes)")
    args = parser.parse_args()
    if not harness.start_as_root("the chaos soak"):
        return 1
    harness.Engine.reap_stale()
    log("chaos soak: %.1f min, seed %d" % (args.minutes, args.seed))
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="lgsoak-")
    soak = Soak(args)
    try:
        with harness.loop_filesystem(workdir, LOG_FS_MB, image_dir="/dev/shm") as mount:
            log_root = os.path.join(mount, "logs")
            os.makedirs(log_root)
            try:
                soak.start(workdir, log_root)
                soak.soak()
                results, problems, longest = check(soak)
            finally:
                if soak.engine and args.keep:
                    soak.engine.keep()
                    log("engine kept: DOCKER_HOST=%s" % soak.engine.host)
                elif soak.engine:
                    soak.engine.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures = report(soak, results, problems, longest, time.monotonic() - started)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(figures, seed=args.seed), f, indent=1)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
