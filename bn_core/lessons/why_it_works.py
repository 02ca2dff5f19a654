"""Why batch norm works: less covariate shift inside the network, and robustness to the
learning rate and to the scale of the initial weights.

The covariate-shift experiment is Figure 1 of Ioffe & Szegedy (2015) in miniature: three hidden
layers of 100 sigmoid units, mini-batches of 60, plain gradient descent, on the bundled 8x8
digits instead of MNIST, a few hundred steps instead of 50,000. The robustness sweeps train a
small ReLU network on a 2-D set once per setting. Everything is seeded and returns plain NumPy
arrays, so a page can cache it. Examples are columns: X is (n_x, m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core.network import MLP, NetConfig
from bn_core.training import Trainer, digits_split, make_split

SHIFT_HIDDEN = (100, 100, 100)
SHIFT_BATCH = 60
SWEEP_HIDDEN = (32, 32, 32)
SWEEP_DATASET = "moons"
SWEEP_BATCH = 32
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
SWEEP_STEPS = 150
INIT_SCALES = (0.001, 0.01, 0.1, 1.0, 10.0)
FINAL_FRACTION = 0.1  # "final loss": the mean mini-batch loss over the last 10% of the steps


# --- covariate shift ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShiftRun:
    """One network of the covariate-shift experiment.

    steps: (n,) steps at which the percentiles were taken; percentiles: (n, 3), the 15th, 50th
    and 85th percentile over the mini-batch of one unit's sigmoid input (Z_tilde with batch
    norm, Z without); eval_steps: (k,); test_accuracy: (k,); drift: band_drift(percentiles);
    stop_reason: why training stopped early, or None.
    """

    steps: np.ndarray
    percentiles: np.ndarray
    eval_steps: np.ndarray
    test_accuracy: np.ndarray
    drift: float
    stop_reason: str | None


@dataclass(frozen=True)
class ShiftSettings:
    """The experiment's knobs (hashable, so a page can cache on them)."""

    layer: int = 3
    steps: int = 300
    optimizer: str = "gd"
    lr: float = 1.0
    init_scale: float = 0.1
    seed: int = 0


