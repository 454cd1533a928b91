#!/usr/bin/env python3
"""Replays the incident logguard exists for, on one machine, and prints what it did to a neighbour.

usage: bench/incident.py [--build-dir BUILD] [--rows 1,...,8] [--seconds 30] [--containers 20]
                         [--write-bps 20000000] [--disk-size 8G] [--plugin-setting NAME=VALUE]...
                         [--warmup 3] [--drain-wait 30] [--json FILE]

The incident: one container wrote ~60 MB/s to stdout, the json-file driver appended it, the disk
sat at 100 % with 20 s write latencies, and kubelet's fsyncs stalled for tens of seconds.

Here: an ext4 filesystem on a loop device (a sparse file in a temp dir), its writes throttled to
WRITE_BPS by the root blkio cgroup (cgroup v1; writeback included). A v1 rule holds only for the
cgroup it is set in, so the plugin's process is moved into the root blkio cgroup too: what it
hands to the disk itself must meet the same slow disk as everyone else's writes. A probe process on that
filesystem appends 4 KiB and fsyncs every 100 ms (kubelet, etcd). Containers flood stdout with
`base64 /dev/urandom` (hard to compress) for SECONDS, all starting at once, after a warm-up.

  1  json-file, one container; an engine whose whole data root is on the slow filesystem
  2  logguard, plugin defaults, one container
  3  logguard, plugin defaults, CONTAINERS containers
  4  logguard --log-opt rate=off (only a node-wide guard could limit), CONTAINERS containers
Bursts a healthy node must take whole (numbered lines printed at once, then the container exits;
`lost` counts the lines missing from the logs):
  5  logguard defaults, one burst of 8 MB of records (below the container's own burst, 10 MB)
  6  logguard defaults, ten bursts of 1.4 MB at once (a deployment starting)
  7  as 5, the disk not throttled (an idle node)
  8  as 6, the disk not throttled

Rows 2-4 use an engine in a temp dir on the normal disk with the plugin packaged from BUILD and
its `logroot` mount on the slow filesystem. Each row: throttle on, probe on, containers created
(waiting for a flag file), WARMUP s of quiet probing, flag, SECONDS of flood, containers exit, the
probe goes on until the disk has written the flood's backlog (page cache) or DRAIN_WAIT s passed
(a probe then still in fsync is ended by lifting the throttle, its latency a lower bound); then
the figures are read, the throttle is lifted, everything the row wrote is removed and synced
away, and the plugin is restarted (no compression left over).

Probe figures cover the row's window (flag to probe stop: a stall the flood leaves behind counts)
and count a stall as the probes it prevented: a probe that took L adds ceil(L / 100 ms) - 1
samples L - 100 ms, L - 200 ms, ... (what probes due meanwhile would have waited), so a p99 over
completed probes cannot hide a 20 s stall.

Cleans up containers, engines, the throttle, the mount, the loop device and its file on exit,
also on Ctrl-C, SIGTERM, SIGHUP and errors. Needs root, cgroup v1 blkio, docker.io,
busybox-static, zstd (only to read .zst files).
"""
import argparse
import concurrent.futures
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import harness  # noqa: E402

BLKIO = "/sys/fs/cgroup/blkio"
IMAGE = "lgbench-busybox"
APPLETS = ["sh", "base64", "sleep", "test", "[", "cat", "kill", "head", "true", "awk"]
PROBE_INTERVAL = 0.1
PROBE_BLOCK = 4096
SETTLED_BACKLOG = 1 << 20  # the disk has caught up with the flood
DEFAULT_CONTAINERS = 20
BURST_LINE = 30        # bytes of a burst's line, '\n' included: ~100-byte records
BURST_RECORD = 100


class Row:
    """label, driver, log-opts, containers (None: --containers), and what they write: a flood
    of --seconds, or a burst of `burst` bytes of records each; throttled: on the slow disk."""

    def __init__(self, label, driver, opts, count, burst=0, throttled=True):
        self.label, self.driver, self.opts, self.count = label, driver, opts, count
        self.burst, self.throttled = burst, throttled


ROWS = {
    1: Row("json-file", "json-file", {}, 1),
    2: Row("logguard defaults", "logguard", {}, 1),
    3: Row("logguard defaults", "logguard", {}, None),
    4: Row("logguard rate=off", "logguard", {"rate": "off"}, None),
    5: Row("burst 8 MB", "logguard", {}, 1, burst=8_000_000),
    6: Row("10 bursts 1.4 MB", "logguard", {}, 10, burst=1_400_000),
    7: Row("burst 8 MB, idle", "logguard", {}, 1, burst=8_000_000, throttled=False),
    8: Row("10x1.4 MB, idle", "logguard", {}, 10, burst=1_400_000, throttled=False),
}


def log(text):
    print(text, flush=True)


