"""Rotation and compression through a real engine (issue: rotated, compressed json-file logs).

A container's files are json-file's: `<id>-json.log`, then `.1`, `.2`, ... (`.gz` or `.zst` once
the background compressor is done), at most max-file of them, each at most max-size plus one
record (rotation happens before the write that finds the file at or past max-size). Rotated
files carry their last record's time: gzip in the header's FEXTRA, zstd in a leading skippable
frame, both as the JSON {"lastTime":"<RFC3339Nano>"}.
"""
import gzip
import json
import os
import struct
import subprocess
import unittest

import harness
from harness import container_files, wait_until

COUNT = 300_000  # numbered 100-byte lines: 30 MB
MAX_SIZE = 1_000_000
PAD = "0" * 90  # harness.numbered_lines(): "%08d <90 zeros>\n"
ZSTD_SKIPPABLE = 0x184D2A50


def gzip_extra(path):
    """The FEXTRA field of a gzip file's header, or None."""
    with open(path, "rb") as f:
        header = f.read(12)
        if header[:3] != b"\x1f\x8b\x08" or not header[3] & 0x04:
            return None
        (xlen,) = struct.unpack("<H", header[10:12])
        return f.read(xlen)


def zstd_skippable(path):
    """The payload of the skippable frame 0x184D2A50 the file starts with, or None."""
    with open(path, "rb") as f:
        magic, size = struct.unpack("<II", f.read(8))
        return f.read(size) if magic == ZSTD_SKIPPABLE else None


def zstd_dc(path):
    return subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout


CODECS = {  # compress option -> (extension, decompress, lastTime header)
    "true": (".gz", lambda p: gzip.open(p).read(), gzip_extra),
    "zstd": (".zst", zstd_dc, zstd_skippable),
    "false": ("", lambda p: open(p, "rb").read(), None),
}


def settled(directory, cid):
    """No compression pending or running: no plain rotated file (with a codec) and no temp."""
    base = cid + "-json.log"
    for name in os.listdir(directory):
        rest = name[len(base) + 1:]
        if name.endswith(".tmp") or (name.startswith(base + ".") and rest.isdigit()):
            return False
    return True


