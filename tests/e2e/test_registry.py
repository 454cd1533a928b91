"""Installing, upgrading and removing logguard through a registry, as users do (README,
"Install from a registry, upgrade, uninstall"): a local registry (Debian's docker-registry on
127.0.0.1), two releases pushed by scripts/publish.sh, `docker plugin install --alias
logguard`, containers logging through it, `docker plugin upgrade` to the second release and
back, `docker plugin rm`.

These tests run their own engine: the suite's has a plugin named logguard already (created from
a directory). Its data root is not /var/lib/docker, so the `containers` mount source must be
set, as on any node with another data root. The tests run in order (test_1 .. test_4), each
going on from the state the one before left. The README's install, upgrade and uninstall blocks
are run as written, with the test's registry address and directories put in.

What the engine (20.10) does, as observed here (and read in moby's plugin manager):
- A registry on 127.0.0.0/8 is reached over plain HTTP without any daemon setting.
- Without --alias a plugin is named after its reference: `--log-driver logguard` is not found.
- Install enables the plugin at once, with no timeout. A mount source that does not exist makes
  that enable fail; the plugin stays installed, disabled.
- Upgrade wants the plugin disabled, and disable refuses while a running container uses it
  (unless -f). The CLI asks for confirmation when the reference changes unless told
  --skip-remote-check.
- Upgrade keeps the plugin's name, ID and env settings, but replaces its rootfs (the session
  state under /var/lib/logguard goes with it) and its config: mount sources go back to the new
  config.json's, so they must be set again before enable.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness
from harness import wait_until

RELEASE_FILE = "/etc/logguard-release"  # written into the rootfs by scripts/publish.sh
# README's upgrade and uninstall: the containers (running: -q, all: -aq) that log through
# logguard, to stop and start again, or to remove.
USERS_COMMAND = ("docker ps %s | xargs -r docker inspect -f "
                 "'{{if eq .HostConfig.LogConfig.Type \"logguard\"}}{{.Id}}{{end}}'")


class Registry:
    """Debian's docker-registry (distribution 2.8) serving plain HTTP on 127.0.0.1, storing
    into a temp dir."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lg-registry-")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self.process = None

    def start(self):
        config = os.path.join(self.dir, "config.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\n"
                    "log:\n  level: warn\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s\n"
                    "http:\n  addr: %s\n" % (os.path.join(self.dir, "data"), self.address))
        log = open(os.path.join(self.dir, "registry.log"), "wb")
        self.process = subprocess.Popen(["/usr/bin/docker-registry", "serve", config],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        if not wait_until(self.answers, 15):
            raise RuntimeError("docker-registry did not answer on %s:\n%s" % (
                self.address, open(log.name).read()[-2000:]))

    def answers(self):
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            return no_proxy.open("http://%s/v2/" % self.address, timeout=2).status == 200
        except OSError:
            return False

    def tags(self, name):
        no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        reply = no_proxy.open("http://%s/v2/%s/tags/list" % (self.address, name), timeout=5)
        return sorted(json.loads(reply.read())["tags"])

    def stop(self):
        if self.process:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def config_mount_sources():
    """config.json's mount sources by mount name."""
    manifest = json.load(open(os.path.join(harness.REPO, "config.json")))
    return {m["name"]: m["source"] for m in manifest["mounts"]}


def readme_block(heading):
    """The first ```sh block after `heading` in README.md."""
    text = open(os.path.join(harness.REPO, "README.md")).read()
    begin = text.index("```sh\n", text.index(heading)) + len("```sh\n")
    return text[begin:text.index("```", begin)]


class RegistryInstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registry = Registry()
        cls.engine = None
        try:
            cls.registry.start()
            cls.engine = harness.start_private_engine(with_plugin=False)
            cls.repo = cls.registry.address + "/logguard"
            cls.old, cls.new = cls.repo + ":0.1.0", cls.repo + ":0.2.0"
            started = time.monotonic()
            for ref in (cls.old, cls.new):
                publish = os.path.join(harness.REPO, "scripts", "publish.sh")
                out = subprocess.run([publish, ref, cls.engine.build_dir], capture_output=True,
                                     text=True, env=dict(os.environ, DOCKER_HOST=cls.engine.host))
                if out.returncode != 0:
                    raise RuntimeError("scripts/publish.sh %s failed:\n%s%s" % (
                        ref, out.stdout[-2000:], out.stderr[-2000:]))
            cls.publish_seconds = time.monotonic() - started
        except BaseException:
            cls.tearDownClass()
            raise
        # Not the engine's log root of the suite: this one must not exist before test_2.
        cls.log_root = os.path.join(cls.engine.dir, "registry-logs")
        # As the README sets it: the engine's data root (not /var/lib/docker here) + /containers.
        root = cls.engine.docker("info", "-f", "{{.DockerRootDir}}").stdout.decode().strip()
        cls.containers_source = root + "/containers"
        # Stands for /var/log/pods, which the README has made before installing.
        cls.pods_source = os.path.join(cls.engine.dir, "registry-pods")
        os.makedirs(cls.pods_source)
        cls.cids = {}

    @classmethod
    def tearDownClass(cls):
        if cls.engine:
            cls.engine.stop()
        cls.registry.stop()

    # ---- helpers ----
    def docker(self, *args, check=True):
        return self.engine.docker(*args, check=check)

    def inspect_plugin(self, name="logguard"):
        return json.loads(self.docker("plugin", "inspect", name).stdout)[0]

    def plugin_names(self):
        out = self.docker("plugin", "ls", "--format", "{{.Name}} {{.Enabled}}").stdout
        return out.decode().split("\n")

    def logs(self, cid):
        out, err = self.engine.logs(cid)
        return out.decode().splitlines()

    def users(self, ps_flags):
        """The README's list of containers that log through logguard (USERS_COMMAND)."""
        out = subprocess.run(["sh", "-c", USERS_COMMAND % ps_flags], capture_output=True,
                             text=True, check=True,
                             env=dict(os.environ, DOCKER_HOST=self.engine.host,
                                      PATH="/usr/bin:" + os.environ["PATH"]))
        return sorted(out.stdout.split())

    def release_of_running_plugin(self):
        """The release file in the root of the running plugin process: the rootfs it runs from."""
        pid = self.engine.plugin_pid()
        self.assertIsNotNone(pid, "no logguard process in the plugin's cgroup")
        return open("/proc/%d/root%s" % (pid, RELEASE_FILE)).read().strip(), pid

    # ---- the steps ----
    def test_1_install_without_alias_is_not_logguard(self):
        """Proves the issue's first point: installed without --alias the plugin is named after
        its reference, `--log-driver logguard` is not found and only the full reference works.
        Also that both releases are in the registry, pushed over plain HTTP."""
        self.assertEqual(self.registry.tags("logguard"), ["0.1.0", "0.2.0"])
        print("  (publishing both releases took %.1f s)" % self.publish_seconds, flush=True)
        self.docker("plugin", "install", "--grant-all-permissions", self.old,
                    "logroot.source=" + self.engine.log_root,
                    "containers.source=" + self.containers_source,
                    "pods.source=" + self.pods_source)
        self.assertIn(self.old + " true", self.plugin_names())
        _, result = self.engine.run("echo hi", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b'plugin "logguard" not found', result.stderr)
        cid, result = self.engine.run("echo hi", driver=self.old)
        self.assertEqual(self.logs(cid), ["hi"])
        self.docker("rm", cid)
        self.docker("plugin", "disable", self.old)
        self.docker("plugin", "rm", self.old)
        self.assertEqual(self.docker("plugin", "ls", "-q").stdout.strip(), b"")

    def test_2_install_with_alias(self):
        """Proves the README's install: with a log root that does not exist yet, install
        (which enables) fails naming it and leaves `logguard` installed but disabled; once the
        directory exists, enable works. Then the README's install block as written (the
        test's registry and log root put in, RATE=2m added) installs it again: the settings
        given to install are applied, and `--log-driver logguard` logs to the files and to
        `docker logs`."""
        self.assertFalse(os.path.exists(self.log_root))
        result = self.docker("plugin", "install", "--alias", "logguard", "--grant-all-permissions",
                             self.old, "logroot.source=" + self.log_root,
                             "containers.source=" + self.containers_source,
                             "pods.source=" + self.pods_source, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(self.log_root + ": no such file or directory", result.stderr.decode())
        self.assertIn("logguard:latest false", self.plugin_names())
        os.makedirs(self.log_root)
        self.docker("plugin", "enable", "--timeout", "0", "logguard")
        self.assertIn("logguard:latest true", self.plugin_names())
        self.docker("plugin", "disable", "logguard")
        self.docker("plugin", "rm", "logguard")
        os.rmdir(self.log_root)

        block = readme_block("**Install** on every node, as root:")
        self.assertEqual(block.count("/var/log/logguard"), 1)
        self.assertEqual(block.count("/var/log/pods"), 1)
        self.assertEqual(block.count("registry.example.com/logguard:0.1.0"), 1)
        self.assertEqual(block.count("/containers\n"), 1)
        block = block.replace("/var/log/logguard", self.log_root)
        block = block.replace("/var/log/pods", self.pods_source)
        block = block.replace("registry.example.com/logguard:0.1.0", self.old)
        block = block.replace("/containers\n", "/containers logroot.source=%s pods.source=%s "
                              "RATE=2m\n" % (self.log_root, self.pods_source))
        out = subprocess.run(["sh", "-ec", block], capture_output=True, text=True,
                             env=dict(os.environ, DOCKER_HOST=self.engine.host,
                                      PATH="/usr/bin:" + os.environ["PATH"]))
        self.assertEqual(out.returncode, 0, "the README's install failed:\n%s\n%s" % (
            block, out.stderr))
        plugin = self.inspect_plugin()
        self.assertEqual((plugin["Name"], plugin["PluginReference"], plugin["Enabled"]),
                         ("logguard:latest", self.old, True))
        sources = {m["Name"]: m["Source"] for m in plugin["Config"]["Mounts"]}
        self.assertEqual(sources, {"logroot": self.log_root, "containers": self.containers_source,
                                   "pods": self.pods_source})
        self.assertIn("RATE=2m", plugin["Settings"]["Env"])
        release, _ = self.release_of_running_plugin()
        self.assertEqual(release, self.old)

        cid, _ = self.engine.run("seq 1 100 | sed 's/^/before upgrade /'")
        self.assertEqual(self.logs(cid), ["before upgrade %d" % i for i in range(1, 101)])
        path = os.path.join(self.log_root, cid, cid + "-json.log")
        self.assertEqual(len(harness.read_records(path)), 100)
        self.cids["finished"] = cid
        # A container still running when the upgrade comes: a counter, numbered from 1 again
        # each time it starts.
        cid, _ = self.engine.run("echo started; i=0; while true; do i=$((i+1)); echo line $i; "
                                 "sleep 0.05; done", detach=True)
        self.assertTrue(wait_until(lambda: len(self.logs(cid)) >= 20, 30))
        self.cids["running"] = cid

    def test_3_upgrade(self):
        """Proves the README's upgrade sequence and what the engine requires: upgrade is refused
        while enabled, disable while a running container uses the plugin; after `docker stop`,
        disable, `upgrade --skip-remote-check` keeps the name, ID and env settings, swaps the
        rootfs (the running process's root holds the new release) and resets mount sources to
        config.json's, which are set again; after enable, the logs written before the upgrade
        read back unchanged with `docker logs`, and the restarted container and a new one
        log through the new release."""
        finished, running = self.cids["finished"], self.cids["running"]
        before = self.inspect_plugin()
        _, old_pid = self.release_of_running_plugin()

        result = self.docker("plugin", "upgrade", "--grant-all-permissions", "--skip-remote-check",
                             "logguard", self.new, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"disabled before upgrading", result.stdout + result.stderr)
        result = self.docker("plugin", "disable", "logguard", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"is in use", result.stderr)

        self.assertEqual(self.users("-q"), [running])
        self.docker("stop", "-t", "1", running)
        finished_logs, running_logs = self.logs(finished), self.logs(running)
        self.assertEqual(running_logs[:2], ["started", "line 1"])
        started = time.monotonic()
        self.docker("plugin", "disable", "logguard")
        self.docker("plugin", "upgrade", "--grant-all-permissions", "--skip-remote-check",
                    "logguard", self.new)
        after = self.inspect_plugin()
        self.assertEqual((after["Id"], after["Name"], after["PluginReference"], after["Enabled"]),
                         (before["Id"], "logguard:latest", self.new, False))
        self.assertEqual(after["Settings"]["Env"], before["Settings"]["Env"])
        reset = {m["Name"]: m["Source"] for m in after["Config"]["Mounts"]}
        self.assertEqual(reset, config_mount_sources(),
                         "upgrade no longer resets mount sources: README's upgrade can be simpler")
        rootfs = os.path.join(self.engine.dir, "data", "plugins", after["Id"], "rootfs")
        self.assertEqual(os.listdir(os.path.join(rootfs, "var", "lib", "logguard")), [],
                         "the new rootfs has no session state")

        self.docker("plugin", "set", "logguard", "logroot.source=" + self.log_root,
                    "containers.source=" + self.containers_source,
                    "pods.source=" + self.pods_source)
        self.docker("plugin", "enable", "--timeout", "0", "logguard")
        print("  (disable, upgrade, set, enable took %.1f s)" % (time.monotonic() - started),
              flush=True)
        release, new_pid = self.release_of_running_plugin()
        self.assertEqual(release, self.new)
        self.assertNotEqual(new_pid, old_pid)
        self.assertIn(b"RATE=2m", open("/proc/%d/environ" % new_pid, "rb").read().split(b"\0"))

        self.assertEqual(self.logs(finished), finished_logs)
        self.assertEqual(self.logs(running), running_logs)
        self.docker("start", running)
        grown = wait_until(lambda: len(self.logs(running)) >= len(running_logs) + 20, 30)
        self.assertTrue(grown, "no new lines from the restarted container")
        logs = self.logs(running)
        self.assertEqual(logs[:len(running_logs)], running_logs)
        self.assertEqual(logs[len(running_logs):len(running_logs) + 3],
                         ["started", "line 1", "line 2"])
        cid, _ = self.engine.run("echo after upgrade")
        self.assertEqual(self.logs(cid), ["after upgrade"])
        self.cids["new"] = cid

    def test_3b_upgrade_block_of_the_readme(self):
        """Proves the README's upgrade block as written, with the test's registry and log root
        put in: back to the first release while the container runs; the block stops it and
        starts it again, and it goes on logging after what it had logged."""
        running = self.cids["running"]
        self.assertEqual(self.users("-q"), [running])
        before = self.logs(running)
        block = readme_block("**Upgrade** to another release:")
        self.assertIn(USERS_COMMAND % "-q", block)
        self.assertEqual(block.count("registry.example.com/logguard:0.2.0"), 1)
        self.assertEqual(block.count("/containers\n"), 1)
        block = block.replace("registry.example.com/logguard:0.2.0", self.old)
        block = block.replace("/containers\n", "/containers logroot.source=%s pods.source=%s\n"
                              % (self.log_root, self.pods_source))
        started = time.monotonic()
        out = subprocess.run(["sh", "-ec", block], capture_output=True, text=True,
                             env=dict(os.environ, DOCKER_HOST=self.engine.host,
                                      PATH="/usr/bin:" + os.environ["PATH"]))
        self.assertEqual(out.returncode, 0, "the README's upgrade failed:\n%s\n%s" % (
            block, out.stderr))
        print("  (the README's upgrade took %.1f s)" % (time.monotonic() - started), flush=True)
        plugin = self.inspect_plugin()
        self.assertEqual((plugin["PluginReference"], plugin["Enabled"]), (self.old, True))
        self.assertEqual(self.release_of_running_plugin()[0], self.old)
        self.assertEqual(self.users("-q"), [running])
        restarted = wait_until(lambda: self.logs(running).count("started") == 3, 30)
        self.assertTrue(restarted, "the container did not log its third start")
        logs = self.logs(running)
        self.assertEqual(logs[:len(before)], before)
        third = len(logs) - 1 - logs[::-1].index("started")
        self.assertTrue(wait_until(lambda: len(self.logs(running)) > third + 5, 30))
        self.assertEqual(self.logs(running)[third:third + 4], ["started", "line 1", "line 2",
                                                               "line 3"])

    def test_4_uninstall(self):
        """Proves that the `containers` mount source set again after the upgrades is right: the
        logs of removed containers go within 10 s while another container still exists
        (logguard deletes by it only while the mount is shown to be the engine's: it holds one
        of the containers logguard has logs for). Then the README's uninstall block as written
        (this engine's log root put in) removes the last container, the plugin and the logs;
        afterwards `--log-driver logguard` is not found."""
        self.assertEqual(self.users("-aq"), sorted(self.cids.values()))
        removed = [self.cids["finished"], self.cids["new"]]
        self.docker("rm", "-f", *removed)
        gone = wait_until(lambda: not any(os.path.exists(os.path.join(self.log_root, c))
                                          for c in removed), 30)
        self.assertTrue(gone, "logs of removed containers still there: %s"
                        % os.listdir(self.log_root))

        block = readme_block("**Uninstall**:")
        self.assertIn(USERS_COMMAND % "-aq", block)
        self.assertEqual(block.count("/var/log/logguard"), 1)
        block = block.replace("/var/log/logguard", self.log_root)
        out = subprocess.run(["sh", "-ec", block], capture_output=True, text=True,
                             env=dict(os.environ, DOCKER_HOST=self.engine.host,
                                      PATH="/usr/bin:" + os.environ["PATH"]))
        self.assertEqual(out.returncode, 0, "the README's uninstall failed:\n%s\n%s" % (
            block, out.stderr))
        self.assertEqual(self.engine.all_containers(), [])
        self.assertEqual(self.docker("plugin", "ls", "-q").stdout.strip(), b"")
        self.assertFalse(os.path.exists(self.log_root))
        _, result = self.engine.run("echo hi", check=False)
        self.assertIn(b'plugin "logguard" not found', result.stderr)