def parse_size(text, binary):
    """'20000000', '20m', '4G', '512MiB' -> bytes. Bare suffixes are decimal unless binary."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", text.lower())
    if not m:
        raise argparse.ArgumentTypeError("not a size: %r" % text)
    base = 1024 if binary or m.group(3).startswith("i") else 1000
    return int(float(m.group(1)) * base ** " kmgt".index(m.group(2) or " "))


def run(*cmd, check=True, timeout=120):
    result = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), result.returncode,
                                                   (result.stderr or result.stdout).strip()))
    return result


# ---- the slow disk ----

class SlowDisk:
    """ext4 on a loop device over a sparse file; writes to it throttled in the root blkio cgroup."""

    def __init__(self, workdir, size, backing_dir=None):
        self.image = os.path.join(backing_dir or workdir, "lgbench-disk-%d.img" % os.getpid())
        self.mountpoint = os.path.join(workdir, "mnt")
        self.size = size
        self.device = None
        self.mounted = False
        self.throttled = False
        self.direct_io = False

    def create(self):
        with open(self.image, "wb") as f:
            f.truncate(self.size)
        # Direct I/O keeps the backing file out of the page cache (one dirty-page pool, not two);
        # not every filesystem under the image allows it.
        result = run("losetup", "--find", "--show", "--direct-io=on", self.image, check=False)
        self.direct_io = result.returncode == 0
        if not self.direct_io:
            result = run("losetup", "--find", "--show", self.image)
        self.device = result.stdout.strip()
        # Inode tables and journal written now, unthrottled: no ext4lazyinit writes during rows.
        run("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", self.device,
            timeout=600)
        os.makedirs(self.mountpoint)
        run("mount", "-t", "ext4", self.device, self.mountpoint)
        self.mounted = True
        rdev = os.stat(self.device).st_rdev
        self.majmin = "%d:%d" % (os.major(rdev), os.minor(rdev))
        self.stat_path = "/sys/block/%s/stat" % os.path.basename(self.device)

    def throttle(self, bps):
        self.throttled = True
        with open(os.path.join(BLKIO, "blkio.throttle.write_bps_device"), "w") as f:
            f.write("%s %d" % (self.majmin, bps))

    def unthrottle(self):
        if self.throttled:
            with open(os.path.join(BLKIO, "blkio.throttle.write_bps_device"), "w") as f:
                f.write("%s 0" % self.majmin)
            self.throttled = False

    def throttle_rule(self):
        """The rule the kernel holds for this device (bytes/s), 0 if none."""
        for line in open(os.path.join(BLKIO, "blkio.throttle.write_bps_device")):
            fields = line.split()
            if len(fields) == 2 and fields[0] == self.majmin:
                return int(fields[1])
        return 0

    def bytes_written(self):
        """Bytes the device completed writing (sectors written x 512, /sys/block/loopN/stat)."""
        return int(open(self.stat_path).read().split()[6]) * 512

    def throttled_bytes(self):
        """Bytes of writes through blk-throttle for this device, all cgroups
        (blkio.throttle.io_service_bytes_recursive of the root cgroup)."""
        path = os.path.join(BLKIO, "blkio.throttle.io_service_bytes_recursive")
        for line in open(path):
            fields = line.split()
            if len(fields) == 3 and fields[0] == self.majmin and fields[1] == "Write":
                return int(fields[2])
        return 0

    def backlog_bytes(self):
        """Data written to the filesystem and not yet on the disk: ext4's delayed allocation
        blocks (appends are delayed-allocation writes until writeback picks them) plus the
        machine's pages under writeback (queued in the throttle; other disks' are few)."""
        blocks = int(open("/sys/fs/ext4/%s/delayed_allocation_blocks"
                          % os.path.basename(self.device)).read())
        return blocks * os.statvfs(self.mountpoint).f_bsize + meminfo_bytes("Writeback")

    def sync(self):
        run("sync", "-f", self.mountpoint, timeout=900)

    def destroy(self):
        try:
            self.unthrottle()
        except OSError as e:
            log("  clean-up: lifting the throttle failed: %s" % e)
        if self.mounted:
            for attempt in range(5):
                if run("umount", self.mountpoint, check=False).returncode == 0:
                    self.mounted = False
                    break
                time.sleep(1)
            if self.mounted:
                log("  clean-up: %s busy, lazy unmount" % self.mountpoint)
                run("umount", "-l", self.mountpoint, check=False)
                self.mounted = False
        if self.device:
            run("losetup", "-d", self.device, check=False)
            self.device = None
        try:
            os.remove(self.image)  # outside the temp dir with --backing-dir
        except OSError:
            pass


def meminfo_bytes(*keys):
    total = 0
    for line in open("/proc/meminfo"):
        key, value = line.split(":", 1)
        if key in keys:
            total += int(value.split()[0]) * 1024
    return total


def dirty_mb():
    """Dirty + Writeback of the whole machine, MB (nearly all of it the slow disk's in a row)."""
    return meminfo_bytes("Dirty", "Writeback") / 1e6


class DiskSampler:
    """Bytes the slow device completed, sampled every second: the peak 1 s write rate."""

    def __init__(self, disk):
        self.disk = disk
        self.samples = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            self.samples.append((time.monotonic(), self.disk.bytes_written()))
            if self.stop_event.wait(1.0):
                return

    def peak(self, start, end):
        inside = [s for s in self.samples if start <= s[0] <= end]
        rates = [(b2 - b1) / (t2 - t1) for (t1, b1), (t2, b2) in zip(inside, inside[1:])
                 if t2 > t1]
        return max(rates) if rates else None

    def stop(self):
        self.stop_event.set()
        self.thread.join()


class BudgetSampler:
    """The plugin's node budget and write-back backlog (its /metrics on the plugin socket),
    every half second: what the guard did during a row."""

    NAMES = {"logguard_node_write_budget_bytes_per_second": "budget",
             "logguard_node_write_backlog_bytes": "backlog"}

    def __init__(self, engine):
        self.socket = os.path.join("/run/docker/plugins", plugin_id(engine), "logguard.sock")
        self.samples = []  # (monotonic time, {name: value})
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def scrape(self):
        import socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(self.socket)
            s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        values = {}
        for line in data.decode(errors="replace").splitlines():
            name, _, value = line.partition(" ")
            if name in self.NAMES:
                values[self.NAMES[name]] = float(value)
        return values

    def loop(self):
        while not self.stop_event.wait(0.5):
            try:
                self.samples.append((time.monotonic(), self.scrape()))
            except (OSError, ValueError):
                pass  # restarting, or busy: the next sample

    def summary(self, start, end):
        inside = [v for t, v in self.samples if start <= t <= end]
        budget = sorted(v["budget"] for v in inside if "budget" in v)
        backlog = [v["backlog"] for v in inside if "backlog" in v]
        if not budget:
            return {}
        return {"budget_min_mb_s": budget[0] / 1e6, "budget_median_mb_s": budget[len(budget) // 2] / 1e6,
                "budget_max_mb_s": budget[-1] / 1e6,
                "backlog_max_mb": max(backlog) / 1e6 if backlog else None}

    def stop(self):
        self.stop_event.set()
        self.thread.join()


# ---- the fsync probe ----

def run_queue_wait():
    """Seconds this thread has waited for a CPU so far (/proc/thread-self/schedstat)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def probe_main(directory, out_path):
    """Child process: append 4 KiB + fsync every 100 ms, one line 'start disk wall' per probe:
    wall is the latency as the probe saw it, disk the same less the time it waited for a CPU
    meanwhile (on a machine short of CPU that wait is not the disk's, and no log budget can
    shorten it)."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    fd = os.open(os.path.join(directory, "probe.dat"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    block = b"p" * PROBE_BLOCK
    with open(out_path, "w", buffering=1) as out:
        origin = time.monotonic()
        slot = 0
        while not stopping:
            waited = run_queue_wait()
            start = time.monotonic()
            os.write(fd, block)
            os.fsync(fd)
            wall = time.monotonic() - start
            disk = max(0.0, wall - (run_queue_wait() - waited))
            out.write("%.6f %.6f %.6f\n" % (start, disk, wall))
            # Next due slot; slots that passed during a stall are skipped (the stall's
            # synthetic samples stand for them).
            slot = max(slot + 1, math.ceil((time.monotonic() - origin) / PROBE_INTERVAL))
            delay = origin + slot * PROBE_INTERVAL - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    os.close(fd)


class Probe:
    def __init__(self, directory, out_path):
        self.out_path = out_path
        os.makedirs(directory, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--probe-child",
                                      directory, out_path])

    def stop(self, timeout):
        """Asks the probe to stop after its current fsync; True if it did within timeout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def records(self, wall=False):
        """(start, latency) per probe: the disk's part, or as the probe saw it (wall)."""
        records = []
        for line in open(self.out_path):
            fields = line.split()
            if len(fields) == 3:
                records.append((float(fields[0]), float(fields[2 if wall else 1])))
        return records


def percentile(sorted_values, fraction):
    """Nearest rank."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(fraction * len(sorted_values)) - 1)]


def probe_stats(records, start, end, censored_start=None):
    """Probes that started in [start, end): p50/p99 with stall samples, max, completed/expected.
    censored_start: the probe cut short by lifting the throttle (its latency is a lower bound)."""
    real = [latency for t, latency in records if start <= t < end]
    samples = []
    for latency in real:
        samples.append(latency)
        missed = math.ceil(latency / PROBE_INTERVAL - 1e-9) - 1
        samples += [latency - i * PROBE_INTERVAL for i in range(1, missed + 1)]
    samples.sort()
    ms = lambda v: None if v is None else v * 1000.0  # noqa: E731
    return {"p50_ms": ms(percentile(samples, 0.50)), "p99_ms": ms(percentile(samples, 0.99)),
            "max_ms": ms(max(real) if real else None), "completed": len(real),
            "expected": int(round((end - start) / PROBE_INTERVAL)),
            "stalls_over_1s": sum(1 for v in real if v >= 1.0),
            "max_is_lower_bound": bool(real) and censored_start is not None
            and start <= censored_start < end and dict(records)[censored_start] >= max(real)}


def fmt_max(stats):
    return fmt(stats["max_ms"], ">=%.0f" if stats["max_is_lower_bound"] else "%.1f")


# ---- engines ----

def import_image(engine):
    """A busybox image with the flood's applets (the harness image has no base64/timeout)."""
    root = tempfile.mkdtemp(prefix="lgbench-img-")
    try:
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
        for applet in APPLETS:
            os.symlink("busybox", os.path.join(root, "bin", applet))
        os.makedirs(os.path.join(root, "go"))
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run([harness.DOCKER, "-H", engine.host, "import", "-", IMAGE], stdin=tar.stdout,
                       check=True, capture_output=True)
        tar.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)


