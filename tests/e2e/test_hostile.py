"""Nothing one container or one file does takes logging down (issue 20): a `tag` template cannot
grow the plugin, a link or FIFO planted under the plugin's roots is never written through or
waited on, and a damaged entry in the plugin's state directory does not stop it from starting.
"""
import os
import shutil
import subprocess
import unittest

import harness


def plugin_status(pid):
    """/proc/<pid>/status as {field: value} (the kB fields as ints)."""
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            value = value.strip()
            status[name] = int(value.split()[0]) if value.endswith(" kB") else value
    return status


class TagTemplateBoundsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = harness.ENGINE

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


class DamagedStateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.engine = harness.ENGINE

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


def remove_all(*paths):
    for path in paths:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.remove(path)


if __name__ == "__main__":
    unittest.main()
