"""The cost of an upload is bounded by design: the worst file the app accepts parses (and
normalizes) in a process limited to 256 MB of address space, and the file that once made the
server allocate ~8 GB (two labels of 131,000 characters) is refused there with a short message.

Each check runs in a fresh subprocess under resource.setrlimit(RLIMIT_AS), so a parser that
allocates too much fails with MemoryError instead of taking the test machine down. The times
and peak memory are printed by benchmarks/bench_upload.py.
"""

import os
import subprocess
import sys
from pathlib import Path

from bn_core import exchange
from tests import upload_files

ROOT = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 256 * 2**20
HANG_GUARD_S = 300  # a guard against a hang on a busy machine, not a timing assertion

LIMITED_PARSE = """
import resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from bn_core import exchange, training
from tests import upload_files
data = getattr(upload_files, sys.argv[1])()
try:
    X, y, names = exchange.parse_points_csv(data)
except ValueError as err:
    print("refused:", err)
else:
    split = training.split_and_normalize(X, y, 0.25, seed=0)
    print("parsed:", X.shape[1], "points,", len(names), "classes")
"""


def parse_under_memory_limit(maker):
    """Run exchange.parse_points_csv on upload_files.<maker>() in a subprocess limited to
    LIMIT_BYTES of address space; its one line of output."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }  # BLAS threads reserve address space of their own
    proc = subprocess.run(
        [sys.executable, "-c", LIMITED_PARSE, maker, str(LIMIT_BYTES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def test_the_worst_legal_file_is_at_every_limit():
    data = upload_files.worst_legal_points_csv()
    assert 0.98 * exchange.MAX_POINTS_BYTES <= len(data) <= exchange.MAX_POINTS_BYTES
    X, _, names = exchange.parse_points_csv(data)
    assert X.shape == (2, exchange.MAX_POINTS) and len(names) == exchange.MAX_CLASSES
    assert all(len(name) == exchange.MAX_NAME_CHARS for name in names)


def test_the_worst_legal_file_parses_within_256_mb():
    out = parse_under_memory_limit("worst_legal_points_csv")
    assert out == f"parsed: {exchange.MAX_POINTS} points, {exchange.MAX_CLASSES} classes", out


def test_labels_of_131000_characters_are_refused_within_256_mb_with_a_short_message():
    data = upload_files.long_label_points_csv()
    assert len(data) > 300_000 and data.count(b"z" * 131_000) == 2
    out = parse_under_memory_limit("long_label_points_csv")
    assert out.startswith("refused:") and "131,000 characters" in out, out
    assert len(out) < 200, out
