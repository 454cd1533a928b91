"""Nothing one container or one file does takes logging down (issue 20): a `tag` template cannot
grow the plugin, a link or FIFO planted under the plugin's roots is never written through or
waited on, and a damaged entry in the plugin's state directory does not stop it from starting.
"""
import os
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


if __name__ == "__main__":
    unittest.main()
