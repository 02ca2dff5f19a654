"""Batch norm as a slight regularizer: the noise that mini-batch statistics add to one
example's Z_tilde, how it shrinks with the mini-batch size, how it compares with the noise of
inverted dropout, and the train/test gap of a small-data network with and without batch norm.

Everything is measured, not assumed. The dropout comparison is a simulation on the same unit
(the core has no dropout layer): inverted dropout with keep probability p multiplies each input
activation by d / p, d ~ Bernoulli(p). Examples are columns: X is (n_x, m).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from bn_core import batchnorm
from bn_core.data import MiniBatchIterator
from bn_core.network import MLP, NetConfig
from bn_core.training import Split, Trainer, digits_split, evaluate

BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)
NOISE_DIMS = (64, 64, 32, 10)  # the watched unit sits in hidden layer 2
NOISE_DRAWS = 400
N_EXAMPLES = 20  # the training examples a page offers to watch (the first 20)
KEEP_PROBS = (0.5, 0.8, 0.9)  # dropout levels drawn for comparison


# --- the noise of mini-batch statistics --------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One hidden unit of layer 2 seen over the whole training set.

    z: (N,) its pre-activation z = w . a for every training example, with layer 1 normalized
    by full-set statistics (so layer 1 adds no noise of its own); a: (n_1,) the layer-1
    activations of the watched example, w: (n_1,) the unit's weights; example: its index.
    """

    z: np.ndarray
    a: np.ndarray
    w: np.ndarray
    example: int


def watched_unit(seed=0, unit=0, example=0):
    """The layer-2 unit `unit` (0..31) of a freshly initialized 64-64-32-10 ReLU network with
    batch norm, on the digits training set, and training example `example`. Returns a Unit."""
    A1, W2 = _layer_one(seed)
    w = W2[unit]
    return Unit(z=w @ A1, a=A1[:, example].copy(), w=w.copy(), example=example)


@functools.lru_cache(maxsize=2)
def _layer_one(seed):
    """A[1] (64, N) of the whole training set (full-set statistics) and W[2] (32, 64)."""
    split = digits_split(seed)
    net = MLP(NetConfig(NOISE_DIMS, "relu", batch_norm=True, seed=seed))
    A1 = net.layer_trace(split.X_train, train=True)[0].A
    W2 = net.params["W2"].copy()
    A1.setflags(write=False)
    W2.setflags(write=False)
    return A1, W2


def noise_free(u):
    """The example's z_norm with the statistics of the whole set: (z_e - mu) / sqrt(var + eps),
    the value the mini-batch values scatter around."""
    return float((u.z[u.example] - u.z.mean()) / np.sqrt(u.z.var() + batchnorm.DEFAULT_EPS))


def minibatch_values(u, batch_size, n_draws=NOISE_DRAWS, seed=0):
    """The example's z_norm in n_draws random mini-batches of batch_size that contain it (the
    other m - 1 drawn without replacement from the rest of the set).

        z_norm = (z_e - mu_B) / sqrt(var_B + eps)      mu_B, var_B over the mini-batch

    The draws are stacked as the rows of one (n_draws, m) matrix, so one call of
    batchnorm.forward (which normalizes each row over its m columns) does them all; column 0
    is the example. gamma = 1, beta = 0. Returns (n_draws,).
    """
    others = np.delete(np.arange(u.z.size), u.example)
    rng = np.random.default_rng(seed)
    picks = np.stack([rng.choice(others, batch_size - 1, replace=False) for _ in range(n_draws)])
    Z = np.hstack([np.full((n_draws, 1), u.z[u.example]), u.z[picks]])
    Z_norm, _ = batchnorm.forward(Z, np.ones((n_draws, 1)), np.zeros((n_draws, 1)))
    return Z_norm[:, 0]


def noise_curve(u, batch_sizes=BATCH_SIZES, n_draws=NOISE_DRAWS, seed=0):
    """Standard deviation of the example's z_norm across mini-batches, per batch size:
    (len(batch_sizes),). It falls roughly as 1 / sqrt(m)."""
    return np.array([minibatch_values(u, m, n_draws, seed).std() for m in batch_sizes])


