"""Data sets, the stratified split, input normalization and the mini-batch iterator."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from bn_core.data import (
    DATASETS,
    MiniBatchIterator,
    Normalizer,
    fit_normalizer,
    make_dataset,
    minibatches,
    train_test_split,
)
from bn_core.network import MLP, NetConfig
from bn_core.training import Split

TWO_D = [name for name in DATASETS if name != "digits"]
N_CLASSES = {"circles": 2, "xor": 2, "blobs": 3, "spiral": 2, "moons": 2, "digits": 10}


# ---------------------------------------------------------------- make_dataset


@pytest.mark.parametrize("name", DATASETS)
def test_shapes_dtypes_and_labels(name):
    X, y = make_dataset(name, n=300, seed=1)
    n_x = 64 if name == "digits" else 2
    assert X.shape == (n_x, 300) and X.dtype == np.float64
    assert y.shape == (300,) and y.dtype == np.int64
    assert np.isfinite(X).all()
    k = N_CLASSES[name]
    counts = np.bincount(y, minlength=k)
    assert counts.size == k and counts.min() > 0  # every label 0..K-1 present
    assert counts.max() - counts.min() <= 1  # balanced


@pytest.mark.parametrize("name", DATASETS)
def test_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = make_dataset(name, n=100, seed=3)
    X2, y2 = make_dataset(name, n=100, seed=3)
    X3, _ = make_dataset(name, n=100, seed=4)
    assert_array_equal(X1, X2)
    assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("name", TWO_D)
def test_two_d_scale_and_zero_noise(name):
    X, _ = make_dataset(name, n=200, noise=0.0, seed=0)
    assert np.abs(X).max() < 2.0
    assert X.std() > 0.2
    X_noisy, _ = make_dataset(name, n=200, noise=0.1, seed=0)
    assert not np.array_equal(X, X_noisy)


def test_zero_noise_shapes_are_exact():
    X, y = make_dataset("circles", n=100, noise=0.0)
    radius = np.linalg.norm(X, axis=0)
    assert_allclose(radius, np.where(y == 0, 1.0, 0.5), atol=1e-12)
    X, y = make_dataset("xor", n=100, noise=0.0)
    assert_array_equal(y, (X[0] * X[1] < 0).astype(np.int64))


def test_odd_n_and_small_n():
    for name in DATASETS:
        X, y = make_dataset(name, n=5)
        assert X.shape[1] == 5 and y.shape == (5,)


def test_feature_scales_stretch_rows():
    X, _ = make_dataset("moons", n=50, seed=2)
    X_bad, _ = make_dataset("moons", n=50, seed=2, feature_scales=(1, 50))
    assert_allclose(X_bad[0], X[0])
    assert_allclose(X_bad[1], 50 * X[1])


def test_digits_pixels_classes_and_cap():
    X, y = make_dataset("digits", n=10_000)
    assert X.shape == (64, 1797)
    assert X.min() >= 0.0 and X.max() <= 1.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    X_small, y_small = make_dataset("digits", n=20, seed=5)
    assert X_small.shape == (64, 20)
    assert_array_equal(np.bincount(y_small), np.full(10, 2))


def test_digits_cache_is_not_corrupted_by_callers():
    X, _ = make_dataset("digits", n=10_000)
    X[:] = -1.0
    X_again, _ = make_dataset("digits", n=10_000)
    assert X_again.min() >= 0.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "mnist"}, r"unknown dataset 'mnist'.*circles.*digits"),
        ({"name": "circles", "n": 3}, "n .*>= 4"),
        ({"name": "circles", "n": 10.0}, "n .*integer"),
        ({"name": "circles", "n": True}, "n .*integer"),
        ({"name": "circles", "noise": -0.1}, "noise"),
        ({"name": "circles", "noise": float("nan")}, "noise"),
        ({"name": "circles", "noise": float("inf")}, "noise"),
        ({"name": "circles", "feature_scales": (1.0,)}, "feature_scales must hold 2"),
        ({"name": "circles", "feature_scales": (1.0, 0.0)}, "feature_scales must be .*> 0"),
        ({"name": "circles", "feature_scales": (1.0, -2.0)}, "feature_scales must be .*> 0"),
        ({"name": "digits", "feature_scales": (1.0, 50.0)}, "2-D sets only"),
        ({"name": "circles", "seed": -1}, "seed"),
    ],
)
def test_make_dataset_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(**kwargs)


# ---------------------------------------------------------------- train_test_split


def test_split_is_stratified_and_sized():
    X, y = make_dataset("blobs", n=400, seed=0)
    X_tr, y_tr, X_te, y_te = train_test_split(X, y, test_fraction=0.25, seed=0)
    assert X_tr.shape == (2, y_tr.size) and X_te.shape == (2, y_te.size)
    assert y_tr.size + y_te.size == 400
    assert abs(y_te.size - 100) <= 3
    assert_array_equal(np.unique(y_tr), [0, 1, 2])
    assert_array_equal(np.unique(y_te), [0, 1, 2])
    # the columns are the original ones, each used exactly once
    together = np.hstack([X_tr, X_te])
    assert_array_equal(np.sort(together, axis=1), np.sort(X, axis=1))


def test_split_keeps_rare_classes_in_training():
    y = np.array([0] * 20 + [1] * 2 + [2])  # class 2 has a single example
    X = np.arange(y.size, dtype=float)[None, :]
    _, y_tr, _, y_te = train_test_split(X, y, test_fraction=0.5, seed=1)
    assert set(y_tr) == {0, 1, 2}
    assert 1 in y_te and 2 not in y_te
    assert y_te.size >= 1 and y_tr.size >= 1


def test_split_is_seeded():
    X, y = make_dataset("moons", n=60)
    a = train_test_split(X, y, seed=7)
    b = train_test_split(X, y, seed=7)
    c = train_test_split(X, y, seed=8)
    for u, v in zip(a, b, strict=True):
        assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2, 1.5, float("nan")])
def test_split_rejects_bad_fraction(fraction):
    X, y = make_dataset("xor", n=20)
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(X, y, test_fraction=fraction)


def test_split_rejects_bad_shapes_and_labels():
    X, y = make_dataset("xor", n=20)
    with pytest.raises(ValueError, match="labels"):
        train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="integer"):
        train_test_split(X, y + 0.5)
    with pytest.raises(ValueError, match="integer"):
        train_test_split(X, y.astype(bool))
    with pytest.raises(ValueError, match=">= 0"):
        train_test_split(X, y - 1)
    with pytest.raises(ValueError, match="2-D"):
        train_test_split(X[0], y)
    with pytest.raises(ValueError, match="single example"):
        train_test_split(X[:, :2], np.array([0, 1]))


def test_split_takes_labels_by_the_network_rule():
    """One rule for labels in the core (bn_core/checks.py): whole-number floats, as a CSV read
    with NumPy gives them, are the same labels as the integers."""
    X, y = make_dataset("xor", n=20)
    for u, v in zip(train_test_split(X, y), train_test_split(X, y.astype(float)), strict=True):
        assert_array_equal(u, v)
        assert u.dtype == v.dtype


# ---------------------------------------------------------------- input normalization


def test_normalized_train_has_zero_mean_unit_variance():
    X, _ = make_dataset("circles", n=200, feature_scales=(1, 50))
    X = X + np.array([[3.0], [-7.0]])
    norm = fit_normalizer(X, eps=0.0)
    assert isinstance(norm, Normalizer) and norm.mu.shape == (2, 1) and norm.var.shape == (2, 1)
    Xn = norm.apply(X)
    assert_allclose(Xn.mean(axis=1), 0.0, atol=1e-12)
    assert_allclose(Xn.var(axis=1), 1.0, atol=1e-12)
    # with the default eps the variance is var / (var + eps), a hair under 1
    norm = fit_normalizer(X)
    assert norm.eps == 1e-8
    Xn = norm.apply(X)
    assert_allclose(Xn.mean(axis=1), 0.0, atol=1e-12)
    assert_allclose(Xn.var(axis=1), (norm.var / (norm.var + 1e-8)).ravel(), atol=1e-12)
    assert_allclose(Xn.var(axis=1), 1.0, atol=1e-7)


def test_normalizer_matches_the_equations():
    rng = np.random.default_rng(0)
    X = rng.normal(2.0, 3.0, (3, 50))
    norm = fit_normalizer(X)
    m = X.shape[1]
    mu = X.sum(axis=1, keepdims=True) / m
    var = ((X - mu) ** 2).sum(axis=1, keepdims=True) / m
    assert_allclose(norm.mu, mu, rtol=1e-14)
    assert_allclose(norm.var, var, rtol=1e-12)


def test_test_set_uses_training_statistics():
    X, y = make_dataset("spiral", n=200)
    X_tr, _, X_te, _ = train_test_split(X, y)
    norm = fit_normalizer(X_tr)
    shift = np.array([[5.0], [-2.0]])
    shifted = norm.apply(X_te + shift)
    expected = np.broadcast_to(shift / np.sqrt(norm.var + norm.eps), X_te.shape)
    assert_allclose(shifted - norm.apply(X_te), expected, atol=1e-12)
    assert not np.allclose(shifted.mean(axis=1), 0.0, atol=0.5)  # not re-centred on itself


def test_constant_feature_gives_no_nan():
    X, _ = make_dataset("digits", n=200)
    assert (X.std(axis=1) == 0).any()  # digits has constant pixels
    Xn = fit_normalizer(X).apply(X)
    assert np.isfinite(Xn).all()
    assert_allclose(Xn[X.std(axis=1) == 0], 0.0)


def test_normalizer_rejects_bad_input():
    norm = fit_normalizer(np.ones((2, 5)))
    with pytest.raises(ValueError, match="2 rows"):
        norm.apply(np.ones((3, 5)))
    with pytest.raises(ValueError, match="NaN or inf"):
        fit_normalizer(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="eps"):
        fit_normalizer(np.ones((2, 5)), eps=-1.0)


# ---------------------------------------------------------------- mini-batches


def _epoch(it):
    """The batches of the iterator's next epoch."""
    return [it.next_indices() for _ in range(it.steps_per_epoch)]


