"""What kubelet and cri-dockerd do with a container's CRI log path, emulated from their source
for the tests (no kubelet is packaged here):

- cri_labels(): the labels cri-dockerd's CreateContainer puts on a pod's container
  (core/container_create.go: kubelet's labels, io.kubernetes.docker.type=container, the
  sandbox's ID and io.kubernetes.container.logpath = <podLogsDir>/<ns>_<pod>_<uid>/<container>/
  <restart>.log); kubelet makes the container's log directory before it creates the container.
- read_logs(): kubelet's reader for `kubectl logs` (staging/src/k8s.io/cri-client/pkg/logs/
  logs.go, ReadLogs): resolves the symbolic links of the path, starts --tail lines from the
  end of that one file, detects the CRI or the Docker json line format on the first line, and
  with --follow waits on an inotify watch of the file's directory: a Create of the file's own
  name means the file was replaced (rename and create), and it opens the path again; at an end
  of the file it asks whether the container still runs and, if not, stops.
- rotate(): kubelet's container log manager (pkg/kubelet/logs/container_log_manager.go,
  processContainer and rotateLatestLog): every 10 s, for a running container whose log (stat
  through the link) is at least containerLogMaxSize, it renames the path to
  <path>.<timestamp>, asks the runtime to reopen its log, which cri-dockerd always refuses
  (core/logs.go, ReopenContainerLog), and renames it back.
"""
import ctypes
import json
import os
import re
import select
import struct
import time

POD_UID = "6b7d3c1e-2f4a-4b8c-9d0e-1a2b3c4d5e6f"
SANDBOX_ID = "5" * 64

IN_MODIFY, IN_ATTRIB = 0x2, 0x4
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200
_EVENT = struct.Struct("iIII")


def cri_log_path(pods_dir, pod, ns, container, restart=0, uid=POD_UID):
    return os.path.join(pods_dir, "%s_%s_%s" % (ns, pod, uid), container, "%d.log" % restart)


def cri_labels(pods_dir, pod, ns, container, restart=0, uid=POD_UID):
    """cri-dockerd's labels for a pod's container; makes its log directory as kubelet does."""
    path = cri_log_path(pods_dir, pod, ns, container, restart, uid)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return {
        "io.kubernetes.pod.name": pod,
        "io.kubernetes.pod.namespace": ns,
        "io.kubernetes.pod.uid": uid,
        "io.kubernetes.container.name": container,
        "io.kubernetes.docker.type": "container",
        "io.kubernetes.sandbox.id": SANDBOX_ID,
        "io.kubernetes.container.logpath": path,
    }


def _parse_cri(line):
    m = re.fullmatch(rb"(\S+) (stdout|stderr) ([PF][^ ]*) (.*)\n?", line, re.S)
    if not m:
        raise ValueError("not a CRI line")
    return m.group(4) + (b"" if m.group(3).startswith(b"P") else b"\n")


def _parse_docker_json(line):
    record = json.loads(line)
    if not isinstance(record, dict) or "log" not in record:
        raise ValueError("not a json-file record")
    return record["log"].encode()


def _parser_for(line):
    for parse in (_parse_cri, _parse_docker_json):
        try:
            parse(line)
            return parse
        except ValueError:
            continue
    raise AssertionError("unsupported log format: %r" % line[:200])


def _tail_start(data, tail):
    """Where the last `tail` lines of data start (all of it for tail < 0)."""
    if tail < 0:
        return 0
    end = len(data) - 1 if data.endswith(b"\n") else len(data)
    for _ in range(tail):
        end = data.rfind(b"\n", 0, end)
        if end < 0:
            return 0
    return end + 1 if tail > 0 else len(data)


class _Watch:
    """An inotify watch of one directory (fsnotify's events for it)."""

    def __init__(self, directory):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        mask = IN_MODIFY | IN_ATTRIB | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, directory.encode(), mask) < 0:
            raise OSError(ctypes.get_errno(), "inotify on " + directory)
        self.pending = []

    def next(self, timeout):
        """(mask, name) of the next event, or None after timeout seconds."""
        if not self.pending and select.select([self.fd], [], [], timeout)[0]:
            data = os.read(self.fd, 65536)
            while data:
                _, mask, _, length = _EVENT.unpack_from(data)
                name = data[_EVENT.size:_EVENT.size + length].rstrip(b"\0").decode()
                self.pending.append((mask, name))
                data = data[_EVENT.size + length:]
        return self.pending.pop(0) if self.pending else None

    def close(self):
        os.close(self.fd)


def read_logs(path, running, tail=-1, follow=False, on_line=None, watching=None):
    """kubelet's ReadLogs over `path`: the log lines (bytes, '\\n' ended unless partial).
    running() says whether the container still runs; on_line(line) sees each line as it is
    read; watching (a threading.Event) is set once the reader watches the directory."""
    path = os.path.realpath(path)
    f = open(path, "rb")
    data = f.read()
    f.seek(_tail_start(data, tail))
    if tail >= 0 and not follow:
        return [_parser_for(line)(line) for line in f.read().splitlines(keepends=True)]
    lines, parse, watch, found, pending = [], None, None, True, b""
    directory, name = os.path.split(path)
    try:
        while True:
            chunk = f.readline()
            if chunk.endswith(b"\n"):
                line, pending = pending + chunk, b""
                parse = parse or _parser_for(line)
                lines.append(parse(line))
                if on_line:
                    on_line(lines[-1])
                continue
            pending += chunk
            if not follow or not found:
                return lines
            if watch is None:
                watch = _Watch(directory)
                if watching:
                    watching.set()
                continue  # read again: an event may have come before the watch
            found, recreated = _wait_logs(watch, name, running)
            if recreated:
                try:
                    replacement = open(path, "rb")
                except FileNotFoundError:
                    continue
                f.close()
                f, pending = replacement, b""
    finally:
        f.close()
        if watch:
            watch.close()


def _wait_logs(watch, name, running):
    """kubelet's waitLogs: (found, recreated)."""
    if not running():
        return False, False
    event = watch.next(1.0)  # logForceCheckPeriod
    if event is None:
        return True, False
    mask, event_name = event
    return True, bool(mask & IN_CREATE) and event_name == name


def rotate(path, max_size):
    """kubelet's rotation of a running container's log with cri-dockerd: when the file the path
    resolves to is at least max_size, rename the path away, fail to reopen, rename it back.
    Returns whether it tried."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return False  # kubelet asks the runtime to reopen it, which fails: an error, nothing else
    if size < max_size:
        return False
    rotated = "%s.%s" % (path, time.strftime("%Y%m%d-%H%M%S"))
    os.rename(path, rotated)
    os.rename(rotated, path)  # "docker does not support reopening container log files"
    return True