class DataRootEngine(harness.Engine):
    """An engine whose whole directory (data root included, so json-file's logs) lives in
    `parent`, on the slow filesystem. No plugin."""

    def __init__(self, build_dir, parent):
        super().__init__(build_dir)
        self.parent = parent

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="lg-e2e-", dir=self.parent)
        self.log_root = os.path.join(self.dir, "logs")
        with open(os.path.join(self.dir, "runner.pid"), "w") as f:
            f.write(str(os.getpid()))
        out = subprocess.run([os.path.join(REPO, "scripts", "dockerd.sh"), "start", self.dir],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("scripts/dockerd.sh start failed:\n" + out.stderr)
        self.host = out.stdout.strip().splitlines()[-1]
        import_image(self)


def plugin_id(engine):
    result = engine.docker("plugin", "inspect", "-f", "{{.Id}}", harness.PLUGIN)
    return result.stdout.decode().strip()


def configure_plugin(engine, log_root, settings):
    """Moves the plugin's log root to the slow disk and applies --plugin-setting's."""
    engine.docker("plugin", "disable", harness.PLUGIN)
    os.makedirs(log_root, exist_ok=True)
    engine.docker("plugin", "set", harness.PLUGIN, "logroot.source=" + log_root)
    engine.log_root = log_root
    for setting in settings:
        result = engine.docker("plugin", "set", harness.PLUGIN, setting, check=False)
        if result.returncode != 0:
            raise SystemExit(
                "plugin setting %s rejected by `docker plugin set`: %s\n(the plugin's config.json "
                "declares no such setting, or it is not settable; this build has no such knob)"
                % (setting, result.stderr.decode(errors="replace").strip()))
    result = engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN, check=False)
    if result.returncode != 0:
        raise SystemExit("the plugin did not start with settings %s: %s\n(see %s/dockerd.log)"
                         % (" ".join(settings) or "(none)",
                            result.stderr.decode(errors="replace").strip(), engine.dir))
    throttle_plugin_too(engine)


