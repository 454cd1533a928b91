#!/usr/bin/env python3
"""`docker logs` latency on a big rotated history vs a small one, and the CPU of an idle follower.

usage: bench/read_logs.py --build-dir BUILD [--history-mb 1024] [--small-mb 1] [--reps 5]
                          [--idle-seconds 60]

One private engine (tests/e2e/harness.py), the managed plugin packaged from BUILD with
NODE_WRITE_RATE=off (the histories are written as fast as the engine goes, and the node guard
would cut them; what is measured is reading). Two running
logguard containers (rate=off, max-size=20m, max-file=60, compress=true) each write a history with
`yes <99 chars> | dd` (HISTORY-MB resp. SMALL-MB of json-file records, 1 MB = 1e6 bytes; a
100-byte line is a 170-byte record), then sleep 2 s, then print 100 short lines `last-N`, then
sleep. The script waits until background compression has finished (no plain rotated file, no
temp), then measures, REPS times each, median printed:

  tail   `docker logs --tail 100 CID`
  since  `docker logs --since T CID`, T one second before the first `last-N` record (in the 2 s
         gap), so both containers return the same 100 lines

as time to first byte and total time of the docker client (spawn to exit), plus plugin and
dockerd CPU per call; the ratio big/small of each (goal: within 2x). Every call's output is
checked to be exactly the 100 `last-N` lines.

Idle follow: a quiet container (`echo ready; sleep 3600`); plugin and dockerd CPU over
IDLE-SECONDS with no follower (baseline), then over IDLE-SECONDS with one `docker logs -f` on it
(started, and its first line received, before the first sample). Goal: follower under 0.1 CPU s.
Exits 0 when everything ran (goals are reported, not enforced).
"""
import argparse
import gzip
import json
import os
import select
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "e2e"))
import harness  # noqa: E402

LINE = "x" * 99
BLOCK = 64000  # 640 lines
RECORD_BYTES = 170  # json-file record of a 100-byte line, with a 30-char timestamp
OPTS = {"rate": "off", "max-size": "20m", "max-file": "60", "compress": "true"}
TAIL_LINES = [b"last-%d" % i for i in range(1, 101)]


def history_script(mb):
    """(lines, script): MB of records of 100-byte lines, 2 s of quiet, then last-1..last-100."""
    # dd blocks of 640 whole lines, so the history ends with a complete line (a partial one
    # would be joined with last-1 by the engine).
    blocks = max(1, int(round(mb * 1e6 / RECORD_BYTES * 100 / BLOCK)))
    return blocks * BLOCK // 100, (
        "yes %s | dd bs=%d count=%d iflag=fullblock 2>/dev/null; sleep 2; "
        "i=1; while [ $i -le 100 ]; do echo last-$i; i=$((i+1)); done; exec sleep 36000"
        % (LINE, BLOCK, blocks))


def compression_idle(directory, cid):
    base = cid + "-json.log."
    for name in os.listdir(directory):
        if name.endswith(".tmp") or (name.startswith(base) and name[len(base):].isdigit()):
            return False
    return True


