"""Toy data sets, a stratified train/test split, input normalization and a mini-batch iterator.

Examples are columns, as in the course: X is (n_x, m) float64 and y is (m,) int64 labels
0..K-1. The 2-D sets live on a scale of about [-1.5, 1.5]; `feature_scales` stretches them on
purpose for the "normalizing inputs" lesson, and `Normalizer` undoes that with training statistics.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass

import numpy as np

from bn_core.checks import check_choice, check_int, check_labels, check_matrix, check_positive

DATASETS = ("circles", "xor", "blobs", "spiral", "moons", "digits")
DIGITS_M = 1797  # examples in scikit-learn's bundled 8x8 digits
NORMALIZER_EPS = 1e-8


# ---------------------------------------------------------------- validation helpers


def _check_feature_scales(feature_scales):
    """Two finite positive numbers, one per feature row of a 2-D set."""
    try:
        scales = np.asarray(feature_scales, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"feature_scales must be numbers, got {feature_scales!r}") from None
    if scales.shape != (2,):
        raise ValueError(
            f"feature_scales must hold 2 numbers (one per feature of a 2-D set), "
            f"got {feature_scales!r}"
        )
    if not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(f"feature_scales must be finite and > 0, got {feature_scales!r}")
    return scales.reshape(2, 1)


# ---------------------------------------------------------------- the 2-D sets
# Each builder takes (n, noise, rng) and returns X (2, n), y (n,) with classes as even as
# n allows. Shapes are built at scale ~1, so `noise` is a jitter std in units of that scale.


def _class_sizes(n, k):
    """Split n examples into k classes as evenly as possible: (k,) ints summing to n."""
    return np.array([n // k + (c < n % k) for c in range(k)], dtype=np.int64)


def _labels(sizes):
    """y (n,) int64: label c repeated sizes[c] times."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _circles(n, noise, rng):
    """Class 0 on a ring of radius 1, class 1 on a concentric ring of radius 0.5."""
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    radius = np.where(y == 0, 1.0, 0.5)
    angle = rng.uniform(0.0, 2 * np.pi, n)
    X = radius * np.vstack([np.cos(angle), np.sin(angle)])
    return X + noise * rng.standard_normal((2, n)), y


def _xor(n, noise, rng):
    """Uniform points in the four quadrants of [-1, 1]^2; label 1 where x1 * x2 < 0."""
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    # within each class, alternate its two quadrants so all four are filled evenly
    first = np.concatenate([np.arange(s) % 2 for s in sizes])
    sign1 = np.where(first == 0, 1.0, -1.0)
    sign2 = np.where(y == 0, sign1, -sign1)
    X = np.vstack([sign1, sign2]) * rng.uniform(0.05, 1.0, (2, n))
    return X + noise * rng.standard_normal((2, n)), y


def _blobs(n, noise, rng, spread=0.25):
    """Three gaussian blobs (std `spread`) centred on a circle of radius 0.9, one per class."""
    sizes = _class_sizes(n, 3)
    y = _labels(sizes)
    angle = np.pi / 2 + 2 * np.pi / 3 * y
    centres = 0.9 * np.vstack([np.cos(angle), np.sin(angle)])
    std = np.sqrt(spread**2 + noise**2)  # the blob's own spread plus the jitter
    return centres + std * rng.standard_normal((2, n)), y


def _spiral(n, noise, rng, turns=1.5):
    """Two interleaved spirals, r = 1.3 t and angle = 2 pi turns t + pi * class, t in [0.05, 1]."""
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    t = rng.uniform(0.05, 1.0, n)
    angle = 2 * np.pi * turns * t + np.pi * y
    X = 1.3 * t * np.vstack([np.cos(angle), np.sin(angle)])
    return X + noise * rng.standard_normal((2, n)), y


def _moons(n, noise, rng):
    """Two interlocking half moons of radius 1, centred on the origin."""
    sizes = _class_sizes(n, 2)
    y = _labels(sizes)
    theta = rng.uniform(0.0, np.pi, n)
    upper = np.vstack([np.cos(theta), np.sin(theta)])
    lower = np.vstack([1.0 - np.cos(theta), 0.5 - np.sin(theta)])
    X = np.where(y == 0, upper, lower) - np.array([[0.5], [0.25]])
    return X + noise * rng.standard_normal((2, n)), y


_BUILDERS_2D = {
    "circles": _circles,
    "xor": _xor,
    "blobs": _blobs,
    "spiral": _spiral,
    "moons": _moons,
}