def restart_plugin(engine):
    engine.docker("plugin", "disable", "-f", harness.PLUGIN, check=False, timeout=120)
    engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN, timeout=120)
    throttle_plugin_too(engine)


def throttle_plugin_too(engine):
    """Moves the plugin into the root blkio cgroup, where the throttle rule is. With cgroup v1 a
    rule holds for its own cgroup only (measured here: dd from a child cgroup wrote 1.6 GB/s to
    the throttled device, from the root 19.7 MB/s), and the engine runs a managed plugin in a
    cgroup of its own: the chunks its write-back hands to the disk itself would pass the
    throttle, while json-file's writes (dockerd's, and the kernel flusher's) are held to it."""
    pid = engine.plugin_pid()
    if pid is None:
        raise RuntimeError("no plugin process to put under the throttle")
    with open(os.path.join(BLKIO, "cgroup.procs"), "w") as f:
        f.write(str(pid))


def stop_engine(engine):
    if engine.dir is None or engine.host is None:
        engine.stop()
        return
    try:
        engine.remove_containers(engine.all_containers())
    except Exception as e:  # noqa: BLE001 - clean-up goes on
        log("  clean-up: removing containers failed: %s" % e)
    engine.stop()


# ---- the flood ----

def flood_script(seconds):
    # Wait for the flag so that all containers start together, then write as fast as busybox can.
    # The shell ends the flood itself: busybox `timeout` exec'd as the container's PID 1 never
    # did (its watcher's SIGKILL to PID 1 comes from inside the namespace and is ignored).
    return ("while [ ! -e /go/go ]; do sleep 0.2; done; "
            "base64 /dev/urandom & sleep %d; kill -9 $!; wait" % seconds)


def burst_script(lines):
    # At the flag, `lines` numbered lines at once.
    return ("while [ ! -e /go/go ]; do sleep 0.2; done; "
            + harness.numbered_lines(lines, width=BURST_LINE))


def start_containers(engine, count, driver, opts, go_dir, script, row):
    args = ["run", "-d", "--network", "none", "--log-driver", driver]
    for key, value in opts.items():
        args += ["--log-opt", "%s=%s" % (key, value)]
    args += ["-v", go_dir + ":/go:ro"]

    def one(i):
        name = "lgbench-r%d-%d-%d" % (row, i, time.monotonic_ns() % 10**9)
        result = engine.docker(*(args + ["--name", name, IMAGE, "sh", "-c", script]))
        return result.stdout.decode().strip()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


# ---- what the logs kept ----

NOTICE_BYTES = re.compile(rb'"logguard\.dropped_bytes":"(\d+)"')


def scan_stream(chunks):
    """(bytes, dropped bytes announced by notices) of a stream of json-file records."""
    total = dropped = 0
    carry = b""
    for chunk in chunks:
        total += len(chunk)
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        dropped += sum(int(n) for n in NOTICE_BYTES.findall(data, 0, cut))
        carry = data[cut:]
    dropped += sum(int(n) for n in NOTICE_BYTES.findall(carry))
    return total, dropped


def file_chunks(path, size=1 << 20):
    if path.endswith(".gz"):
        # logguard writes a gzip member per chunk (gzip_member.h): go on after each member ends.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        with open(path, "rb") as f:
            while True:
                data = f.read(size)
                if not data:
                    break
                while data:
                    yield inflater.decompress(data)
                    if not inflater.eof:
                        break
                    data = inflater.unused_data
                    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            yield inflater.flush()
    elif path.endswith(".zst"):
        proc = subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE)
        while True:
            data = proc.stdout.read(size)
            if not data:
                break
            yield data
        proc.wait()
    else:
        with open(path, "rb") as f:
            while True:
                data = f.read(size)
                if not data:
                    break
                yield data


