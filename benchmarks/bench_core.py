"""Speed and memory of the core. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_core.py [--seconds S]      (THREADS=2 ... for 2 threads)

Training steps per second with batch norm and Adam, recording off and on, for three networks;
the same networks in PyTorch on the CPU (float64, same thread count, same run) when PyTorch is
importable; the large network's step against NumPy's own matmul throughput on its shapes; a
layer-norm step's cost next to a batch-norm step's on the three networks; and the recorder's
memory after 100,000 steps.

Goals: small >= 3x and medium >= 1.3x PyTorch's steps/s; large step >= 60% of the matmul-only
throughput; recording <= 25% over a bare step; a layer-norm step <= 10% dearer than batch norm.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# NumPy and PyTorch get the same number of threads, fixed before NumPy loads its BLAS: one by
# default, as the app runs (dev.py), or THREADS from the environment (see --help).
THREADS = int(os.environ.setdefault("OPENBLAS_NUM_THREADS", os.environ.get("THREADS", "1")))

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bn_core as bn
from bn_core import training
from bn_core.recorder import Recorder

NETWORKS = {
    "small": ((2, 16, 16, 16, 2), 64),
    "medium": ((64, 128, 128, 128, 10), 128),
    "large": ((784, 512, 512, 512, 10), 256),
}


def synthetic_split(dims, m, seed=0):
    """Random inputs and labels, 4 mini-batches' worth of training data."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((dims[0], 4 * m))
    y = rng.integers(0, dims[-1], 4 * m)
    y[: dims[-1]] = np.arange(dims[-1])
    return training.Split(X, y, X[:, :m], y[:m])


def rate(step, seconds):
    """Steps per second of step(), best of three runs of seconds/3 each after a warm-up."""
    step()
    best = 0.0
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds / 3:
            step()
            n += 1
        best = max(best, n / elapsed)
    return best


def numpy_rate(dims, m, record, seconds):
    split = synthetic_split(dims, m)
    config = bn.NetConfig(layer_dims=dims, batch_norm=True, eliminate_bias=True)
    trainer = training.Trainer(
        config, split, "adam", 1e-3, batch_size=m, twin=False, eval_every=10**9, record=record
    )
    return rate(trainer.step, seconds)


def torch_rate(dims, m, seconds):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    layers = []
    for l in range(1, len(dims) - 1):
        layers += [
            torch.nn.Linear(dims[l - 1], dims[l], bias=False, dtype=torch.float64),
            torch.nn.BatchNorm1d(dims[l], dtype=torch.float64),
            torch.nn.ReLU(),
        ]
    layers.append(torch.nn.Linear(dims[-2], dims[-1], dtype=torch.float64))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    X = torch.randn(m, dims[0], dtype=torch.float64)
    y = torch.randint(0, dims[-1], (m,))

    def step():
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()

    return rate(step, seconds)


def matmul_rate(dims, m, seconds):
    """Steps per second if a step were only its matrix products: W A forward, dZ A^T and
    W^T dZ backward (no W^T dZ into the input layer), on the same shapes."""
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal((dims[l], dims[l - 1])) for l in range(1, len(dims))]
    As = [rng.standard_normal((n, m)) for n in dims]

    def step():
        for l, W in enumerate(Ws, start=1):
            W @ As[l - 1]
        for l, W in enumerate(Ws, start=1):
            As[l] @ As[l - 1].T
            if l > 1:
                W.T @ As[l]

    return rate(step, seconds)


