"""`docker logs` through logguard's ReadLogs: the same answers as json-file, across rotations,
compressed files, follow, since/until, and clients that go away."""
import calendar
import os
import re
import signal
import subprocess
import threading
import time
import unittest

import harness
from harness import all_records, container_files, wait_until

# Deterministic output on both streams: escapes, UTF-8, a 40,000-byte line (three 16 KiB
# chunks), an empty line, and a last line without '\n'. stderr is written early and then
# left alone for a while, so that the order of the records of the two streams (which the
# engine copies concurrently) is the same under both drivers.
SCRIPT = r"""printf 'first line\n'
printf 'err one\n' >&2
seq 1 20
printf 'quote " backslash \\ tab \t cr \r end\n'
printf 'utf8 \303\251t\303\251 \342\202\254 \360\237\230\200\n'
printf 'err two\n' >&2
printf 'err three\n' >&2
sleep 0.3
printf '\n'
head -c 40000 /dev/zero | tr '\0' x; echo
seq 21 30
head -c 40000 /dev/zero | tr '\0' y; echo
printf 'no newline at end'
"""

LONG_X = b"x" * 40000 + b"\n"
LONG_Y = b"y" * 40000 + b"\n"
STDOUT = (b"first line\n" + b"".join(b"%d\n" % i for i in range(1, 21)) +
          b'quote " backslash \\ tab \t cr \r end\n' +
          "utf8 été € \U0001F600\n".encode() + b"\n" + LONG_X +
          b"".join(b"%d\n" % i for i in range(21, 31)) + LONG_Y + b"no newline at end")
STDERR = b"err one\nerr two\nerr three\n"

# Docker's --timestamps prefix: RFC3339Nano with a fixed 9-digit fraction, then a space.
TS = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(?:Z|[+-]\d\d:\d\d) ")


def nanos(text):
    """An RFC3339 time (a record's, or a --timestamps prefix) as integer Unix nanoseconds."""
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
                     r"(?:Z|([+-])(\d\d):(\d\d))", text)
    assert m, text
    seconds = calendar.timegm(tuple(int(g) for g in m.groups()[:6]))
    if m.group(8):
        offset = int(m.group(9)) * 3600 + int(m.group(10)) * 60
        seconds -= offset if m.group(8) == "+" else -offset
    return seconds * 10**9 + int((m.group(7) or "0").ljust(9, "0"))


def rfc3339(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9)


def numbers(data):
    """The integers of output made of one number per line."""
    return [int(x) for x in data.split()]