def logguard_kept(directory, cid):
    """(record bytes decompressed, bytes on disk, dropped bytes from notices) of a container's
    files. Per rotation index the plain file wins over its compressed copy (both exist for a
    moment while the compressor renames); compression temps are skipped."""
    base = cid + "-json.log"
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return 0, 0, 0
    by_index = {}
    for name in names:
        if name == base:
            by_index.setdefault(0, []).append(name)
        elif name.startswith(base + ".") and not name.endswith(".tmp"):
            index = name[len(base) + 1:].split(".")[0]
            if index.isdigit():
                by_index.setdefault(int(index), []).append(name)
    kept = on_disk = dropped = 0
    for index, forms in by_index.items():
        for name in sorted(forms, key=lambda n: (n.endswith(".gz") or n.endswith(".zst"))):
            path = os.path.join(directory, name)
            try:
                size = os.path.getsize(path)
                records, notice_bytes = scan_stream(file_chunks(path))
            except (FileNotFoundError, EOFError, zlib.error):
                continue  # renamed away meanwhile: its other form counts
            kept += records
            on_disk += size
            dropped += notice_bytes
            break
    return kept, on_disk, dropped


# ---- one row ----

def lines_lost(engine, cids, lines):
    """Lines of a burst missing from each container's logs (numbered 1..lines)."""
    lost = []
    for cid in cids:
        records = harness.all_records(engine.log_dir(cid), cid)
        kept = {int(r["log"][:8]) for r in records if not harness.is_notice(r)}
        lost.append(lines - len(kept & set(range(1, lines + 1))))
    return lost


def run_row(row, args, disk, sampler, engine, workdir, restart_first):
    spec = ROWS[row]
    label, driver, opts, count = spec.label, spec.driver, spec.opts, spec.count
    count = count or args.containers
    lines = spec.burst // BURST_RECORD
    script = burst_script(lines) if spec.burst else flood_script(args.seconds)
    if driver == "logguard" and args.plugin_setting:
        label += "*"
    log("row %d: %s, %d container(s)%s" % (row, label, count, "".join(
        " --log-opt %s=%s" % kv for kv in opts.items())))
    if restart_first:
        restart_plugin(engine)
    go_dir = os.path.join(workdir, "go-%d" % row)
    os.makedirs(go_dir)
    probe_out = os.path.join(workdir, "probe-%d.txt" % row)
    if spec.throttled:
        disk.throttle(args.write_bps)
    rule = disk.throttle_rule()
    probe = Probe(os.path.join(disk.mountpoint, "probe"), probe_out)
    budget = BudgetSampler(engine) if driver == "logguard" else None
    cids = []
    result = {"row": row, "label": label, "driver": driver, "opts": opts, "containers": count,
              "seconds": args.seconds, "throttle_rule_bps": rule}
    try:
        t_create = time.monotonic()
        cids = start_containers(engine, count, driver, opts, go_dir, script, row)
        result["create_s"] = time.monotonic() - t_create
        time.sleep(args.warmup)
        t_go = time.monotonic()
        warm = probe_stats(probe.records(), t_go - args.warmup, t_go)
        disk_before, throttled_before = disk.bytes_written(), disk.throttled_bytes()
        open(os.path.join(go_dir, "go"), "w").close()
        t_end = t_go + args.seconds
        if spec.burst:  # over when the containers exit
            engine.docker("wait", *cids, timeout=600)
            t_end = time.monotonic()
        time.sleep(max(0.0, t_end - time.monotonic()))
        disk_after, throttled_after = disk.bytes_written(), disk.throttled_bytes()
        result["dirty_mb_at_end"] = dirty_mb()
        result["backlog_mb_at_end"] = disk.backlog_bytes() / 1e6
        t_measured = time.monotonic()
        codes = engine.docker("wait", *cids, timeout=args.seconds + 300).stdout.decode().split()
        result["exit_s_after_end"] = time.monotonic() - t_end
        result["exit_codes"] = sorted(set(int(c) for c in codes))
        # The flood's data may still be in the page cache: the neighbour suffers until it is on
        # disk, so the probe goes on until the backlog is written (or --drain-wait runs out).
        t_probe = time.monotonic()
        deadline = t_probe + args.drain_wait
        while time.monotonic() < deadline and disk.backlog_bytes() > SETTLED_BACKLOG:
            time.sleep(0.2)
        censored = None
        stopped = probe.stop(timeout=max(1.0, deadline - time.monotonic()))
        t_row_end = time.monotonic()  # throttle lifted (if the probe is stuck) or probe gone
        disk_row_end, throttled_row_end = disk.bytes_written(), disk.throttled_bytes()
        result["backlog_mb_left"] = disk.backlog_bytes() / 1e6
        if not stopped:
            # Still in one fsync: a stall longer than we wait for. Lifting the throttle ends it;
            # its latency then is a lower bound of what the throttled disk would have made it.
            log("  probe still in fsync %.0f s after the containers exited; lifting the throttle"
                % args.drain_wait)
            disk.unthrottle()
            probe.wait(timeout=900)
            records = probe.records()
            censored = records[-1][0] if records else None
        result["probe_stop_wait_s"] = time.monotonic() - t_probe
        records = probe.records()
        result["warmup"] = warm
        # The row's window: from the flag until the probe stopped (the containers exited, and
        # the probe's last fsync returned or was ended by lifting the throttle): a stall the
        # flood leaves behind counts as much as one during it.
        result["probe"] = probe_stats(records, t_go, t_row_end, censored)
        result["probe_flood"] = probe_stats(records, t_go, t_end, censored)
        result["probe_after"] = probe_stats(records, t_end, t_row_end, censored)
        # As the probe saw it, CPU waits included (the figures above are the disk's part).
        result["probe_wall"] = probe_stats(probe.records(wall=True), t_go, t_row_end, censored)
        # [start relative to the flag, latency ms] of every probe, warm-up and after included.
        result["probe_latencies"] = [[round(t - t_go, 3), round(lat * 1000, 2)]
                                     for t, lat in records]
        result["disk_mb_s"] = (disk_after - disk_before) / 1e6 / (t_measured - t_go)
        result["throttled_mb_s"] = (throttled_after - throttled_before) / 1e6 / (t_measured - t_go)
        result["row_s"] = t_row_end - t_go
        result["disk_row_mb_s"] = (disk_row_end - disk_before) / 1e6 / (t_row_end - t_go)
        result["throttled_row_mb_s"] = ((throttled_row_end - throttled_before) / 1e6
                                        / (t_row_end - t_go))
        if budget:
            result["guard"] = budget.summary(t_go, t_row_end)
        peak = sampler.peak(t_go, t_row_end)
        result["disk_peak_mb_s"] = None if peak is None else peak / 1e6
        disk.unthrottle()

        if spec.burst:
            result["lines_lost"] = lines_lost(engine, cids, lines)
        kept, on_disk, dropped = [], [], []
        for cid in cids:
            if driver == "json-file":
                size = os.path.getsize(engine.json_file_path(cid))
                k, d, x = size, size, 0
            else:
                k, d, x = logguard_kept(engine.log_dir(cid), cid)
            kept.append(k)
            on_disk.append(d)
            dropped.append(x)
        mean = sum(kept) / len(kept)
        seconds = t_end - t_go
        result["seconds"] = seconds
        result["kept_bytes"] = kept
        result["kept_mb_s"] = sum(kept) / 1e6 / seconds
        result["files_mb_s"] = sum(on_disk) / 1e6 / seconds
        result["offered_mb_s"] = (sum(kept) + sum(dropped)) / 1e6 / seconds
        result["min_share"] = min(kept) / mean if mean else None
        return result
    finally:
        disk.unthrottle()  # first: a probe or container stuck on the throttled disk comes free
        if budget:
            budget.stop()
        probe.kill()
        engine.remove_containers(cids)
        if driver == "logguard":
            for cid in cids:
                shutil.rmtree(engine.log_dir(cid), ignore_errors=True)
        shutil.rmtree(os.path.join(disk.mountpoint, "probe"), ignore_errors=True)
        disk.sync()


