"""Batch norm, step by step: one hidden layer on one mini-batch, every stage kept.

    Z = W X + b -> mu, var -> Z_norm -> Z_tilde = gamma * Z_norm + beta -> A = g(Z_tilde)

The layer has N_UNITS units and fixed weights W_LESSON; its inputs are a mini-batch of the
"moons" set. gamma and beta are set for one unit (the one the page shows); the other units keep
gamma = 1, beta = 0. Examples are columns: X is (2, m), Z and everything after it (N_UNITS, m).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from bn_core import batchnorm, data
from bn_core.layers import activation_forward, dense_forward

W_LESSON = np.array([[2.0, 1.5], [-0.8, 2.0], [2.5, -0.6]])  # (n, 2): three units, two inputs
N_UNITS = W_LESSON.shape[0]
POOL = 256  # mini-batches are the first m columns of one fixed pool of examples
SATURATION = 0.1  # saturated where g'(z) < SATURATION * max g'
TABLE_ROWS = 8


@functools.lru_cache(maxsize=4)
def _pool(seed):
    X, _ = data.make_dataset("moons", n=POOL, noise=0.15, seed=seed)
    X.setflags(write=False)
    return X


def mini_batch(m=64, seed=0):
    """The first m examples of the lesson's pool: X (2, m), 2 <= m <= POOL."""
    if not 2 <= m <= POOL:
        raise ValueError(f"the mini-batch needs 2..{POOL} examples, got m={m}")
    return _pool(seed)[:, :m]


def pre_activations(b, m=64, seed=0):
    """Z = W X + b for the lesson's mini-batch; b is a number added to every unit.

    Returns Z (N_UNITS, m).
    """
    return dense_forward(mini_batch(m, seed), W_LESSON, np.full((N_UNITS, 1), float(b)))


def unit_params(unit, gamma, beta):
    """gamma, beta (N_UNITS, 1): the given values for `unit`, 1 and 0 for the others."""
    if not 0 <= unit < N_UNITS:
        raise ValueError(f"unit must be 0..{N_UNITS - 1}, got {unit}")
    g, bt = np.ones((N_UNITS, 1)), np.zeros((N_UNITS, 1))
    g[unit, 0], bt[unit, 0] = gamma, beta
    return g, bt


def identity_params(b, eps, unit, m=64, seed=0):
    """The gamma and beta that make batch norm give Z back for `unit`:

        gamma = sqrt(var + eps),  beta = mu   =>   Z_tilde = Z

    Returns (gamma, beta) as floats.
    """
    Z = pre_activations(b, m, seed)[unit]
    mu = Z.mean()
    return float(np.sqrt(((Z - mu) ** 2).mean() + eps)), float(mu)


# ---------------------------------------------------------------- saturation


def saturation_zone(activation):
    """(z_lo, z_hi): g'(z) < SATURATION * max g' where z < z_lo or z > z_hi (relu: z <= 0).

    sigmoid: s (1 - s) < 0.1 * 1/4   <=>  |z| > log(s_hi / (1 - s_hi)), s_hi = (1 + sqrt(0.9)) / 2
    tanh:    1 - t^2 < 0.1           <=>  |z| > atanh(sqrt(0.9))
    """
    if activation == "relu":
        return 0.0, np.inf
    if activation == "sigmoid":
        s = (1 + np.sqrt(1 - SATURATION)) / 2
        z = float(np.log(s / (1 - s)))
        return -z, z
    if activation == "tanh":
        z = float(np.arctanh(np.sqrt(1 - SATURATION)))
        return -z, z
    return -np.inf, np.inf  # linear: never saturates


def saturated(Z_tilde, activation):
    """Boolean mask, Z_tilde's shape: where the activation's slope is (nearly) gone.

    ReLU: z <= 0 (g' = 0 there, the course's dead zone); sigmoid and tanh: g' below
    SATURATION of its peak.
    """
    lo, hi = saturation_zone(activation)
    if activation == "relu":
        return Z_tilde <= lo
    return (Z_tilde < lo) | (Z_tilde > hi)


# ---------------------------------------------------------------- all the stages


@dataclass(frozen=True)
class Stages:
    """Every stage of batch norm on the lesson's layer, for one mini-batch.

    Z, Z_norm, Z_tilde, A, Z_wrong, flat: (N_UNITS, m); mu, var, gamma, beta: (N_UNITS, 1).
    Z_wrong = (Z - mu) / var is the common mistake (dividing by the variance).
    flat: where the activation is saturated (dead for ReLU).
    """

    Z: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    eps: float
    Z_norm: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    Z_tilde: np.ndarray
    activation: str
    A: np.ndarray
    Z_wrong: np.ndarray
    flat: np.ndarray


def run(
    b=1.0, gamma=1.0, beta=0.0, eps=batchnorm.DEFAULT_EPS, activation="relu", unit=0, m=64, seed=0
):
    """Z = W X + b, then batch norm (gamma, beta on `unit`) and A = g(Z_tilde).

    mu = 1/m sum_i Z(i)          var = 1/m sum_i (Z(i) - mu)^2
    Z_norm = (Z - mu) / sqrt(var + eps)     Z_tilde = gamma Z_norm + beta     A = g(Z_tilde)
    """
    Z = pre_activations(b, m, seed)
    g, bt = unit_params(unit, gamma, beta)
    Z_tilde, cache = batchnorm.forward(Z, g, bt, eps)
    A = activation_forward(Z_tilde, activation)
    return Stages(
        Z,
        cache.mu,
        cache.var,
        eps,
        cache.Z_norm,
        g,
        bt,
        Z_tilde,
        activation,
        A,
        (Z - cache.mu) / cache.var,
        saturated(Z_tilde, activation),
    )


