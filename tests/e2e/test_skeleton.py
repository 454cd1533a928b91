"""The walking skeleton: logguard as a managed plugin writes what containers print."""
import json
import os
import unittest

import harness
from harness import read_records

# Bytes that exercise every escaping rule of json-file: quotes, backslash, TAB, CR,
# <>&, control bytes, UTF-8, U+2028, and invalid UTF-8.
TRICKY = r"""printf 'plain line\n'
printf 'quote " backslash \\ tab \t cr \r end\n'
printf '<script>&amp;</script>\n'
printf 'ctrl \001\002\033[31m red\n'
printf 'utf8 \303\251t\303\251 \342\202\254 \360\237\230\200 sep \342\200\250 para \342\200\251\n'
printf 'invalid \377 \300\257 \355\240\200 \342\202 end\n'
printf 'to stderr\n' >&2
printf '\n'
printf 'last\n'
"""


def strip_time(record):
    return {k: v for k, v in record.items() if k != "time"}


class SkeletonTest(harness.EngineTest):
    def test_lines_arrive_byte_exact_and_in_order(self):
        cid, _ = self.engine.run(TRICKY + "printf 'err two\\n' >&2")
        records = read_records(self.engine.log_path(cid))
        stdout = [r["log"] for r in records if r["stream"] == "stdout"]
        stderr = [r["log"] for r in records if r["stream"] == "stderr"]
        self.assertEqual(stdout[0], "plain line\n")
        self.assertEqual(stdout[1], 'quote " backslash \\ tab \t cr \r end\n')
        self.assertEqual(stdout[2], "<script>&amp;</script>\n")
        self.assertEqual(stdout[3], "ctrl \x01\x02\x1b[31m red\n")
        self.assertEqual(stdout[4], "utf8 été € \U0001F600 sep \u2028 para \u2029\n")
        self.assertEqual(stdout[5], "invalid \ufffd \ufffd\ufffd \ufffd\ufffd\ufffd \ufffd\ufffd end\n")
        self.assertEqual(stdout[6:], ["\n", "last\n"])
        self.assertEqual(stderr, ["to stderr\n", "err two\n"])

    def test_same_lines_as_json_file_apart_from_time(self):
        script = TRICKY + "head -c 40000 /dev/zero | tr '\\0' y; echo; printf 'no newline at end'"
        ours, _ = self.engine.run(script)
        theirs, _ = self.engine.run(script, driver="json-file")
        mine = open(self.engine.log_path(ours), "rb").read().splitlines()
        reference = open(self.engine.json_file_path(theirs), "rb").read().splitlines()
        # The engine copies stdout and stderr concurrently: compare each stream in order.
        for stream in ("stdout", "stderr"):
            def lines(raw):
                out = []
                for line in raw:
                    record = json.loads(line)
                    if record["stream"] == stream:
                        # Drop the time value but keep the bytes around it exactly.
                        out.append(line[:line.rindex(b'"time":')])
                return out
            self.assertEqual(lines(mine), lines(reference), stream)
        for line in mine:
            self.assertRegex(line.decode(), r'"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z"}$')

    def test_long_line_is_split_as_json_file_splits_it(self):
        cid, _ = self.engine.run("head -c 40000 /dev/zero | tr '\\0' x; echo")
        logs = [r["log"] for r in read_records(self.engine.log_path(cid))]
        self.assertEqual(logs, ["x" * 16384, "x" * 16384, "x" * (40000 - 2 * 16384) + "\n"])

    def test_lines_longer_than_a_small_plugin_pipe_are_skipped_and_the_rest_kept(self):
        """Proves a plugin started while root's pipes are over fs.pipe-user-pages-soft (it lacks
        CAP_SYS_RESOURCE, so its pipe for peeking at streams is 8 KiB) skips the 16 KiB chunks of
        a 40,000-byte line, logging why, and keeps the lines after them; before, the end of a
        peek was taken for a stream cut inside a frame and every line after it was lost."""
        limit = "/proc/sys/fs/pipe-user-pages-soft"
        old = open(limit).read().strip()
        try:
            with open(limit, "w") as f:
                f.write("1")  # over it already: new unprivileged pipes get 8 KiB
            self.engine.restart_plugin()  # a new plugin process, whose pipes are small
            cid, _ = self.engine.run("echo short; head -c 40000 /dev/zero | tr '\\0' x; echo; "
                                     "echo after", timeout=60)
        finally:
            with open(limit, "w") as f:
                f.write(old)
            self.engine.restart_plugin()
        logs = [r["log"] for r in read_records(self.engine.log_path(cid))]
        self.assertEqual(logs, ["short\n", "x" * (40000 - 2 * 16384) + "\n", "after\n"])

    def test_ten_containers_at_once_each_get_exactly_their_lines(self):
        # At the plugin's defaults, node budget included: ten bursts of 1.4 MB of records at
        # once are what a healthy disk takes (the node absorbs bursts).
        cids = []
        for n in range(10):
            cid, _ = self.engine.run("yes c%d | head -n 20000" % n, opts={"rate": "off"},
                                     detach=True)
            cids.append(cid)
        for cid in cids:
            self.assertEqual(self.engine.wait(cid), 0)
        for n, cid in enumerate(cids):
            harness.wait_until(
                lambda: len(read_records(self.engine.log_path(cid))) >= 20000, 10)
            logs = [r["log"] for r in read_records(self.engine.log_path(cid))]
            others = [line[:200] for line in logs if line != "c%d\n" % n]
            self.assertEqual(others, [], "container %d: records not its own" % n)
            self.assertEqual(len(logs), 20000, "container %d" % n)

    def test_docker_logs_on_stopped_container_keeps_its_file(self):
        cid, _ = self.engine.run("seq 1 1000")
        path = self.engine.log_path(cid)
        before = open(path, "rb").read()
        self.assertEqual(len(before.splitlines()), 1000)
        out, _ = self.engine.logs(cid)
        self.assertEqual(out.decode().split(), [str(i) for i in range(1, 1001)])
        self.assertEqual(os.path.getsize(path), len(before), "docker logs changed the file's size")
        self.assertEqual(open(path, "rb").read(), before, "docker logs changed the file")
        self.engine.docker("start", "-a", cid)  # a second run appends
        after = open(path, "rb").read()
        self.assertTrue(after.startswith(before))
        self.assertEqual(len(after.splitlines()), 2000)

    def test_invalid_options_fail_docker_run_naming_the_option(self):
        for opts, name, value in (({"rate": "fast"}, "rate", "fast"),
                                  ({"max-file": "0"}, "max-file", "0"),
                                  ({"on-limit": "maybe"}, "on-limit", "maybe"),
                                  ({"compress": "lz4"}, "compress", "lz4"),
                                  ({"no-such-opt": "1"}, "no-such-opt", None)):
            cid, result = self.engine.run("echo never", opts=opts, check=False)
            self.assertEqual(result.returncode, 125, opts)
            err = result.stderr.decode()
            self.assertIn("logguard", err, opts)
            self.assertIn(name, err, opts)
            if value:
                self.assertIn('"%s"' % value, err, opts)
            self.assertFalse(os.path.exists(self.engine.log_path(cid)) and
                             os.path.getsize(self.engine.log_path(cid)) > 0)

    def test_zz_plugin_disable_after_containers_stop(self):
        self.engine.run("echo before disable")
        self.engine.docker("plugin", "disable", harness.PLUGIN)
        plugins = self.engine.docker("plugin", "ls", "--format", "{{.Name}} {{.Enabled}}").stdout.decode()
        self.assertIn("logguard:latest false", plugins)
        self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)
        cid, _ = self.engine.run("echo after enable")
        self.assertEqual([r["log"] for r in read_records(self.engine.log_path(cid))], ["after enable\n"])


if __name__ == "__main__":
    unittest.main()