def describe(r):
    p, f, w, a = r["probe"], r["probe_flood"], r["warmup"], r["probe_after"]
    wall = r["probe_wall"]
    guard = r.get("guard") or {}
    return ("  probe, CPU waits included: p99 %s / max %s ms\n"
            % (fmt(wall["p99_ms"], "%.1f"), fmt_max(wall)) +
            ("  node budget %.1f / %.1f / %.1f MB/s (min / median / max), backlog up to %s MB\n"
             % (guard["budget_min_mb_s"], guard["budget_median_mb_s"], guard["budget_max_mb_s"],
                fmt(guard["backlog_max_mb"], "%.1f")) if guard else "") +
            "  probe over the row's %.1f s: p50 %s / p99 %s / max %s ms, %d/%d probes, %d stalls "
            ">= 1 s; during the %d s of flood only: p50 %s / p99 %s / max %s ms, %d/%d probes; "
            "after it: max %s ms; warm-up: p50 %s / max %s ms%s\n"
            "  kept %.2f MB/s, offered %.2f MB/s; disk over the row %.2f MB/s (through the "
            "throttle %.2f), peak 1 s %s; during the flood %.2f MB/s (%.2f); at the flood's end: "
            "backlog %.0f MB, Dirty+Writeback of the machine %.0f MB; backlog left %.0f MB\n"
            "  %d containers created in %.1f s, exited %.1f s after the flood (exit codes %s)"
            % (r["row_s"], fmt(p["p50_ms"], "%.1f"), fmt(p["p99_ms"], "%.1f"), fmt_max(p),
               p["completed"], p["expected"], p["stalls_over_1s"], r["seconds"],
               fmt(f["p50_ms"], "%.1f"), fmt(f["p99_ms"], "%.1f"), fmt_max(f), f["completed"],
               f["expected"], fmt_max(a), fmt(w["p50_ms"], "%.1f"), fmt_max(w),
               "; lines lost per container %s" % r["lines_lost"] if "lines_lost" in r else "",
               r["kept_mb_s"], r["offered_mb_s"], r["disk_row_mb_s"], r["throttled_row_mb_s"],
               fmt(r["disk_peak_mb_s"], "%.1f"), r["disk_mb_s"], r["throttled_mb_s"],
               r["backlog_mb_at_end"], r["dirty_mb_at_end"], r["backlog_mb_left"],
               r["containers"], r["create_s"], r["exit_s_after_end"], r["exit_codes"]))


