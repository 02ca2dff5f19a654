"""bn_core.lessons.training_lab: smoothing, eval-mode decision maps, parameter counts, the
cancelled b, and the lab's settings (what resets training and what does not)."""

import dataclasses

import numpy as np
import pytest

import bn_core as bn
from bn_core import data, training
from bn_core.lessons import training_lab as lab


@pytest.fixture(scope="module")
def split():
    return training.make_split("circles", n=160, noise=0.1, seed=2)


@pytest.fixture(scope="module")
def trained(split):
    """A small lab trainer (batch norm with b kept, and the twin) after 30 steps."""
    settings = lab.LabSettings(
        dataset="circles",
        n=160,
        hidden_layers=2,
        units=8,
        eliminate_bias=False,
        batch_size=16,
        seed=2,
    )
    trainer = lab.make_trainer(settings, split)
    trainer.step(30)
    return trainer


def _ema_by_hand(x, w):
    v, out = 0.0, []
    for t, value in enumerate(x, start=1):
        v = w * v + (1 - w) * value
        out.append(v / (1 - w**t))
    return np.array(out)


# --- ema -------------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0.0, 0.5, 0.9, 0.99])
def test_ema_matches_the_recurrence_over_many_blocks(weight):
    x = np.random.default_rng(0).normal(size=1000)
    np.testing.assert_allclose(lab.ema(x, weight), _ema_by_hand(x, weight), rtol=1e-10, atol=1e-12)


def test_ema_is_bias_corrected_and_works_per_column():
    x = np.column_stack([np.full(50, 3.0), np.arange(50.0)])
    out = lab.ema(x, 0.9)
    np.testing.assert_allclose(out[:, 0], 3.0)  # a constant stays itself from the first point
    np.testing.assert_allclose(out[:, 1], _ema_by_hand(x[:, 1], 0.9))


def test_ema_skips_non_finite_points():
    x = np.array([1.0, np.nan, 1.0, np.inf, 1.0])
    np.testing.assert_allclose(lab.ema(x, 0.5), 1.0)
    assert np.isfinite(lab.ema([np.nan, 2.0], 0.5)).all()


def test_ema_refuses_a_weight_outside_0_1():
    with pytest.raises(ValueError, match="weight"):
        lab.ema([1.0, 2.0], 1.0)


def test_ema_of_nothing_is_nothing():
    assert lab.ema(np.zeros((0, 2))).shape == (0, 2)


# --- decision map and predictions ------------------------------------------------------------


def test_grid_bounds_cover_the_points_with_a_margin():
    X = np.array([[0.0, 1.0, -2.0], [5.0, 4.0, 3.0]])
    assert lab.grid_bounds(X, margin=0.5) == ((-2.5, 1.5), (2.5, 5.5))
    with pytest.raises(ValueError, match="plane"):
        lab.grid_bounds(np.zeros((3, 4)))


def test_decision_map_is_eval_mode_and_changes_nothing(trained, split):
    net = trained.net
    before = net.params.flat.copy(), {l: v.copy() for l, v in net.running_mu.items()}
    dmap = lab.decision_map(net, lab.grid_bounds(split.X_train), res=20)
    assert dmap.label.shape == dmap.confidence.shape == (20, 20)
    assert dmap.xs.shape == dmap.ys.shape == (20,)
    assert set(np.unique(dmap.label)) <= {0, 1}
    assert np.all((dmap.confidence >= 0.5) & (dmap.confidence <= 1))
    np.testing.assert_array_equal(net.params.flat, before[0])
    for l, mu in before[1].items():
        np.testing.assert_array_equal(net.running_mu[l], mu)
    # the same answer as an eval-mode forward at one grid point
    i, j = 7, 13
    probs = net.forward(np.array([[dmap.xs[j]], [dmap.ys[i]]]), train=False)
    assert dmap.label[i, j] == probs.argmax()
    assert dmap.confidence[i, j] == pytest.approx(probs.max())


def test_decision_map_of_a_blown_up_network_is_none(split):
    net = bn.MLP(training.default_config(split, hidden=(4,)))
    net.params["W1"] = np.full_like(net.params["W1"], np.nan)
    assert lab.decision_map(net, ((-1, 1), (-1, 1))) is None


def test_predict_is_the_eval_mode_argmax(trained, split):
    preds = lab.predict(trained.net, split.X_test)
    np.testing.assert_array_equal(
        preds, trained.net.forward(split.X_test, train=False).argmax(axis=0)
    )