def unit_summary(s, unit):
    """The numbers the page prints for one unit, as floats.

    var(Z_norm) = var / (var + eps)     var(wrong) = 1 / var
    max |Z_tilde - Z| is 0 (to rounding) exactly when gamma = sqrt(var + eps), beta = mu.
    """
    u = unit
    return {
        "mu": float(s.mu[u, 0]),
        "var": float(s.var[u, 0]),
        "std": float(np.sqrt(s.var[u, 0] + s.eps)),
        "norm_mean": float(s.Z_norm[u].mean()),
        "norm_var": float(s.Z_norm[u].var()),
        "tilde_mean": float(s.Z_tilde[u].mean()),
        "tilde_var": float(s.Z_tilde[u].var()),
        "wrong_var": float(s.Z_wrong[u].var()),
        "max_diff": float(np.abs(s.Z_tilde[u] - s.Z[u]).max()),
        "flat_fraction": float(s.flat[u].mean()),
        "dead": bool(s.activation == "relu" and s.flat[u].all()),
    }


def example_table(s, unit, rows=TABLE_ROWS):
    """The first `rows` examples of one unit at every stage: column name -> (rows,) array."""
    u, k = unit, min(rows, s.Z.shape[1])
    return {
        "z": s.Z[u, :k],
        "z − μ": s.Z[u, :k] - s.mu[u, 0],
        "z_norm": s.Z_norm[u, :k],
        "z̃": s.Z_tilde[u, :k],
        "a = g(z̃)": s.A[u, :k],
        "(z − μ)/σ²  ✗": s.Z_wrong[u, :k],
    }


def units_table(s):
    """Per unit: mu, var, gamma, beta and the saturated fraction: name -> (N_UNITS,) array."""
    return {
        "μ": s.mu[:, 0],
        "σ²": s.var[:, 0],
        "γ": s.gamma[:, 0],
        "β": s.beta[:, 0],
        "saturated share": s.flat.mean(axis=1),
    }


# ---------------------------------------------------------------- why gamma and beta exist

LINEAR_HALF_WIDTH = 1.0  # |z| < 1: where the sigmoid is nearly its tangent 1/2 + z/4


def sigmoid_tangent_gap(half_width=LINEAR_HALF_WIDTH, n=2001):
    """How far the sigmoid strays from its tangent at 0 on |z| <= half_width:

        max |sigmoid(z) - (1/2 + z/4)|     (0.019 for half_width = 1)

    Returns a float.
    """
    z = np.linspace(-half_width, half_width, n)
    return float(np.abs(activation_forward(z, "sigmoid") - (0.5 + z / 4)).max())


@dataclass(frozen=True)
class LinearPart:
    """One unit through a sigmoid, with gamma = 1, beta = 0 and with the page's gamma, beta.

    z_plain, z_chosen: (m,) the unit's Z_tilde (z_plain is Z_norm); a_plain, a_chosen: (m,)
    sigmoid of each. share_plain, share_chosen: the share of examples with |z_tilde| < 1, the
    sigmoid's nearly linear part. r2_plain, r2_chosen: the share of A's variance a straight
    line through (z_tilde, a) explains (1 for a unit that acts linearly). gap: sigmoid's
    largest distance from its tangent on |z| < 1.
    """

    z_plain: np.ndarray
    a_plain: np.ndarray
    z_chosen: np.ndarray
    a_chosen: np.ndarray
    share_plain: float
    share_chosen: float
    r2_plain: float
    r2_chosen: float
    gamma: float
    beta: float
    gap: float


def linear_share(z, half_width=LINEAR_HALF_WIDTH):
    """The share of the values z (any shape) with |z| < half_width, as a float."""
    return float((np.abs(z) < half_width).mean())


def linear_fit_r2(z, a):
    """The share of the variance of a (m,) that the best straight line in z (m,) explains:
    corr(z, a)^2 (1 when a is linear in z; 1 by convention when a is constant)."""
    if np.ptp(a) == 0 or np.ptp(z) == 0:
        return 1.0
    return float(np.corrcoef(z, a)[0, 1] ** 2)


def linear_part(b=1.0, gamma=1.0, beta=0.0, eps=batchnorm.DEFAULT_EPS, unit=0, m=64, seed=0):
    """Why gamma and beta exist, with a sigmoid g: Z_norm has mean 0 and variance 1, so with
    gamma = 1, beta = 0 most of it sits in |z| < 1, where sigmoid(z) is nearly 1/2 + z/4 and
    the unit is almost linear; gamma and beta can move it onto the curved parts.

    Returns a LinearPart for `unit` (both runs use the lesson's mini-batch of m examples).
    """
    plain = run(b, 1.0, 0.0, eps, "sigmoid", unit, m, seed)
    chosen = run(b, gamma, beta, eps, "sigmoid", unit, m, seed)
    zp, ap = plain.Z_tilde[unit].copy(), plain.A[unit].copy()
    zc, ac = chosen.Z_tilde[unit].copy(), chosen.A[unit].copy()
    return LinearPart(
        zp,
        ap,
        zc,
        ac,
        linear_share(zp),
        linear_share(zc),
        linear_fit_r2(zp, ap),
        linear_fit_r2(zc, ac),
        float(gamma),
        float(beta),
        sigmoid_tangent_gap(),
    )
