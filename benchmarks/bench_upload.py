"""Cost of the worst uploads the app accepts: parse time and peak memory.

Measured for the worst legal points CSV (tests/upload_files.py: ~495 KB, 5,000 points, 10
classes, 40-character labels, features with every digit the size limit allows), for the file
that once cost ~8 GB (two labels of 131,000 characters, now refused early), and for the largest
legal settings file (20 KB, 100 settings). For each: the median parse time over repeats in this
process, the peak of Python and NumPy allocations during one parse (tracemalloc), and the peak
resident memory (ru_maxrss) of a fresh process that imports the core, makes the file and parses
it once, beside the same process that skips the parse (its imports dominate). Prints, asserts
nothing.

    .venv/bin/python benchmarks/bench_upload.py [repeats]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bn_core import exchange
from tests import upload_files


def largest_settings_json():
    """A settings file at MAX_SETTINGS_KEYS settings and just under MAX_SETTINGS_BYTES."""
    head = {"app": exchange.APP_NAME, "version": exchange.SETTINGS_VERSION, "page": "lab"}
    room = exchange.MAX_SETTINGS_BYTES - len(json.dumps({**head, "settings": {}})) - 50
    per_value = room // exchange.MAX_SETTINGS_KEYS - len('"k00": "", ')
    settings = {f"k{i:02d}": "v" * per_value for i in range(exchange.MAX_SETTINGS_KEYS)}
    return json.dumps({**head, "settings": settings}).encode()


CASES = {
    "worst legal points CSV": ("worst_legal_points_csv", "points"),
    "131,000-char labels (refused)": ("long_label_points_csv", "points"),
    "largest legal settings JSON": ("largest_settings_json", "settings"),
}

RSS_PROBE = """
import resource, sys
sys.path.insert(0, sys.argv[3])
from bn_core import exchange
from tests import upload_files
from benchmarks import bench_upload
maker = getattr(upload_files, sys.argv[1], None) or getattr(bench_upload, sys.argv[1])
data = maker()
parse = (exchange.parse_points_csv if sys.argv[2] == "points"
         else lambda d: exchange.parse_settings_json(d, "lab"))
if sys.argv[4] == "parse":
    try:
        parse(data)
    except ValueError:
        pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make(maker_name):
    return (getattr(upload_files, maker_name, None) or globals()[maker_name])()


def parser(kind):
    if kind == "points":
        return exchange.parse_points_csv
    return lambda data: exchange.parse_settings_json(data, "lab")


def outcome(parse, data):
    try:
        parse(data)
    except ValueError as err:
        return f"refused: {err}"
    return "parsed"


def parse_times(parse, data, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        outcome(parse, data)
        times.append(time.perf_counter() - start)
    return times


def traced_peak(parse, data):
    tracemalloc.start()
    outcome(parse, data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def peak_rss_mb(maker_name, kind, parse=True):
    """Peak resident memory of a fresh process that makes the file and (if `parse`) parses it."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    args = [maker_name, kind, str(ROOT), "parse" if parse else "skip"]
    out = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip()) / 1024  # ru_maxrss is in KB on Linux


def main(repeats=20):
    print(
        f"{'file':32s} {'bytes':>8s} {'median ms':>10s} {'max ms':>8s} "
        f"{'traced peak MB':>15s} {'peak RSS MB':>12s} {'(no parse)':>10s}  outcome"
    )
    for label, (maker_name, kind) in CASES.items():
        data, parse = make(maker_name), parser(kind)
        times = parse_times(parse, data, repeats)
        peak = traced_peak(parse, data)
        rss, baseline = peak_rss_mb(maker_name, kind), peak_rss_mb(maker_name, kind, False)
        result = outcome(parse, data)
        print(
            f"{label:32s} {len(data):8,d} {statistics.median(times) * 1e3:10.1f} "
            f"{max(times) * 1e3:8.1f} {peak / 2**20:15.2f} {rss:12.1f} {baseline:10.1f}  "
            f"{result[:60]}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
