"""A private Docker engine with the logguard managed plugin, for the end-to-end tests.

One Engine serves the whole suite: its own dockerd (data-root, exec-root, socket and
pidfile in a temp dir), a busybox image imported offline, and logguard packaged from
the build directory, created with `docker plugin create` and enabled with no timeout.
Plugin log files land in a host directory of the suite's (the plugin's `logroot` mount).
"""
import calendar
import contextlib
import gzip
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKER = "/usr/bin/docker"  # the engine's own client (20.10), not a newer one on PATH
IMAGE = "lgtest-busybox"
# How long a rotated file may take to be compressed: the compressor waits up to 30 s for idle
# CPU (compression_yield.h) on a busy machine, then needs the time to compress it.
COMPRESSED_WITHIN = 120
PLUGIN = "logguard"
APPLETS = ["sh", "seq", "yes", "dd", "printf", "sleep", "head", "tr", "cat", "echo", "wc", "date",
           "awk", "sed", "base64", "mkfifo", "timeout"]
# The suite's engine, started once by run_e2e.py before any test class is set up.
ENGINE = None


class Engine:
    def __init__(self, build_dir):
        self.build_dir = os.path.abspath(build_dir)
        self.dir = None       # temp dir: dockerd's data-root, exec-root, socket, log; created by start()
        self.log_root = None  # the plugin's logroot mount source, in self.dir
        self.pods_dir = None  # its pods mount source (stands for /var/log/pods), in self.dir
        self.host = None

    # ---- lifecycle ----
    def start(self, with_plugin=True):
        """Starts the engine and imports busybox; with_plugin=False leaves the plugin to the
        caller (test_registry installs it from a registry)."""
        self.dir = tempfile.mkdtemp(prefix="lg-e2e-")
        self.log_root = os.path.join(self.dir, "logs")
        os.makedirs(self.log_root)
        self.pods_dir = os.path.join(self.dir, "pods")
        os.makedirs(self.pods_dir)
        # Marks the engine as this process's: reap_stale() leaves it alone while we live.
        with open(os.path.join(self.dir, "runner.pid"), "w") as f:
            f.write(str(os.getpid()))
        out = subprocess.run([os.path.join(REPO, "scripts", "dockerd.sh"), "start", self.dir],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("scripts/dockerd.sh start failed:\n" + out.stderr)
        self.host = out.stdout.strip().splitlines()[-1]
        self.import_busybox()
        if with_plugin:
            self.install_plugin()

    def stop(self):
        if self.dir is None:
            return
        if self.host:
            try:
                self.remove_containers(self.all_containers())
            except Exception as e:  # noqa: BLE001 - the engine is stopped whatever happened
                print("engine clean-up: removing containers failed: %s" % e, file=sys.stderr)
            subprocess.run([DOCKER, "-H", self.host, "plugin", "disable", "-f", PLUGIN],
                           capture_output=True)
        subprocess.run([os.path.join(REPO, "scripts", "dockerd.sh"), "stop", self.dir],
                       capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def keep(self):
        """Leaves the engine running after this process ends (debugging): reap_stale() will
        not stop it; `scripts/dockerd.sh stop DIR` does."""
        if self.dir:
            try:
                os.remove(os.path.join(self.dir, "runner.pid"))
            except OSError:
                pass

    @staticmethod
    def reap_stale():
        """Stops the engines of earlier runs whose runner died without cleaning up (killed by
        a timeout, say): temp dirs lg-e2e-* with a runner.pid of a process that is gone.
        Engines of runs still going (other suites on this machine) are left alone."""
        parent = tempfile.gettempdir()
        for name in os.listdir(parent):
            directory = os.path.join(parent, name)
            marker = os.path.join(directory, "runner.pid")
            if not name.startswith("lg-e2e-") or not os.path.exists(marker):
                continue
            try:
                pid = int(open(marker).read())
                os.kill(pid, 0)
                continue  # still running
            except ProcessLookupError:
                pass
            except (ValueError, OSError):
                continue
            print("stopping the engine left by a dead run in %s" % directory, flush=True)
            subprocess.run([os.path.join(REPO, "scripts", "dockerd.sh"), "stop", directory],
                           capture_output=True)
            shutil.rmtree(directory, ignore_errors=True)

    def import_busybox(self):
        root = os.path.join(self.dir, "busybox-root")
        os.makedirs(os.path.join(root, "bin"))
        shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
        for applet in APPLETS:
            os.symlink("busybox", os.path.join(root, "bin", applet))
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run([DOCKER, "-H", self.host, "import", "-", IMAGE], stdin=tar.stdout,
                       check=True, capture_output=True)
        tar.wait()

    def install_plugin(self):
        pkg = os.path.join(self.dir, "plugin")
        out = subprocess.run([os.path.join(REPO, "plugin", "package.sh"), pkg, self.build_dir],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError("plugin/package.sh failed:\n" + out.stdout[-3000:] + out.stderr[-3000:])
        self.docker("plugin", "create", PLUGIN, pkg)
        # No TCP metrics listener: engines of parallel runs would compete for 127.0.0.1:9464
        # (test_metrics sets a free port of its own).
        self.docker("plugin", "set", PLUGIN, *self.mount_settings(), "METRICS_ADDR=off")
        self.docker("plugin", "enable", "--timeout", "0", PLUGIN)

    def mount_settings(self):
        """The plugin's mounts on this engine's directories, and the Kubernetes settings that
        name them as the host sees them (what the links at CRI log paths hold)."""
        return ["logroot.source=" + self.log_root, "containers.source=" + self.containers_dir(),
                "pods.source=" + self.pods_dir, "KUBE_POD_LOGS_DIR=" + self.pods_dir,
                "KUBE_LOGROOT_SOURCE=" + self.log_root]

    def configure_plugin(self, **settings):
        """Sets plugin settings (env NAME=value, or mount.source=...) with the plugin disabled,
        then enables it again; returns the previous values, for restoring."""
        current = {}
        env = json.loads(self.docker("plugin", "inspect", "-f", "{{json .Settings.Env}}",
                                     PLUGIN).stdout)
        for entry in env:
            name, _, value = entry.partition("=")
            current[name] = value
        mounts = json.loads(self.docker("plugin", "inspect", "-f", "{{json .Settings.Mounts}}",
                                        PLUGIN).stdout)
        for mount in mounts:
            current[mount["Name"] + ".source"] = mount["Source"]
        self.disable_plugin()
        self.docker("plugin", "set", PLUGIN, *["%s=%s" % kv for kv in settings.items()])
        self.docker("plugin", "enable", "--timeout", "0", PLUGIN)
        return {name: current.get(name, "") for name in settings}

    def restart_plugin(self):
        """A new plugin process: `docker plugin disable`, then `enable`."""
        self.disable_plugin()
        self.docker("plugin", "enable", "--timeout", "0", PLUGIN)

    def disable_plugin(self):
        """`docker plugin disable`, once no container logs through the plugin: it refuses while
        one does ("in use"), and a container killed by the test before may still be stopping
        (`docker kill` returns first). Waits up to 30 s for that."""
        deadline = time.monotonic() + 30
        while True:
            result = self.docker("plugin", "disable", PLUGIN, check=False)
            if (result.returncode == 0 or b"in use" not in result.stderr
                    or time.monotonic() > deadline):
                break
            time.sleep(0.2)
        if result.returncode != 0:
            raise AssertionError("docker plugin disable failed (%d): %s" % (
                result.returncode, result.stderr.decode(errors="replace")))

    # ---- docker ----
    def docker(self, *args, check=True, timeout=600, input=None):
        """Runs the docker CLI against this engine; returns CompletedProcess (bytes)."""
        result = subprocess.run([DOCKER, "-H", self.host] + list(args), capture_output=True,
                                timeout=timeout, input=input)
        if check and result.returncode != 0:
            raise AssertionError("docker %s failed (%d): %s" % (
                " ".join(args), result.returncode, result.stderr.decode(errors="replace")))
        return result

    def remove_containers(self, cids, timeout=90):
        """`docker rm -f`; if it hangs (a container wedged on a plugin that stopped reading
        its FIFO: `rm -f` waits for its output to be copied), frees them by draining the
        plugin's FIFOs (clean-up only: what they held is lost) and tries once more."""
        if not cids:
            return
        try:
            self.docker("rm", "-f", *cids, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            print("docker rm -f timed out; draining the plugin's FIFOs", file=sys.stderr)
            self.drain_logging_fifos()
            self.docker("rm", "-f", *cids, check=False, timeout=timeout)

    def logging_fifo_dir(self, name=PLUGIN):
        """Where the engine puts the containers' log FIFOs for the plugin, seen from here."""
        plugin_id = self.docker("plugin", "inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
        return os.path.join(self.dir, "data", "plugins", plugin_id, "rootfs", "run", "docker",
                            "logging")

    def drain_logging_fifos(self):
        """Reads every log FIFO for 5 s, all at once: frees containers wedged on a plugin that
        stopped reading (TESTING-NOTES). Best effort; loses what the FIFOs held."""
        try:
            fifo_dir = self.logging_fifo_dir()
            names = os.listdir(fifo_dir)
        except (OSError, AssertionError, subprocess.TimeoutExpired):
            return
        readers = [subprocess.Popen(["timeout", "5", "cat", os.path.join(fifo_dir, name)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for name in names]
        for reader in readers:
            reader.wait()

    def all_containers(self):
        out = subprocess.run([DOCKER, "-H", self.host, "ps", "-aq"], capture_output=True, text=True)
        return out.stdout.split()

    def run(self, script, driver="logguard", opts=None, name=None, detach=False, check=True,
            timeout=600, volumes=None):
        """Runs `sh -c script` in a busybox container; returns (container id, CompletedProcess).
        volumes: {host path: container path} bind mounts."""
        args = ["run", "--network", "none", "--log-driver", driver]
        for key, value in (opts or {}).items():
            args += ["--log-opt", "%s=%s" % (key, value)]
        for host_path, path in (volumes or {}).items():
            args += ["-v", "%s:%s" % (host_path, path)]
        if name:
            args += ["--name", name]
        args += ["-d"] if detach else []
        cid_file = os.path.join(self.dir, "cid-%d" % time.monotonic_ns())
        args += ["--cidfile", cid_file, IMAGE, "sh", "-c", script]
        result = self.docker(*args, check=check, timeout=timeout)
        cid = open(cid_file).read().strip() if os.path.exists(cid_file) else None
        if detach and result.returncode == 0:
            cid = result.stdout.decode().strip()
        return cid, result

    def wait(self, cid, timeout=600):
        return int(self.docker("wait", cid, timeout=timeout).stdout.decode().strip())

    def inspect(self, cid):
        return json.loads(self.docker("inspect", cid).stdout)[0]

    def logs(self, cid, *args):
        """`docker logs` output as (stdout bytes, stderr bytes)."""
        result = self.docker("logs", *args, cid)
        return result.stdout, result.stderr

    # ---- files ----
    def log_dir(self, cid):
        return os.path.join(self.log_root, cid)

    def log_path(self, cid):
        return os.path.join(self.log_dir(cid), cid + "-json.log")

    def containers_dir(self):
        """The engine's containers directory (the plugin's `containers` mount source)."""
        return os.path.join(self.dir, "data", "containers")

    def json_file_path(self, cid):
        return os.path.join(self.dir, "data", "containers", cid, cid + "-json.log")

    def plugin_pid(self, name=PLUGIN, executable="logguard"):
        """PID of this engine's plugin process (for CPU accounting): the process
        in the cgroup named after the plugin's ID."""
        plugin_id = self.docker("plugin", "inspect", "-f", "{{.Id}}", name).stdout.decode().strip()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if plugin_id in open("/proc/%s/cgroup" % entry).read() and \
                        os.readlink("/proc/%s/exe" % entry).endswith("/" + executable):
                    return int(entry)
            except OSError:
                continue
        return None

    def plugin_socket(self):
        """The plugin's unix socket (it answers GET /metrics there too)."""
        plugin_id = self.docker("plugin", "inspect", "-f", "{{.Id}}", PLUGIN).stdout.decode().strip()
        # The engine puts managed plugins' sockets here whatever its --exec-root.
        return os.path.join("/run/docker/plugins", plugin_id, "logguard.sock")

    def scrape_metrics(self):
        """GET /metrics on the plugin's socket: {series: value}. Raises if it does not answer."""
        out = subprocess.run(
            ["curl", "-sf", "--unix-socket", self.plugin_socket(), "http://x/metrics"],
            capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise AssertionError("GET /metrics on the plugin's socket failed (%d): %s" % (
                out.returncode, out.stderr))
        samples = {}
        for line in out.stdout.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                samples[name] = float(value)
        return samples

    def dockerd_pid(self):
        return int(open(os.path.join(self.dir, "dockerd.pid")).read())


class EngineTest(unittest.TestCase):
    """A test class on the suite's engine, cls.engine: the set-up every test file shares
    (engine, busybox image, plugin) is done once, by run_e2e.py; a subclass's setUpClass
    calls super().setUpClass() first and then does only what is its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.engine = ENGINE


def start_private_engine(with_plugin=True, dockerd_args=None):
    """An engine of a test class's own, for what the suite's must not see (its dockerd
    restarted with other flags, the plugin installed another way), from the suite's build;
    dockerd_args: extra dockerd flags. Stopped again if it fails to start; the class stops
    it in its tearDownClass."""
    engine = Engine(ENGINE.build_dir)
    saved = os.environ.get("DOCKERD_EXTRA_ARGS")
    if dockerd_args:
        os.environ["DOCKERD_EXTRA_ARGS"] = dockerd_args
    try:
        engine.start(with_plugin=with_plugin)
    except BaseException:
        engine.stop()
        raise
    finally:
        if saved is None:
            os.environ.pop("DOCKERD_EXTRA_ARGS", None)
        else:
            os.environ["DOCKERD_EXTRA_ARGS"] = saved
    return engine


@contextlib.contextmanager
def loop_filesystem(directory, megabytes, image_dir=None):
    """An ext4 filesystem of `megabytes` MB on a loop device, mounted in directory/mnt; its
    image in image_dir (default: directory)."""
    image = os.path.join(image_dir or directory, "disk-%d.img" % os.getpid())
    mount = os.path.join(directory, "mnt")
    os.makedirs(mount)
    with open(image, "wb") as f:
        f.truncate(megabytes * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", image], check=True)
    device = subprocess.run(["losetup", "--find", "--show", image], check=True,
                            capture_output=True, text=True).stdout.strip()
    try:
        subprocess.run(["mount", device, mount], check=True)
        try:
            yield mount
        finally:
            subprocess.run(["umount", "-l", mount], check=False)
    finally:
        subprocess.run(["losetup", "-d", device], check=False)
        if image_dir:
            os.remove(image)


def start_as_root(name):
    """For the suite's and the benchmarks' main(): False (with a message) unless root; else makes
    SIGTERM/SIGHUP (a timeout, a closed terminal) unwind through the caller's `finally`, so the
    engine it started is stopped (runs killed harder are cleaned up by reap_stale)."""
    if os.geteuid() != 0:
        print("%s needs root (it runs dockerd)" % name, file=sys.stderr)
        return False

    def terminate(signum, frame):
        raise SystemExit("%s: stopped by signal %d" % (name, signum))
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, terminate)
    return True


def read_bytes(path):
    """A log file's content, decompressed if its name ends in .gz or .zst."""
    if path.endswith(".gz"):
        return gzip.open(path).read()
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    return open(path, "rb").read()


def read_records(path):
    """json-file records of one file (plain, .gz or .zst) as dicts."""
    return [json.loads(line) for line in read_bytes(path).splitlines()]


def is_regular(path):
    """A regular file (not a link, not a FIFO); False if it is gone."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def container_files(directory, cid):
    """A container's log files, oldest first, current last, by the naming rules of
    include/logguard/format/log_names.h: "<id>-json.log.<N>[.gz|.zst]" with N >= 1 and no leading
    zeros; where a rotation exists both plain and compressed (a compression finishing), the
    plain one. Only regular files: a link or FIFO planted at such a name is not the plugin's. A
    missing directory has none."""
    base = cid + "-json.log"
    rotated = {}
    names = [n for n in (os.listdir(directory) if os.path.isdir(directory) else [])
             if is_regular(os.path.join(directory, n))]
    for name in names:
        m = re.fullmatch(re.escape(base) + r"\.([1-9][0-9]{0,8})(\.gz|\.zst)?", name)
        if m and (int(m.group(1)) not in rotated or not m.group(2)):
            rotated[int(m.group(1))] = name
    files = [rotated[i] for i in sorted(rotated, reverse=True)]
    if base in names:
        files.append(base)
    return [os.path.join(directory, n) for n in files]


def read_files(directory, cid, read=read_records):
    """[(path, read(path))] of a container's files, oldest first. The plugin may finish
    compressing a rotated file (the plain one goes) or evict one between the listing and the
    read: then it lists and reads again, for up to 60 s."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return [(path, read(path)) for path in container_files(directory, cid)]
        except FileNotFoundError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def all_records(directory, cid):
    """The records of all of a container's files, oldest first."""
    return [record for _, records in read_files(directory, cid) for record in records]


def raw_lines(directory, cid):
    """The json lines (bytes, without '\\n') of all of a container's files, oldest first."""
    return [line for _, data in read_files(directory, cid, read_bytes)
            for line in data.splitlines()]


def is_notice(record):
    """A logguard drop notice (attrs logguard.dropped_lines / logguard.dropped_bytes)."""
    return "logguard.dropped_lines" in (record.get("attrs") or {})


def nanos(text):
    """RFC3339(Nano) UTC time (a record's `time`, docker inspect's StartedAt) -> Unix ns."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", text)
    assert m, text
    seconds = calendar.timegm(tuple(int(g) for g in m.groups()[:6]))
    return seconds * 10**9 + int((m.group(7) or "0").ljust(9, "0"))


def run_seconds(state):
    """A finished container's run time from docker inspect's State (FinishedAt - StartedAt)."""
    return (nanos(state["FinishedAt"]) - nanos(state["StartedAt"])) / 1e9


def numbered_lines(count, width=100, start=1):
    """A shell command printing `count` lines of exactly `width` bytes ('\\n' included), each
    starting with its 8-digit number (start, start+1, ...)."""
    pad = width - 10
    return ("awk 'BEGIN{s=sprintf(\"%%0%dd\", 0); for(i=%d;i<%d;i++) printf \"%%08d %%s\\n\", i, s}'"
            % (pad, start, start + count))


def cpu_seconds(pid):
    """utime + stime of a process and its waited-for children, in seconds."""
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(f) for f in fields[11:15]) / ticks


def wait_until(predicate, timeout=30, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
