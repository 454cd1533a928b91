"""Nothing one container or one file does takes logging down (issue 20): a `tag` template cannot
grow the plugin, a link or FIFO planted under the plugin's roots is never written through or
waited on, and a damaged entry in the plugin's state directory does not stop it from starting.
"""
import json
import os
import shutil
import stat
import subprocess
import unittest

import harness
from harness import wait_until


def plugin_status(pid):
    """/proc/<pid>/status as {field: value} (the kB fields as ints)."""
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            value = value.strip()
            status[name] = int(value.split()[0]) if value.endswith(" kB") else value
    return status


class TagTemplateBoundsTest(harness.EngineTest):
    def run_tag(self, tag):
        cid, result = self.engine.run("echo hi", opts={"tag": tag}, check=False)
        if cid:
            self.addCleanup(self.engine.docker, "rm", "-f", cid, check=False)
        return cid, result

    def test_a_template_that_grows_a_value_is_refused_without_growing_the_plugin(self):
        """Proves the issue's template (a MiB pad printed 16 times, twice: 256 MiB, which took
        the plugin to 795,620 kB of RSS) makes `docker run` fail naming `tag`, and the plugin's
        peak RSS hardly moves; a real tag still renders."""
        pid = self.engine.plugin_pid()
        self.assertIsNotNone(pid)
        # Resets the process's peak RSS (VmHWM) to its RSS now.
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        before = plugin_status(pid)["VmRSS"]
        prints = "{{$x = print" + " $x" * 16 + "}}"
        for pad in (1048576, 65536):
            tag = '{{$x := pad "x" 0 %d}}%s%s{{len $x}}' % (pad, prints, prints)
            _, result = self.run_tag(tag)
            stderr = result.stderr.decode(errors="replace")
            self.assertNotEqual(result.returncode, 0, stderr)
            self.assertIn('logguard: invalid tag "{{$x := pad', stderr)
            self.assertIn("a value longer than 1048576 bytes is not supported by logguard",
                          stderr)
        status = plugin_status(pid)
        self.assertEqual(self.engine.plugin_pid(), pid, "the plugin restarted")
        # The bounds let one evaluation take at most 16 MiB of values and a few more in
        # flight; unbounded, this template took 780 MB.
        self.assertLess(status["VmHWM"] - before, 64 * 1024,
                        "peak RSS %d kB, %d kB before" % (status["VmHWM"], before))

        cid, result = self.run_tag("{{.Name}}/{{.ID}}")
        self.assertEqual(result.returncode, 0, result.stderr)
        records = harness.read_records(self.engine.log_path(cid))
        name = self.engine.inspect(cid)["Name"].lstrip("/")
        self.assertEqual([r["attrs"]["tag"] for r in records], ["%s/%s" % (name, cid[:12])])


def plugin_rootfs(engine):
    plugin_id = engine.docker("plugin", "inspect", "-f", "{{.Id}}",
                              harness.PLUGIN).stdout.decode().strip()
    return os.path.join(engine.dir, "data", "plugins", plugin_id, "rootfs")


def restart_plugin(engine):
    """`docker plugin disable -f` and `enable`; fails (not hangs) if the plugin cannot start."""
    engine.docker("plugin", "disable", "-f", harness.PLUGIN)
    try:
        result = engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN, check=False,
                               timeout=120)
    except subprocess.TimeoutExpired:
        raise AssertionError("docker plugin enable did not return in 120 s")
    if result.returncode != 0:
        raise AssertionError("docker plugin enable failed: " + result.stderr.decode())


class DamagedStateTest(harness.EngineTest):
    def test_damaged_state_entries_are_set_aside_and_the_plugin_starts(self):
        """Proves entries no save makes in the plugin's state directory (directories named like
        a record or a temporary, a record that is not JSON) are set aside as <name>.damaged, and
        the plugin enables and logs containers; they used to make it exit 1 at every start, and
        the engine restarted it into the same failure."""
        sessions = os.path.join(plugin_rootfs(self.engine), "var", "lib", "logguard", "sessions")
        os.makedirs(sessions, exist_ok=True)
        planted = [os.path.join(sessions, name) for name in
                   ("hostile-dir.session", "hostile-dir.session.tmp", "hostile-bad.session")]
        for path in planted:
            self.addCleanup(remove_all, path, path + ".damaged")
        self.addCleanup(self.engine.docker, "plugin", "enable", "--timeout", "0", harness.PLUGIN,
                        check=False, timeout=120)
        os.makedirs(os.path.join(planted[0], "inside"))
        os.makedirs(planted[1])
        with open(planted[2], "w") as f:
            f.write("{not json")

        restart_plugin(self.engine)
        cid, result = self.engine.run("echo after the damage", opts={"rate": "off"})
        self.addCleanup(self.engine.docker, "rm", "-f", cid, check=False)
        self.assertEqual(self.engine.logs(cid), (b"after the damage\n", b""))
        for path in planted:
            self.assertFalse(os.path.lexists(path), path)
        self.assertTrue(os.path.isdir(planted[0] + ".damaged/inside"))
        self.assertTrue(os.path.isdir(planted[1] + ".damaged"))
        self.assertEqual(open(planted[2] + ".damaged").read(), "{not json")


