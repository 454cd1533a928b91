"""A node log collector tailing logguard's files and json-file's in one run (issue 22, item 4):
the real rsyslog imfile (Debian's `rsyslog`, inotify mode, a wildcard, as node shippers run
it) reading `<log root>/*/*-json.log` and the engine's `containers/*/*-json.log`, while a
logguard container and a json-file container write the same numbered lines through rotations.
Every shipped line is counted: missing and duplicated, per driver.

A collector that follows files by name loses a file that is renamed away before it opened it,
with either driver (README, *Log collectors*): the writers here stay within logguard's default
rate (1 MB/s with a 10 MB burst), so their files live longer than rsyslog needs on any
machine, and what is measured is what the drivers do to their files.
"""
import collections
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from harness import wait_until

CONFIG = """
global(workDirectory="{work}")
module(load="imfile" mode="inotify")
template(name="line" type="string" string="%msg%\\n")
input(type="imfile" File="{logguard}/*/*-json.log" Tag="logguard" ruleset="logguard")
input(type="imfile" File="{json_file}/*/*-json.log" Tag="json-file" ruleset="json-file")
ruleset(name="logguard") {{ action(type="omfile" file="{out}/logguard" template="line") }}
ruleset(name="json-file") {{ action(type="omfile" file="{out}/json-file" template="line") }}
"""


def paced_lines(count, tag, per_turn=400):
    """`count` numbered 100-byte lines "<8 digits> <8-letter tag> <81 zeros>", `per_turn` then a
    50 ms sleep: at most 8,000 lines (~1.4 MB of records) a second however fast the machine."""
    return ("awk 'BEGIN{s=sprintf(\"%%081d\", 0); for(i=1;i<=%d;i++) "
            "{printf \"%%08d %s %%s\\n\", i, s; if (i %% %d == 0) {fflush(); "
            "system(\"sleep 0.05\")}}}'" % (count, tag, per_turn))


class Rsyslog:
    """rsyslogd in the foreground with a configuration of its own, shipping to files."""

    def __init__(self, directory, logguard_root, json_file_root):
        self.dir = directory
        self.out = os.path.join(directory, "out")
        work = os.path.join(directory, "work")
        os.makedirs(self.out)
        os.makedirs(work)
        config = os.path.join(directory, "rsyslog.conf")
        with open(config, "w") as f:
            f.write(CONFIG.format(work=work, logguard=logguard_root, json_file=json_file_root,
                                  out=self.out))
        self.log = open(os.path.join(directory, "rsyslogd.log"), "wb")
        self.process = subprocess.Popen(
            ["rsyslogd", "-n", "-f", config, "-i", os.path.join(directory, "rsyslogd.pid")],
            stdout=self.log, stderr=subprocess.STDOUT)

    def shipped(self, name, tag):
        """How often each line number tagged `tag` was shipped from the files of `name`'s
        driver. (Lines of other tests' containers are not counted: a removed container's logs
        stay until the node guard's next look, up to 10 s, and rsyslog ships them too.)"""
        counts = collections.Counter()
        path = os.path.join(self.out, name)
        pattern = re.compile(rb'"log":"(\d{8}) ' + tag.encode() + rb" ")
        if os.path.exists(path):
            with open(path, "rb") as f:
                for line in f:
                    m = pattern.search(line)
                    if m:
                        counts[int(m.group(1))] += 1
        return counts

    def sizes(self):
        return tuple(os.path.getsize(os.path.join(self.out, n)) if
                     os.path.exists(os.path.join(self.out, n)) else 0
                     for n in ("logguard", "json-file"))

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@unittest.skipIf(shutil.which("rsyslogd") is None, "rsyslog is not installed (scripts/deps.sh)")
class CollectorsTest(harness.EngineTest):
    def ship(self, count, opts):
        """Runs a logguard and a json-file container writing `count` paced lines with `opts`
        (max-size and max-file for both) while rsyslog tails both; returns per driver
        (missing, duplicated) once rsyslog has shipped the last line of both and nothing more."""
        directory = tempfile.mkdtemp(dir=self.engine.dir)
        rsyslog = Rsyslog(directory, self.engine.log_root, self.engine.containers_dir())
        self.addCleanup(rsyslog.stop)
        tag = os.path.basename(directory)[-8:].replace("_", "x")
        script = paced_lines(count, tag)
        ids = {}
        for driver in ("logguard", "json-file"):
            ids[driver], _ = self.engine.run(script, driver=driver, opts=opts, detach=True)
            self.addCleanup(self.engine.docker, "rm", "-f", ids[driver], check=False)
        for cid in ids.values():
            self.assertEqual(self.engine.wait(cid), 0)
        numbers = [int(r["log"][:8]) for r in harness.all_records(
            self.engine.log_dir(ids["logguard"]), ids["logguard"])]
        self.assertEqual(numbers, list(range(count - len(numbers) + 1, count + 1)),
                         "logguard's own files lost or repeated lines")
        done = lambda: all(rsyslog.shipped(d, tag)[count] for d in ids)  # noqa: E731
        self.assertTrue(wait_until(done, 120, 0.5), "rsyslog did not ship the last lines")
        last, stable = None, 0
        while stable < 4:  # until nothing more comes for 2 s: a repeat would come with the rest
            now = rsyslog.sizes()
            stable = stable + 1 if now == last else 0
            last = now
            time.sleep(0.5)
        result = {}
        for driver in ids:
            shipped = rsyslog.shipped(driver, tag)
            missing = sum(1 for n in range(1, count + 1) if n not in shipped)
            duplicated = sum(c - 1 for c in shipped.values())
            result[driver] = (missing, duplicated)
        print("\n    rsyslog, %d lines, %s: missing/duplicated logguard %d/%d, json-file %d/%d"
              % (count, opts, *result["logguard"], *result["json-file"]), flush=True)
        return result

    def test_rsyslog_ships_every_logguard_line_once_at_the_defaults(self):
        """Proves rsyslog ships every line of a logguard container once through a rotation at
        logguard's defaults (max-size 20m, gzip): 130,000 numbered lines (~22 MB of records),
        next to a json-file container writing the same."""
        result = self.ship(130_000, {"max-size": "20m", "max-file": "5"})
        self.assertEqual(result["logguard"], (0, 0))

    def test_rsyslog_loses_no_more_with_logguard_at_max_size_1m(self):
        """Proves at max-size=1m (a rotation every second or less, gzip): 30,000 numbered lines
        (~5 MB of records, five rotations), logguard's files lose no more lines in rsyslog than
        json-file's and none is shipped twice."""
        result = self.ship(30_000, {"max-size": "1m", "max-file": "5"})
        self.assertEqual(result["logguard"][1], 0)
        self.assertLessEqual(result["logguard"][0], result["json-file"][0])


if __name__ == "__main__":
    unittest.main()