# ---------------------------------------------------------------- digits


# Several web sessions may ask for the digits at once: one thread imports scikit-learn while
# the others wait, since concurrent first imports of a large package can deadlock or hand a
# thread a half-initialized module.
_DIGITS_LOCK = threading.Lock()


def _load_digits():
    """All 1797 bundled digits once: X (64, 1797) in [0, 1], y (1797,); read-only, cached."""
    with _DIGITS_LOCK:
        return _read_digits()


@functools.lru_cache(maxsize=1)
def _read_digits():
    from sklearn.datasets import load_digits  # lazy: the only non-NumPy import in the core

    digits = load_digits()  # bundled with scikit-learn, no download
    X = np.ascontiguousarray(digits.data.T, dtype=np.float64) / 16.0  # pixels are 0..16
    y = digits.target.astype(np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def _balanced_subset(y, n, rng):
    """n indices into y, a seeded random subset with the classes as even as possible."""
    perm = rng.permutation(y.shape[0])
    # rank of each permuted example among those of its class: taking the lowest ranks first
    # takes one of every class, then a second of every class, and so on
    rank = np.empty_like(perm)
    for c in np.unique(y):
        members = y[perm] == c
        rank[members] = np.arange(members.sum())
    chosen = perm[np.argsort(rank, kind="stable")[:n]]
    return rng.permutation(chosen)


def _digits(n, seed):
    """X (64, min(n, 1797)) pixels in [0, 1], y (m,) digits 0..9."""
    X, y = _load_digits()
    if n >= y.shape[0]:
        return X.copy(), y.copy()
    idx = _balanced_subset(y, n, np.random.default_rng(seed))
    return X[:, idx], y[idx]


# ---------------------------------------------------------------- public: data sets


def make_dataset(name, n=400, noise=0.1, seed=0, feature_scales=(1.0, 1.0)):
    """A labelled data set, deterministic for a seed.

    name: one of DATASETS. The 2-D sets ("circles", "xor", "blobs", "spiral", "moons") have
        n examples on a scale of about [-1.5, 1.5], classes as balanced as n allows, columns in
        random order. "digits" is scikit-learn's bundled 8x8 digits, 10 classes.
    n: examples in total (>= 4). For digits a cap: n < 1797 takes a seeded, class-balanced
        random subset, larger n gives all 1797.
    noise: std (>= 0) of gaussian jitter, in units of the 2-D set's scale (~1). Digits ignore it.
    seed: seed of np.random.default_rng.
    feature_scales: (s1, s2) > 0, multiplies feature row i by s_i (2-D sets only). (1, 50)
        makes the badly scaled inputs of the "normalizing inputs" lesson.

    Returns X: (n_x, m) float64 with n_x = 2 (or 64 for digits), y: (m,) int64.
    """
    check_choice(name, "dataset", DATASETS)
    n = check_int(n, "n (number of examples)", 4)
    noise = check_positive(noise, "noise", allow_zero=True)
    seed = check_int(seed, "seed", 0)
    scales = _check_feature_scales(feature_scales)
    if name == "digits":
        if np.any(scales != 1.0):
            raise ValueError("feature_scales applies to the 2-D sets only, not to digits")
        return _digits(n, seed)
    rng = np.random.default_rng(seed)
    X, y = _BUILDERS_2D[name](n, noise, rng)
    order = rng.permutation(n)  # interleave the classes
    return scales * X[:, order], y[order]


def train_test_split(X, y, test_fraction=0.25, seed=0):
    """Seeded, stratified split of the columns of X into a training and a test set.

    X: (n_x, m), y: (m,) int labels. Each class with c examples sends about
    test_fraction * c of them to the test set, but always keeps at least one for training and,
    when c >= 2, gives at least one to the test set. test_fraction lies in (0, 1).

    Returns X_train (n_x, m_train), y_train (m_train,), X_test (n_x, m_test), y_test (m_test,).
    """
    X = check_matrix(X, "X")
    y = check_labels(y, X.shape[1])
    test_fraction = check_positive(test_fraction, "test_fraction")
    if test_fraction >= 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    seed = check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(y.shape[0])
    train, test = [], []
    for c in np.unique(y):
        members = perm[y[perm] == c]  # this class, in random order
        k = len(members)
        n_test = min(max(round(test_fraction * k), 1), k - 1)
        test.append(members[:n_test])
        train.append(members[n_test:])
    train, test = np.concatenate(train), np.concatenate(test)
    if test.size == 0:
        raise ValueError(
            "cannot split: every class has a single example, so none can go to "
            "the test set without leaving its class out of training"
        )
    train, test = rng.permutation(train), rng.permutation(test)
    return X[:, train], y[train], X[:, test], y[test]


# ---------------------------------------------------------------- public: input normalization


@dataclass(frozen=True, eq=False)
class Normalizer:
    """Per-feature statistics of a training set; `apply` normalizes any set with them.

    mu: (n_x, 1), var: (n_x, 1), eps: keeps constant features (var = 0) finite.
    """

    mu: np.ndarray
    var: np.ndarray
    eps: float = NORMALIZER_EPS

    def apply(self, X):
        """X_norm = (X - mu) / sqrt(var + eps), X: (n_x, m) -> (n_x, m).

        mu and var are the TRAINING set's: the test set is normalized with them, never with
        its own, so training and test inputs go through the same transformation.
        """
        X = check_matrix(X, "X", rows=self.mu.shape[0])
        return (X - self.mu) / np.sqrt(self.var + self.eps)


def fit_normalizer(X_train, eps=NORMALIZER_EPS):
    """The training set's per-feature mean and variance, X_train: (n_x, m).

        mu  = 1/m * sum_i x(i)                 (n_x, 1)
        var = 1/m * sum_i (x(i) - mu)^2        (n_x, 1), biased, as in the lecture

    (The lecture first sets x := x - mu, then writes var = 1/m sum x(i)^2: the same thing.) Use the
    result on the training set AND the test set: `norm.apply(X_test)` subtracts the training mu
    and divides by the training sqrt(var + eps).
    """
    X_train = check_matrix(X_train, "X_train")
    eps = check_positive(eps, "eps", allow_zero=True)
    mu = X_train.mean(axis=1, keepdims=True)
    var = ((X_train - mu) ** 2).mean(axis=1, keepdims=True)
    return Normalizer(mu=mu, var=var, eps=eps)


# ---------------------------------------------------------------- public: mini-batches


class MiniBatchIterator:
    """Endless, seeded mini-batches of example indices, reshuffled at every epoch.

    m: examples in the training set; batch_size: examples per mini-batch, clipped to m. Each
    epoch starts from a fresh permutation of 0..m-1 and cuts it into batches of batch_size; a
    last partial batch is kept if it holds at least min_batch examples and dropped otherwise
    (batch norm needs m >= 2 per mini-batch, the default; layer norm or none can take 1).
    `epoch` counts completed epochs. Two iterators built with the
    same (m, batch_size, seed) yield the same sequence.
    """

    def __init__(self, m, batch_size, seed=0, min_batch=2):
        m = check_int(m, "m (number of examples)")
        batch_size = check_int(batch_size, "batch_size")
        if min_batch not in (1, 2):
            raise ValueError(f"min_batch must be 1 or 2, got {min_batch!r}")
        if min_batch == 2 and (m < 2 or batch_size < 2):
            raise ValueError(
                "batch norm needs at least 2 examples per mini-batch: got "
                f"m={m}, batch_size={batch_size}"
            )
        self.m = m
        self.batch_size = min(batch_size, m)
        self.seed = check_int(seed, "seed", 0)
        self.steps_per_epoch = m // self.batch_size + int(m % self.batch_size >= min_batch)
        self.epoch = 0
        self.step_in_epoch = 0
        self._rng = np.random.default_rng(self.seed)
        self._perm = None

    def next_indices(self):
        """The next mini-batch's example indices: int64 array (batch,), batch >= min_batch."""
        if self.step_in_epoch == 0:
            self._perm = self._rng.permutation(self.m)
        start = self.step_in_epoch * self.batch_size
        batch = self._perm[start : start + self.batch_size].copy()
        self.step_in_epoch += 1
        if self.step_in_epoch == self.steps_per_epoch:
            self.step_in_epoch = 0
            self.epoch += 1
        return batch

    def __iter__(self):
        return self

    def __next__(self):
        return self.next_indices()

    def __repr__(self):
        return (
            f"MiniBatchIterator(m={self.m}, batch_size={self.batch_size}, seed={self.seed}, "
            f"epoch={self.epoch}, step={self.step_in_epoch}/{self.steps_per_epoch})"
        )


def minibatches(m, batch_size, seed=0):
    """An endless MiniBatchIterator over m examples; see the class for the rules."""
    return MiniBatchIterator(m, batch_size, seed)