def test_raw_test_inputs_are_the_split_before_normalization():
    split = training.make_split("digits", n=300, test_fraction=0.2, seed=1)
    raw = lab.raw_test_inputs("digits", 300, 0.0, 0.2, 1)
    assert raw.shape == split.X_test.shape
    assert raw.min() >= 0 and raw.max() <= 1  # pixels in [0, 1]
    X, y = data.make_dataset("digits", n=300, seed=1)
    norm = data.fit_normalizer(
        data.train_test_split(X, y, test_fraction=0.2, seed=1)[0],
        eps=training.DIGITS_NORMALIZER_EPS,
    )
    np.testing.assert_allclose(norm.apply(raw), split.X_test)


# --- parameters and b ------------------------------------------------------------------------


# Counted by hand. (2, 3, 4, 2): W 2·3 + 3·4 + 4·2 = 26, b 3 + 4 + 2 = 9, γ and β 2·(3 + 4) = 14.
# (64, 5, 10): W 320 + 50 = 370, b 5 + 10 = 15, γ and β 2·5 = 10. The output layer keeps its b.
@pytest.mark.parametrize(
    ("dims", "normalization", "eliminate_bias", "expected"),
    [
        ((2, 3, 4, 2), None, True, 26 + 9),
        ((2, 3, 4, 2), "none", False, 26 + 9),
        ((2, 3, 4, 2), False, True, 26 + 9),
        ((2, 3, 4, 2), "batch", True, 26 + 2 + 14),
        ((2, 3, 4, 2), True, True, 26 + 2 + 14),
        ((2, 3, 4, 2), "batch", False, 26 + 9 + 14),
        ((2, 3, 4, 2), "layer", True, 26 + 2 + 14),
        ((2, 3, 4, 2), "layer", False, 26 + 9 + 14),
        ((64, 5, 10), None, False, 370 + 15),
        ((64, 5, 10), "batch", True, 370 + 10 + 10),
        ((64, 5, 10), "layer", False, 370 + 15 + 10),
    ],
)
def test_count_params_counts_each_parameter(dims, normalization, eliminate_bias, expected):
    assert lab.count_params(dims, normalization, eliminate_bias) == expected


def test_count_params_refuses_an_unknown_normalization():
    with pytest.raises(ValueError, match="normalization"):
        lab.count_params((2, 3, 2), "bn", True)


def test_eliminating_b_saves_one_number_per_hidden_unit():
    dims = (2, 16, 8, 3)
    assert lab.hidden_units(dims) == 24
    assert lab.count_params(dims, True, False) - lab.count_params(
        dims, True, True
    ) == lab.hidden_units(dims)
    # without batch norm eliminate_bias changes nothing
    assert lab.count_params(dims, False, False) == lab.count_params(dims, False, True)


def test_largest_db_is_round_off_and_leaves_the_network_alone(trained, split):
    net = trained.net
    params, running = net.params.flat.copy(), {l: v.copy() for l, v in net.running_var.items()}
    db = lab.largest_db(net, split.X_train[:, :16], split.y_train[:16])
    assert 0 <= db < 1e-12
    np.testing.assert_array_equal(net.params.flat, params)
    for l, var in running.items():
        np.testing.assert_array_equal(net.running_var[l], var)
    # the twin has no batch-norm layer: nothing to report
    assert lab.largest_db(trained.twin, split.X_train[:, :16], split.y_train[:16]) is None


def test_largest_db_is_none_when_b_is_eliminated(split):
    net = bn.MLP(training.default_config(split, hidden=(4,), eliminate_bias=True))
    assert lab.largest_db(net, split.X_train[:, :8], split.y_train[:8]) is None


# --- settings --------------------------------------------------------------------------------


def test_signature_leaves_out_what_does_not_matter():
    s = lab.LabSettings()
    assert dict(s.signature())["init_scale"] is None  # He: the scale is unused
    assert dataclasses.replace(s, init_scale=0.5).signature() == s.signature()
    g = dataclasses.replace(s, init="gaussian")
    assert dataclasses.replace(g, init_scale=0.5).signature() != g.signature()
    d = dataclasses.replace(s, dataset="digits")
    assert dataclasses.replace(d, noise=0.3).signature() == d.signature()


def test_optimizer_settings_are_not_in_the_signature():
    s = lab.LabSettings()
    changed = dataclasses.replace(
        s, optimizer="gd", lr=1.0, beta=0.5, beta1=0.5, beta2=0.9, eps=1e-4
    )
    assert changed.signature() == s.signature()
    assert changed.optimizer_args() == (
        "gd",
        1.0,
        {"beta": 0.5, "beta1": 0.5, "beta2": 0.9, "eps": 1e-4},
    )


