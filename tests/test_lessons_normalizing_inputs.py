"""bn_core.lessons.normalizing_inputs: the data, the exact loss bowl, gradient descent."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from bn_core.lessons import normalizing_inputs as L
from tests.presets import page_presets


@pytest.fixture(scope="module")
def data10():
    return L.make_regression(10.0)


def test_make_regression_shapes_and_scale(data10):
    d = data10
    assert d.X_train.shape == (2, L.M_TRAIN) and d.y_train.shape == (1, L.M_TRAIN)
    assert d.X_test.shape == (2, L.M_TEST) and d.y_test.shape == (1, L.M_TEST)
    sd = d.X_train.std(axis=1)
    assert 6 < sd[1] / sd[0] < 15  # feature 2 is stretched about tenfold


def test_normalization_uses_training_statistics(data10):
    d = data10
    mu, var = L.feature_stats(d.X_train)
    assert_allclose(d.Xn_train.mean(axis=1), 0, atol=1e-12)
    assert_allclose(d.Xn_train.var(axis=1), 1, atol=1e-6)
    expected_test = (d.X_test - mu[:, None]) / np.sqrt(var[:, None] + d.normalizer.eps)
    assert_allclose(d.Xn_test, expected_test)
    assert not np.allclose(d.Xn_test.mean(axis=1), 0, atol=1e-6)  # not its own statistics


def test_feature_stats_is_biased_mean_and_variance():
    X = np.array([[1.0, 2.0, 3.0, 6.0], [0.0, 0.0, 4.0, 4.0]])
    mu, var = L.feature_stats(X)
    assert_allclose(mu, [3.0, 2.0])
    assert_allclose(var, [3.5, 4.0])


def test_bowl_loss_matches_the_direct_formula(data10):
    d = data10
    bowl = L.fit_bowl(d.X_train, d.y_train)
    rng = np.random.default_rng(1)
    W = rng.normal(size=(2, 5))
    m = d.X_train.shape[1]
    direct = ((W.T @ d.X_train - d.y_train) ** 2).sum(axis=1) / (2 * m)
    assert_allclose(bowl.loss(W), direct, rtol=1e-10)


def test_bowl_gradient_matches_finite_differences(data10):
    bowl = L.fit_bowl(data10.X_train, data10.y_train)
    w = np.array([[0.3], [-0.2]])
    h = 1e-6
    numeric = np.array(
        [
            [(bowl.loss(w + h * e)[0] - bowl.loss(w - h * e)[0]) / (2 * h)]
            for e in np.eye(2)[:, :, None]
        ]
    )
    assert_allclose(bowl.grad(w), numeric.reshape(2, 1), rtol=1e-5, atol=1e-8)
    assert_allclose(bowl.grad(bowl.w_star), 0, atol=1e-10)


def test_raw_bowl_is_elongated_normalized_is_round():
    for ratio, lo in ((5, 3), (20, 12), (100, 50)):
        cmp = L.compare(ratio)
        assert cmp.raw.elongation > lo
        assert cmp.norm.elongation < 1.3
    assert L.compare(20).raw.elongation > L.compare(5).raw.elongation


def test_best_lr_needs_far_fewer_steps_after_normalizing():
    cmp = L.compare(10)
    assert cmp.raw_run.steps is not None and cmp.norm_run.steps is not None
    assert cmp.raw_run.steps > 20 * cmp.norm_run.steps
    assert cmp.raw_run.lr == pytest.approx(cmp.raw.best_lr)


def test_steps_are_counted_not_hard_coded():
    bowl = L.fit_bowl(np.eye(2) * np.sqrt(2.0), np.array([[1.0, 1.0]]))  # H = I
    run = L.gradient_descent(bowl, lr=0.5, tol=1e-3)
    # H = I: the error shrinks by (1 - lr) per step, J - J* by (1 - lr)^2 = 1/4.
    assert run.steps == 5  # 4^-5 < 1e-3 < 4^-4
    assert_allclose(run.excess[1:] / run.excess[:-1], 0.25)


def test_same_lr_above_the_stability_limit_diverges():
    cmp = L.compare(10, best=False, alpha=0.02)
    assert 0.02 > cmp.raw.stability_limit
    assert cmp.raw_run.diverged and cmp.raw_run.steps is None
    assert not cmp.norm_run.diverged and cmp.norm_run.steps is not None
    safe = L.gradient_descent(cmp.raw, 0.95 * cmp.raw.stability_limit)
    assert not safe.diverged


def test_max_steps_without_convergence():
    bowl = L.fit_bowl(L.make_regression(10).X_train, L.make_regression(10).y_train)
    run = L.gradient_descent(bowl, lr=1e-6, max_steps=50)
    assert run.steps is None and not run.diverged and run.path.shape == (2, 51)


def test_contour_window_is_square_and_holds_start_and_minimum():
    cmp = L.compare(20)
    for bowl, (wx, wy) in ((cmp.raw, cmp.raw_window), (cmp.norm, cmp.norm_window)):
        assert wx[1] - wx[0] == pytest.approx(wy[1] - wy[0])
        for w in (np.zeros(2), bowl.w_star.ravel()):
            assert wx[0] < w[0] < wx[1] and wy[0] < w[1] < wy[1]


def test_contour_grid_values():
    cmp = L.compare(5)
    w1, w2, Z = cmp.raw_grid
    j, i = 10, 30
    expected = np.log10(cmp.raw.excess(np.array([[w1[i]], [w2[j]]]))[0])
    assert Z[j, i] == pytest.approx(expected)


def test_normalization_summary_has_both_features():
    table = L.normalization_summary(L.make_regression(10))
    assert set(table) >= {"training μ", "training σ²", "after: test mean"}
    assert all(v.shape == (2,) for v in table.values())
    assert_allclose(table["after: training variance"], 1, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), "x"])
def test_bad_ratio_is_a_value_error(bad):
    with pytest.raises(ValueError):
        L.make_regression(bad)


def test_bad_learning_rate_is_a_value_error():
    with pytest.raises(ValueError):
        L.compare(10, best=False, alpha=0)


# --- the page's presets: each claim measured through the core ---------------------------------

PRESETS = page_presets("pages/normalizing_inputs.py")


def tilt(bowl):
    """|H12| / sqrt(H11 H22): 0 when the ellipse's axes lie along w1 and w2."""
    H = bowl.H
    return abs(H[0, 1]) / np.sqrt(H[0, 0] * H[1, 1])