class ProbeFileTest(harness.EngineTest):
    """What is planted at the latency probe's file, <log root>/.logguard-probe, before the plugin
    starts: the probe (NODE_WRITE_RATE=auto) must not write through it nor wait on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.probe = os.path.join(cls.engine.log_root, ".logguard-probe")

    def setUp(self):
        self.log_start = os.path.getsize(self.dockerd_log())
        env = json.loads(self.engine.docker("plugin", "inspect", "-f", "{{json .Settings.Env}}",
                                            harness.PLUGIN).stdout)
        rate = dict(entry.partition("=")[::2] for entry in env).get("NODE_WRITE_RATE", "auto")
        self.addCleanup(self.restart, NODE_WRITE_RATE=rate)

    def dockerd_log(self):
        return os.path.join(self.engine.dir, "dockerd.log")

    def plugin_log(self):
        """What the plugin wrote to stderr since the test began (the engine copies it)."""
        with open(self.dockerd_log(), "rb") as f:
            f.seek(self.log_start)
            return f.read().decode(errors="replace")

    def restart(self, plant=None, **settings):
        """Disables the plugin (-f), sets `settings`, calls plant() and enables it again."""
        self.engine.docker("plugin", "disable", "-f", harness.PLUGIN, check=False)
        if settings:
            self.engine.docker("plugin", "set", harness.PLUGIN,
                               *["%s=%s" % kv for kv in settings.items()])
        if plant:
            remove_all(self.probe)  # what a plugin killed earlier may have left
            plant()
        self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN, timeout=120)

    def probe_replaced(self, other_inode=None):
        """Whether the probe has made its own file: regular, one name, not other_inode."""
        try:
            st = os.lstat(self.probe)
        except FileNotFoundError:
            return False
        return stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and st.st_ino != other_inode

    def test_a_hard_link_at_the_probe_file_is_not_written_through(self):
        """Proves the issue's case: a hard link at .logguard-probe to a file outside the logs had
        that file's content replaced by the probe's bytes after `docker plugin enable`; now the
        probe removes the planted name and makes its own file, the outside file untouched."""
        outside = os.path.join(self.engine.dir, "probe-target")
        with open(outside, "w") as f:
            f.write("precious\n")
        self.addCleanup(remove_all, outside)
        self.restart(plant=lambda: os.link(outside, self.probe), NODE_WRITE_RATE="auto")
        inode = os.stat(outside).st_ino
        self.assertTrue(wait_until(lambda: self.probe_replaced(inode), 30),
                        "the probe did not replace the link; plugin log:\n" + self.plugin_log())
        self.assertEqual(open(outside).read(), "precious\n")
        self.assertEqual(os.stat(outside).st_nlink, 1)

    def test_a_fifo_at_the_probe_file_is_not_waited_on(self):
        """Proves the issue's case: with a FIFO at .logguard-probe the probe thread blocked in
        open() and `docker plugin disable` waited for the engine to kill the plugin; now the
        probe replaces the FIFO, logging goes on, and the plugin stops by itself."""
        self.restart(plant=lambda: os.mkfifo(self.probe), NODE_WRITE_RATE="auto")
        self.assertTrue(wait_until(self.probe_replaced, 30),
                        "the probe did not replace the FIFO; plugin log:\n" + self.plugin_log())
        cid, _ = self.engine.run("echo with a planted fifo", opts={"rate": "off"})
        self.addCleanup(self.engine.docker, "rm", "-f", cid, check=False)
        self.assertEqual(self.engine.logs(cid), (b"with a planted fifo\n", b""))
        self.engine.disable_plugin()
        # Stopped by itself (its probe thread joined), not killed by the engine.
        self.assertIn("logguard stopped", self.plugin_log())
        self.assertFalse(os.path.lexists(self.probe))


def remove_all(*paths):
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.remove(path)


if __name__ == "__main__":
    unittest.main()