class RotatedFilesTest(harness.EngineTest):
    def files_after(self, cid, compressed):
        """The container's file names once background compression is done."""
        directory = self.engine.log_dir(cid)
        if compressed:
            wait_until(lambda: settled(directory, cid), harness.COMPRESSED_WITHIN)
        return sorted(os.listdir(directory))

    def check_rotation(self, compress, max_file=3):
        """30 MB of numbered lines with rate=off,max-size=1m,max-file=N: exactly N files, named
        as json-file names them, valid, with lastTime headers, each <= max-size + one record,
        holding the last lines written, in order, contiguous, none twice. Returns
        (uncompressed, compressed) bytes of the rotated files."""
        ext, decompress, header_of = CODECS[compress]
        cid, _ = self.engine.run(harness.numbered_lines(COUNT), timeout=300, opts={
            "rate": "off", "max-size": "1m", "max-file": str(max_file), "compress": compress})
        base = cid + "-json.log"
        expected = [base] + ["%s.%d%s" % (base, n, ext) for n in range(1, max_file)]
        self.assertEqual(self.files_after(cid, bool(ext)), sorted(expected),
                         "not exactly max-file=%d files, compressed" % max_file)
        numbers, uncompressed, compressed = [], 0, 0
        for path in container_files(self.engine.log_dir(cid), cid):
            rotated = not path.endswith(base)
            data = decompress(path) if rotated else open(path, "rb").read()
            lines = data.splitlines()
            records = [json.loads(line) for line in lines]
            for record in records:
                self.assertEqual(set(record), {"log", "stream", "time"}, path)
                self.assertEqual(record["stream"], "stdout", path)
                numbers.append(int(record["log"][:8]))
                self.assertEqual(record["log"], "%08d %s\n" % (numbers[-1], PAD), path)
            longest = max(len(line) + 1 for line in lines)
            self.assertLessEqual(len(data), MAX_SIZE + longest, "%s passes max-size + one record"
                                 % path)
            if rotated:
                # Rotated by size: it had reached max-size before its successor's first record.
                self.assertGreaterEqual(len(data), MAX_SIZE, path)
                uncompressed += len(data)
                compressed += os.path.getsize(path)
                if header_of:
                    meta = header_of(path)
                    self.assertIsNotNone(meta, "%s: no lastTime header" % path)
                    self.assertEqual(json.loads(meta), {"lastTime": records[-1]["time"]}, path)
        self.assertEqual(numbers, list(range(COUNT - len(numbers) + 1, COUNT + 1)),
                         "kept lines are not the last ones, contiguous, in order, once each")
        print("\n    compress=%s max-file=%d: kept lines %d..%d in %s" % (
            compress, max_file, numbers[0], numbers[-1], ", ".join(
                "%s %d B" % (name[len(base):] or "current",
                             os.path.getsize(os.path.join(self.engine.log_dir(cid), name)))
                for name in expected)), flush=True)
        return uncompressed, compressed

    def test_gzip_rotation(self):
        """Proves compress=true: `.1.gz`, `.2.gz` are gzip (Python's gzip module) with FEXTRA
        {"lastTime": <time of the last record>}, and the 3 files hold the last lines exactly."""
        raw, packed = self.check_rotation("true")
        print("    gzip compression ratio on numbered lines: %d / %d = %.2f"
              % (raw, packed, raw / packed), flush=True)

    def test_zstd_rotation(self):
        """Proves compress=zstd: `.1.zst`, `.2.zst` decompress with `zstd -dc`, start with the
        skippable frame 0x184D2A50 holding {"lastTime": ...}, and hold the last lines exactly."""
        raw, packed = self.check_rotation("zstd")
        print("    zstd compression ratio on numbered lines: %d / %d = %.2f"
              % (raw, packed, raw / packed), flush=True)

    def test_plain_rotation(self):
        """Proves compress=false: plain `.1`, `.2`, holding the last lines exactly."""
        self.check_rotation("false")

    def test_max_file_1_keeps_one_file(self):
        """Proves max-file=1 (compress=false): one file, at most max-size + one record, holding
        the last lines written; and that compress=true with max-file=1 fails docker run."""
        self.check_rotation("false", max_file=1)
        cid, result = self.engine.run("echo never", check=False, opts={
            "max-file": "1", "compress": "true"})
        err = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, 125, err)
        self.assertIn("logguard: compress=gzip", err)
        self.assertIn("max-file", err)

    def test_a_fast_stream_rotates_without_a_gap(self):
        """Proves a fast stream at the plugin's defaults (node budget included) loses nothing
        across ~30 rotations: 250,000 numbered 100-byte lines (~28 MB of records) as fast as
        the engine takes them, rate=off, max-size=1m, max-file=100: every line is kept once, in
        order, and no drop notice is written."""
        count = 250_000
        cid, _ = self.engine.run(harness.numbered_lines(count), timeout=600, opts={
            "rate": "off", "max-size": "1m", "max-file": "100"})
        directory = self.engine.log_dir(cid)
        wait_until(lambda: settled(directory, cid), harness.COMPRESSED_WITHIN)
        records = harness.all_records(directory, cid)
        self.assertEqual([r for r in records if harness.is_notice(r)][:1], [])
        numbers = [int(r["log"][:8]) for r in records]
        if numbers != list(range(1, count + 1)):
            gaps = [(a, b) for a, b in zip(numbers, numbers[1:]) if b != a + 1]
            self.fail("%d lines kept; first breaks: %s" % (len(numbers), gaps[:5]))
        rotated = len(harness.container_files(directory, cid)) - 1
        print("\n    %d lines in %d rotated files and the current one" % (count, rotated),
              flush=True)


if __name__ == "__main__":
    unittest.main()
