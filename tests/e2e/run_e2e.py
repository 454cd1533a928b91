#!/usr/bin/env python3
"""The end-to-end suite: real dockerd, real containers, the managed logguard plugin.

usage: run_e2e.py --build-dir BUILD [-k PATTERN] [--keep]
Needs root, docker.io and busybox-static (scripts/deps.sh installs them).
"""
import argparse
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class TimedResult(unittest.TextTestResult):
    def startTest(self, test):
        self._started = time.monotonic()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        self.stream.writeln("    (%.1f s) %s" % (time.monotonic() - self._started, test.id()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("-k", dest="pattern", action="append", help="only tests matching this")
    parser.add_argument("--keep", action="store_true", help="leave the engine running (debugging)")
    args = parser.parse_args()
    if not harness.start_as_root("the end-to-end suite"):
        return 1
    harness.Engine.reap_stale()

    loader = unittest.TestLoader()
    if args.pattern:
        loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
    suite = loader.discover(os.path.dirname(os.path.abspath(__file__)), pattern="test_*.py")
    engine = harness.Engine(args.build_dir)
    started = time.monotonic()
    try:
        engine.start()
        harness.ENGINE = engine
        print("engine ready in %.1f s at %s" % (time.monotonic() - started, engine.host), flush=True)
        result = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult).run(suite)
    finally:
        if args.keep:
            engine.keep()
            print("engine kept: DOCKER_HOST=%s dir=%s (stop: scripts/dockerd.sh stop %s)" % (
                engine.host, engine.dir, engine.dir))
        else:
            engine.stop()
    passed = result.testsRun - len(result.failures) - len(result.errors) - len(result.skipped)
    print("e2e suite took %.0f s; a skipped test fails it" % (time.monotonic() - started))
    print("e2e: %d passed, %d failed, %d skipped" % (
        passed, len(result.failures) + len(result.errors), len(result.skipped)))
    for test, _ in result.failures + result.errors:
        print("  FAILED %s" % test.id())
    if result.testsRun == 0:
        return 1
    return 0 if result.wasSuccessful() and not result.skipped else 1


if __name__ == "__main__":
    sys.exit(main())
