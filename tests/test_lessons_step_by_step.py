"""bn_core.lessons.step_by_step: the stages of batch norm on the lesson's layer."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from bn_core import batchnorm
from bn_core.layers import sigmoid
from bn_core.lessons import step_by_step as L
from tests.presets import page_presets


def test_shapes_and_the_stages_match_batchnorm_forward():
    s = L.run(b=0.5, gamma=2.0, beta=-1.0, eps=1e-3, activation="tanh", unit=1, m=32)
    n = L.N_UNITS
    for name in ("Z", "Z_norm", "Z_tilde", "A", "Z_wrong", "flat"):
        assert getattr(s, name).shape == (n, 32), name
    for name in ("mu", "var", "gamma", "beta"):
        assert getattr(s, name).shape == (n, 1), name
    Zt, _ = batchnorm.forward(s.Z, s.gamma, s.beta, 1e-3)
    assert_allclose(s.Z_tilde, Zt)
    assert_allclose(s.A, np.tanh(Zt))
    assert_allclose(s.mu, s.Z.mean(axis=1, keepdims=True))
    assert_allclose(s.var, s.Z.var(axis=1, keepdims=True))


def test_gamma_and_beta_only_touch_the_chosen_unit():
    g, b = L.unit_params(2, 3.0, -0.5)
    assert_allclose(g.ravel(), [1, 1, 3.0])
    assert_allclose(b.ravel(), [0, 0, -0.5])
    s = L.run(gamma=3.0, beta=-0.5, unit=2)
    assert s.Z_tilde[2].std() == pytest.approx(3.0, rel=1e-4)
    assert s.Z_tilde[2].mean() == pytest.approx(-0.5)
    assert_allclose(s.Z_tilde[:2], s.Z_norm[:2])


def test_the_bias_cancels_out():
    s0, s1 = L.run(b=-2.0), L.run(b=3.5)
    assert_allclose(s1.Z - s0.Z, 5.5)
    assert_allclose(s1.mu - s0.mu, 5.5)
    assert_allclose(s1.Z_norm, s0.Z_norm, atol=1e-12)
    assert_allclose(s1.Z_tilde, s0.Z_tilde, atol=1e-12)


@pytest.mark.parametrize(("b", "eps", "unit"), [(1.0, 1e-5, 0), (-4.0, 1.0, 1), (5.0, 10.0, 2)])
def test_identity_params_give_z_back(b, eps, unit):
    gamma, beta = L.identity_params(b, eps, unit)
    s = L.run(b=b, gamma=gamma, beta=beta, eps=eps, unit=unit)
    assert_allclose(s.Z_tilde[unit], s.Z[unit], atol=1e-12)
    assert L.unit_summary(s, unit)["max_diff"] < 1e-12
    assert gamma == pytest.approx(np.sqrt(s.var[unit, 0] + eps))
    assert beta == pytest.approx(s.mu[unit, 0])


def test_variance_of_z_norm_is_var_over_var_plus_eps():
    s = L.run(eps=1.0)
    summary = L.unit_summary(s, 0)
    assert summary["norm_var"] == pytest.approx(summary["var"] / (summary["var"] + 1.0))
    assert summary["norm_mean"] == pytest.approx(0, abs=1e-12)


def test_the_common_mistake_has_variance_one_over_var():
    s = L.run()
    summary = L.unit_summary(s, 0)
    assert summary["wrong_var"] == pytest.approx(1 / summary["var"])
    assert abs(summary["wrong_var"] - 1) > 0.5  # the lesson's data makes the mistake visible


def test_saturation_zone_is_where_the_slope_is_a_tenth_of_its_peak():
    lo, hi = L.saturation_zone("sigmoid")
    s = sigmoid(hi)
    assert s * (1 - s) == pytest.approx(0.1 * 0.25)
    assert lo == -hi
    lo, hi = L.saturation_zone("tanh")
    assert 1 - np.tanh(hi) ** 2 == pytest.approx(0.1)
    assert L.saturation_zone("relu") == (0.0, np.inf)


def test_saturated_masks():
    z = np.array([[-5.0, -1.0, 0.0, 0.5, 2.5, 5.0]])
    assert L.saturated(z, "relu").tolist() == [[True, True, True, False, False, False]]
    assert L.saturated(z, "sigmoid").tolist() == [[True, False, False, False, False, True]]
    assert L.saturated(z, "tanh").tolist() == [[True, False, False, False, True, True]]
    assert not L.saturated(z, "linear").any()


def test_dead_relu_and_saturated_sigmoid():
    dead = L.unit_summary(L.run(gamma=0.5, beta=-2.5, activation="relu"), 0)
    assert dead["dead"] and dead["flat_fraction"] == 1.0
    alive = L.unit_summary(L.run(activation="relu"), 0)
    assert not alive["dead"] and 0.3 < alive["flat_fraction"] < 0.7
    sat = L.unit_summary(L.run(gamma=4.0, beta=2.5, activation="sigmoid"), 0)
    calm = L.unit_summary(L.run(activation="sigmoid"), 0)
    assert sat["flat_fraction"] > 0.3 > calm["flat_fraction"]


def test_tables():
    s = L.run(m=4)
    rows = L.example_table(s, 1)
    assert all(v.shape == (4,) for v in rows.values())
    assert_allclose(rows["z − μ"], s.Z[1] - s.mu[1, 0])
    units = L.units_table(s)
    assert all(v.shape == (L.N_UNITS,) for v in units.values())


def test_mini_batches_share_one_pool():
    assert_allclose(L.mini_batch(8), L.mini_batch(64)[:, :8])


@pytest.mark.parametrize("m", [1, L.POOL + 1])
def test_bad_mini_batch_size(m):
    with pytest.raises(ValueError):
        L.mini_batch(m)


def test_bad_unit_and_activation():
    with pytest.raises(ValueError):
        L.unit_params(L.N_UNITS, 1.0, 0.0)
    with pytest.raises(ValueError):
        L.run(activation="softplus")


# --- the page's presets: each claim measured through the core (the page's defaults: b = 1,
# eps = 1e-5, unit 1, m = 64) --------------------------------------------------------------------

PRESETS = page_presets("pages/step_by_step.py")


def test_preset_identity_undoes_the_normalization():
    assert set(PRESETS["Identity"]) == {"gamma", "beta"}
    gamma, beta = L.identity_params(1.0, 1e-5, 0, 64)
    parsed = float(repr(gamma)), float(repr(beta))  # what the link carries
    summary = L.unit_summary(L.run(1.0, *parsed, 1e-5, "relu", 0, 64), 0)
    assert summary["max_diff"] < 1e-9


def test_preset_saturation_puts_about_half_on_the_flat_parts():
    assert PRESETS["Saturation"] == {"act": "sigmoid", "gamma": "4.0", "beta": "2.5"}
    flat = L.unit_summary(L.run(1.0, 4.0, 2.5, 1e-5, "sigmoid", 0, 64), 0)["flat_fraction"]
    assert 0.4 <= flat <= 0.6
    assert L.unit_summary(L.run(1.0, 1.0, 0.0, 1e-5, "sigmoid", 0, 64), 0)["flat_fraction"] == 0


def test_preset_dead_relu_every_example_on_the_flat_side():
    assert PRESETS["Dead ReLU"] == {"act": "relu", "gamma": "0.5", "beta": "-2.0"}
    s = L.run(1.0, 0.5, -2.0, 1e-5, "relu", 0, 64)
    assert L.unit_summary(s, 0)["dead"] and np.all(s.A[0] == 0)


def test_preset_dividing_by_the_variance_does_not_give_variance_1():
    assert PRESETS["÷ σ² mistake"] == {"mistake": "1"}
    summary = L.unit_summary(L.run(), 0)
    assert abs(summary["wrong_var"] - 1) > 0.5 and summary["norm_var"] == pytest.approx(1, 1e-5)


# --- why gamma and beta exist --------------------------------------------------------------


def test_z_norm_sits_mostly_where_the_sigmoid_is_nearly_straight():
    lp = L.linear_part(unit=0, m=64)
    # independently: Z = W X + b, normalized by hand, counted by hand
    Z = L.W_LESSON @ L.mini_batch(64) + 1.0
    z = (Z[0] - Z[0].mean()) / np.sqrt(Z[0].var() + batchnorm.DEFAULT_EPS)
    assert lp.share_plain == pytest.approx(np.mean(np.abs(z) < 1))
    assert lp.share_plain == pytest.approx(42 / 64)  # the 66% the page prints
    assert_allclose(lp.z_plain, z, atol=1e-12)
    assert_allclose(lp.a_plain, sigmoid(z))
    assert lp.r2_plain > 0.99  # a straight line explains > 99% of A's variance


@pytest.mark.parametrize("m", [8, 64, 256])
@pytest.mark.parametrize("unit", range(L.N_UNITS))
def test_with_gamma_1_beta_0_every_unit_acts_almost_linearly(unit, m):
    lp = L.linear_part(unit=unit, m=m)
    assert lp.share_plain >= 0.45
    assert lp.r2_plain > 0.98


def test_the_sigmoid_strays_under_0_02_from_its_tangent_on_the_band():
    assert L.sigmoid_tangent_gap() == pytest.approx(0.75 - sigmoid(np.array(1.0)), abs=1e-9)
    assert L.sigmoid_tangent_gap() < 0.02
    assert L.sigmoid_tangent_gap(2.0) > 0.1  # wider, the curve shows


def test_gamma_and_beta_reach_the_curved_part():
    lp = L.linear_part(gamma=3.0, beta=2.0, unit=0, m=64)
    assert lp.share_chosen == pytest.approx(np.mean(np.abs(lp.z_chosen) < 1))
    assert lp.share_chosen < 0.3
    assert lp.r2_chosen < 0.9
    assert lp.share_plain > 0.6  # the plain run does not move with the sliders
    same = L.linear_part(gamma=1.0, beta=0.0)
    assert_allclose(same.z_chosen, same.z_plain)
    assert same.share_chosen == same.share_plain


def test_linear_fit_r2_is_1_on_a_line_and_on_a_constant():
    z = np.linspace(-1, 1, 9)
    assert L.linear_fit_r2(z, 3 * z - 1) == pytest.approx(1.0)
    assert L.linear_fit_r2(z, np.ones(9)) == 1.0
    assert L.linear_fit_r2(z, z**2) == pytest.approx(0.0, abs=1e-12)
