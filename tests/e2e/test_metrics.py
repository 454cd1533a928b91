"""Metrics through a real engine and a real Prometheus: the managed plugin (host networking)
serves /metrics at METRICS_ADDR and on its socket; Prometheus (Debian's /usr/bin/prometheus)
scrapes it every second while a rate-limited container floods, and its HTTP API reports the
container's drops and exactly the bytes its log files hold.

Unit tests (tests/unit/metrics/metrics_test.cpp, server/metrics_server_test.cpp) prove the counting; this
proves the wiring: config.json's network, the setting, the text Prometheus ingests.
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

import harness
from harness import container_files, wait_until

PROMETHEUS = "/usr/bin/prometheus"
LINE = "x" * 99


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.headers.get("Content-Type"), response.read().decode()


@contextlib.contextmanager
def prometheus(target):
    """A Prometheus scraping `target` (host:port) every second; yields a query function
    (PromQL -> list of (labels, float value))."""
    directory = tempfile.mkdtemp(prefix="lg-prom-")
    config = os.path.join(directory, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: logguard\n    static_configs:\n"
                "      - targets: ['%s']\n" % target)
    web = "127.0.0.1:%d" % free_port()
    log = open(os.path.join(directory, "prometheus.log"), "w")
    process = subprocess.Popen([PROMETHEUS, "--config.file=" + config,
                                "--storage.tsdb.path=" + os.path.join(directory, "data"),
                                "--web.listen-address=" + web], stdout=log, stderr=log)

    def query(promql):
        url = "http://%s/api/v1/query?%s" % (web, urllib.parse.urlencode({"query": promql}))
        _, _, body = http_get(url)
        reply = json.loads(body)
        assert reply["status"] == "success", body
        return [(r["metric"], float(r["value"][1])) for r in reply["data"]["result"]]

    def ready():
        try:
            return http_get("http://%s/-/ready" % web)[0] == 200
        except OSError:
            return False
    try:
        if not wait_until(ready, 60, 0.2):
            raise AssertionError("prometheus did not start: " +
                                 open(os.path.join(directory, "prometheus.log")).read()[-3000:])
        yield query
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


class MetricsTest(harness.EngineTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not os.access(PROMETHEUS, os.X_OK):
            raise unittest.SkipTest("no %s (Debian package prometheus)" % PROMETHEUS)

    def plugin_socket(self):
        path = self.engine.plugin_socket()
        self.assertTrue(os.path.exists(path), path)
        return path

    def test_prometheus_sees_drops_and_the_bytes_on_disk(self):
        """Proves, through Prometheus's HTTP API, that a container flooding past rate=200k has
        rate(logguard_container_dropped_bytes_total{limit="rate"}[10s]) > 0 while it floods,
        and that once it is quiet logguard_container_written_bytes_total equals the size of
        its log files; and that GET /metrics also answers on the plugin's unix socket."""
        port = free_port()
        saved = self.engine.configure_plugin(METRICS_ADDR="127.0.0.1:%d" % port)
        cid = None
        try:
            status, content_type, text = http_get("http://127.0.0.1:%d/metrics" % port)
            self.assertEqual(status, 200)
            self.assertTrue(content_type.startswith("text/plain; version=0.0.4"), content_type)
            self.assertIn("# TYPE logguard_sessions gauge", text)
            via_socket = subprocess.run(
                ["curl", "-sf", "--unix-socket", self.plugin_socket(), "http://x/metrics"],
                capture_output=True, text=True, timeout=30)
            self.assertEqual(via_socket.returncode, 0, via_socket.stderr)
            self.assertIn("# TYPE logguard_write_duration_seconds histogram", via_socket.stdout)

            with prometheus("127.0.0.1:%d" % port) as query:
                self.assertTrue(wait_until(lambda: query('up{job="logguard"} == 1'), 30, 0.5),
                                "prometheus cannot scrape the plugin")
                # 30 MB in 15 bursts of 2 MB as fast as busybox writes, then quiet (the
                # container stays, so its series stay).
                script = ("i=0; while [ $i -lt 15 ]; do yes %s | head -c 2000000; i=$((i+1)); "
                          "sleep 0.2; done; sleep 600" % LINE)
                cid, _ = self.engine.run(script, name="metrics-flood", detach=True, opts={
                    "rate": "200k", "burst": "200k", "compress": "false", "max-size": "100m"})
                selector = '{container_name="metrics-flood",limit="rate"}'
                dropping = wait_until(lambda: query(
                    "rate(logguard_container_dropped_bytes_total%s[10s]) > 0" % selector), 60, 0.5)
                self.assertTrue(dropping, "no drop rate for the flooding container")
                [(labels, rate)] = query("rate(logguard_container_dropped_bytes_total%s[10s])"
                                         % selector)
                self.assertEqual(labels["container_id"], cid)
                print("\n    dropped-bytes rate seen by Prometheus: %.0f B/s" % rate, flush=True)

                def on_disk():
                    return sum(os.path.getsize(p)
                               for p in container_files(self.engine.log_dir(cid), cid))

                def written():
                    result = query('logguard_container_written_bytes_total'
                                   '{container_name="metrics-flood"}')
                    return int(result[0][1]) if result else None

                def settled():
                    """Written bytes match the files, and still do 3 s later (the flood is
                    over and its drop notices are written)."""
                    if on_disk() == 0 or written() != on_disk():
                        return False
                    time.sleep(3)
                    return written() == on_disk()

                matched = wait_until(settled, 90, 1)
                self.assertTrue(matched, "written bytes %s, files %d" % (written(), on_disk()))
                print("    written bytes in Prometheus = bytes in the files = %d" % on_disk(),
                      flush=True)
                [(_, dropped)] = query('sum(logguard_container_dropped_lines_total'
                                       '{container_name="metrics-flood"})')
                [(_, written_lines)] = query('logguard_container_written_lines_total'
                                             '{container_name="metrics-flood"}')
                [(_, received)] = query('logguard_container_received_lines_total'
                                        '{container_name="metrics-flood"}')
                self.assertEqual(written_lines + dropped, received)
        finally:
            if cid:
                self.engine.docker("rm", "-f", cid, check=False)
            self.engine.configure_plugin(**saved)

    def scrape_socket(self):
        """GET /metrics on the plugin's unix socket: {series: value}."""
        self.plugin_socket()
        return self.engine.scrape_metrics()

    def test_block_mode_counts_the_seconds_a_container_waited(self):
        """Proves logguard_container_blocked_seconds_total: a container writing 3 MB of lines
        (about 4.8 MB of records) at rate=500k burst=500k with on-limit=block is held back
        for (records - burst) / rate seconds; the plugin (asked on its socket right after
        `docker run` returns; the series outlive the container) counts at least 80 % of that
        and at most the time `docker run` took; nothing is dropped."""
        started = time.monotonic()
        cid, _ = self.engine.run("yes %s | head -c 3000000" % LINE, name="metrics-block", opts={
            "rate": "500k", "burst": "500k", "on-limit": "block", "compress": "false"})
        took = time.monotonic() - started
        try:
            records = sum(os.path.getsize(p)
                          for p in container_files(self.engine.log_dir(cid), cid))
            held_back = (records - 500e3) / 500e3
            samples = self.scrape_socket()
            mine = {k: v for k, v in samples.items() if 'container_id="%s"' % cid in k}
            blocked = [v for k, v in mine.items()
                       if k.startswith("logguard_container_blocked_seconds_total{")]
            self.assertEqual(len(blocked), 1, mine)
            print("\n    %d bytes of records: held back %.1f s by the bucket; blocked %.1f s; "
                  "docker run took %.1f s" % (records, held_back, blocked[0], took), flush=True)
            self.assertGreaterEqual(blocked[0], 0.8 * held_back)
            self.assertLessEqual(blocked[0], took)
            dropped = sum(v for k, v in mine.items()
                          if k.startswith("logguard_container_dropped_lines_total{"))
            self.assertEqual(dropped, 0)
        finally:
            self.engine.docker("rm", "-f", cid, check=False)

if __name__ == "__main__":
    unittest.main()