def test_make_trainer_builds_the_network_and_clips_the_batch(split):
    s = lab.LabSettings(
        dataset="circles",
        hidden_layers=2,
        units=5,
        activation="tanh",
        batch_size=10_000,
        optimizer="momentum",
        lr=0.3,
        beta=0.8,
    )
    trainer = lab.make_trainer(s, split)
    assert trainer.net.config.layer_dims == (2, 5, 5, 2)
    assert trainer.net.config.activation == "tanh"
    assert trainer.batches.batch_size == split.X_train.shape[1]
    assert trainer.twin is not None
    assert trainer.optimizers[0].name == "momentum" and trainer.optimizers[0].lr == 0.3
    assert trainer.optimizers[0].hyper["beta"] == 0.8
    no_twin = lab.make_trainer(dataclasses.replace(s, twin=False), split)
    assert no_twin.twin is None
    plain = lab.make_trainer(dataclasses.replace(s, batch_norm=False), split)
    assert plain.twin is None and not plain.net.bn_layers


def test_decision_map_in_chunks_equals_one_forward(trained, split):
    res = 70  # 4900 grid points: more than one chunk
    assert res * res > lab.GRID_CHUNK
    bounds = lab.grid_bounds(split.X_train)
    dmap = lab.decision_map(trained.net, bounds, res)
    gx, gy = np.meshgrid(dmap.xs, dmap.ys)
    probs = trained.net.forward(np.vstack([gx.ravel(), gy.ravel()]), train=False)
    np.testing.assert_array_equal(dmap.label.ravel(), probs.argmax(axis=0))
    np.testing.assert_allclose(dmap.confidence.ravel(), probs.max(axis=0), rtol=1e-12)


# --- layer norm in the lab -------------------------------------------------------------------


@pytest.mark.parametrize("normalization", ["batch", "layer", "none", None])
@pytest.mark.parametrize("eliminate_bias", [True, False])
@pytest.mark.parametrize("dims", [(2, 16, 16, 2), (64, 5, 10), (2, 3, 4, 5, 3)])
def test_count_params_matches_every_normalization(dims, normalization, eliminate_bias):
    config = bn.NetConfig(layer_dims=dims, eliminate_bias=eliminate_bias)
    net = bn.MLP(config.with_normalization(normalization))
    assert lab.count_params(dims, normalization, eliminate_bias) == net.n_params


def test_largest_db_under_layer_norm_is_not_zero_but_sums_to_zero_over_the_units(split):
    """Layer norm does not cancel b: only its mean over the units drops out."""
    config = training.default_config(
        split, hidden=(6, 5), batch_norm=False, layer_norm=True, eliminate_bias=False, seed=1
    )
    net = bn.MLP(config)
    X, y = split.X_train[:, :16], split.y_train[:16]
    params = net.params.flat.copy()
    db = lab.largest_db(net, X, y)
    assert db > 1e-4
    np.testing.assert_array_equal(net.params.flat, params)  # measured on a copy
    _, grads = net.loss_and_grads(X, y)
    for l in net.ln_layers:
        assert np.abs(grads[f"b{l}"]).max() <= db
        assert abs(grads[f"b{l}"].sum()) < 1e-12 * max(1.0, np.abs(grads[f"b{l}"]).sum())
    assert lab.largest_db(bn.MLP(dataclasses.replace(config, eliminate_bias=True)), X, y) is None


def test_lab_settings_with_layer_norm_and_a_batch_norm_twin(split):
    s = lab.LabSettings(
        dataset="circles",
        hidden_layers=2,
        units=5,
        batch_norm=False,
        layer_norm=True,
        twin_norm="batch",
        batch_size=8,
    )
    assert s.normalization == "layer" and s.has_twin
    trainer = lab.make_trainer(s, split)
    assert trainer.net.config.normalization == "layer"
    assert trainer.twin.config.normalization == "batch"
    assert (
        lab.make_trainer(dataclasses.replace(s, twin_norm="none"), split).twin.config.normalization
        is None
    )
    assert lab.make_trainer(dataclasses.replace(s, twin=False), split).twin is None
    plain = dataclasses.replace(s, layer_norm=False)
    assert plain.normalization == "none" and not plain.has_twin
    assert lab.make_trainer(plain, split).twin is None


def test_a_twin_that_is_off_keeps_its_normalization_out_of_the_signature():
    old = lab.LabSettings()
    assert old.normalization == "batch" and old.twin and old.twin_norm == "none"
    off = dataclasses.replace(old, twin=False)
    assert dataclasses.replace(off, twin_norm="layer").signature() == off.signature()
