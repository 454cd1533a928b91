"""The node guard through a real engine: bursts a healthy disk can take are taken whole at the
defaults, logs follow `docker rm` (and never a running container's, whatever the containers
mount holds), a node-wide write budget split evenly among floods, a plugin restarted over the
disk cap keeps running containers' files, and a small, nearly full log filesystem never taken
below the free-space floor while the plugin keeps serving.

Unit tests (tests/unit/node/node_budget_test.cpp, storage/write_back_test.cpp, node/disk_guard_test.cpp,
node/removal_guard_test.cpp) prove the rules exactly; these prove the wiring: the containers mount,
the settings, the real disk.
"""
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

import harness
import test_restart
from harness import is_notice, loop_filesystem, nanos, raw_lines, wait_until

LINE = "x" * 99


def flood_for(seconds):
    """`sh -c` script writing 100-byte lines as fast as busybox can for `seconds` seconds once
    /go/go exists: floods of a fixed time that start together, however fast the machine and
    however long `docker run` takes."""
    return ("while [ ! -e /go/go ]; do sleep 0.1; done; timeout %d yes %s; true"
            % (seconds, LINE))


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize, st.f_blocks * st.f_frsize


class NodeGuardTest(harness.EngineTest):
    def test_docker_rm_removes_the_logs(self):
        """Proves logs follow `docker rm` (the plugin stats the engine's containers directory
        through its read-only `containers` mount) within 60 s, while a stopped, not removed,
        container keeps its logs."""
        removed, _ = self.engine.run("echo going")
        kept, _ = self.engine.run("echo staying")
        self.assertTrue(os.path.exists(self.engine.log_path(removed)))
        self.engine.docker("rm", removed)
        started = time.monotonic()
        self.assertTrue(wait_until(lambda: not os.path.exists(self.engine.log_dir(removed)), 60, 0.5),
                        "the logs of a removed container are still there after 60 s")
        print("\n    logs removed %.1f s after docker rm" % (time.monotonic() - started), flush=True)
        self.assertTrue(os.path.exists(self.engine.log_path(kept)))
        self.assertEqual(self.engine.logs(kept)[0], b"staying\n")

    def test_a_burst_below_the_containers_burst_loses_no_line(self):
        """Proves the node absorbs a burst a healthy disk can take, at every default: one
        container prints 80,000 numbered lines at once, 8 MB of records (below its own default
        burst of 10 MB); all are kept, in order, and no drop notice is written."""
        count = 80_000
        cid, _ = self.engine.run(harness.numbered_lines(count, width=30), timeout=300)
        records = harness.all_records(self.engine.log_dir(cid), cid)
        self.assertEqual([r for r in records if is_notice(r)][:1], [])
        self.assertEqual([int(r["log"][:8]) for r in records], list(range(1, count + 1)))
        written = sum(len(line) + 1 for line in raw_lines(self.engine.log_dir(cid), cid))
        self.assertLess(written, 10_000_000, "the burst is not below the container's own")
        out, _ = self.engine.logs(cid, "--tail", "1")
        self.assertEqual(int(out[:8]), count)

    def test_floods_split_a_fixed_node_budget_evenly(self):
        """Proves NODE_WRITE_RATE=4m is shared evenly: four floods (no per-container limit) run
        at once for 15 s; once the node's allowance (NODE_WRITE_BURST=4m here) is used, each
        writes 1 MB/s of records within 20 %, together at most the budget plus the allowance,
        and their drops are announced with logguard.limit=node-rate."""
        saved = self.engine.configure_plugin(NODE_WRITE_RATE="4m", NODE_WRITE_BURST="4m")
        go = tempfile.mkdtemp(dir=self.engine.dir)
        try:
            cids = []
            for _ in range(4):
                cid, _ = self.engine.run(flood_for(15), detach=True, volumes={go: "/go"}, opts={
                    "rate": "off", "compress": "false", "max-size": "100m"})
                cids.append(cid)
            open(os.path.join(go, "go"), "w").close()
            for cid in cids:
                self.assertEqual(self.engine.wait(cid, timeout=300), 0)
        finally:
            self.engine.configure_plugin(**saved)
        runs = {}
        for cid in cids:
            lines = raw_lines(self.engine.log_dir(cid), cid)
            records = [json.loads(line) for line in lines]
            admitted = [(nanos(r["time"]), len(line) + 1) for line, r in zip(lines, records)
                        if not is_notice(r)]
            notices = [r for r in records if is_notice(r)]
            runs[cid] = (admitted, notices)
        # The window in which all four were flooding (the latest first record to the earliest
        # last record), from 2 s in: the allowance is taken first come, first served.
        start = max(a[0][0] for a, _ in runs.values()) + 2e9
        end = min(a[-1][0] for a, _ in runs.values())
        seconds = (end - start) / 1e9
        self.assertGreater(seconds, 5, "the floods did not overlap long enough")
        written = [sum(size for t, size in a if start <= t <= end) for a, _ in runs.values()]
        mean = sum(written) / len(written)
        print("\n    %.1f s of four floods under NODE_WRITE_RATE=4m: %s bytes each (%.2f MB/s "
              "together); smallest/mean %.3f" % (seconds, written, sum(written) / seconds / 1e6,
                                                min(written) / mean), flush=True)
        for w in written:
            self.assertLess(abs(w - mean), 0.2 * mean, "uneven shares: %s" % written)
        self.assertLessEqual(sum(written), 4e6 * seconds + 4e6 + 4 * 65536)
        self.assertGreater(sum(written), 0.8 * 4e6 * seconds)
        for _, notices in runs.values():
            self.assertTrue(notices)
            self.assertIn("node-rate", notices[-1]["attrs"]["logguard.limit"])

    def test_a_full_log_filesystem_never_goes_below_the_floor(self):
        """Proves NODE_MIN_FREE on a real 64 MB filesystem that something else nearly filled:
        two floods of hard-to-compress lines, written as fast as they come (no limits, cap
        off); a sampler every 10 ms never sees the free space below the floor (15 %, less
        1 MB of filesystem slack), old rotated files are deleted to make room (an ended
        container's first), the drops are announced as node-free, and the plugin keeps
        serving: `docker logs`, and a new container's line once the floods are over."""
        with tempfile.TemporaryDirectory(dir=self.engine.dir) as tmp:
            with loop_filesystem(tmp, 64) as mount:
                root = os.path.join(mount, "logs")
                os.makedirs(root)
                _, total = free_bytes(mount)
                floor = 0.15 * total
                with open(os.path.join(mount, "filler"), "wb") as f:  # whoever filled the disk
                    f.write(os.urandom(int(total - floor - 12e6)))
                    os.fsync(f.fileno())
                saved = self.engine.configure_plugin(**{
                    "logroot.source": root, "NODE_MAX_DISK": "100%", "NODE_MIN_FREE": "15%",
                    "NODE_WRITE_RATE": "off"})
                lowest = [free_bytes(mount)[0]]
                sampling = threading.Event()

                def sample():
                    while not sampling.is_set():
                        lowest[0] = min(lowest[0], free_bytes(mount)[0])
                        time.sleep(0.01)
                sampler = threading.Thread(target=sample)
                sampler.start()
                try:
                    opts = {"rate": "off", "max-size": "1m", "max-file": "50",
                            "compress": "false"}
                    # One container that has ended, then two floods.
                    ended, _ = self.engine.run("base64 /dev/urandom | head -c 3000000",
                                               opts=opts)
                    cids = [self.engine.run("base64 /dev/urandom | head -c 40000000",
                                            detach=True, opts=opts)[0] for _ in range(2)]
                    for cid in cids:
                        self.assertEqual(self.engine.wait(cid, timeout=300), 0)
                    # The last flood's logs (the first one's, ended earlier, were evicted
                    # first), and a new container's line once the floods are over.
                    tail, _ = self.engine.logs(cids[-1], "--tail", "3")
                    after, _ = self.engine.run("echo after")
                    after_logs, _ = self.engine.logs(after)
                    records = [json.loads(line) for cid in cids
                               for line in raw_lines(os.path.join(root, cid), cid)]
                finally:
                    sampling.set()
                    sampler.join()
                    self.engine.configure_plugin(**saved)
                print("\n    lowest free space %.2f MB, floor %.2f MB; %d records kept" % (
                    lowest[0] / 1e6, floor / 1e6, len(records)), flush=True)
                self.assertGreaterEqual(lowest[0], floor - 1e6)
                self.assertTrue(tail.endswith(b"kept free)\n"), tail[-200:])  # the final notice
                self.assertEqual(after_logs, b"after\n")
                notices = [r for r in records if is_notice(r)]
                self.assertTrue(any("node-free" in n["attrs"]["logguard.limit"] for n in notices),
                                "no node-free notice")
                kept_files = sum(len(harness.container_files(os.path.join(root, cid), cid))
                                 for cid in cids)
                self.assertLess(kept_files, 2 * 50, "nothing was evicted")
                self.assertEqual(harness.container_files(os.path.join(root, ended), ended), [],
                                 "the ended container's files were not evicted first")


