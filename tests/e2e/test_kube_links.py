"""The Kubernetes view of the logs through a real engine: a container carrying kubelet's labels
gets the link node log collectors look for, <log root>/containers/<pod>_<ns>_<container>-<id>.log,
pointing at its current file; it survives rotation and a plugin restart and goes with the
container's logs. Containers without those labels get none.

The naming rules (kubelet's cut at 255 bytes, the pod sandbox, names Kubernetes never allows)
are proven by tests/unit/kube_log_link_test.cpp; these prove the wiring.
"""
import json
import os
import subprocess
import time
import unittest

import harness
from harness import read_records, wait_until

POD, NAMESPACE, CONTAINER = "web-7d9f8-x2k4q", "shop", "app"
KUBE_LABELS = {
    "io.kubernetes.pod.name": POD,
    "io.kubernetes.pod.namespace": NAMESPACE,
    "io.kubernetes.container.name": CONTAINER,
    "io.kubernetes.pod.uid": "6b7d3c1e-2f4a-4b8c-9d0e-1a2b3c4d5e6f",
    "io.kubernetes.docker.type": "container",
}


class KubeLinksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = harness.ENGINE
        cls.links = os.path.join(cls.engine.log_root, "containers")

    def run_labelled(self, script, labels, opts):
        args = ["run", "-d", "--network", "none", "--log-driver", "logguard"]
        for key, value in labels.items():
            args += ["--label", "%s=%s" % (key, value)]
        for key, value in opts.items():
            args += ["--log-opt", "%s=%s" % (key, value)]
        args += [harness.IMAGE, "sh", "-c", script]
        cid = self.engine.docker(*args).stdout.decode().strip()
        self.addCleanup(self.engine.docker, "rm", "-f", cid, check=False)
        return cid

    def link_of(self, cid):
        return os.path.join(self.links, "%s_%s_%s-%s.log" % (POD, NAMESPACE, CONTAINER, cid))

    def links_to(self, cid):
        if not os.path.isdir(self.links):
            return []
        return [name for name in os.listdir(self.links)
                if cid in os.readlink(os.path.join(self.links, name))]

    def test_link_follows_the_current_file_through_rotation_and_a_restart(self):
        """Proves a kubelet-labelled container's link resolves to its current file after
        rotations and after `docker plugin disable -f` + `enable` (the link, deleted while the
        plugin was down, is made again when the session is reattached), and that it is gone
        within 30 s of `docker rm`."""
        # 100-byte lines, 3000 of them: 300 kB through max-size=50k, then one marker a second.
        script = ("yes %s | head -n 3000; i=0; while true; do i=$((i+1)); echo tick $i; "
                  "sleep 1; done" % ("k" * 99))
        cid = self.run_labelled(script, KUBE_LABELS, {"max-size": "50k", "max-file": "3"})
        plain, _ = self.engine.run("echo no labels", opts={})
        link = self.link_of(cid)
        current = self.engine.log_path(cid)
        self.assertTrue(wait_until(lambda: os.path.islink(link), 20), "no link made")
        self.assertEqual(os.readlink(link), "../%s/%s-json.log" % (cid, cid))
        self.assertTrue(wait_until(lambda: any(r["log"].startswith("tick")
                                               for r in read_records(current)), 30))
        rotated = [n for n in os.listdir(self.engine.log_dir(cid)) if ".log." in n]
        self.assertNotEqual(rotated, [], "the container's log did not rotate")
        self.assertEqual(os.path.realpath(link), os.path.realpath(current))
        self.assertEqual(read_records(link)[-1], read_records(current)[-1])
        self.assertEqual(self.links_to(plain), [])

        self.engine.docker("plugin", "disable", "-f", harness.PLUGIN)
        try:
            os.remove(link)
        finally:
            self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)
        self.assertTrue(wait_until(lambda: os.path.islink(link), 20),
                        "the reattached session did not make the link again")
        before = read_records(link)[-1]["log"]
        self.assertTrue(wait_until(lambda: read_records(link)[-1]["log"] != before, 10),
                        "nothing new read through the link after the restart")

        self.engine.docker("rm", "-f", cid)
        self.assertTrue(wait_until(lambda: not os.path.lexists(link), 30, 0.5),
                        "the link outlived the container's logs")


if __name__ == "__main__":
    unittest.main()
