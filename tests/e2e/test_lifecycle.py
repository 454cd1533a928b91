"""Lifecycles around the log files: what a container leaves behind when it stops, and plugin
settings (config.json's Env, `docker plugin set`) becoming every container's defaults.

(Rotation itself, sizes, names, codecs and lastTime headers: test_rotation_files.py.)
"""
import json
import os
import time
import unittest

import harness
from harness import wait_until


class LifecycleTest(harness.EngineTest):
    def test_rotated_file_compressed_after_container_stops(self):
        """Proves a rotation just before the container exits is still compressed: json-file
        finishes the compression after the logger closes; a `.1` left plain would stay
        uncompressed (and over the disk budget) until the container runs again.
        With max-size=1m: 5,880 numbered lines (~170-byte records: just under 1 MB), a
        2,000-byte line (the file passes 1 MB), then "last", whose append rotates; the
        container ends right after it."""
        count = 5880
        cid, _ = self.engine.run(
            harness.numbered_lines(count) +
            "; head -c 2000 /dev/zero | tr '\\0' z; echo; echo last",
            opts={"rate": "off", "max-size": "1m", "max-file": "2", "compress": "true"})
        directory = self.engine.log_dir(cid)
        base = cid + "-json.log"
        current = [r["log"] for r in harness.read_records(os.path.join(directory, base))]
        self.assertEqual(current, ["last\n"], "the last line did not start a new file")
        expected = sorted([base, base + ".1.gz"])
        settled = wait_until(lambda: sorted(os.listdir(directory)) == expected,
                             harness.COMPRESSED_WITHIN)
        self.assertTrue(settled, "%d s after the container stopped: %s" % (
            harness.COMPRESSED_WITHIN, sorted(n[len(cid):] for n in os.listdir(directory))))
        logs = [r["log"] for r in harness.all_records(directory, cid)]
        self.assertEqual([int(x[:8]) for x in logs[:count]], list(range(1, count + 1)))
        self.assertEqual(logs[count:], ["z" * 2000 + "\n", "last\n"])

    def test_plugin_settings_are_the_defaults_of_containers(self):
        """Proves config.json's Env wiring: after `docker plugin set logguard RATE=off
        MAX_SIZE=100k MAX_FILE=2 COMPRESS=false` (plugin disabled, then enabled again), a
        container without log-opts rotates at 100 kB into a plain `.1` and keeps 2 files, while
        a --log-opt still wins over a setting; the settings go back to config.json's values."""
        manifest = json.load(open(os.path.join(harness.REPO, "config.json")))
        env = {e.get("name", e.get("Name")): e.get("value", e.get("Value"))
               for e in manifest.get("env", manifest.get("Env", []))}
        changed = {"RATE": "off", "MAX_SIZE": "100k", "MAX_FILE": "2", "COMPRESS": "false"}
        settings = self.engine.docker("plugin", "inspect", "-f", "{{json .Settings.Env}}",
                                      harness.PLUGIN).stdout.decode()
        for name in changed:
            self.assertIn("%s=%s" % (name, env[name]), settings, "config.json's default of " + name)

        def configure(values):
            self.engine.disable_plugin()
            self.engine.docker("plugin", "set", harness.PLUGIN,
                               *["%s=%s" % kv for kv in values.items()])
            self.engine.docker("plugin", "enable", "--timeout", "0", harness.PLUGIN)
        configure(changed)
        try:
            cid, _ = self.engine.run(harness.numbered_lines(3000))  # ~510 kB of records
            names = sorted(n[len(cid):] for n in os.listdir(self.engine.log_dir(cid)))
            self.assertEqual(names, ["-json.log", "-json.log.1"])
            kept = [int(r["log"][:8]) for r in harness.all_records(self.engine.log_dir(cid), cid)]
            self.assertEqual(kept, list(range(3000 - len(kept) + 1, 3001)))
            self.assertLess(len(kept), 1300)
            cid, _ = self.engine.run(harness.numbered_lines(3000), opts={"max-size": "10m"})
            self.assertEqual(os.listdir(self.engine.log_dir(cid)), [cid + "-json.log"])
        finally:
            configure({name: env[name] for name in changed})


    def test_blocked_container_stops_promptly_once_its_logs_are_written(self):
        """Proves on-limit=block does not hold the engine up after the container ends: once the
        plugin has written the last held-back line, StopLogging returns at once, so `docker
        inspect` (which waits on the container while the engine stops its logger) answers
        within 2 s, not after the plugin's 5 s drain timeout. 15,000 numbered lines (~2.5 MB of
        records) with rate=1m,burst=1m: ~1.5 s of blocking."""
        count = 15000
        cid, _ = self.engine.run(harness.numbered_lines(count), detach=True, opts={
            "rate": "1m", "burst": "1m", "on-limit": "block", "compress": "false"})
        path = self.engine.log_path(cid)

        def lines():
            return open(path, "rb").read().count(b"\n") if os.path.exists(path) else 0
        self.assertTrue(wait_until(lambda: lines() >= count, 60, 0.02), "%d lines" % lines())
        written = time.monotonic()
        state = self.engine.inspect(cid)["State"]
        answered = time.monotonic() - written
        if state["Running"]:
            self.assertEqual(self.engine.wait(cid, timeout=30), 0)
            answered = time.monotonic() - written
        print("\n    docker inspect/wait answered %.2f s after the last line was written"
              % answered, flush=True)
        self.assertLess(answered, 2.0, "the engine waited on the plugin after the container ended")
        numbers = [int(r["log"][:8]) for r in harness.read_records(path)]
        self.assertEqual(numbers, list(range(1, count + 1)))


if __name__ == "__main__":
    unittest.main()