def tail_arrived(engine, cid):
    """The current file ends with the `last-100` record (cheap: reads its last 4 KiB)."""
    try:
        with open(engine.log_path(cid), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            return b'"last-100\\n"' in f.read()
    except OSError:
        return False


def history_files(engine, cid):
    """(number of files, bytes on disk, bytes of records uncompressed) of a container's log."""
    count = disk = plain = 0
    for path in harness.container_files(engine.log_dir(cid), cid):
        count += 1
        size = os.path.getsize(path)
        disk += size
        if path.endswith(".gz"):
            # One gzip member per MiB (gzip_member.h): a trailer's ISIZE is its member's only.
            with gzip.open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    plain += len(chunk)
        elif path.endswith(".zst"):
            plain += len(subprocess.run(["zstd", "-dc", path], capture_output=True).stdout)
        else:
            plain += size
    return count, disk, plain


def first_tail_time(engine, cid):
    """Unix ns of the `last-1` record, looked up in the newest two files (not via the plugin)."""
    for path in reversed(harness.container_files(engine.log_dir(cid), cid)[-2:]):
        data = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
        for line in data.splitlines():
            if b'"last-1\\n"' in line:
                return harness.nanos(json.loads(line)["time"])
    return None


def timed_logs(engine, cid, args):
    """Runs `docker logs ARGS CID`; returns (seconds to first byte, total seconds, stdout lines)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([harness.DOCKER, "-H", engine.host, "logs"] + args + [cid],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    fd = proc.stdout.fileno()
    chunks = []
    first = None
    while True:
        chunk = os.read(fd, 1 << 16)
        if first is None:
            first = time.monotonic() - t0
        if not chunk:
            break
        chunks.append(chunk)
    err = proc.stderr.read()
    proc.wait()
    total = time.monotonic() - t0
    if proc.returncode != 0:
        raise AssertionError("docker logs %s failed: %s" % (" ".join(args), err.decode()))
    return first, total, b"".join(chunks).splitlines()


def measure(engine, cid, args, reps, plugin_pid):
    dockerd = engine.dockerd_pid()
    firsts, totals = [], []
    p0, d0 = harness.cpu_seconds(plugin_pid), harness.cpu_seconds(dockerd)
    ok = True
    for _ in range(reps):
        first, total, lines = timed_logs(engine, cid, args)
        firsts.append(first)
        totals.append(total)
        if lines != TAIL_LINES and ok:
            print("  docker logs %s: %d lines, first %r, last %r; not the last-1..last-100 expected"
                  % (" ".join(args), len(lines), lines[:1], lines[-1:]), flush=True)
        ok = ok and lines == TAIL_LINES
    p1, d1 = harness.cpu_seconds(plugin_pid), harness.cpu_seconds(dockerd)
    return {"ttfb": statistics.median(firsts), "total": statistics.median(totals),
            "plugin_cpu": (p1 - p0) / reps, "dockerd_cpu": (d1 - d0) / reps, "ok": ok}


def cpu_over(engine, plugin_pid, seconds):
    dockerd = engine.dockerd_pid()
    p0, d0 = harness.cpu_seconds(plugin_pid), harness.cpu_seconds(dockerd)
    time.sleep(seconds)
    return harness.cpu_seconds(plugin_pid) - p0, harness.cpu_seconds(dockerd) - d0


def ratio(a, b):
    return "n/a" if not b else "%.2f" % (a / b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--history-mb", type=float, default=1024,
                        help="MB of json-file records in the big history (default 1024)")
    parser.add_argument("--small-mb", type=float, default=1, help="the small history (default 1)")
    parser.add_argument("--reps", type=int, default=5, help="docker logs calls per figure")
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--compress-timeout", type=float, default=1800)
    args = parser.parse_args()
    if not harness.start_as_root("read_logs"):
        return 1

    engine = harness.Engine(args.build_dir)
    follower = None
    try:
        engine.start()
        # The history is written as fast as the engine goes: the node guard would cut it (and
        # its drop notice would land among the lines --since must return). Reading is measured.
        engine.configure_plugin(NODE_WRITE_RATE="off")
        plugin_pid = engine.plugin_pid()
        print("engine ready (%s); plugin pid %s" % (engine.dir, plugin_pid), flush=True)

        # ---- histories ----
        containers = {}
        for name, mb in (("big", args.history_mb), ("small", args.small_mb)):
            lines, script = history_script(mb)
            t0 = time.monotonic()
            cid, _ = engine.run(script, opts=OPTS, detach=True)
            containers[name] = cid
            if not harness.wait_until(lambda: tail_arrived(engine, cid),
                                      timeout=7200, interval=1):
                raise AssertionError("%s: the last-N lines never arrived" % name)
            written = time.monotonic() - t0
            idle = harness.wait_until(lambda: compression_idle(engine.log_dir(cid), cid),
                                      timeout=args.compress_timeout, interval=0.5)
            count, disk, plain = history_files(engine, cid)
            print("%-5s history: %d lines written in %.1f s, compression %s %.1f s later; %d files, "
                  "%.1f MB on disk, %.1f MB of records" % (
                      name, lines, written, "done" if idle else "NOT done",
                      time.monotonic() - t0 - written, count, disk / 1e6, plain / 1e6), flush=True)

        # ---- tail and since ----
        results = {}
        for name, cid in containers.items():
            since_ns = first_tail_time(engine, cid) - 10**9
            since = "%d.%09d" % (since_ns // 10**9, since_ns % 10**9)
            timed_logs(engine, cid, ["--tail", "100"])  # warm-up (page cache, first connection)
            results[name] = {
                "tail": measure(engine, cid, ["--tail", "100"], args.reps, plugin_pid),
                "since": measure(engine, cid, ["--since", since], args.reps, plugin_pid),
            }

        print()
        print("docker logs, median of %d (seconds; CPU seconds per call)" % args.reps)
        header = "%-22s %9s %9s %9s %9s %10s %10s %6s" % (
            "", "ttfb big", "ttfb sml", "ratio", "total big", "total sml", "ratio", "goal")
        print(header)
        print("-" * len(header))
        for kind, label in (("tail", "--tail 100"), ("since", "--since <last 100>")):
            b, s = results["big"][kind], results["small"][kind]
            within = b["ttfb"] <= 2 * s["ttfb"] and b["total"] <= 2 * s["total"]
            print("%-22s %9.3f %9.3f %9s %9.3f %10.3f %10s %6s" % (
                label, b["ttfb"], s["ttfb"], ratio(b["ttfb"], s["ttfb"]), b["total"], s["total"],
                ratio(b["total"], s["total"]), "ok" if within else "MISSED"))
            print("%-22s plugin CPU/call big %.3f small %.3f; dockerd CPU/call big %.3f small %.3f;"
                  " output %s" % (
                      "", b["plugin_cpu"], s["plugin_cpu"], b["dockerd_cpu"], s["dockerd_cpu"],
                      "100 lines ok" if b["ok"] and s["ok"] else "WRONG (expected last-1..last-100)"))

        # ---- idle follower ----
        cid, _ = engine.run("echo ready; exec sleep 36000", detach=True)
        harness.wait_until(lambda: os.path.exists(engine.log_path(cid)), timeout=10)
        time.sleep(1)
        base_plugin, base_dockerd = cpu_over(engine, plugin_pid, args.idle_seconds)
        follower = subprocess.Popen([harness.DOCKER, "-H", engine.host, "logs", "-f", cid],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        # Its first line proves it is connected; bounded, so a follower that delivers nothing
        # is reported instead of hanging the benchmark.
        ready, _, _ = select.select([follower.stdout], [], [], 15)
        first = os.read(follower.stdout.fileno(), 4096) if ready else b"(nothing within 15 s)"
        time.sleep(0.5)
        follow_plugin, follow_dockerd = cpu_over(engine, plugin_pid, args.idle_seconds)
        alive = follower.poll() is None
        threads_following = len(os.listdir("/proc/%d/task" % plugin_pid))
        follower.kill()
        follower.wait()
        harness.wait_until(lambda: len(os.listdir("/proc/%d/task" % plugin_pid))
                           < threads_following, timeout=5)
        threads_after = len(os.listdir("/proc/%d/task" % plugin_pid))
        threads_after_line = None
        if threads_after >= threads_following:
            # dockerd notices that its consumer left only when the next record arrives
            # (its plugin adapter checks between decodes); give it one.
            engine.docker("exec", cid, "sh", "-c", "echo wake > /proc/1/fd/1")
            harness.wait_until(lambda: len(os.listdir("/proc/%d/task" % plugin_pid))
                               < threads_following, timeout=5)
            threads_after_line = len(os.listdir("/proc/%d/task" % plugin_pid))
        print()
        print("Idle docker logs -f over %.0f s (CPU seconds)" % args.idle_seconds)
        print("  %-28s plugin %.3f  dockerd %.3f" % ("no follower (baseline):", base_plugin,
                                                    base_dockerd))
        print("  %-28s plugin %.3f  dockerd %.3f" % ("one idle follower:", follow_plugin,
                                                    follow_dockerd))
        print("  follower/baseline: plugin %s, dockerd %s; follower got %r and was %s at the end;"
              " goal plugin < 0.1 s: %s" % (
                  ratio(follow_plugin, base_plugin), ratio(follow_dockerd, base_dockerd),
                  first.strip().decode(errors="replace"), "still following" if alive else "GONE",
                  "ok" if follow_plugin < 0.1 else "MISSED"))
        print("  plugin threads: %d while following, %d within 5 s after the client was killed (%s)"
              % (threads_following, threads_after, "stream thread released"
                 if threads_after < threads_following else "stream thread NOT released"))
        if threads_after_line is not None:
            print("  plugin threads: %d within 5 s after the container wrote one more line (%s)"
                  % (threads_after_line, "released then" if threads_after_line < threads_following
                     else "still NOT released: Engine 20.10's plugin adapter reads the stream "
                     "until a record arrives, then may block sending it to the gone consumer "
                     "(`watcher.Msg <- msg` after WatchClose) and never close it; the thread "
                     "then ends when the container's logging ends"))
    finally:
        if follower is not None and follower.poll() is None:
            follower.kill()
            follower.wait()
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