def band_drift(percentiles):
    """How far the 15-50-85 band travels during training, leaving out the mini-batch to
    mini-batch jitter: each percentile's moving average over a tenth of the run, its largest
    minus its smallest value, averaged over the three percentiles.

    percentiles: (n, 3). Returns a float.
    """
    window = max(len(percentiles) // 10, 1)
    kernel = np.ones(window) / window
    smooth = np.stack(
        [np.convolve(percentiles[:, k], kernel, mode="valid") for k in range(percentiles.shape[1])],
        axis=1,
    )
    return float(np.mean(smooth.max(axis=0) - smooth.min(axis=0)))


def covariate_shift(settings=ShiftSettings()):
    """Train the 64-100-100-100-10 sigmoid network with batch norm and its twin without
    (same initial W, same mini-batches) and record one unit's input distribution over time.

    settings.layer: the hidden layer watched (1..3; the paper shows the last).
    Returns (with_bn, without_bn), two ShiftRun.
    """
    s = settings
    split = digits_split(s.seed)
    config = NetConfig(
        layer_dims=(split.X_train.shape[0], *SHIFT_HIDDEN, split.n_classes),
        activation="sigmoid",
        batch_norm=True,
        init="gaussian",
        init_scale=s.init_scale,
        seed=s.seed,
    )
    trainer = Trainer(
        config,
        split,
        optimizer=s.optimizer,
        lr=s.lr,
        batch_size=SHIFT_BATCH,
        twin=True,
        eval_every=max(s.steps // 40, 1),
        detail_every=5,
    )
    trainer.step(s.steps)
    return tuple(_shift_run(run, s.layer) for run in trainer.runs)


def _shift_run(run, layer):
    rec = run.recorder
    percentiles = np.array(rec.percentiles.values[:, layer - 1, :], dtype=np.float64)
    return ShiftRun(
        steps=rec.percentiles.steps.copy(),
        percentiles=percentiles,
        eval_steps=rec.test.steps.copy(),
        test_accuracy=np.array(rec.test.values[:, 1], dtype=np.float64),
        drift=band_drift(percentiles) if len(percentiles) else float("nan"),
        stop_reason=run.stop_reason,
    )


# --- robustness sweeps -------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepPoint:
    """One training run of a sweep (hashable): the network's batch norm and its settings."""

    batch_norm: bool
    lr: float
    init: str = "he"
    init_scale: float = 0.01
    optimizer: str = "gd"
    steps: int = SWEEP_STEPS
    seed: int = 0


def lr_sweep(optimizer="gd", steps=SWEEP_STEPS, learning_rates=None):
    """The points of a learning-rate sweep, He initialization: (batch norm, lr) pairs.

    learning_rates: defaults to LEARNING_RATES, a hundred times smaller for Adam and RMSprop
    (whose steps are about lr per weight, whatever the gradient's size).
    """
    if learning_rates is None:
        scale = 0.01 if optimizer in ("adam", "rmsprop") else 1.0
        learning_rates = tuple(scale * lr for lr in LEARNING_RATES)
    return [
        SweepPoint(bn, lr, optimizer=optimizer, steps=steps)
        for lr in learning_rates
        for bn in (True, False)
    ]


def init_sweep(lr=0.1, optimizer="gd", steps=SWEEP_STEPS, scales=INIT_SCALES):
    """The points of an initial-scale sweep: W ~ N(0, scale^2) at a fixed learning rate."""
    return [
        SweepPoint(bn, lr, init="gaussian", init_scale=scale, optimizer=optimizer, steps=steps)
        for scale in scales
        for bn in (True, False)
    ]


def sweep_split(seed=0):
    """The 2-D set of the sweeps, normalized: a Split with X_train (2, 300), X_test (2, 100)."""
    return make_split(SWEEP_DATASET, n=400, noise=0.15, seed=seed)


def final_loss(point, split=None):
    """Train one network for point.steps mini-batches; its final training loss.

    The final loss is the mean mini-batch loss (training mode, as training sees it) over the
    last FINAL_FRACTION of the steps; NaN if the network diverged.
    """
    split = split if split is not None else sweep_split(point.seed)
    config = NetConfig(
        layer_dims=(split.X_train.shape[0], *SWEEP_HIDDEN, split.n_classes),
        activation="relu",
        batch_norm=point.batch_norm,
        init=point.init,
        init_scale=point.init_scale,
        seed=point.seed,
    )
    trainer = Trainer(
        config,
        split,
        optimizer=point.optimizer,
        lr=point.lr,
        batch_size=SWEEP_BATCH,
        twin=False,
        eval_every=10**9,
        record=False,
    )
    run = trainer.runs[0]
    tail = max(int(point.steps * FINAL_FRACTION), 1)
    trainer.step(point.steps - tail)
    losses = []
    for _ in range(tail):
        if not trainer.step():
            break
        losses.append(run.last_loss)
    return float("nan") if run.stop_reason else float(np.mean(losses))


@dataclass(frozen=True)
class EpsilonFloor:
    """What epsilon does to tiny weights: one training-mode forward of the sweeps' batch-norm
    network, W ~ N(0, init_scale^2), on one mini-batch of SWEEP_BATCH examples.

    var_z: (L-1,) Var(Z[l]) over the mini-batch, averaged over layer l's units;
    var_z_norm: (L-1,) the same for Z_norm[l] = (Z[l] - mu) / sqrt(sigma^2 + eps), which is
    var_z / (var_z + eps) per unit: well under 1 once Var(Z[l]) is not far above eps.
    """

    init_scale: float
    eps: float
    var_z: np.ndarray
    var_z_norm: np.ndarray


def epsilon_floor(init_scale=INIT_SCALES[0], seed=0):
    """Var(Z[l]) and Var(Z_norm[l]) of every hidden layer at initialization (see EpsilonFloor):
    the smallest initial scale of the sweep by default."""
    split = sweep_split(seed)
    config = NetConfig(
        layer_dims=(split.X_train.shape[0], *SWEEP_HIDDEN, split.n_classes),
        activation="relu",
        batch_norm=True,
        init="gaussian",
        init_scale=init_scale,
        seed=seed,
    )
    traces = MLP(config).layer_trace(split.X_train[:, :SWEEP_BATCH], train=True)
    var_z = np.array([t.Z.var(axis=1).mean() for t in traces])
    var_z_norm = np.array([t.Z_norm.var(axis=1).mean() for t in traces])
    return EpsilonFloor(init_scale, config.eps, var_z, var_z_norm)


def sweep_table(points, losses):
    """Arrange a sweep's results: {"bn": (k,), "plain": (k,)} final losses in the order of the
    points' distinct x values (lr or init scale), and "x": those values (k,)."""
    key = "init_scale" if points and points[0].init == "gaussian" else "lr"
    xs = sorted({getattr(p, key) for p in points})
    table = {"x": np.array(xs), "bn": np.full(len(xs), np.nan), "plain": np.full(len(xs), np.nan)}
    for point, loss in zip(points, losses, strict=True):
        table["bn" if point.batch_norm else "plain"][xs.index(getattr(point, key))] = loss
    return table