def inverse_sqrt_fit(batch_sizes, stds, m_min=8):
    """c / sqrt(m) fitted to the measured spreads for m >= m_min (least squares on the logs):
    returns c. batch_sizes, stds: (k,)."""
    m = np.asarray(batch_sizes, dtype=np.float64)
    keep = m >= m_min
    return float(np.exp(np.mean(np.log(stds[keep]) + 0.5 * np.log(m[keep]))))


# --- dropout, simulated on the same unit ----------------------------------------------------


def dropout_relative_std(keep_prob):
    """The noise inverted dropout puts on one kept-or-dropped activation, relative to it:
    a_drop = d a / p with d ~ Bernoulli(p) has mean a and std a sqrt((1 - p) / p)."""
    p = np.asarray(keep_prob, dtype=np.float64)
    return np.sqrt((1.0 - p) / p)


def dropout_values(u, keep_prob, n_draws=NOISE_DRAWS, seed=0):
    """The example's z in n_draws dropout masks on its layer-1 activations, in the same units
    as z_norm (minus the set's mean, over its standard deviation), so its spread compares with
    minibatch_values. z = w . (d * a / p), d ~ Bernoulli(p) per activation. Returns (n_draws,).
    """
    rng = np.random.default_rng(seed)
    masks = rng.random((n_draws, u.a.size)) < keep_prob
    z = (masks * u.a / keep_prob) @ u.w
    return (z - u.z.mean()) / np.sqrt(u.z.var() + batchnorm.DEFAULT_EPS)


def dropout_noise(u, keep_probs, n_draws=NOISE_DRAWS, seed=0):
    """Standard deviation of dropout_values per keep probability: (len(keep_probs),)."""
    return np.array([dropout_values(u, p, n_draws, seed).std() for p in keep_probs])


# --- everything the noise figures need, in one call ----------------------------------------


@dataclass(frozen=True)
class NoiseStudy:
    """batch_sizes, stds: (k,) the spread of the example's z_norm per mini-batch size; c: the
    fitted c / sqrt(m); noise_free: its whole-set value; bn_values: (n_draws,) its values at the
    chosen batch size; dropout_values: (n_draws,) at the chosen keep probability; dropout:
    {keep_prob: std} for KEEP_PROBS and the chosen one."""

    batch_sizes: tuple
    stds: np.ndarray
    c: float
    noise_free: float
    bn_values: np.ndarray
    dropout_values: np.ndarray
    dropout: dict


def noise_study(batch_size=16, keep_prob=0.8, unit=0, example=0, seed=0):
    """The mini-batch noise of one example at every size in BATCH_SIZES and at batch_size, and
    the dropout noise at KEEP_PROBS and keep_prob, on the same unit. Returns a NoiseStudy."""
    u = watched_unit(seed, unit, example)
    stds = noise_curve(u, BATCH_SIZES, seed=seed)
    probs = sorted({*KEEP_PROBS, keep_prob})
    return NoiseStudy(
        batch_sizes=BATCH_SIZES,
        stds=stds,
        c=inverse_sqrt_fit(BATCH_SIZES, stds),
        noise_free=noise_free(u),
        bn_values=minibatch_values(u, batch_size, seed=seed),
        dropout_values=dropout_values(u, keep_prob, seed=seed),
        dropout=dict(zip(probs, dropout_noise(u, probs, seed=seed).tolist(), strict=True)),
    )


# --- the train/test gap ----------------------------------------------------------------------


@dataclass(frozen=True)
class GapSettings:
    """The small-data experiment's knobs (hashable, so a page can cache on them)."""

    n_train: int = 150
    batch_size: int = 16
    steps: int = 300
    optimizer: str = "gd"
    lr: float = 0.1
    hidden: tuple = (64, 64)
    seed: int = 0