def norm_costs(seconds, rounds=7):
    """Bare steps per CPU second with batch norm and with layer norm, measured alternately in
    `rounds` rounds, the best of each kept. CPU time (time.process_time), not wall time, so that
    other processes on a busy machine do not decide the ratio. Yields (name, m, bn/s, ln/s)."""
    for name, (dims, m) in NETWORKS.items():
        trainers = {norm: _bare_trainer(dims, m, norm) for norm in ("batch", "layer")}
        for trainer in trainers.values():
            trainer.step()  # warm-up
        start = time.process_time()
        trainers["batch"].step()
        steps = max(1, int(seconds / (2 * rounds) / max(time.process_time() - start, 1e-4)))
        best = dict.fromkeys(trainers, 0.0)
        for _ in range(rounds):
            for norm, trainer in trainers.items():
                start = time.process_time()
                trainer.step(steps)
                best[norm] = max(best[norm], steps / max(time.process_time() - start, 1e-9))
        yield name, m, best["batch"], best["layer"]


def _bare_trainer(dims, m, norm):
    config = bn.NetConfig(
        layer_dims=dims, batch_norm=norm == "batch", layer_norm=norm == "layer", eliminate_bias=True
    )
    return training.Trainer(
        config,
        synthetic_split(dims, m),
        "adam",
        1e-3,
        batch_size=m,
        twin=False,
        eval_every=10**9,
        record=False,
    )


def recorder_memory(steps=100_000):
    split = synthetic_split((2, 16, 16, 16, 2), 64)
    net = bn.MLP(bn.NetConfig(layer_dims=(2, 16, 16, 16, 2)))
    X, y = split.X_train[:, :64], split.y_train[:64]
    _, grads = net.loss_and_grads(X, y)
    recorder = Recorder(net)
    before = net.params.flat.copy()
    start = time.perf_counter()
    for step in range(1, steps + 1):
        recorder.record_step(step, net, 0.5, y, grads, before)
    return recorder, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    args = parser.parse_args()
    print(
        f"numpy {np.__version__}, {os.cpu_count()} cores, {THREADS} thread(s) for NumPy and "
        f"PyTorch (THREADS=n to change), float64, Adam, batch norm on\n"
    )
    print(
        f"{'network':<8} {'m':>4} {'bare/s':>9} {'recorded/s':>11} {'recording':>10} "
        f"{'torch/s':>9} {'vs torch':>9}"
    )
    for name, (dims, m) in NETWORKS.items():
        bare = numpy_rate(dims, m, False, args.seconds)
        recorded = numpy_rate(dims, m, True, args.seconds)
        torch = torch_rate(dims, m, args.seconds)
        vs = f"{bare / torch:8.2f}x" if torch else "   n/a"
        print(
            f"{name:<8} {m:>4} {bare:>9.1f} {recorded:>11.1f} {bare / recorded - 1:>+10.1%} "
            f"{torch or float('nan'):>9.1f} {vs:>9}"
        )
        if name == "large":
            mm = matmul_rate(dims, m, args.seconds)
            print(
                f"\nlarge: matmul-only {mm:.1f} steps/s; a full step runs at "
                f"{bare / mm:.0%} of NumPy's matmul throughput (goal >= 60%)"
            )
    print(
        f"\nper CPU second:\n{'network':<8} {'m':>4} {'BN step/s':>10} {'LN step/s':>10} "
        f"{'LN cost':>8}"
    )
    for name, m, bn_rate, ln_rate in norm_costs(args.seconds):
        print(f"{name:<8} {m:>4} {bn_rate:>10.1f} {ln_rate:>10.1f} {bn_rate / ln_rate - 1:>+8.1%}")
    print("(LN cost: how much longer a layer-norm step takes than a batch-norm step; goal <= +10%)")
    if torch_rate((2, 2), 2, 0.01) is None:
        print("(PyTorch not importable: `pip install torch` in the venv to compare)")
    recorder, seconds = recorder_memory()
    print(
        f"\nrecorder after 100,000 steps (2-16-16-16-2): {recorder.nbytes / 1e6:.2f} MB "
        f"(budget {recorder.budget_bytes / 1e6:.1f} MB), {recorder.train.n} points kept "
        f"per series at stride {recorder.train.stride}; {seconds:.1f} s to record"
    )
    print("goals: small >= 3x torch, medium >= 1.3x torch, recording <= +25%")


if __name__ == "__main__":
    main()
