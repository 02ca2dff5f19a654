"""bn_core.batchnorm: forward against the independent reference, the normalization's promises,
the staged backward pass (each stage, and the result against the reference), a numerical
gradient check, and every bad input."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from bn_core import batchnorm
from tests.reference import bn_backward, bn_forward, numeric_grad, rel_error

EPS = 1e-5


def make_inputs(n=4, m=8, seed=0, scale=3.0, shift=2.0):
    """Z (n, m) off-centre and spread out, gamma and beta not the identity."""
    rng = np.random.default_rng(seed)
    Z = scale * rng.standard_normal((n, m)) + shift * rng.standard_normal((n, 1))
    gamma = 1.0 + 0.5 * rng.standard_normal((n, 1))
    beta = rng.standard_normal((n, 1))
    return Z, gamma, beta


# ---------------------------------------------------------------- forward


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 2, 0), (4, 8, 1), (7, 33, 2), (3, 5, 3)])
def test_forward_matches_reference(n, m, seed):
    Z, gamma, beta = make_inputs(n, m, seed)
    Z_tilde, cache = batchnorm.forward(Z, gamma, beta, eps=EPS)
    ref_tilde, ref_mu, ref_var, ref_norm = bn_forward(Z, gamma, beta, EPS)
    assert Z_tilde.shape == (n, m) and Z_tilde.dtype == np.float64
    assert cache.mu.shape == (n, 1) and cache.var.shape == (n, 1)
    assert cache.Z_norm.shape == (n, m)
    assert_allclose(cache.mu, ref_mu, rtol=1e-12, atol=1e-14)
    assert_allclose(cache.var, ref_var, rtol=1e-12)
    assert_allclose(cache.Z_norm, ref_norm, rtol=1e-12, atol=1e-14)
    assert_allclose(Z_tilde, ref_tilde, rtol=1e-12, atol=1e-14)


def test_forward_default_eps_is_1e_minus_5():
    Z, gamma, beta = make_inputs(scale=1e-2)  # var ~ 1e-4: eps shows in the 2nd digit
    Z_tilde, _ = batchnorm.forward(Z, gamma, beta)
    assert_allclose(Z_tilde, bn_forward(Z, gamma, beta, 1e-5)[0], rtol=1e-12, atol=1e-14)
    assert not np.allclose(Z_tilde, bn_forward(Z, gamma, beta, 1e-4)[0], rtol=1e-6)


def test_forward_accepts_ints_and_returns_float64():
    Z = np.arange(12).reshape(3, 4)
    Z_tilde, cache = batchnorm.forward(Z, np.ones((3, 1), dtype=int), np.zeros((3, 1)))
    assert Z_tilde.dtype == np.float64 and cache.mu.dtype == np.float64


def test_forward_does_not_modify_its_inputs():
    Z, gamma, beta = make_inputs()
    copies = Z.copy(), gamma.copy(), beta.copy()
    batchnorm.forward(Z, gamma, beta)
    for before, after in zip(copies, (Z, gamma, beta), strict=True):
        assert_array_equal(before, after)


@pytest.mark.parametrize("seed", range(4))
def test_Z_norm_rows_have_mean_0_and_variance_var_over_var_plus_eps(seed):
    # Each row of Z_norm has mean 0 and (biased) variance var / (var + eps) exactly, which is
    # 1 - eps / (var + eps): close to 1 once var >> eps, and visibly below 1 when var ~ eps.
    Z, gamma, beta = make_inputs(n=5, m=16, seed=seed)
    row = Z[-1] - Z[-1].mean()
    Z[-1] = 0.5 * np.sqrt(EPS) * row / row.std()  # var = eps / 4: Z_norm's variance is 0.2
    _, cache = batchnorm.forward(Z, gamma, beta, eps=EPS)
    Z_norm = cache.Z_norm
    assert_allclose(Z_norm.mean(axis=1), 0.0, atol=1e-15)
    expected = (cache.var / (cache.var + EPS)).ravel()
    assert_allclose(Z_norm.var(axis=1), expected, rtol=1e-12)
    assert_allclose(Z_norm.var(axis=1)[:-1], 1.0, rtol=1e-4)  # var >> eps: ~1
    assert_allclose(Z_norm.var(axis=1)[-1], 0.2, rtol=1e-9)  # var ~ eps: well below 1


def test_gamma_sqrt_var_eps_and_beta_mu_give_Z_back():
    Z, gamma, beta = make_inputs(n=6, m=10, seed=5)
    _, cache = batchnorm.forward(Z, gamma, beta, eps=EPS)
    Z_back, _ = batchnorm.forward(Z, np.sqrt(cache.var + EPS), cache.mu, eps=EPS)
    assert_allclose(Z_back, Z, rtol=1e-12, atol=1e-13)


def test_bias_cancels_a_constant_per_row_leaves_Z_tilde_unchanged():
    # Z = W A + b: b adds a constant to each row, the mean takes it away again. This is why
    # batch norm can eliminate b.
    Z, gamma, beta = make_inputs(n=5, m=12, seed=6)
    b = np.random.default_rng(7).standard_normal((5, 1))
    Z_tilde, _ = batchnorm.forward(Z, gamma, beta)
    shifted, _ = batchnorm.forward(Z + b, gamma, beta)
    assert_allclose(shifted, Z_tilde, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize(("n", "m", "seed"), [(1, 2, 0), (4, 8, 1), (6, 32, 2), (3, 3, 3)])
def test_each_stage_equals_its_chain_rule_formula(n, m, seed):
    """The stages against the chain rule written out with explicit sums (CS231n's staged form,
    dmu with its term through var), and dZ against the reference's closed form."""
    Z, gamma, beta = make_inputs(n, m, seed)
    _, cache = batchnorm.forward(Z, gamma, beta, eps=EPS)
    dZ_tilde = np.random.default_rng(seed + 100).standard_normal((n, m))
    steps = batchnorm.backward_steps(dZ_tilde, cache)
    Z_centered, var_eps = Z - Z.mean(axis=1, keepdims=True), cache.var + EPS
    dZ_norm = dZ_tilde * gamma
    dvar = np.sum(dZ_norm * Z_centered * -0.5 * var_eps**-1.5, axis=1, keepdims=True)
    dmu = np.sum(-dZ_norm / np.sqrt(var_eps), axis=1, keepdims=True) + dvar * np.mean(
        -2.0 * Z_centered, axis=1, keepdims=True
    )
    dZ = dZ_norm / np.sqrt(var_eps) + dvar * 2.0 * Z_centered / m + dmu / m
    expected = {
        "dbeta": dZ_tilde.sum(axis=1, keepdims=True),
        "dgamma": np.sum(dZ_tilde * cache.Z_norm, axis=1, keepdims=True),
        "dZ_norm": dZ_norm,
        "dvar": dvar,
        "dmu": dmu,
        "dZ": dZ,
    }
    assert list(steps._fields) == list(expected)
    for name, value in expected.items():
        got = getattr(steps, name)
        assert got.shape == value.shape == ((n, m) if name in ("dZ_norm", "dZ") else (n, 1))
        # dZ is a difference of terms of size gamma / sigma * |dZ_tilde|; with m = 2 it cancels
        # to a few digits, so its absolute tolerance is set on that scale, not on dZ's own.
        scale = np.abs(gamma / np.sqrt(var_eps)).max() * np.abs(dZ_tilde).max()
        assert_allclose(
            got, value, rtol=1e-12, atol=1e-14 * max(scale, np.abs(value).max()), err_msg=name
        )
    for got, staged in zip(
        batchnorm.backward(dZ_tilde, cache), (steps.dZ, steps.dgamma, steps.dbeta), strict=True
    ):
        assert_array_equal(got, staged)  # backward is the staged pass, not another


