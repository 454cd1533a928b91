"""The Kubernetes view of the logs through a real engine.

- Collectors' links: a pod's container (kubelet's labels and cri-dockerd's or dockershim's
  markers) gets <log root>/containers/<pod>_<ns>_<container>-<id>.log, pointing at its current
  file; it survives rotation and a plugin restart and goes with the container's logs.
  Labels set by hand get none.
- kubelet's link (issue 22): the CRI log path cri-dockerd puts in the container's label is
  linked to the container's current file (the engine's stand-in for /var/log/pods is the
  plugin's `pods` mount, harness.Engine.pods_dir), so kubelet's `kubectl logs` reader and its
  rotation, emulated from their source in kubelet.py, work on logguard's files.

The naming rules (kubelet's cut at 255 bytes, the pod sandbox, names Kubernetes never allows,
the CRI log path's shape) are proven by the unit tests (kube_log_link_test, pod_log_link_test,
pod_links_test); these prove the wiring.
"""
import os
import signal
import tempfile
import threading
import unittest

import harness
import kubelet
from harness import read_records, wait_until

POD, NAMESPACE, CONTAINER = "web-7d9f8-x2k4q", "shop", "app"


class KubeLinksTest(harness.EngineTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.links = os.path.join(cls.engine.log_root, "containers")

    def run_labelled(self, script, labels, opts=None, volumes=()):
        args = ["run", "-d", "--network", "none", "--log-driver", "logguard"]
        for key, value in labels.items():
            args += ["--label", "%s=%s" % (key, value)]
        for key, value in (opts or {}).items():
            args += ["--log-opt", "%s=%s" % (key, value)]
        for volume in volumes:
            args += ["-v", volume]
        args += [harness.IMAGE, "sh", "-c", script]
        cid = self.engine.docker(*args).stdout.decode().strip()
        self.addCleanup(self.engine.docker, "rm", "-f", cid, check=False)
        return cid

    def cri_labels(self, pod=POD, restart=0):
        return kubelet.cri_labels(self.engine.pods_dir, pod, NAMESPACE, CONTAINER, restart)

    def link_of(self, cid, pod=POD):
        return os.path.join(self.links, "%s_%s_%s-%s.log" % (pod, NAMESPACE, CONTAINER, cid))

    def links_to(self, cid):
        if not os.path.isdir(self.links):
            return []
        return [name for name in os.listdir(self.links)
                if cid in os.readlink(os.path.join(self.links, name))]

    def restart_plugin_with_kill_9(self):
        old = self.engine.plugin_pid()
        os.kill(old, signal.SIGKILL)
        self.assertTrue(wait_until(lambda: self.engine.plugin_pid() not in (None, old), 30),
                        "the engine did not start the plugin again")

    def test_links_follow_the_current_file_through_rotation_restarts_and_removal(self):
        """Proves, for a container with cri-dockerd's labels: its collectors' link and the link
        at its CRI log path are made at start and resolve to its current file across 20 and
        more rotations; after `kill -9` of the plugin and after `disable -f` + `enable` (both
        links deleted while the plugin was down) the reattached session makes them again;
        a restarted container's 1.log and the first one's 0.log coexist (for --previous), each
        to its own file; `docker rm` of the first removes its links within 30 s and leaves the
        second's."""
        # 100-byte lines: 3000 of them through max-size=10k (~55 a file), then a tick a second.
        script = ("yes %s | head -n 3000; i=0; while true; do i=$((i+1)); echo tick $i; "
                  "sleep 1; done" % ("k" * 99))
        labels = self.cri_labels()
        cri_path = labels["io.kubernetes.container.logpath"]
        cid = self.run_labelled(script, labels, {"max-size": "10k", "max-file": "3"})
        current = self.engine.log_path(cid)
        link = self.link_of(cid)
        self.assertTrue(wait_until(lambda: os.path.islink(cri_path) and os.path.islink(link), 20),
                        "no links made")
        self.assertEqual(os.readlink(cri_path), current)  # the host path kubelet resolves
        self.assertEqual(os.readlink(link), "../%s/%s-json.log" % (cid, cid))
        self.assertEqual(sorted(os.listdir(os.path.dirname(cri_path))), ["0.log"])
        def ticked():
            try:
                return any(r["log"].startswith("tick") for r in read_records(current))
            except FileNotFoundError:  # between a rotation's rename and its new file
                return False
        self.assertTrue(wait_until(ticked, 60))
        self.assertTrue(self.engine.inspect(cid)["LogPath"] == "",
                        "the engine reports a log path for a plugin: cri-dockerd would link it")
        for path in (cri_path, link):
            self.assertEqual(os.path.realpath(path), os.path.realpath(current))
            self.assertEqual(read_records(path)[-1], read_records(current)[-1])

        self.restart_plugin_with_kill_9()
        self.assertTrue(wait_until(lambda: os.path.islink(cri_path), 20))
        self.engine.docker("plugin", "disable", "-f", harness.PLUGIN)
        try:
            os.remove(cri_path)
            os.remove(link)
        finally:
            self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)
        self.assertTrue(wait_until(lambda: os.path.islink(cri_path) and os.path.islink(link), 20),
                        "the reattached session did not make the links again")
        before = read_records(cri_path)[-1]["log"]
        self.assertTrue(wait_until(lambda: read_records(cri_path)[-1]["log"] != before, 10),
                        "nothing new read through the link after the restart")

        # kubelet starts the container again: a new one, restart count 1, the same pod.
        self.engine.docker("kill", cid)
        second_labels = self.cri_labels(restart=1)
        second = self.run_labelled("echo second; sleep 600", second_labels)
        second_path = second_labels["io.kubernetes.container.logpath"]
        self.assertTrue(wait_until(lambda: os.path.islink(second_path), 20))
        self.assertEqual(os.readlink(cri_path), current)  # kept for --previous
        self.assertEqual(os.readlink(second_path), self.engine.log_path(second))
        self.assertEqual(sorted(os.listdir(os.path.dirname(cri_path))), ["0.log", "1.log"])

        self.engine.docker("rm", "-f", cid)
        self.assertTrue(wait_until(lambda: not os.path.lexists(cri_path) and
                                   not os.path.lexists(link), 30, 0.5),
                        "the links outlived the container's logs")
        self.assertEqual(os.readlink(second_path), self.engine.log_path(second))
        self.assertTrue(os.path.islink(self.link_of(second)))

    def test_what_is_not_ours_stays_and_bad_paths_get_no_link(self):
        """Proves a regular file and a link that is not logguard's at a CRI log path are left as
        they are, also when the container goes; and that no link is made for the pod's sandbox,
        a log path with "..", one outside the pods directory or not named <digits>.log, one
        whose directory kubelet did not make, nor (issue 20) for a container labelled by hand
        with kubelet's labels but without the runtime's markers."""
        occupied = self.cri_labels(pod="occupied-0")
        occupied_path = occupied["io.kubernetes.container.logpath"]
        with open(occupied_path, "w") as f:
            f.write("kubelet's\n")
        foreign = self.cri_labels(pod="foreign-0")
        foreign_path = foreign["io.kubernetes.container.logpath"]
        os.symlink("/var/lib/docker/containers/x/x-json.log", foreign_path)

        pods = self.engine.pods_dir
        base = self.cri_labels(pod="bad-0")
        bad_dir = os.path.dirname(base["io.kubernetes.container.logpath"])
        refused = {
            "sandbox": dict(base, **{"io.kubernetes.docker.type": "podsandbox"}),
            "dotdot": dict(base, **{"io.kubernetes.container.logpath":
                                    os.path.join(bad_dir, "..", CONTAINER, "0.log")}),
            "outside": dict(base, **{"io.kubernetes.container.logpath":
                                     os.path.join(self.engine.dir, "0.log")}),
            "name": dict(base, **{"io.kubernetes.container.logpath":
                                  os.path.join(bad_dir, "zero.log")}),
            "no-dir": self.cri_labels(pod="bad-1"),
        }
        os.rmdir(os.path.dirname(refused["no-dir"]["io.kubernetes.container.logpath"]))
        by_hand = {"io.kubernetes.pod.name": "by-hand",
                   "io.kubernetes.pod.namespace": "kube-system",
                   "io.kubernetes.container.name": "app"}

        # Logs go with `docker rm` only while the engine's containers directory holds one of
        # the containers logguard has logs for (README): this one stays.
        self.run_labelled("sleep 600", {})
        cids = [self.run_labelled("echo x", labels) for labels in [occupied, foreign, by_hand] +
                list(refused.values())]
        for cid in cids:
            self.assertEqual(self.engine.wait(cid), 0)
            self.assertTrue(wait_until(lambda: os.path.exists(self.engine.log_path(cid)), 10))
        self.assertEqual(open(occupied_path).read(), "kubelet's\n")
        self.assertEqual(os.readlink(foreign_path), "/var/lib/docker/containers/x/x-json.log")
        self.assertEqual(sorted(os.listdir(bad_dir)), [])
        self.assertFalse(os.path.exists(os.path.join(pods, "0.log")))
        self.assertFalse(os.path.exists(os.path.join(self.engine.dir, "0.log")))
        self.assertEqual(self.links_to(cids[2]), [], "a link for labels set by hand")
        self.assertEqual(self.links_to(cids[3]), [], "a link for the pod's sandbox")
        for cid in cids:
            self.engine.docker("rm", cid)
        # Removal waits for the node guard's next look (every 10 s), then leaves them alone.
        left = lambda: [c[:12] for c in cids if os.path.exists(self.engine.log_dir(c))]  # noqa
        self.assertTrue(wait_until(lambda: not left(), 30, 0.5), "logs left: %s" % left())
        self.assertEqual(open(occupied_path).read(), "kubelet's\n")
        self.assertEqual(os.readlink(foreign_path), "/var/lib/docker/containers/x/x-json.log")

    def test_kubelets_reader_follows_the_link_across_rotations(self):
        """Proves `kubectl logs -f` as kubelet's reader does it (kubelet.read_logs: symbolic
        links resolved, json-file format detected, the directory watched for the file's
        re-creation) over the CRI log path: started before the first line, it reads 1,500
        numbered lines written across more than 20 rotations (max-size=10k), every line once
        and in order; and `--tail 5` of the stopped container gives the last 5 lines of its
        current file. kubelet's reader follows the path, not the rotated files: a file must
        not be rotated away again before the reader has switched to it, as files of minutes
        are not; so the container writes batches of 50 lines (a 10k file holds ~58) and waits
        for the reader to have each batch before the next."""
        sync = tempfile.mkdtemp(dir=self.engine.dir)
        count, batch = 1500, 50
        script = ("pad=$(printf '%%090d' 0); i=0; until [ -e /sync/go ]; do sleep 0.05; done; "
                  "while [ $i -lt %d ]; do j=0; while [ $j -lt %d ]; do i=$((i+1)); j=$((j+1)); "
                  "printf '%%08d %%s\\n' $i \"$pad\"; done; "
                  "until [ \"$(cat /sync/read 2>/dev/null || echo 0)\" -ge $i ]; do sleep 0.01; "
                  "done; done" % (count, batch))
        labels = self.cri_labels(pod="reader-0")
        cri_path = labels["io.kubernetes.container.logpath"]
        cid = self.run_labelled(script, labels, {"max-size": "10k", "max-file": "3",
                                                 "rate": "off"}, volumes=[sync + ":/sync"])
        self.assertTrue(wait_until(lambda: os.path.islink(cri_path), 20))
        # kubelet asks the runtime at every end of the file; `docker wait` in a thread is as
        # cheap as that, `docker inspect` each time is not.
        exited, code = threading.Event(), []
        waiter = threading.Thread(target=lambda: (code.append(self.engine.wait(cid)),
                                                  exited.set()))
        waiter.start()
        running = lambda: not exited.is_set()  # noqa: E731

        def on_line(line):
            with open(os.path.join(sync, "read.tmp"), "w") as f:
                f.write("%d\n" % int(line[:8]))
            os.rename(os.path.join(sync, "read.tmp"), os.path.join(sync, "read"))
        reader_lines, watching = [], threading.Event()
        reader = threading.Thread(target=lambda: reader_lines.extend(kubelet.read_logs(
            cri_path, running, follow=True, on_line=on_line, watching=watching)))
        reader.start()
        self.assertTrue(watching.wait(30), "the reader did not reach the end of the file")
        open(os.path.join(sync, "go"), "w").close()
        waiter.join()
        self.assertEqual(code, [0])
        reader.join(60)
        self.assertFalse(reader.is_alive(), "the reader did not stop with the container")
        numbers = [int(line[:8]) for line in reader_lines]
        self.assertEqual(numbers, list(range(1, count + 1)))
        records = read_records(self.engine.log_path(cid))
        # A 10k file holds under 60 of these records: more than 20 files came before this one.
        self.assertGreater(int(records[0]["log"][:8]), 20 * 60)
        tail = kubelet.read_logs(cri_path, running, tail=5)
        self.assertEqual(tail, [r["log"].encode() for r in records[-5:]])

    def test_kubelets_rotation_renames_the_link_away_and_back(self):
        """Proves the max-size cap and what kubelet's own rotation does to the link. With
        cri-dockerd's labels and the defaults (max-size 20m, KUBE_LOG_MAX_SIZE 10Mi), 200,000
        numbered 100-byte lines (~34 MB of records, rate=off): the current file never reaches
        10 MiB, so kubelet (checked as it does, through the link) never rotates it; the plugin
        says so once for two such containers. While they are written, the link is renamed away
        and back as kubelet does on every attempt: logguard's files hold every line once and
        in order, and the link still names the current file."""
        log = os.path.join(self.engine.dir, "dockerd.log")
        start = os.path.getsize(log)
        count = 200_000
        labels = self.cri_labels(pod="big-0")
        cri_path = labels["io.kubernetes.container.logpath"]
        cid = self.run_labelled(harness.numbered_lines(count), labels, {"rate": "off"})
        other = self.run_labelled("echo other", self.cri_labels(pod="big-1"))
        self.assertTrue(wait_until(lambda: os.path.islink(cri_path), 20))
        largest, tried, renamed = 0, 0, 0
        while self.engine.inspect(cid)["State"]["Running"] or tried == 0:
            largest = max(largest, os.stat(self.engine.log_path(cid)).st_size)
            tried += 1
            renamed += kubelet.rotate(cri_path, 10 * 1024 * 1024)
            kubelet.rotate(cri_path, 0)  # as if it rotated: away and back
        self.assertEqual(self.engine.wait(cid), 0)
        self.assertEqual(self.engine.wait(other), 0)
        self.assertEqual(renamed, 0, "kubelet would have rotated the file")
        self.assertLess(largest, 10 * 1024 * 1024)
        self.assertEqual(os.readlink(cri_path), self.engine.log_path(cid))
        files = harness.container_files(self.engine.log_dir(cid), cid)
        self.assertGreater(len(files), 3)
        self.assertTrue(all(os.path.getsize(p) < 9_437_184 + 200 for p in files
                            if not p.endswith((".gz", ".zst"))))
        numbers = [int(r["log"][:8]) for r in harness.all_records(self.engine.log_dir(cid),
                                                                   cid)]
        self.assertEqual(numbers, list(range(count - len(numbers) + 1, count + 1)))
        with open(log, "rb") as f:
            f.seek(start)
            said = f.read().count(b"KUBE_LOG_MAX_SIZE=10MiB itself")
        self.assertEqual(said, 1)


if __name__ == "__main__":
    unittest.main()