def test_each_epoch_covers_every_index_once():
    it = MiniBatchIterator(m=12, batch_size=4, seed=0)
    assert it.steps_per_epoch == 3 and it.epoch == 0
    for e in range(1, 4):
        batches = _epoch(it)
        assert all(b.shape == (4,) and b.dtype.kind == "i" for b in batches)
        assert_array_equal(np.sort(np.concatenate(batches)), np.arange(12))
        assert it.epoch == e


def test_reshuffles_between_epochs():
    it = MiniBatchIterator(30, 10, seed=1)
    first, second = _epoch(it), _epoch(it)
    assert not np.array_equal(np.concatenate(first), np.concatenate(second))


def test_same_seed_same_sequence():
    a, b, c = (MiniBatchIterator(25, 8, seed=s) for s in (3, 3, 4))
    seq_a = [a.next_indices() for _ in range(10)]
    seq_b = [next(b) for _ in range(10)]
    seq_c = [c.next_indices() for _ in range(10)]
    for u, v in zip(seq_a, seq_b, strict=True):
        assert_array_equal(u, v)
    assert not all(np.array_equal(u, v) for u, v in zip(seq_a, seq_c, strict=True))


def test_remainder_of_one_dropped_of_two_kept():
    it = MiniBatchIterator(9, 4, seed=0)  # 4 + 4 + 1: the 1 is dropped
    assert it.steps_per_epoch == 2
    for e in range(1, 3):
        assert [b.size for b in _epoch(it)] == [4, 4] and it.epoch == e
    it = MiniBatchIterator(10, 4, seed=0)  # 4 + 4 + 2: the 2 is kept
    assert it.steps_per_epoch == 3
    batches = _epoch(it)
    assert [b.size for b in batches] == [4, 4, 2]
    assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))


