"""The layer-norm lesson's batch-size sweep, printed as a table. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_layer_norm_sweep.py [--seen N] [--seeds S]

Test accuracy (eval mode) on the digits of a 64-32-32-10 ReLU network with batch norm, layer
norm and none, after the same number of training examples in mini-batches of 2..64, with Adam;
the page's default is one seed and 2048 examples. More seeds show how much of a difference is
the seed's. Also the time the page's sweep takes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the app runs

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bn_core.lessons import layer_norm as lesson
from bn_core.training import digits_split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seen", type=int, default=lesson.SweepSettings().examples_seen)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    digits_split(0)  # load the data before the clock starts
    tables, seconds = [], []
    for seed in range(args.seeds):
        start = time.perf_counter()
        tables.append(lesson.sweep(lesson.SweepSettings(args.seen, seed=seed)))
        seconds.append(time.perf_counter() - start)
    sizes = lesson.SWEEP_BATCH_SIZES
    print(
        f"test accuracy after {args.seen} training examples, {args.seeds} seed(s)"
        f"{' (mean ± std over seeds)' if args.seeds > 1 else ''}\n"
    )
    print(f"{'m':>4} " + " ".join(f"{lesson.NORMS[k]:>15}" for k in range(len(lesson.NORMS))))
    for j, m in enumerate(sizes):
        cells = []
        for norm in lesson.NORMS:
            accs = np.array([t[norm][j] for t in tables])
            cells.append(
                f"{accs.mean():.1%} ± {accs.std():.1%}" if args.seeds > 1 else f"{accs[0]:.1%}"
            )
        print(f"{m:>4} " + " ".join(f"{c:>15}" for c in cells))
    print(f"\n{lesson.sweep_verdict(tables[0], sizes, args.seen)}")
    print(f"\none sweep (18 networks): {np.mean(seconds):.1f} s")


if __name__ == "__main__":
    main()