def fmt(value, spec):
    return "-" if value is None else spec % value


COLUMNS = [  # (heading, width)
    ("row", 3), ("case", 18), ("ctrs", 4), ("p50 ms", 7), ("p99 ms", 8), ("max ms", 8),
    ("wall p99", 8),    ("probes", 8), ("window s", 8), ("kept MB/s", 9), ("files MB/s", 10), ("offer MB/s", 10),
    ("share", 5), ("disk MB/s", 9), ("peak", 5), ("backlog MB", 10), ("left MB", 7),
    ("lost", 6)]


def table_line(cells):
    return " ".join(str(c).rjust(w) if i > 1 else str(c).ljust(w)
                    for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS)))


def print_table(results, args):
    header = table_line([h for h, _ in COLUMNS])
    log("")
    log("fsync probe on the slow disk (%d B/s write throttle), %d s of flood per row"
        % (args.write_bps, args.seconds))
    log(header)
    log("-" * len(header))
    for r in results:
        p = r["probe"]
        log(table_line([
            r["row"], r["label"], r["containers"], fmt(p["p50_ms"], "%.1f"),
            fmt(p["p99_ms"], "%.1f"), fmt_max(p), fmt(r["probe_wall"]["p99_ms"], "%.1f"),
            "%d/%d" % (p["completed"], p["expected"]),
            "%.1f" % r["row_s"], "%.2f" % r["kept_mb_s"], "%.2f" % r["files_mb_s"],
            "%.2f" % r["offered_mb_s"], fmt(r["min_share"], "%.2f"), "%.2f" % r["disk_row_mb_s"],
            fmt(r["disk_peak_mb_s"], "%.1f"), "%.0f" % r["backlog_mb_at_end"],
            "%.0f" % r["backlog_mb_left"],
            sum(r["lines_lost"]) if "lines_lost" in r else "-"]))
    if args.plugin_setting and any(r["driver"] == "logguard" for r in results):
        log("* with plugin settings %s" % " ".join(args.plugin_setting))
    log("""
window s: from the flood's start until the probe stopped: the flood, the containers' exit, and
  until the disk has written the flood's backlog (at most --drain-wait s after the exit; a
  probe then still in fsync is ended by lifting the throttle). p50/p99/max/probes/disk are
  over this window.
p50/p99/max: the disk's part of each probe (its wall time less the time it waited for a CPU
  meanwhile, /proc/thread-self/schedstat); wall p99: as the probe saw it, CPU waits included.
p50/p99: over the probes started in the window plus, for each probe that took L,
  ceil(L/100ms)-1 samples L-100ms, L-200ms, ... (the probes its stall prevented).
max: slowest probe; >= : the one ended by lifting the throttle (a lower bound).
probes: completed / expected (one per 100 ms of the window).
kept MB/s: json-file record bytes in the containers' log files after the run, logguard's
  .gz/.zst decompressed (files rotated away by max-file are not counted), / flood seconds.
files MB/s: the same files' size on disk / flood seconds.
offer MB/s: kept + the bytes logguard's drop notices announce as dropped, / flood seconds.
share: the smallest container's kept bytes / the mean (1.00 = even).
lost: burst rows, the lines missing from the logs (all containers together).
Burst rows: "seconds" are from the flag until the containers exited.
disk MB/s: bytes the loop device wrote in the window / s (/sys/block/loopN/stat); peak: its
  highest rate over 1 s (completions come in bursts: up to ~1.5x the throttle over 1 s).
backlog MB: data on the slow filesystem not yet on the disk (ext4 delayed_allocation_blocks
  + the machine's Writeback pages) when the flood ended; left MB: the same when the window ended
  (> 1: --drain-wait ran out; it would have taken left/throttle more seconds).
MB = 10^6 bytes.""")


# ---- main ----