def test_batch_bigger_than_data_gives_whole_set():
    it = minibatches(7, 100, seed=0)
    assert it.batch_size == 7 and it.steps_per_epoch == 1
    batch = next(iter(it))
    assert_array_equal(np.sort(batch), np.arange(7))
    assert it.epoch == 1


@pytest.mark.parametrize(
    ("m", "batch_size", "match"),
    [
        (10, 1, "at least 2 examples per mini-batch"),
        (1, 4, "at least 2 examples per mini-batch"),
        (0, 0, "at least 2 examples per mini-batch"),
        (10.0, 4, "m .*integer"),
        (10, "4", "batch_size must be an integer"),
    ],
)
def test_iterator_rejects_bad_input(m, batch_size, match):
    with pytest.raises(ValueError, match=match):
        MiniBatchIterator(m, batch_size, seed=0)


# ---------------------------------------------------------------- one rule for every input


LABELS = {
    "ints": np.array([0, 1, 0, 1]),
    "uint8": np.array([0, 1, 0, 1], dtype=np.uint8),
    "whole floats": np.array([0.0, 1.0, 0.0, 1.0]),
    "half": np.array([0, 1, 0, 1.5]),
    "nan": np.array([0, 1, 0, np.nan]),
    "bools": np.array([False, True, False, True]),
    "negative": np.array([0, 1, 0, -1]),
    "strings": np.array(["0", "1", "0", "1"]),
}


@pytest.mark.parametrize("name", LABELS)
def test_the_core_takes_labels_by_one_rule(name):
    """The split, the Split and the network refuse the same labels, with the same words."""
    X, y = np.arange(8.0).reshape(2, 4), LABELS[name]
    calls = (
        lambda: train_test_split(X, y),
        lambda: Split(X, y, X, y),
        lambda: MLP(NetConfig((2, 3, 2))).loss_and_grads(X, y),
    )
    verdicts = []
    for call in calls:
        try:
            call()
            verdicts.append("ok")
        except ValueError as err:
            verdicts.append(str(err).split(",")[0])
    assert len(set(verdicts)) == 1 or (name == "negative" and "ok" not in verdicts), verdicts
    assert (verdicts[0] == "ok") == (name in ("ints", "uint8", "whole floats"))


@pytest.mark.parametrize("value", [1.0, True, np.bool_(True), "3", None])
def test_whole_number_settings_by_one_rule(value):
    """Sizes and seeds: the data sets, the iterator and the network's seed say the same."""
    calls = (
        lambda: make_dataset("moons", seed=value),
        lambda: minibatches(8, 4, seed=value),
        lambda: NetConfig(seed=value),
    )
    for call in calls:
        with pytest.raises(ValueError, match=r"^seed must be an integer, got "):
            call()