def test_preset_stretched_by_20_is_a_long_valley_then_a_round_bowl():
    assert PRESETS["Stretched ×20"] == {"ratio": "20"}
    cmp = L.compare(20)
    assert cmp.raw.elongation > 10 and cmp.norm.elongation < 1.2


def test_preset_equal_scales_mildly_stretched_raw_nearly_round_normalized():
    assert PRESETS["Equal scales"] == {"ratio": "1"}
    cmp = L.compare(1)
    assert 1.3 < cmp.raw.elongation < 2.0 and tilt(cmp.raw) > 0.3  # mildly stretched, tilted
    assert cmp.norm.elongation < 1.2 and tilt(cmp.norm) < 0.5 * tilt(cmp.raw)
    assert np.abs(cmp.data.X_train.mean(axis=1)).min() > 0.3  # not centred


def test_preset_same_alpha_diverges_on_raw_only():
    assert PRESETS["Same α, diverges"] == {"ratio": "10", "best": "0", "lr": "0.02"}
    cmp = L.compare(10, best=False, alpha=0.02)
    assert cmp.raw.stability_limit < 0.02 < cmp.norm.stability_limit
    assert cmp.raw_run.diverged and not cmp.norm_run.diverged and cmp.norm_run.steps


def test_preset_same_tiny_alpha_normalized_is_no_faster():
    assert PRESETS["Same tiny α"] == {"ratio": "10", "best": "0", "lr": "0.01"}
    cmp = L.compare(10, best=False, alpha=0.01)
    assert not cmp.raw_run.diverged and cmp.raw_run.steps is not None
    assert cmp.norm_run.steps >= cmp.raw_run.steps  # no faster
    assert cmp.norm.stability_limit > 50 * 0.01  # it could have taken far bigger steps


# --- the lecture's two slips -------------------------------------------------------------------


def test_without_slips_the_normalization_is_the_normalizers():
    d = L.make_regression(10)
    cmp = L.compare_slips(d)
    assert not cmp.any_slip
    assert_allclose(cmp.slipped, d.Xn_train, atol=1e-12)
    assert_allclose(cmp.slipped_stats[1], 1, atol=1e-6)


def test_the_uncentred_variance_is_sigma_squared_plus_mu_squared():
    d = L.make_regression(10)
    mu, var = L.feature_stats(d.X_train)
    cmp = L.compare_slips(d, uncentred_variance=True)
    assert_allclose(cmp.var_used, var + mu**2)
    assert_allclose(cmp.slipped_stats[1], var / (var + mu**2 + 1e-8), rtol=1e-9)
    assert np.all(cmp.slipped_stats[1] < 0.8)  # every feature's variance well under 1
    assert_allclose(cmp.slipped_stats[0], 0, atol=1e-12)  # the mean is still removed


def test_dividing_by_the_variance_leaves_variance_one_over_sigma_squared():
    d = L.make_regression(10)
    _, var = L.feature_stats(d.X_train)
    cmp = L.compare_slips(d, divide_by_variance=True)
    assert_allclose(cmp.slipped_stats[1], 1 / var, rtol=1e-9)
    assert cmp.slipped_stats[1][1] < 0.02  # feature 2 (sigma about 10) squashed to 1/100


def test_both_slips_together():
    d = L.make_regression(10)
    mu, var = L.feature_stats(d.X_train)
    cmp = L.compare_slips(d, True, True)
    assert_allclose(cmp.slipped_stats[1], var / (var + mu**2) ** 2, rtol=1e-9)


def test_normalize_with_slips_uses_the_training_statistics_on_any_set():
    d = L.make_regression(10)
    test_right, _ = L.normalize_with_slips(d.X_train, d.X_test)
    assert_allclose(test_right, d.Xn_test, atol=1e-12)