@dataclass(frozen=True)
class GapRun:
    """One network's curves, measured in eval mode on the whole training and test sets.

    steps: (k,); train_loss, test_loss, train_acc, test_acc: (k,); stop_reason: why it stopped,
    or None.
    """

    steps: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    stop_reason: str | None

    @property
    def gap(self):
        """Final train accuracy minus final test accuracy."""
        return float(self.train_acc[-1] - self.test_acc[-1])


def small_split(n_train, seed=0):
    """n_train digits to train on and as many to test on, normalized: a Split (64, n_train)."""
    return digits_split(seed, test_fraction=0.5, n=2 * n_train)


def gap_experiment(settings=GapSettings(), n_points=40):
    """Train the network with batch norm and its twin without (same initial W, same
    mini-batches) on a small training set, measuring both sets every steps / n_points steps.

    Returns (with_bn, without_bn), two GapRun.
    """
    s = settings
    split = small_split(s.n_train, s.seed)
    config = NetConfig(
        (split.X_train.shape[0], *s.hidden, split.n_classes), "relu", batch_norm=True, seed=s.seed
    )
    trainer = Trainer(
        config,
        split,
        optimizer=s.optimizer,
        lr=s.lr,
        batch_size=s.batch_size,
        twin=True,
        eval_every=10**9,
        record=False,
    )
    every = max(s.steps // n_points, 1)
    rows = [_measure(trainer, split)]
    while trainer.step_count < s.steps and not trainer.stop_reason:
        trainer.step(min(every, s.steps - trainer.step_count))
        rows.append(_measure(trainer, split))
    table = np.array(rows)  # (k, 2 networks, 5 values)
    return tuple(
        GapRun(*(table[:, i, j] for j in range(5)), stop_reason=run.stop_reason)
        for i, run in enumerate(trainer.runs)
    )


def gap_batch_noise(settings=GapSettings(), n_batches=40):
    """How much the gap experiment's mini-batches move an example's normalized value.

    The batch-norm network at its initial weights sees the first n_batches mini-batches the
    experiment's training draws (the same seeded iterator); for each example, the standard
    deviation of its z_norm[1] over the mini-batches that contain it, averaged over its units,
    then over the examples seen at least twice. 0 when every mini-batch is the whole training
    set (no mini-batch noise); returns a float.
    """
    s = settings
    split = small_split(s.n_train, s.seed)
    net = MLP(
        NetConfig(
            (split.X_train.shape[0], *s.hidden, split.n_classes),
            "relu",
            batch_norm=True,
            seed=s.seed,
        )
    )
    batches = MiniBatchIterator(split.X_train.shape[1], s.batch_size, seed=s.seed)
    seen = {}
    for _ in range(n_batches):
        idx = batches.next_indices()
        Z_norm = net.layer_trace(split.X_train[:, idx], train=True)[0].Z_norm  # (n_1, m)
        for col, i in enumerate(idx):
            seen.setdefault(int(i), []).append(Z_norm[:, col])
    spreads = [np.stack(v).std(axis=0).mean() for v in seen.values() if len(v) > 1]
    return float(np.mean(spreads))


def noise_pool_size(seed=0):
    """How many training digits the noise study draws its mini-batches from."""
    return int(_layer_one(seed)[0].shape[1])


def _measure(trainer, split: Split):
    """(2, 5): per network the step, train loss, test loss, train and test accuracy."""
    rows = []
    for run in trainer.runs:
        train_loss, train_acc = evaluate(run.net, split.X_train, split.y_train)
        test_loss, test_acc = evaluate(run.net, split.X_test, split.y_test)
        rows.append((trainer.step_count, train_loss, test_loss, train_acc, test_acc))
    return rows


def difference_noise(acc_a, acc_b, n):
    """The binomial standard error of the difference of two accuracies, each measured on n
    test examples: sqrt(a (1 - a) / n + b (1 - b) / n). A difference much smaller than this
    is within the noise of the test set."""
    return float(np.sqrt((acc_a * (1 - acc_a) + acc_b * (1 - acc_b)) / n))
