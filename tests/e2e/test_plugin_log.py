"""The plugin's own messages in the engine's log: the engine copies a managed plugin's stdout
as level=info and its stderr as level=error, each line tagged plugin=<id> (docs/PROTOCOL.md
§2.6). A container's normal life leaves no error there, a real fault does, and LOG_LEVEL
chooses what is shown and refuses values it does not know.
"""
import os
import re
import subprocess
import tempfile
import unittest

import harness
from harness import wait_until


class PluginLogTest(harness.EngineTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A container that stays while the tests remove theirs: the node guard deletes a
        # removed container's logs only while the engine's containers directory holds one
        # of the containers it has logs for (README, "Logs follow docker rm").
        cls.keeper, _ = cls.engine.run("echo keep", name="plugin-log-keeper")

    @classmethod
    def tearDownClass(cls):
        cls.engine.docker("rm", "-f", cls.keeper, check=False)

    def setUp(self):
        self.plugin_id = self.engine.docker("plugin", "inspect", "-f", "{{.Id}}",
                                            harness.PLUGIN).stdout.decode().strip()
        self.log_start = os.path.getsize(self.dockerd_log())

    def dockerd_log(self):
        return os.path.join(self.engine.dir, "dockerd.log")

    def plugin_lines(self):
        """The engine's log lines from the plugin since the test began, as (level, message)."""
        with open(self.dockerd_log(), "rb") as f:
            f.seek(self.log_start)
            text = f.read().decode(errors="replace")
        lines = []
        for line in text.splitlines():
            if not line.endswith(" plugin=" + self.plugin_id):
                continue
            m = re.match(r'time="[^"]*" level=(\w+) msg="(.*)" plugin=', line)
            self.assertTrue(m, line)
            lines.append((m.group(1), m.group(2)))
        return lines

    def wait_for_line(self, pattern, timeout=60):
        """The first (level, message) whose message matches `pattern`, once it is logged."""
        found = []

        def logged():
            found[:] = [l for l in self.plugin_lines() if re.search(pattern, l[1])]
            return bool(found)
        self.assertTrue(wait_until(logged, timeout, 0.2),
                        "no plugin line matching %r in %d s; plugin lines:\n%s" % (
                            pattern, timeout, self.describe(self.plugin_lines())))
        return found[0]

    @staticmethod
    def describe(lines):
        return "\n".join("%s %s" % (level, message[:300]) for level, message in lines[-40:])

    def test_a_container_life_leaves_no_error_in_the_engine_log(self):
        """Proves a container's life through the engine (run with drops at its rate limit,
        docker logs, docker rm until its logs are deleted) puts no level=error line from the
        plugin in the engine's log, and that its start line and its stop line, with the
        totals, are there at level=info: 20,000 lines of 100 bytes at rate=200k burst=200k
        (most of them dropped)."""
        name = "plugin-log-life"
        count = 20000
        cid, _ = self.engine.run(harness.numbered_lines(count), name=name,
                                 opts={"rate": "200k", "burst": "200k"})
        self.assertIn(b"logguard: dropped", self.engine.logs(cid)[0])
        start = self.wait_for_line(r"logging container %s \(/%s\)" % (cid[:12], name))
        self.assertEqual(start[0], "info", start)
        stop = self.wait_for_line(r"stopped logging container %s \(/%s\)" % (cid[:12], name))
        self.assertEqual(stop[0], "info", stop)
        m = re.search(r"received (\d+) lines \(.*\), wrote (\d+), dropped (\d+) \((.*)\)$",
                      stop[1])
        self.assertTrue(m, stop)
        received, wrote, dropped = (int(g) for g in m.groups()[:3])
        # "rate 17890" or, if the node budget cut some too, "rate 17000, node-rate 890".
        causes = dict((k, int(v)) for k, v in re.findall(r"([a-z-]+) (\d+)", m.group(4)))
        self.assertEqual(received, count)
        self.assertEqual(wrote + dropped, count)
        self.assertGreater(causes.get("rate", 0), 0, stop)
        self.assertEqual(sum(causes.values()), dropped, stop)
        self.engine.docker("rm", cid)
        self.assertTrue(wait_until(lambda: not os.path.exists(self.engine.log_dir(cid)), 60),
                        "the logs of the removed container are still there")
        lines = self.plugin_lines()
        errors = [l for l in lines if l[0] != "info"]
        self.assertEqual(errors, [], "plugin lines:\n" + self.describe(lines))
        # Its session's start and stop; `docker logs` of the stopped container adds a pair of
        # its own: the engine opens a logging session to read (docs/PROTOCOL.md §8), into
        # which nothing comes.
        mine = [message.split(" info ", 1)[1].split(" (")[0]
                for _, message in lines if cid[:12] in message]
        self.assertEqual(mine, ["logging container " + cid[:12],
                                "stopped logging container " + cid[:12]] * 2,
                         self.describe(lines))

    def test_an_unwritable_log_directory_is_an_error_in_the_engine_log(self):
        """Proves a real fault reaches the engine's log as level=error from the plugin: the
        container's log directory is made before it starts and set immutable (chattr +i: not
        even root may create files in it), so logguard cannot open the log; `docker start`
        fails naming the directory, and the engine's log holds the plugin's error line."""
        cid = self.engine.docker("create", "--network", "none", "--log-driver", "logguard",
                                 harness.IMAGE, "sh", "-c", "echo hi").stdout.decode().strip()
        directory = self.engine.log_dir(cid)
        os.makedirs(directory)
        chattr = subprocess.run(["chattr", "+i", directory], capture_output=True, text=True)
        try:
            self.assertEqual(chattr.returncode, 0, "chattr +i %s: %s (the suite's temp dir "
                             "needs a filesystem with the immutable flag)" % (
                                 directory, chattr.stderr))
            started = self.engine.docker("start", cid, check=False)
            self.assertNotEqual(started.returncode, 0)
            self.assertIn("cannot write logs in", started.stderr.decode())
            error = self.wait_for_line(r"cannot write logs in \S*%s" % cid)
            self.assertEqual(error[0], "error", error)
        finally:
            subprocess.run(["chattr", "-i", directory], capture_output=True)
            self.engine.docker("rm", "-f", cid, check=False)
            try:
                os.rmdir(directory)
            except OSError:
                pass  # the node guard was first

    def test_log_level_debug_shows_debug_lines_as_info(self):
        """Proves the LOG_LEVEL plugin setting reaches the plugin: at debug, the node guard's
        removal of a removed container's logs (a debug message) is in the engine's log, as
        level=info (stdout)."""
        saved = self.engine.configure_plugin(LOG_LEVEL="debug")
        try:
            cid, _ = self.engine.run("echo hi", name="plugin-log-debug")
            self.engine.docker("rm", cid)
            removed = self.wait_for_line(r"removed the logs of %s " % cid[:12])
            self.assertEqual(removed[0], "info", removed)
        finally:
            self.engine.configure_plugin(**saved)

    def test_an_unknown_log_level_stops_the_plugin_at_start(self):
        """Proves a LOG_LEVEL the plugin does not know stops it before it does anything, with
        exit code 2 and the setting named on stderr (which the engine logs as level=error;
        `docker plugin enable` then fails after its connection attempts, about 12 s). The
        binary is run as the engine runs it, without an engine: a managed plugin that failed
        to start leaves the engine busy cleaning up for a while, which later tests would
        meet."""
        binary = os.path.join(self.engine.build_dir, "logguard")
        with tempfile.TemporaryDirectory() as scratch:
            result = subprocess.run(
                [binary, "--socket", os.path.join(scratch, "logguard.sock"),
                 "--root", os.path.join(scratch, "logs"), "--state-dir", scratch],
                env=dict(os.environ, LOG_LEVEL="loud"), capture_output=True, text=True,
                timeout=60)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertEqual(result.stdout, "")
            self.assertRegex(result.stderr, r'^\S+Z critical logguard: invalid plugin setting '
                             r'LOG_LEVEL "loud": want debug, info, warn or error\n$')
            self.assertFalse(os.path.exists(os.path.join(scratch, "logs")))

if __name__ == "__main__":
    unittest.main()
