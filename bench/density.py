#!/usr/bin/env python3
"""Density: many quiet containers and one flood; the plugin's memory, threads, CPU and StartLogging.

usage: bench/density.py --build-dir BUILD [--containers 500] [--seconds 60] [--flood-seconds 20]
                        [--linger-wait 130]

One private engine (tests/e2e/harness.py). Phases, each sampled from /proc/PID of the plugin
(VmRSS, RssAnon, threads, utime+stime):

  empty    the plugin with no container (the baseline)
  quiet    N containers with the plugin's defaults, each logging 10 lines of ~100 bytes a second;
           CPU over SECONDS once all are running
  flood    the same, plus one container writing `yes` as fast as it can for FLOOD-SECONDS
           (defaults: rate=1m, so nearly all of it is dropped); RSS at its peak
  after    2 s after the flood ended (buffers of a burst are given back after 1 s idle)
  gone     all containers removed, every session ended (logguard_sessions 0), 3 s later
  swept    LINGER-WAIT s later, after a scrape: a gone container's metric series linger two
           minutes (so a scrape still sees what it did) and go at the first scrape after that

StartLogging: the plugin's own histogram (logguard_start_logging_duration_seconds, scraped on its
socket) over all N starts and over the last quarter (started while three quarters ran); p99 is
the bucket bound the 99th percentile falls in. `docker run -d` wall times (the engine's whole
container start, the plugin's part included) are printed beside it.

Prints the figures and the goals: RSS per quiet session ((quiet - empty) / N) <= 48 KiB, plugin
CPU in the quiet phase <= 5 % of a core, StartLogging p99 <= 20 ms, and the memory left when all
are gone (swept - empty, per container that was there: given back means <= 1 KiB of anonymous
memory each; the rest of RSS is file-backed, the plugin's code and libraries read in as the
flood and the containers first ran it, shared with the page cache and the same for 1 container
or 500).
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
import harness  # noqa: E402

# 10 lines a second of ~100 bytes. `sleep` would fork a process per line
# (2,000 a second for 200 containers: the machine would be busy with that);
# `read -t` on a FIFO nobody writes waits without one.
TICKER = ('mkfifo /tick; exec 3<>/tick; i=0; while :; do i=$((i+1)); '
          'echo "tick $i ' + "q" * 80 + '"; read -t 0.1 x <&3; done')
FLOOD = "yes %s | head -c 4000000000" % ("f" * 99)


def status(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    kib = lambda k: int(fields.get(k, "0 kB").split()[0])  # noqa: E731
    return {"rss_kib": kib("VmRSS"), "anon_kib": kib("RssAnon"), "threads": int(fields["Threads"]),
            "cpu_s": harness.cpu_seconds(pid)}


class PeakRss:
    """The highest VmRSS seen, sampled every 0.1 s."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop_event = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop_event.wait(0.1):
            self.peak = max(self.peak, status(self.pid)["rss_kib"])

    def stop(self):
        self.stop_event.set()
        self.thread.join()
        return self.peak


def start_buckets(samples):
    """The StartLogging histogram: [(upper bound, cumulative count)], +Inf last."""
    prefix = "logguard_start_logging_duration_seconds_bucket{le=\""
    buckets = [(float(name[len(prefix):-2]), count) for name, count in samples.items()
               if name.startswith(prefix)]
    return sorted(buckets)


def quantile_bound(buckets, q):
    """The bucket bound the q-quantile falls in, and the count (None if empty)."""
    total = buckets[-1][1] if buckets else 0
    if total == 0:
        return None, 0
    for bound, count in buckets:
        if count >= q * total:
            return bound, total
    return float("inf"), total


def minus(later, earlier):
    return [(bound, count - dict(earlier).get(bound, 0)) for bound, count in later]


def start_many(engine, count):
    """Starts `count` tickers; returns their IDs, docker run wall times, and the plugin's
    StartLogging histogram once three quarters ran."""
    cids, walls, at_three_quarters = [], [], []
    for i in range(count):
        if i == (3 * count) // 4:
            at_three_quarters = start_buckets(engine.scrape_metrics())
        t0 = time.monotonic()
        cid, _ = engine.run(TICKER, detach=True)
        walls.append(time.monotonic() - t0)
        cids.append(cid)
        if (i + 1) % 50 == 0:
            print("  %d containers running" % (i + 1), flush=True)
    return cids, walls, at_three_quarters


