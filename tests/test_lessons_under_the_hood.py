"""bn_core.lessons.under_the_hood: the staged backward walk-through and the network gradient
check."""

import inspect
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from bn_core import batchnorm
from bn_core.lessons import under_the_hood as uh
from bn_viz import under_the_hood as viz
from tests.presets import page_presets

ORDER = ["dbeta", "dgamma", "dZ_norm", "dvar", "dmu", "dZ"]


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 4, 0), (3, 8, 1), (2, 5, 7)])
def test_example_batch_shapes_and_rounding(n, m, seed):
    ex = uh.example_batch(n, m, seed)
    assert ex.Z.shape == ex.dZ_tilde.shape == ex.Z_tilde.shape == (n, m)
    assert ex.gamma.shape == ex.beta.shape == (n, 1)
    assert_allclose(ex.Z, np.round(ex.Z, 1))
    assert np.all(ex.gamma > 0)
    assert_allclose(ex.Z_tilde, batchnorm.forward(ex.Z, ex.gamma, ex.beta)[0])


def test_steps_come_in_the_order_of_the_staged_code_and_the_page_has_each():
    ex = uh.example_batch(1, 4)
    steps = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    assert list(steps._fields) == ORDER
    assert list(viz.EQUATIONS) == ORDER
    assert [name for piece in uh.code_pieces() for name in piece.names] == ORDER
    assert set(viz.UNDOES) <= {piece.names[0] for piece in uh.code_pieces() if piece.names}


def test_the_walkthrough_runs_the_function_the_network_calls():
    assert uh.STAGED is batchnorm.backward_steps
    ex = uh.example_batch(3, 5, 2)
    steps = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    for got, staged in zip(
        (steps.dZ, steps.dgamma, steps.dbeta),
        batchnorm.backward_unchecked(ex.dZ_tilde, ex.cache),
        strict=True,
    ):
        assert_array_equal(got, staged)


def test_code_pieces_are_the_function_body_verbatim():
    """Joined with blank lines, the pieces are the function's source after its docstring, line
    for line (indentation aside): nothing on screen is written anywhere but in the function."""
    source = inspect.getsource(batchnorm.backward_steps)
    assert uh.function_source() == source
    body = textwrap.dedent(source.split('"""')[2].split("\n", 1)[1]).strip("\n")
    assert "\n\n".join(piece.code for piece in uh.code_pieces()) == body
    assert uh.code_pieces()[0].names == ()  # the lines that read the cache
    assert uh.code_pieces()[-1].code.splitlines()[-1].startswith("return BackwardSteps(")


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 4, 0), (3, 8, 1), (1, 6, 5), (3, 4, 9)])
def test_steps_agree_with_the_compact_form(n, m, seed):
    ex = uh.example_batch(n, m, seed)
    steps = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    agree = uh.backward_agreement(ex.dZ_tilde, ex.cache, steps)
    assert agree.staged_vs_compact < 1e-12
    assert agree.sum_dZ < 1e-12


def test_steps_match_a_numeric_gradient():
    """dZ, dgamma, dbeta of J = sum(dZ_tilde * Z_tilde), by centred differences."""
    ex = uh.example_batch(2, 5, 3)
    steps = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    arrays = {"dZ": ex.Z.copy(), "dgamma": ex.gamma.copy(), "dbeta": ex.beta.copy()}

    def J():
        return np.sum(
            ex.dZ_tilde * batchnorm.forward(arrays["dZ"], arrays["dgamma"], arrays["dbeta"])[0]
        )

    for name, P in arrays.items():
        numeric = np.zeros_like(P)
        for idx in np.ndindex(P.shape):
            old = P[idx]
            P[idx] = old + 1e-6
            plus = J()
            P[idx] = old - 1e-6
            minus = J()
            P[idx] = old
            numeric[idx] = (plus - minus) / 2e-6
        assert_allclose(getattr(steps, name), numeric, rtol=1e-6, atol=1e-8)


def test_intermediate_steps_have_the_expected_shapes_and_values():
    ex = uh.example_batch(3, 6, 2)
    s = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    for name in ("dbeta", "dgamma", "dvar", "dmu"):
        assert getattr(s, name).shape == (3, 1)
    for name in ("dZ_norm", "dZ"):
        assert getattr(s, name).shape == (3, 6)
    # the chain rule's sums, which the code takes from dgamma and dbeta instead
    Z_centered, var_eps = ex.cache.Z_centered, ex.cache.var + ex.cache.eps
    assert_allclose(
        s.dvar, -0.5 * np.sum(s.dZ_norm * Z_centered, axis=1, keepdims=True) * var_eps**-1.5
    )
    assert_allclose(s.dmu, -np.sum(s.dZ_norm, axis=1, keepdims=True) / np.sqrt(var_eps))
    assert_allclose(s.dZ_norm, ex.dZ_tilde * ex.gamma)