if __name__ == "__main__":
    unittest.main()


class NodeGuardRestartTest(test_restart.PluginRestartCase):
    """What the node guard must never delete: a running container's logs, when the plugin
    restarts over the disk cap or when the containers mount is a stale copy."""

    def test_a_stale_containers_directory_ends_no_session(self):
        """Proves a containers mount that is a stale copy (it holds one old container with
        logs, not the running one) is not believed: the guard's removal check runs (the plugin
        says it does not trust the directory), the running container's files stay, and it logs
        every one of its 400 lines."""
        old, _ = self.engine.run("echo old")
        with tempfile.TemporaryDirectory(dir=self.engine.dir) as stale:
            os.makedirs(os.path.join(stale, old))
            saved = self.engine.configure_plugin(**{"containers.source": stale})
            try:
                cid = self.start("for i in $(seq 1 400); do printf '%08d x\\n' $i; "
                                 "sleep 0.05; done")
                self.assertTrue(wait_until(lambda: self.plugin_said("lacks 1 of the"), 60, 0.5),
                                "the guard never looked at the directory:\n" + self.plugin_log())
                self.assertTrue(os.path.exists(self.engine.log_path(cid)))
                self.assertEqual(self.wait_exit(cid, 120), 0)
            finally:
                self.engine.configure_plugin(**saved)
        records = harness.all_records(self.engine.log_dir(cid), cid)
        self.assertEqual([int(r["log"][:8]) for r in records], list(range(1, 401)))
        self.assertTrue(os.path.exists(self.engine.log_path(old)))

    def test_a_restart_over_the_disk_cap_keeps_running_containers_files(self):
        """Proves a plugin restarted (`disable -f`, `enable`) while the logs are over
        NODE_MAX_DISK deletes what may go (the files of a container that ended), never the
        current file of a running container, and every running container logs again: two
        containers print a numbered line every 20 ms; a third, ended, left 3 MB; the cap is set
        to 2 MB while the plugin is down."""
        ended, _ = self.engine.run(harness.numbered_lines(30_000), opts={"rate": "off"})
        cids = [self.start("i=0; while true; do i=$((i+1)); printf '%08d x\\n' $i; "
                           "sleep 0.02; done") for _ in range(2)]
        paths = [self.engine.log_path(cid) for cid in cids]
        self.assertTrue(wait_until(lambda: all(os.path.exists(p) and os.path.getsize(p) > 2000
                                               for p in paths), 60))
        inodes = [os.stat(p).st_ino for p in paths]
        env = json.loads(self.engine.docker("plugin", "inspect", "-f", "{{json .Settings.Env}}",
                                            harness.PLUGIN).stdout)
        cap = dict(entry.partition("=")[::2] for entry in env)["NODE_MAX_DISK"]
        self.engine.docker("plugin", "disable", "-f", harness.PLUGIN)
        try:
            self.engine.docker("plugin", "set", harness.PLUGIN, "NODE_MAX_DISK=2m")
            self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)
            self.assertTrue(wait_until(lambda: not os.path.exists(self.engine.log_path(ended)),
                                       60), "the ended container's files were not evicted")
            sizes = [os.path.getsize(p) for p in paths]
            self.assertTrue(wait_until(lambda: all(os.path.getsize(p) > s + 1000
                                                   for p, s in zip(paths, sizes)), 60),
                            "not every running container logs again:\n" + self.plugin_log())
            self.assertEqual([os.stat(p).st_ino for p in paths], inodes,
                             "a running container's current file was replaced")
        finally:
            for cid in cids:
                self.engine.docker("kill", cid, check=False)
            self.engine.docker("plugin", "disable", "-f", harness.PLUGIN)
            self.engine.docker("plugin", "set", harness.PLUGIN, "NODE_MAX_DISK=" + cap)
            self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)
        for cid in cids:
            numbers = [int(r["log"][:8]) for r in
                       harness.all_records(self.engine.log_dir(cid), cid) if not is_notice(r)]
            self.assertEqual(numbers, list(range(1, len(numbers) + 1)), cid[:12])