class Follower:
    """A `docker logs -f` (or other streaming docker logs) process, read by threads."""

    def __init__(self, engine, cid, *args):
        self.proc = subprocess.Popen([harness.DOCKER, "-H", engine.host, "logs", "-f"] +
                                     list(args) + [cid], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = bytearray()
        self.threads = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.out)),
                        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err))]
        for t in self.threads:
            t.daemon = True
            t.start()

    @staticmethod
    def _pump(pipe, into):
        while True:
            chunk = pipe.read1(65536)
            if not chunk:
                return
            into += chunk

    def wait(self, timeout):
        """The exit status, or None if the process did not return within timeout (it is
        then killed)."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        for t in self.threads:
            t.join(5)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        for t in self.threads:
            t.join(5)


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))


class ReadLogsTest(harness.EngineTest):
    def logs(self, cid, *args):
        return self.engine.logs(cid, *args)

    def run_both(self, script, opts=None):
        """Runs script under logguard and under json-file at the same time; returns the two ids
        once both containers exited."""
        ours, _ = self.engine.run(script, opts=opts, detach=True)
        theirs, _ = self.engine.run(script, driver="json-file", detach=True)
        self.assertEqual(self.engine.wait(ours, timeout=60), 0)
        self.assertEqual(self.engine.wait(theirs, timeout=60), 0)
        return ours, theirs

    def assert_same_logs(self, ours, theirs, *args, mask_timestamps=False):
        mine = self.logs(ours, *args)
        reference = self.logs(theirs, *args)
        if mask_timestamps:
            mine = tuple(TS.sub(b"<TS> ", s) for s in mine)
            reference = tuple(TS.sub(b"<TS> ", s) for s in reference)
        self.assertEqual(mine[0], reference[0], "stdout of docker logs %s" % " ".join(args))
        self.assertEqual(mine[1], reference[1], "stderr of docker logs %s" % " ".join(args))
        return mine

    # ---- the same answers as json-file ----

    def test_same_output_as_json_file_all_tail_and_timestamps(self):
        ours, theirs = self.run_both(SCRIPT)
        out, err = self.assert_same_logs(ours, theirs)
        # Streams separated: the container's stderr on docker logs' stderr, and only there.
        self.assertEqual(out, STDOUT)
        self.assertEqual(err, STDERR)
        # The split 40,000-byte lines come back as single lines.
        self.assertIn(b"\n" + LONG_X, out)
        self.assertEqual(out.count(b"x"), 40000)
        # --tail N counts records (a split chunk is one), taken before anything else.
        for n in ("5", "0", "1", "2", "3", "4", "12", "15", "1000", "all"):
            tail_out, tail_err = self.assert_same_logs(ours, theirs, "--tail", n)
            if n == "0":
                self.assertEqual((tail_out, tail_err), (b"", b""))
        self.assertEqual(self.logs(ours, "--tail", "5")[0],
                         b"30\n" + LONG_Y + b"no newline at end")
        # --timestamps: one prefix per record, the same bytes around it.
        out_ts, err_ts = self.assert_same_logs(ours, theirs, "--timestamps", mask_timestamps=True)
        self.assertEqual(out_ts.replace(b"<TS> ", b""), STDOUT)
        self.assertEqual(err_ts.replace(b"<TS> ", b""), STDERR)
        for line in (out_ts + b"\n" + err_ts).split(b"\n"):
            if line:  # a record's own "\r" is no line end for docker logs
                self.assertTrue(line.startswith(b"<TS> "), line[:80])
        self.assert_same_logs(ours, theirs, "--timestamps", "--tail", "5", mask_timestamps=True)
        # The time values are those of the records in the files.
        stamps = [m.group(0).strip().decode() for m in TS.finditer(self.logs(ours, "-t")[0])]
        times = [r["time"] for r in all_records(self.engine.log_dir(ours), ours)
                 if r["stream"] == "stdout"]
        self.assertEqual([nanos(s) for s in stamps], [nanos(t) for t in times])

    def test_since_and_until_select_the_same_lines_as_json_file(self):
        # The engine copies stdout and stderr on separate goroutines, each stamping the time it
        # reads a line: the sleeps keep the stderr lines clear of the exact boundaries below.
        script = ("seq 1 10; printf 'e1\\ne2\\n' >&2; sleep 0.2; seq 11 15; sleep 2; "
                  "seq 16 25; sleep 0.2; printf 'e3\\n' >&2; sleep 0.2; seq 26 30")
        ours, theirs = self.run_both(script)

        def gap(records):
            """Times of the last record of phase one and the first of phase two."""
            stdout = [r for r in records if r["stream"] == "stdout"]
            self.assertEqual([r["log"] for r in stdout], ["%d\n" % i for i in range(1, 31)])
            return nanos(stdout[14]["time"]), nanos(stdout[15]["time"])

        gaps = {ours: gap(all_records(self.engine.log_dir(ours), ours)),
                theirs: gap(harness.read_records(self.engine.json_file_path(theirs)))}
        for cid, (t1, t2) in gaps.items():
            self.assertGreater(t2 - t1, 1_500_000_000)
        phase1 = (b"".join(b"%d\n" % i for i in range(1, 16)), b"e1\ne2\n")
        phase2 = (b"".join(b"%d\n" % i for i in range(16, 31)), b"e3\n")
        nothing = (b"", b"")

        def check(make_args, expected):
            """make_args(t1, t2) -> docker logs arguments, for each container's own gap."""
            got = {}
            for cid, (t1, t2) in gaps.items():
                args = make_args(t1, t2)
                got[cid] = self.logs(cid, *args)
            self.assertEqual(got[ours], got[theirs], args)
            self.assertEqual(got[ours], expected, args)

        mid = lambda t1, t2: (t1 + t2) // 2  # noqa: E731
        check(lambda t1, t2: ["--since", rfc3339(mid(t1, t2))], phase2)
        check(lambda t1, t2: ["--until", rfc3339(mid(t1, t2))], phase1)
        # Exact boundaries: since is inclusive, until is inclusive.
        check(lambda t1, t2: ["--since", rfc3339(t2)], phase2)
        check(lambda t1, t2: ["--until", rfc3339(t1)], phase1)
        # Unix timestamps, with and without a fraction.
        check(lambda t1, t2: ["--since", "%d.%09d" % divmod(mid(t1, t2), 10**9)], phase2)
        check(lambda t1, t2: ["--until", "%d.%09d" % divmod(mid(t1, t2), 10**9)], phase1)
        check(lambda t1, t2: ["--since", "%d" % (t1 // 10**9 + 1)], phase2)
        # Relative durations: the CLI turns them into whole seconds before now. Aim 0.3 s
        # past the first whole second after phase one (phase two starts > 1.5 s after it).
        check(lambda t1, t2: ["--since", "%.3fs" % (
            time.time() - (t1 // 10**9 + 1.3))], phase2)
        check(lambda t1, t2: ["--since", "1m"], (phase1[0] + phase2[0], phase1[1] + phase2[1]))
        check(lambda t1, t2: ["--since", "1m", "--until", rfc3339(mid(t1, t2))], phase1)
        # Both, and combined with tail (tail is selected first, then filtered).
        check(lambda t1, t2: ["--since", rfc3339(t1), "--until", rfc3339(t2)],
              (b"15\n16\n", b""))
        for args in (lambda t1, t2: ["--tail", "3", "--since", rfc3339(mid(t1, t2))],
                     lambda t1, t2: ["--tail", "3", "--until", rfc3339(mid(t1, t2))],
                     lambda t1, t2: ["--tail", "20", "--until", rfc3339(mid(t1, t2))],
                     lambda t1, t2: ["--since", rfc3339(t2 + 3 * 10**9)]):
            got = {cid: self.logs(cid, *args(*gaps[cid])) for cid in gaps}
            self.assertEqual(got[ours], got[theirs], args(*gaps[ours]))
        self.assertEqual(self.logs(ours, "--tail", "3", "--until", rfc3339(mid(*gaps[ours]))),
                         nothing)
        # Timestamps with since: the prefixes are the files' times, all at or after since.
        out, _ = self.logs(ours, "-t", "--since", rfc3339(mid(*gaps[ours])))
        stamps = [nanos(m.group(0).strip().decode()) for m in TS.finditer(out)]
        self.assertEqual(len(stamps), 15)
        self.assertTrue(all(s >= gaps[ours][1] for s in stamps))

    # ---- stopped containers, compressed rotations, drop notices ----

    def test_stopped_container_logs_repeatedly_and_file_is_kept(self):
        cid, _ = self.engine.run("seq 1 3000; sleep 0.2; printf 'bye\\n' >&2")
        path = self.engine.log_path(cid)
        before = open(path, "rb").read()
        expected = b"".join(b"%d\n" % i for i in range(1, 3001))
        for _ in range(3):
            self.assertEqual(self.logs(cid), (expected, b"bye\n"))
            self.assertEqual(self.logs(cid, "--tail", "3"), (b"2999\n3000\n", b"bye\n"))
            self.assertEqual(open(path, "rb").read(), before)
        # -f on a stopped container is a plain read that returns at once.
        follower = Follower(self.engine, cid)
        self.assertEqual(follower.wait(10), 0)
        self.assertEqual((bytes(follower.out), bytes(follower.err)), (expected, b"bye\n"))
        self.assertEqual(open(path, "rb").read(), before)

    def check_tail_across_rotations(self, compress):
        # ~60-byte records, max-size 10k (the smallest allowed): ~170 records a file, so the
        # last 400 lines span the current file and two or three compressed rotations.
        # The container stays up while its rotations are compressed and read (a running
        # container's logs), then is killed and read again. On a busy machine compression
        # waits up to 30 s for idle CPU: the container outlives harness.COMPRESSED_WITHIN.
        total = 6000
        cid, _ = self.engine.run("seq 1 %d; sleep %d" % (total, harness.COMPRESSED_WITHIN + 60),
                                 detach=True, opts={
            "rate": "off", "max-size": "10k", "max-file": "8", "compress": compress})
        directory = self.engine.log_dir(cid)
        ext = ".gz" if compress == "gzip" else ".zst"

        def compressed():
            names = [os.path.basename(p) for p in container_files(directory, cid)]
            return len(names) == 8 and all(n.endswith(ext) for n in names[:-1])

        def settled():
            # Every line in (reads are paced: the last ones may come a gather after the rest,
            # and rotate the files once more), and every rotation compressed.
            if not compressed():
                return False
            current = harness.read_records(container_files(directory, cid)[-1])
            return bool(current) and current[-1]["log"] == "%d\n" % total and compressed()
        self.assertTrue(wait_until(settled, harness.COMPRESSED_WITHIN), os.listdir(directory))
        self.check_tail(cid, total)
        self.engine.docker("kill", cid)
        self.engine.wait(cid)
        self.assertTrue(compressed())
        self.check_tail(cid, total)  # a stopped container: the engine starts a reading session

    def check_tail(self, cid, total):
        directory = self.engine.log_dir(cid)
        files = container_files(directory, cid)
        current = len(harness.read_records(files[-1]))
        self.assertLess(current, 200)
        kept = [int(r["log"]) for r in all_records(directory, cid)]
        self.assertEqual(kept, list(range(total - len(kept) + 1, total + 1)))
        self.assertGreater(len(kept), 800)

        out, err = self.logs(cid, "--tail", "100")
        self.assertEqual(err, b"")
        self.assertEqual(numbers(out), list(range(total - 99, total + 1)))
        for n in (1, current, current + 1, 400):
            self.assertEqual(numbers(self.logs(cid, "--tail", str(n))[0]),
                             list(range(total - n + 1, total + 1)), n)
        self.assertEqual(numbers(self.logs(cid, "--tail", "100000")[0]), kept)
        self.assertEqual(numbers(self.logs(cid)[0]), kept)
        # since, across the compressed files: the second half of what is kept.
        records = all_records(directory, cid)
        half = records[len(records) // 2]
        selected = [int(r["log"]) for r in records if nanos(r["time"]) >= nanos(half["time"])]
        self.assertEqual(numbers(self.logs(cid, "--since", rfc3339(nanos(half["time"])))[0]),
                         selected)

    def test_tail_across_gzip_rotations(self):
        self.check_tail_across_rotations("gzip")

    def test_tail_across_zstd_rotations(self):
        self.check_tail_across_rotations("zstd")

    def test_drop_notices_appear_in_docker_logs(self):
        cid, _ = self.engine.run(
            "echo start; yes 0123456789abcdef | head -n 100000; "
            "yes err-line | head -n 20000 >&2; sleep 2; echo end",
            opts={"rate": "100k", "burst": "100k"})
        directory = self.engine.log_dir(cid)
        records = all_records(directory, cid)
        notices = [r for r in records if "logguard.dropped_lines" in r.get("attrs", {})]
        self.assertTrue(notices, "no drop notice written")
        out, err = self.logs(cid)
        self.assertEqual(out.decode(), "".join(r["log"] for r in records if r["stream"] == "stdout"))
        self.assertEqual(err.decode(), "".join(r["log"] for r in records if r["stream"] == "stderr"))
        shown = [line for line in (out + err).decode().splitlines()
                 if line.startswith("logguard: dropped ")]
        self.assertEqual(shown, [n["log"].rstrip("\n") for n in notices if n["stream"] == "stdout"] +
                         [n["log"].rstrip("\n") for n in notices if n["stream"] == "stderr"])
        self.assertTrue(any("from stdout" in line for line in shown), shown)
        dropped = sum(int(n["attrs"]["logguard.dropped_lines"]) for n in notices)
        written = sum(1 for r in records if "attrs" not in r or
                      "logguard.dropped_lines" not in r["attrs"])
        self.assertEqual(written + dropped, 1 + 100000 + 20000 + 1)
        self.assertIn(b"\nend\n", out)

    # ---- follow ----

    def test_follow_across_several_rotations_gets_every_line_once_and_returns(self):
        # 12,000 numbered lines in 30 bursts over ~6 s: ~8 rotations of 100 kB files.
        script = ("sleep 1; i=0; while [ $i -lt 30 ]; do seq $((i*400+1)) $((i*400+400)); "
                  "i=$((i+1)); sleep 0.2; done")
        cid, _ = self.engine.run(script, opts={"rate": "off", "max-size": "100k", "max-file": "5"},
                                 detach=True)
        follower = Follower(self.engine, cid)
        second = Follower(self.engine, cid, "--tail", "0")
        self.assertEqual(self.engine.wait(cid, timeout=60), 0)
        exited = time.monotonic()
        self.assertEqual(follower.wait(20), 0, "docker logs -f did not return after the exit")
        self.assertEqual(second.wait(20), 0, "docker logs -f --tail 0 did not return")
        returned = time.monotonic() - exited
        self.assertEqual(follower.err, b"")
        got = numbers(follower.out)
        self.assertEqual(len(got), 12000)
        self.assertEqual(got, list(range(1, 12001)))
        # Started with --tail 0 before the first line (the container sleeps 1 s first): a
        # contiguous run to the end, the start included unless the CLI was very slow.
        later = numbers(second.out)
        self.assertGreater(len(later), 11000)
        self.assertEqual(later, list(range(later[0], 12001)))
        files = container_files(self.engine.log_dir(cid), cid)
        self.assertEqual(len(files), 5, files)  # rotated at least four times
        first_kept = int(harness.read_records(files[0])[0]["log"])
        self.assertGreater(first_kept, 4000, "fewer rotations than expected")
        self.assertLess(returned, 5)

    def test_follow_started_after_output_replays_history_then_follows(self):
        cid, _ = self.engine.run("seq 1 500; printf 'e1\\n' >&2; sleep 3; seq 501 1000; "
                                 "printf 'e2\\n' >&2; sleep 4", detach=True)
        path = self.engine.log_path(cid)
        self.assertTrue(wait_until(lambda: os.path.exists(path) and
                                   len(open(path, "rb").read().splitlines()) >= 501, 10))
        follower = Follower(self.engine, cid)
        # Each phase must reach the client while the container still runs, not only when the
        # stream ends: the history before the second phase starts (3 s after the first), the
        # second phase before the container exits (4 s after it).
        for lines, err, within in ((500, b"e1\n", 2.5), (1000, b"e1\ne2\n", 4)):
            arrived = wait_until(lambda: follower.out.count(b"\n") >= lines and
                                 follower.err == err, within)
            running = self.engine.inspect(cid)["State"]["Running"]
            self.assertTrue(arrived and running,
                            "docker logs -f had %d of %d lines and stderr %r while the container "
                            "ran" % (follower.out.count(b"\n"), lines, bytes(follower.err)))
        self.assertEqual(follower.wait(20), 0)
        self.assertEqual(numbers(follower.out), list(range(1, 1001)))
        self.assertEqual(follower.err, b"e1\ne2\n")

    def test_two_concurrent_followers_both_get_everything(self):
        cid, _ = self.engine.run("i=0; while [ $i -lt 20 ]; do seq $((i*250+1)) $((i*250+250)); "
                                 "printf 'err %d\\n' $i >&2; i=$((i+1)); sleep 0.1; done",
                                 opts={"rate": "off", "max-size": "50k", "max-file": "10"},
                                 detach=True)
        a = Follower(self.engine, cid)
        b = Follower(self.engine, cid)
        self.assertEqual(self.engine.wait(cid, timeout=60), 0)
        expected_err = b"".join(b"err %d\n" % i for i in range(20))
        for follower in (a, b):
            self.assertEqual(follower.wait(20), 0)
            self.assertEqual(numbers(follower.out), list(range(1, 5001)))
            self.assertEqual(bytes(follower.err), expected_err)

    def test_killed_follower_does_not_disturb_the_plugin(self):
        pid = self.engine.plugin_pid()
        self.assertIsNotNone(pid)
        # Enough at once that the follower surely receives some, then 50 more bursts over ~6 s.
        cid, _ = self.engine.run("seq 1 5000; sleep 1; i=0; while [ $i -lt 50 ]; do "
                                 "seq 1 200; i=$((i+1)); sleep 0.1; done", detach=True)
        self.assertTrue(wait_until(lambda: os.path.exists(self.engine.log_path(cid)), 10))
        time.sleep(0.3)
        baseline = thread_count(pid)
        follower = Follower(self.engine, cid)
        self.assertTrue(wait_until(lambda: follower.out.count(b"\n") >= 1000, 10),
                        "the follower got %d lines" % follower.out.count(b"\n"))
        follower.kill()  # SIGKILL of the docker CLI, mid-stream
        # The plugin's stream thread ends once the engine drops the plugin's connection (the
        # engine notices the client's absence at the next line), while the container still logs.
        self.assertTrue(wait_until(lambda: thread_count(pid) <= baseline, 4),
                        "plugin threads: %d before the follower, %d after its kill" % (
                            baseline, thread_count(pid)))
        self.assertTrue(self.engine.inspect(cid)["State"]["Running"], "the container ended early")
        # Meanwhile other readers work.
        self.assertEqual(len(numbers(self.logs(cid, "--tail", "1")[0])), 1)
        self.assertEqual(self.engine.wait(cid, timeout=30), 0)
        self.assertEqual(self.engine.plugin_pid(), pid, "the plugin restarted")
        expected = list(range(1, 5001)) + list(range(1, 201)) * 50
        self.assertEqual(numbers(self.logs(cid)[0]), expected)
        self.assertEqual(len(all_records(self.engine.log_dir(cid), cid)), len(expected))
        # New containers still log and are read back, followed included.
        new, _ = self.engine.run("echo after kill; sleep 0.5; echo still here", detach=True)
        follower = Follower(self.engine, new)
        self.assertEqual(follower.wait(20), 0)
        self.assertEqual(bytes(follower.out), b"after kill\nstill here\n")
        self.assertEqual(self.logs(new), (b"after kill\nstill here\n", b""))
        self.assertEqual(self.engine.plugin_pid(), pid)


if __name__ == "__main__":
    unittest.main()