def machine_info():
    info = {"nproc": os.cpu_count(), "kernel": os.uname().release,
            "mem_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9}
    for knob in ("dirty_ratio", "dirty_background_ratio", "dirty_bytes",
                 "dirty_background_bytes", "dirty_expire_centisecs"):
        info[knob] = int(open("/proc/sys/vm/" + knob).read())
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build-bench"),
                        help="build directory holding the logguard binary (default build-bench)")
    parser.add_argument("--rows", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--seconds", type=int, default=30, help="flood duration per row")
    parser.add_argument("--warmup", type=float, default=3.0, help="quiet probing before the flood")
    parser.add_argument("--containers", type=int, default=DEFAULT_CONTAINERS,
                        help="containers of rows 3 and 4")
    parser.add_argument("--write-bps", type=lambda s: parse_size(s, False), default=20000000,
                        help="write throttle of the slow disk, bytes/s (20m = 20,000,000)")
    parser.add_argument("--disk-size", type=lambda s: parse_size(s, True), default=8 << 30,
                        help="size of the sparse disk image (4G = 4 GiB); default 8G")
    parser.add_argument("--plugin-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="docker plugin set while disabled (repeatable)")
    parser.add_argument("--drain-wait", type=float, default=30.0,
                        help="after the containers exited, how long the probe goes on while the "
                        "disk writes the flood's backlog; a probe still in fsync then is ended by "
                        "lifting the throttle (its latency is reported as a lower bound, >=)")
    parser.add_argument("--json", help="also write all figures to this file")
    parser.add_argument("--backing-dir", help="where the loop device's image lives (default: the "
                        "temp dir). /dev/shm makes the throttle the disk's only limit: flushes "
                        "then never wait for the machine's own disk, whatever else runs on it")
    args = parser.parse_args()
    rows = [int(r) for r in args.rows.split(",") if r.strip()]
    if any(r not in ROWS for r in rows):
        parser.error("rows are 1..%d" % len(ROWS))
    for setting in args.plugin_setting:
        if "=" not in setting:
            parser.error("--plugin-setting wants NAME=VALUE, got %r" % setting)
    if os.geteuid() != 0:
        print("needs root (loop devices, blkio throttle, dockerd)", file=sys.stderr)
        return 1
    if not os.path.exists(os.path.join(BLKIO, "blkio.throttle.write_bps_device")):
        print("needs cgroup v1 blkio at %s" % BLKIO, file=sys.stderr)
        return 1
    binary = os.path.join(os.path.abspath(args.build_dir), "logguard")
    if any(r != 1 for r in rows) and not os.access(binary, os.X_OK):
        print("no plugin binary at %s: build it first" % binary, file=sys.stderr)
        return 1

    def terminate(signum, frame):
        raise SystemExit("incident: stopped by signal %d" % signum)
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)

    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="lgbench-")
    disk = SlowDisk(workdir, args.disk_size, args.backing_dir)
    sampler = None
    plugin_engine = json_engine = None
    results = []
    info = machine_info()
    try:
        disk.create()
        sampler = DiskSampler(disk)
        if any(r != 1 for r in rows):
            plugin_engine = harness.Engine(args.build_dir)
            plugin_engine.start()
            import_image(plugin_engine)
            configure_plugin(plugin_engine, os.path.join(disk.mountpoint, "logroot"),
                             args.plugin_setting)
            info["engine"] = plugin_engine.docker(
                "version", "-f", "{{.Server.Version}}").stdout.decode().strip()
        if 1 in rows:
            json_engine = DataRootEngine(args.build_dir, disk.mountpoint)
            json_engine.start()
            info["engine"] = json_engine.docker(
                "version", "-f", "{{.Server.Version}}").stdout.decode().strip()
        log("machine: %d CPUs, kernel %s, %.1f GB RAM, vm.dirty_ratio %d / background %d "
            "(bytes %d / %d), dirty_expire %d cs; Docker Engine %s"
            % (info["nproc"], info["kernel"], info["mem_gb"], info["dirty_ratio"],
               info["dirty_background_ratio"], info["dirty_bytes"],
               info["dirty_background_bytes"], info["dirty_expire_centisecs"], info["engine"]))
        log("settings: rows %s, %d s flood after %.0f s warm-up, %d containers in rows 3-4, "
            "write throttle %d B/s on %s (%s, %s GiB ext4, loop direct-io %s), plugin settings "
            "%s, plugin %s (mtime %s), repo HEAD %s"
            % (",".join(map(str, rows)), args.seconds, args.warmup, args.containers,
               args.write_bps, disk.device, disk.majmin, args.disk_size / 2**30,
               "on" if disk.direct_io else "off", " ".join(args.plugin_setting) or "defaults",
               binary, time.strftime("%Y-%m-%d %H:%M", time.localtime(os.path.getmtime(binary)))
               if os.path.exists(binary) else "-",
               run("git", "-C", REPO, "rev-parse", "--short", "HEAD", check=False).stdout.strip()))
        log("setup took %.1f s" % (time.monotonic() - started))
        plugin_used = False
        for row in rows:
            engine = json_engine if ROWS[row].driver == "json-file" else plugin_engine
            restart = engine is plugin_engine and plugin_used
            r = run_row(row, args, disk, sampler, engine, workdir, restart)
            plugin_used = plugin_used or engine is plugin_engine
            throttled = ROWS[row].throttled
            if throttled and r["throttle_rule_bps"] != args.write_bps:
                log("  WARNING: the kernel holds %d B/s for %s, not %d"
                    % (r["throttle_rule_bps"], disk.majmin, args.write_bps))
            if throttled and r["disk_mb_s"] > args.write_bps / 1e6 * 1.15:
                log("  WARNING: the disk wrote faster than the throttle: is it applied?")
            log(describe(r))
            results.append(r)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if sampler:
            sampler.stop()
        try:
            disk.unthrottle()
        except OSError as e:
            log("  clean-up: lifting the throttle failed: %s" % e)
        for engine in (json_engine, plugin_engine):
            if engine is not None:
                try:
                    stop_engine(engine)
                except Exception as e:  # noqa: BLE001 - clean-up goes on
                    log("  clean-up: stopping the engine in %s failed: %s" % (engine.dir, e))
        disk.destroy()
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    print_table(results, args)
    log("total run time %.0f s" % elapsed)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "settings": {
                "rows": rows, "seconds": args.seconds, "warmup": args.warmup,
                "containers": args.containers, "write_bps": args.write_bps,
                "disk_size": args.disk_size, "direct_io": disk.direct_io,
                "plugin_settings": args.plugin_setting, "build_dir": args.build_dir},
                "rows": results, "run_s": elapsed}, f, indent=1)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--probe-child":
        probe_main(sys.argv[2], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
