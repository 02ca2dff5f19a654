"""bn_core.lessons.why_it_works: the drift measure, the covariate-shift
experiment (batch norm's band moves less) and the robustness sweeps."""

import numpy as np
import pytest

from bn_core.lessons import why_it_works as lesson
from tests.presets import page_presets


def test_band_drift_ignores_jitter_and_measures_travel():
    rng = np.random.default_rng(0)
    flat = np.tile([-1.0, 0.0, 1.0], (100, 1))
    assert lesson.band_drift(flat) == 0.0
    ramp = flat + np.linspace(0.0, 2.0, 100)[:, None]
    assert lesson.band_drift(ramp) == pytest.approx(2.0 * 90 / 99)  # a 10-point moving average
    jitter = flat + 0.5 * rng.standard_normal((100, 3))
    assert lesson.band_drift(jitter) < 0.5 * (jitter.max(axis=0) - jitter.min(axis=0)).mean()


@pytest.fixture(scope="module")
def shift():
    return lesson.covariate_shift(lesson.ShiftSettings(steps=300))


def test_covariate_shift_records_both_networks(shift):
    with_bn, without_bn = shift
    for run in shift:
        assert run.stop_reason is None
        assert run.percentiles.shape == (run.steps.size, 3)
        assert np.all(run.percentiles[:, 0] <= run.percentiles[:, 1])
        assert np.all(run.percentiles[:, 1] <= run.percentiles[:, 2])
        assert run.eval_steps.shape == run.test_accuracy.shape
    np.testing.assert_array_equal(with_bn.steps, without_bn.steps)


def test_batch_norm_moves_the_band_less_and_learns_sooner(shift):
    with_bn, without_bn = shift
    assert with_bn.drift < 0.6 * without_bn.drift
    early = with_bn.eval_steps <= 100
    assert with_bn.test_accuracy[early].max() > 0.8 > without_bn.test_accuracy[early].max()
    assert with_bn.test_accuracy[-1] > 0.9


def test_every_layer_shifts_less_with_batch_norm():
    for layer in (1, 2):
        with_bn, without_bn = lesson.covariate_shift(lesson.ShiftSettings(layer=layer, steps=200))
        assert with_bn.drift < without_bn.drift, layer


def test_sweep_points_and_table():
    points = lesson.lr_sweep("gd", learning_rates=(0.1, 1.0))
    assert [(p.batch_norm, p.lr) for p in points] == [
        (True, 0.1),
        (False, 0.1),
        (True, 1.0),
        (False, 1.0),
    ]
    assert max(p.lr for p in lesson.lr_sweep("adam")) == pytest.approx(0.1)
    table = lesson.sweep_table(points, [1.0, 2.0, 3.0, np.nan])
    np.testing.assert_array_equal(table["x"], [0.1, 1.0])
    np.testing.assert_array_equal(table["bn"], [1.0, 3.0])
    assert table["plain"][0] == 2.0 and np.isnan(table["plain"][1])
    scales = lesson.sweep_table(lesson.init_sweep(scales=(0.01, 1.0)), [0.0] * 4)
    np.testing.assert_array_equal(scales["x"], [0.01, 1.0])


def test_batch_norm_survives_a_learning_rate_that_breaks_the_plain_network():
    split = lesson.sweep_split()
    bn, plain = (lesson.final_loss(lesson.SweepPoint(b, 3.0), split) for b in (True, False))
    assert np.isfinite(bn) and bn < 0.5
    assert np.isnan(plain)


def test_batch_norm_undoes_tiny_initial_weights():
    split = lesson.sweep_split()
    bn, plain = (
        lesson.final_loss(lesson.SweepPoint(b, 0.1, init="gaussian", init_scale=0.001), split)
        for b in (True, False)
    )
    assert plain > 0.6  # stuck at log 2: the signal vanished through three layers
    assert bn < 0.3


def test_epsilon_floors_the_variance_of_tiny_weights():
    floor = lesson.epsilon_floor(0.001)
    assert floor.eps == 1e-5 and floor.var_z.shape == floor.var_z_norm.shape == (3,)
    assert np.all(floor.var_z < floor.eps)  # Var(Z) below epsilon in every hidden layer
    assert np.all(floor.var_z_norm < 0.2)  # so Z_norm's variance is far from 1
    assert np.all(floor.var_z_norm < floor.var_z / floor.eps)  # v / (v + eps) < v / eps
    healthy = lesson.epsilon_floor(0.1)
    assert np.all(healthy.var_z_norm > 0.99)  # weights of a sane scale: variance 1


# --- the page's presets: each claim measured through the core ---------------------------------

PRESETS = page_presets("pages/why_it_works.py")


@pytest.fixture(scope="module")
def drifts():
    """{(layer, lr, optimizer): (drift with batch norm, drift without)}."""
    runs = {}
    for layer, lr, opt in (
        (1, 1.0, "gd"),
        (2, 1.0, "gd"),
        (3, 1.0, "gd"),
        (3, 3.0, "gd"),
        (3, 0.01, "adam"),
    ):
        with_bn, without_bn = lesson.covariate_shift(
            lesson.ShiftSettings(layer=layer, lr=lr, optimizer=opt)
        )
        assert with_bn.stop_reason is None and without_bn.stop_reason is None
        runs[layer, lr, opt] = (with_bn.drift, without_bn.drift)
    return runs


def test_preset_the_papers_experiment(drifts):
    assert PRESETS["The paper's experiment"] == {}
    s = lesson.ShiftSettings()
    assert (lesson.SHIFT_HIDDEN, s.optimizer, s.layer) == ((100, 100, 100), "gd", 3)
    with_bn, without_bn = drifts[3, 1.0, "gd"]
    assert with_bn < 0.6 * without_bn


def test_preset_the_first_layers_input_shifts_least(drifts):
    assert PRESETS["The first layer"] == {"layer": "1"}
    for network in (0, 1):  # with batch norm and without
        assert drifts[1, 1.0, "gd"][network] < min(
            drifts[2, 1.0, "gd"][network], drifts[3, 1.0, "gd"][network]
        )


def test_preset_bigger_steps_swing_much_further_without_batch_norm(drifts):
    assert PRESETS["Bigger steps"] == {"lr": "3"}
    with_bn, without_bn = drifts[3, 3.0, "gd"]
    assert without_bn > 3 * with_bn  # much further than with batch norm
    assert without_bn > 3 * drifts[3, 1.0, "gd"][1]  # and than at alpha = 1


def test_preset_adam_makes_the_same_comparison(drifts):
    assert PRESETS["Adam"] == {"opt": "adam", "lr": "0.01"}
    with_bn, without_bn = drifts[3, 0.01, "adam"]
    assert with_bn < 0.6 * without_bn