@pytest.mark.parametrize("seed", range(3))
def test_backward_matches_reference_jacobian(seed):
    Z, gamma, beta = make_inputs(n=4, m=9, seed=seed)
    _, cache = batchnorm.forward(Z, gamma, beta, eps=EPS)
    dZ_tilde = np.random.default_rng(seed + 50).standard_normal((4, 9))
    dZ, dgamma, dbeta = batchnorm.backward(dZ_tilde, cache)
    _, _, ref_var, ref_norm = bn_forward(Z, gamma, beta, EPS)
    ref_dZ, ref_dgamma, ref_dbeta = bn_backward(dZ_tilde, ref_norm, gamma, ref_var, EPS)
    assert_allclose(dZ, ref_dZ, rtol=1e-10, atol=1e-13 * np.abs(ref_dZ).max())
    assert_allclose(dgamma, ref_dgamma, rtol=1e-12, atol=1e-14)
    assert_allclose(dbeta, ref_dbeta, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", range(3))
def test_numerical_gradient_check_of_forward(seed):
    # J = sum(R * Z_tilde) for a fixed random R, so dJ/dZ_tilde = R.
    Z, gamma, beta = make_inputs(n=3, m=8, seed=seed)
    R = np.random.default_rng(seed + 10).standard_normal(Z.shape)

    def J():
        return float(np.sum(R * batchnorm.forward(Z, gamma, beta, eps=EPS)[0]))

    _, cache = batchnorm.forward(Z, gamma, beta, eps=EPS)
    dZ, dgamma, dbeta = batchnorm.backward(R, cache)
    for name, P, analytic in [("Z", Z, dZ), ("gamma", gamma, dgamma), ("beta", beta, dbeta)]:
        numeric = numeric_grad(J, P)
        assert rel_error(analytic, numeric) < 1e-7, name


def test_dZ_rows_sum_to_zero():
    # Z's gradient is orthogonal to a constant per row: the reason a kept b never learns.
    Z, gamma, beta = make_inputs(n=5, m=16, seed=8)
    _, cache = batchnorm.forward(Z, gamma, beta)
    dZ_tilde = np.random.default_rng(9).standard_normal(Z.shape)
    dZ, _, _ = batchnorm.backward(dZ_tilde, cache)
    assert np.abs(dZ.sum(axis=1)).max() < 1e-12


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda Z, g, b: (Z[:, :1], g, b), "at least 2 examples"),
        (lambda Z, g, b: (Z[:, :0], g, b), "no examples"),
        (lambda Z, g, b: (np.where(Z > 0, np.nan, Z), g, b), "Z contains NaN or inf"),
        (lambda Z, g, b: (np.where(Z > 0, np.inf, Z), g, b), "Z contains NaN or inf"),
        (lambda Z, g, b: (np.where(Z > 0, -np.inf, Z), g, b), "Z contains NaN or inf"),
        (lambda Z, g, b: (Z[0], g[:1], b[:1]), "Z must be 2-D"),
        (lambda Z, g, b: (Z[None], g, b), "Z must be 2-D"),
        (lambda Z, g, b: (Z, g[:-1], b), r"gamma must have shape \(4, 1\)"),
        (lambda Z, g, b: (Z, g.T, b), r"gamma must have shape \(4, 1\)"),
        (lambda Z, g, b: (Z, g.ravel(), b), "gamma must be 2-D"),
        (lambda Z, g, b: (Z, g, np.vstack([b, b])), r"beta must have shape \(4, 1\)"),
        (lambda Z, g, b: (Z, np.full_like(g, np.nan), b), "gamma contains NaN or inf"),
        (lambda Z, g, b: (Z, g, np.full_like(b, np.inf)), "beta contains NaN or inf"),
        (lambda Z, g, b: ([["a", "b"], ["c", "d"]], g[:2], b[:2]), "Z must be a numeric array"),
    ],
    ids=[
        "m=1",
        "m=0",
        "nan",
        "inf",
        "-inf",
        "Z 1-D",
        "Z 3-D",
        "gamma short",
        "gamma row",
        "gamma 1-D",
        "beta long",
        "gamma nan",
        "beta inf",
        "Z strings",
    ],
)
def test_bad_input_raises_value_error_naming_the_problem(change, fragment):
    Z, gamma, beta = change(*make_inputs(n=4, m=6))
    with pytest.raises(ValueError, match=fragment):
        batchnorm.forward(Z, gamma, beta)


@pytest.mark.parametrize("eps", [0.0, -1e-5, np.nan, np.inf])
def test_bad_eps_raises_value_error(eps):
    Z, gamma, beta = make_inputs()
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        batchnorm.forward(Z, gamma, beta, eps=eps)


@pytest.mark.parametrize("eps", ["1e-5", None, [1e-5], 1j])
def test_non_numeric_eps_raises_value_error(eps):
    Z, gamma, beta = make_inputs()
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        batchnorm.forward(Z, gamma, beta, eps=eps)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda dZ: dZ[0], "must be 2-D"),
        (lambda dZ: dZ[:, :1], "forward's shape"),
        (lambda dZ: np.where(dZ > 0, np.nan, dZ), "NaN or inf"),
    ],
)
def test_backward_refuses_a_gradient_that_does_not_fit_the_forward(bad, message):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((3, 5))
    _, cache = batchnorm.forward(Z, np.ones((3, 1)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=message):
        batchnorm.backward(bad(rng.standard_normal((3, 5))), cache)