def test_gradient_paths_add_up_to_dZ_and_the_mu_path_is_constant():
    ex = uh.example_batch(3, 7, 4)
    s = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    paths = uh.gradient_paths(s, ex.cache)
    assert set(paths) == {"direct", "through σ²", "through μ"}
    assert_allclose(sum(paths.values()), s.dZ, atol=1e-12)
    assert_allclose(np.ptp(paths["through μ"], axis=1), 0.0)
    assert_allclose(np.sum(s.dZ, axis=1), 0.0, atol=1e-12)


def test_gradient_check_defaults_pass_every_parameter():
    report = uh.gradient_check()
    names = [r.name for r in report.rows]
    assert names == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    assert all(r.status == "pass" and r.relative_error < 1e-6 for r in report.rows)
    assert report.network == "2 -> [4 BN relu] -> [3 BN relu] -> 2 softmax"


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("batch_norm", [True, False])
def test_gradient_check_passes_across_settings(activation, batch_norm):
    report = uh.gradient_check(activation, batch_norm, True, seed=0)
    assert {r.status for r in report.rows} <= {"pass", "zero"}
    assert all(r.relative_error < 1e-6 for r in report.rows if r.status == "pass")


def test_bias_under_batch_norm_has_zero_gradient():
    report = uh.gradient_check("relu", batch_norm=True, eliminate_bias=False, seed=0)
    rows = {r.name: r for r in report.rows}
    for name in ("b1", "b2"):
        assert rows[name].status == "zero"
        assert rows[name].max_abs_analytic < 1e-15
        assert rows[name].numeric_norm < uh.ZERO_TOL
    assert rows["b3"].status == "pass" and rows["b3"].analytic_norm > 1e-3  # output layer's b


def test_a_relu_input_at_its_kink_is_flagged_not_failed():
    report = uh.gradient_check("relu", batch_norm=False, eliminate_bias=True, seed=7)
    assert report.min_relu_input < report.h
    statuses = {r.name: r.status for r in report.rows}
    assert "kink" in statuses.values() and "fail" not in statuses.values()


def test_min_relu_input_is_nan_for_other_activations():
    assert np.isnan(uh.gradient_check("tanh").min_relu_input)
    assert uh.gradient_check("relu").min_relu_input > 0


def test_a_poor_step_h_gives_larger_errors():
    good = max(r.relative_error for r in uh.gradient_check(h=1e-5).rows)
    coarse = max(r.relative_error for r in uh.gradient_check(h=1e-2).rows)
    assert coarse > 100 * good


# --- the page's presets: each claim measured through the core (the page's defaults: n = 1,
# m = 6, seed 0; relu, batch norm on, b eliminated, gradient-check seed 0, h = 1e-5) -----------

PRESETS = page_presets("pages/under_the_hood.py")


def test_preset_one_unit_m_4_rows_of_four_and_single_numbers():
    assert PRESETS["One unit, m = 4"] == {"n": "1", "m": "4"}
    ex = uh.example_batch(1, 4, 0)
    arrays = [
        ex.Z,
        ex.gamma,
        ex.beta,
        ex.dZ_tilde,
        ex.cache.mu,
        ex.cache.var,
        *uh.staged_backward_steps(ex.dZ_tilde, ex.cache),
    ]
    assert {a.shape for a in arrays} == {(1, 4), (1, 1)}
    assert ex.cache.mu.shape == ex.cache.var.shape == ex.gamma.shape == (1, 1)


def test_preset_three_units_each_row_normalized_on_its_own():
    assert PRESETS["Three units, m = 8"] == {"n": "3", "m": "8"}
    ex = uh.example_batch(3, 8, 0)
    assert_allclose(ex.cache.Z_norm.mean(axis=1), 0, atol=1e-12)
    for row in range(3):  # the row alone gives the same: no unit sees another
        alone, _ = batchnorm.forward(
            ex.Z[row : row + 1], ex.gamma[row : row + 1], ex.beta[row : row + 1]
        )
        assert_allclose(alone, ex.Z_tilde[row : row + 1], atol=1e-12)


def test_preset_keep_b_its_gradient_is_zero_to_rounding():
    assert PRESETS["Keep b under batch norm"] == {"elim": "0"}
    rows = {r.name: r for r in uh.gradient_check("relu", True, False, 0).rows}
    for name in ("b1", "b2"):
        assert rows[name].status == "zero" and rows[name].max_abs_analytic < 1e-12
    assert rows["b3"].analytic_norm > 1e-3  # the output layer's b is not cancelled


def test_preset_relu_kink_an_input_sits_at_zero_and_the_difference_straddles_it():
    assert PRESETS["A ReLU kink"] == {"bn": "0", "gseed": "7"}
    report = uh.gradient_check("relu", False, True, 7)
    assert report.min_relu_input == 0.0  # exactly at the kink
    assert "kink" in {r.status for r in report.rows}
    assert "fail" not in {r.status for r in report.rows}