def remove(engine, cids):
    for start in range(0, len(cids), 50):
        engine.docker("rm", "-f", *cids[start:start + 50], check=False, timeout=600)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--containers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60, help="quiet phase measured")
    parser.add_argument("--flood-seconds", type=float, default=20)
    parser.add_argument("--linger-wait", type=float, default=130,
                        help="seconds after all are gone before the last scrape and sample "
                             "(metric series linger 120 s); 0: skip that phase")
    args = parser.parse_args()
    if not harness.start_as_root("density"):
        return 1
    engine = harness.Engine(args.build_dir)
    n = args.containers
    try:
        engine.start()
        pid = engine.plugin_pid()
        time.sleep(2)
        empty = status(pid)
        print("empty: %s" % empty, flush=True)
        t0 = time.monotonic()
        cids, walls, at_three_quarters = start_many(engine, n)
        print("started %d containers in %.1f s" % (n, time.monotonic() - t0), flush=True)
        all_starts = start_buckets(engine.scrape_metrics())
        last_quarter = minus(all_starts, at_three_quarters)
        time.sleep(3)
        before = status(pid)
        time.sleep(args.seconds)
        quiet = status(pid)
        quiet_cpu = (quiet["cpu_s"] - before["cpu_s"]) / args.seconds
        print("quiet: %s, CPU %.2f %% of a core" % (quiet, 100 * quiet_cpu), flush=True)

        peak = PeakRss(pid)
        flood_cid, _ = engine.run(FLOOD, detach=True)
        time.sleep(args.flood_seconds)
        engine.docker("kill", flood_cid, check=False)
        flood = status(pid)
        flood_peak = peak.stop()
        flood_cpu = (flood["cpu_s"] - quiet["cpu_s"]) / args.flood_seconds
        print("flood: %s, peak RSS %d KiB, CPU %.1f %% of a core" % (flood, flood_peak,
                                                                    100 * flood_cpu), flush=True)
        time.sleep(2)
        after = status(pid)
        print("after: %s" % after, flush=True)
        remove(engine, cids + [flood_cid])
        harness.wait_until(lambda: engine.scrape_metrics().get("logguard_sessions", 1) == 0,
                           timeout=120, interval=1)
        time.sleep(3)
        gone = status(pid)
        print("gone: %s" % gone, flush=True)
        swept = None
        if args.linger_wait > 0:
            time.sleep(args.linger_wait)
            engine.scrape_metrics()  # drops the series that lingered long enough
            time.sleep(3)
            swept = status(pid)
            print("swept: %s" % swept, flush=True)
    finally:
        engine.stop()

    per_session = (quiet["rss_kib"] - empty["rss_kib"]) / n
    per_session_anon = (quiet["anon_kib"] - empty["anon_kib"]) / n
    print()
    print("Density, %d containers x 10 lines/s, plugin defaults; one flood for %.0f s" % (
        n, args.flood_seconds))
    header = "%-8s %10s %10s %8s" % ("phase", "RSS KiB", "anon KiB", "threads")
    print(header)
    print("-" * len(header))
    for name, s in (("empty", empty), ("quiet", quiet), ("flood", flood), ("after", after),
                    ("gone", gone), ("swept", swept)):
        if s:
            print("%-8s %10d %10d %8d" % (name, s["rss_kib"], s["anon_kib"], s["threads"]))
    print("flood peak RSS: %d KiB" % flood_peak)
    print()
    ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
    print("RSS per quiet session:        %.1f KiB (anon %.1f)   goal <= 48: %s" % (
        per_session, per_session_anon, ok(per_session <= 48)))
    print("plugin CPU, quiet phase:      %.2f %% of a core      goal <= 5: %s" % (
        100 * quiet_cpu, ok(quiet_cpu <= 0.05)))
    print("plugin CPU, flood phase:      %.1f %% of a core" % (100 * flood_cpu))
    kept = after["rss_kib"] - quiet["rss_kib"]
    print("RSS kept after the flood:     %d KiB (peak %+d over quiet)   goal <= 1024: %s" % (
        kept, flood_peak - quiet["rss_kib"], ok(kept <= 1024)))
    print("RSS left when all are gone:   %d KiB over empty (%.1f KiB per container that was "
          "there)" % (gone["rss_kib"] - empty["rss_kib"], (gone["rss_kib"] - empty["rss_kib"]) / n))
    if swept:
        left = swept["rss_kib"] - empty["rss_kib"]
        left_anon = swept["anon_kib"] - empty["anon_kib"]
        print("RSS left %3.0f s later, swept:  %d KiB over empty (%.1f KiB per container), "
              "anonymous %d KiB (%.1f KiB per container)   goal: given back (anonymous <= 1 KiB "
              "each): %s" % (args.linger_wait, left, left / n, left_anon, left_anon / n,
                             ok(left_anon / n <= 1)))
    print()
    walls.sort()
    print("docker run -d wall time:      median %.0f ms, p99 %.0f ms, max %.0f ms" % (
        1000 * walls[len(walls) // 2], 1000 * walls[min(len(walls) - 1, int(0.99 * len(walls)))],
        1000 * walls[-1]))
    for what, buckets in (("all %d starts" % n, all_starts),
                          ("the last quarter (>= %d running)" % ((3 * n) // 4), last_quarter)):
        bound, count = quantile_bound(buckets, 0.99)
        within = dict(buckets).get(0.02, 0)
        print("StartLogging, %-32s p99 <= %s ms (%d of %d within 20 ms)   goal p99 <= 20: %s" % (
            what + ":", "n/a" if bound is None else "%g" % (1000 * bound), within, count,
            ok(bound is not None and bound <= 0.02)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
