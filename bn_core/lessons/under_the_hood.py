"""The batch-norm backward pass one stage at a time, and a gradient check of a whole network.

`staged_backward_steps` retraces `bn_core.batchnorm.backward_staged` line by line and keeps every
intermediate array, so the page can show each one beside its equation; tests hold its result
equal to `backward_staged` and to the compact `backward`. Examples are columns: Z is (n, m).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from bn_core import batchnorm, data, gradcheck
from bn_core.network import MLP, NetConfig

GRAD_DIMS = (2, 4, 3, 2)
GRAD_M = 8
GRAD_DATASET = "moons"
GRAD_H = 1e-5  # the centred difference's step: truncation h^2 and rounding 1e-16 / h balance
PASS_TOL = 1e-6  # relative error below which a parameter passes
ZERO_TOL = 1e-8  # both gradient norms below this: the gradient is zero (rounding noise only)


# --- one batch-norm layer, backward step by step ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BatchExample:
    """A small mini-batch for the walk-through, rounded to one decimal so it reads by hand.

    Z, dZ_tilde: (n, m); gamma, beta: (n, 1); cache: the BatchNormCache of forward(Z, ...);
    Z_tilde: (n, m), the forward output.
    """

    Z: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    dZ_tilde: np.ndarray
    Z_tilde: np.ndarray
    cache: batchnorm.BatchNormCache


def example_batch(n_units=1, m=6, seed=0):
    """Random Z (n_units, m), gamma, beta (n_units, 1) and an upstream gradient dZ_tilde
    (n_units, m), then the training-mode forward. m >= 2."""
    rng = np.random.default_rng(seed)
    Z = np.round(rng.normal(1.0, 2.0, (n_units, m)), 1)
    gamma = np.round(rng.uniform(0.5, 2.0, (n_units, 1)), 1)
    beta = np.round(rng.normal(0.0, 0.5, (n_units, 1)), 1)
    dZ_tilde = np.round(rng.normal(0.0, 1.0, (n_units, m)), 1)
    Z_tilde, cache = batchnorm.forward(Z, gamma, beta)
    return BatchExample(Z, gamma, beta, dZ_tilde, Z_tilde, cache)


def staged_backward_steps(dZ_tilde, cache):
    """Every intermediate of the staged backward pass, in the order it is computed.

    The forward steps, undone last first:
        1. mu = mean(Z)   2. Zc = Z - mu   3. sq = Zc**2   4. var = mean(sq)
        5. std = sqrt(var + eps)   6. inv_std = 1 / std   7. Z_norm = Zc * inv_std
        8. Z_tilde = gamma * Z_norm + beta
    dZ_tilde: (n, m); cache: a BatchNormCache. Returns a dict name -> array, in order:
    dbeta, dgamma (n, 1); dZ_norm (n, m); dinv_std (n, 1); dZc_direct (n, m); dstd, dvar (n, 1);
    dsq, dZc_through_var, dZc (n, m); dmu (n, 1); dZ (n, m).
    """
    m = dZ_tilde.shape[1]
    Zc, std, inv_std = cache.Z_centered, cache.std, cache.inv_std
    s = {}
    s["dbeta"] = np.sum(dZ_tilde, axis=1, keepdims=True)  # 8. Z_tilde = gamma Z_norm + beta
    s["dgamma"] = np.sum(dZ_tilde * cache.Z_norm, axis=1, keepdims=True)
    s["dZ_norm"] = dZ_tilde * cache.gamma
    s["dinv_std"] = np.sum(s["dZ_norm"] * Zc, axis=1, keepdims=True)  # 7. Z_norm = Zc inv_std
    s["dZc_direct"] = s["dZ_norm"] * inv_std
    s["dstd"] = -s["dinv_std"] / std**2  # 6. inv_std = 1 / std
    s["dvar"] = 0.5 * s["dstd"] / std  # 5. std = sqrt(var + eps)
    s["dsq"] = np.ones_like(Zc) * s["dvar"] / m  # 4. var = mean(sq)
    s["dZc_through_var"] = 2.0 * Zc * s["dsq"]  # 3. sq = Zc**2
    s["dZc"] = s["dZc_direct"] + s["dZc_through_var"]
    s["dmu"] = -np.sum(s["dZc"], axis=1, keepdims=True)  # 2. Zc = Z - mu
    s["dZ"] = s["dZc"] + np.ones_like(Zc) * s["dmu"] / m  # 1. mu = mean(Z)
    return s


@dataclasses.dataclass(frozen=True)
class Agreement:
    """Largest absolute differences between three ways to the same gradients (floats).

    steps_vs_staged: these steps against batchnorm.backward_staged (dZ, dgamma, dbeta);
    staged_vs_compact: backward_staged against the compact batchnorm.backward;
    sum_dZ: the largest |sum_i dZ(i)| over the units, zero up to rounding.
    """

    steps_vs_staged: float
    staged_vs_compact: float
    sum_dZ: float


def backward_agreement(dZ_tilde, cache, steps):
    """Compare `steps` (from staged_backward_steps) with both backward passes of the core.

    dZ_tilde: (n, m). Returns an Agreement.
    """
    staged = batchnorm.backward_staged(dZ_tilde, cache)
    compact = batchnorm.backward(dZ_tilde, cache)
    mine = (steps["dZ"], steps["dgamma"], steps["dbeta"])
    return Agreement(_max_diff(mine, staged), _max_diff(staged, compact),
                     float(np.max(np.abs(np.sum(steps["dZ"], axis=1)))))


def _max_diff(first, second):
    return float(max(np.max(np.abs(a - b)) for a, b in zip(first, second, strict=True)))


def gradient_paths(steps):
    """dZ split into the three paths by which Z reaches the loss, each (n, m):

        direct        dZ_norm / sqrt(var + eps)
        through var   2 (Z - mu) dvar / m
        through mu    dmu / m                  (the same for every example)

    They add up to dZ. steps: from staged_backward_steps.
    """
    through_mu = np.ones_like(steps["dZ"]) * steps["dmu"] / steps["dZ"].shape[1]
    return {"direct": steps["dZc_direct"], "through σ²": steps["dZc_through_var"],
            "through μ": through_mu}


# --- the gradient check of a small network ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GradRow:
    """One parameter's line in the gradient-check table.

    status: "pass" (relative error < PASS_TOL), "zero" (both gradients below ZERO_TOL: the
    relative error of two rounding noises means nothing), "kink" (a failure where moving one
    entry of this parameter by +-h switches a ReLU on or off, so the centred difference
    straddles the kink), or "fail".
    """

    name: str
    shape: tuple
    analytic_norm: float
    numeric_norm: float
    relative_error: float
    max_abs_analytic: float
    status: str


@dataclasses.dataclass(frozen=True)
class GradReport:
    """The table's rows, the network as text, h, and the smallest |Z_tilde| entering a ReLU
    (nan for other activations)."""

    rows: list
    network: str
    h: float
    min_relu_input: float


def gradient_check(activation="relu", batch_norm=True, eliminate_bias=True, seed=0, h=GRAD_H,
                   layer_dims=GRAD_DIMS, m=GRAD_M):
    """Centred-difference check of every parameter of a small network on one mini-batch of m
    examples from the GRAD_DATASET ("moons") set:

        d_num = (J(theta + h) - J(theta - h)) / (2h)
        relative error = ||d_num - d|| / (||d_num|| + ||d||)

    Returns a GradReport.
    """
    X, y = data.make_dataset(GRAD_DATASET, n=m, seed=seed)
    net = MLP(NetConfig(layer_dims, activation, batch_norm=batch_norm,
                        eliminate_bias=eliminate_bias, seed=seed))
    checks = gradcheck.check_network(net, X, y, h)
    relu = activation == "relu"
    min_relu = _min_relu_input(net, X) if relu else float("nan")
    rows = [_row(check, relu and _crosses_kink(net, X, check.name, h)) for check in checks]
    return GradReport(rows, repr(net), h, min_relu)


def _min_relu_input(net, X):
    """Smallest |Z_tilde| over the hidden layers in a training-mode pass. X: (n_x, m)."""
    return float(min(np.min(np.abs(t.Z_tilde)) for t in net.layer_trace(X, train=True)))


def _relu_pattern(net, X):
    """Which ReLUs are on (Z_tilde > 0), all hidden layers, one flat bool array."""
    return np.concatenate([(t.Z_tilde > 0).ravel() for t in net.layer_trace(X, train=True)])


def _crosses_kink(net, X, name, h):
    """Whether moving any one entry of params[name] by +h or -h switches a ReLU on or off.
    The entry is restored; the running averages are not touched (layer_trace)."""
    P, base = net.params[name], _relu_pattern(net, X)
    for idx in np.ndindex(P.shape):
        old = P[idx]
        for step in (h, -h):
            P[idx] = old + step
            flipped = not np.array_equal(_relu_pattern(net, X), base)
            P[idx] = old
            if flipped:
                return True
    return False


def _row(check, near_kink):
    a_norm = float(np.linalg.norm(check.analytic))
    n_norm = float(np.linalg.norm(check.numeric))
    if check.relative_error < PASS_TOL:
        status = "pass"
    elif a_norm < ZERO_TOL and n_norm < ZERO_TOL:
        status = "zero"
    else:
        status = "kink" if near_kink else "fail"
    return GradRow(check.name, check.analytic.shape, a_norm, n_norm, check.relative_error,
                   float(np.max(np.abs(check.analytic))), status)
