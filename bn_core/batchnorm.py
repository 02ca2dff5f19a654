"""Batch normalization of one layer's pre-activations, forward and backward.

Examples are columns: Z is (n, m), one row per hidden unit, one column per example of the
mini-batch. The backward pass is written once, in stages (`backward_steps`): the network runs
it, and the page "Under the hood" shows its source and its numbers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bn_core.checks import check_column, check_matrix, is_number

DEFAULT_EPS = 1e-5


class BatchNormCache(NamedTuple):
    """What the backward pass needs from one training-mode forward (read-only, and cheap to
    make: the network makes one per layer and step).

    Shapes: Z, Z_centered, Z_norm are (n, m); mu, var, std, inv_std, gamma are (n, 1).
    """

    Z: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    eps: float
    Z_centered: np.ndarray
    std: np.ndarray
    inv_std: np.ndarray
    Z_norm: np.ndarray
    gamma: np.ndarray


def forward(Z, gamma, beta, eps=DEFAULT_EPS):
    """Normalize each unit over the mini-batch, then scale and shift (training mode).

        mu      = 1/m * sum_i Z(i)
        var     = 1/m * sum_i (Z(i) - mu)^2
        Z_norm  = (Z - mu) / sqrt(var + eps)
        Z_tilde = gamma * Z_norm + beta

    Z: (n, m) with m >= 2; gamma, beta: (n, 1); eps > 0.
    Returns Z_tilde (n, m) and a BatchNormCache.
    """
    Z = check_matrix(Z, "Z")
    n, m = Z.shape
    if m < 2:
        raise ValueError(
            f"batch norm needs a mini-batch of at least 2 examples in training mode, got m={m}"
        )
    gamma = check_column(gamma, "gamma", n)
    beta = check_column(beta, "beta", n)
    if not (is_number(eps) and np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    return forward_unchecked(Z, gamma, beta, float(eps))


def forward_unchecked(Z, gamma, beta, eps):
    """`forward` without input validation, for the network's inner loop."""
    m = Z.shape[1]
    mu = _row_sums(Z) / m
    Z_centered = Z - mu
    var = _row_sums(Z_centered * Z_centered) / m
    std = np.sqrt(var + eps)
    inv_std = 1.0 / std
    Z_norm = Z_centered * inv_std
    Z_tilde = Z_norm * gamma
    Z_tilde += beta
    return Z_tilde, BatchNormCache(Z, mu, var, eps, Z_centered, std, inv_std, Z_norm, gamma)


GEMV_MIN_SIZE = 4096  # measured: below this, the plain reduction is the faster one


def _row_sums(A):
    """sum_i A(i) over the mini-batch, as an (n, 1) column. On larger arrays a matrix-vector
    product with a column of ones: the same sums, added in another order (equal up to
    rounding), in less than half the time of np.sum(A, axis=1)."""
    if A.size < GEMV_MIN_SIZE:
        return np.add.reduce(A, axis=1, keepdims=True)
    return (A @ np.ones(A.shape[1])).reshape(-1, 1)


def forward_eval(Z, gamma, beta, running_mu, running_var, eps=DEFAULT_EPS):
    """Test-time batch norm: the running averages stand in for the mini-batch statistics.

        Z_norm  = (Z - running_mu) / sqrt(running_var + eps)
        Z_tilde = gamma * Z_norm + beta

    Z: (n, m), any m >= 1 (one example works); gamma, beta, running_mu, running_var: (n, 1).
    Returns Z_tilde (n, m).
    """
    return gamma * ((Z - running_mu) / np.sqrt(running_var + eps)) + beta


def backward(dZ_tilde, cache):
    """The backward pass, after checking dZ_tilde against the forward's shape.

    dZ_tilde: (n, m), finite. Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1); see
    `backward_steps` for the equations.
    """
    dZ_tilde = check_matrix(dZ_tilde, "dZ_tilde", rows=cache.Z_norm.shape[0])
    if dZ_tilde.shape != cache.Z_norm.shape:
        raise ValueError(
            f"dZ_tilde must have the forward's shape {cache.Z_norm.shape}, got {dZ_tilde.shape}"
        )
    return backward_unchecked(dZ_tilde, cache)


def backward_unchecked(dZ_tilde, cache):
    """`backward` without the check, for the network's inner loop (arrays it made itself).

    dZ_tilde: (n, m). Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1) of `backward_steps`.
    """
    steps = backward_steps(dZ_tilde, cache)
    return steps.dZ, steps.dgamma, steps.dbeta


class BackwardSteps(NamedTuple):
    """Every array of `backward_steps`, in the order it computes them.

    dbeta, dgamma, dvar, dmu: (n, 1); dZ_norm, dZ: (n, m).
    """

    dbeta: np.ndarray
    dgamma: np.ndarray
    dZ_norm: np.ndarray
    dvar: np.ndarray
    dmu: np.ndarray
    dZ: np.ndarray


def backward_steps(dZ_tilde, cache):
    """The backward pass, one stage per forward step undone, last first; the network runs it.

    The chain rule, with sums over the m examples i of the mini-batch:
        dbeta   = sum_i dZ_tilde(i)                                           (n, 1)
        dgamma  = sum_i dZ_tilde(i) * Z_norm(i)                               (n, 1)
        dZ_norm = gamma * dZ_tilde                                            (n, m)
        dvar    = sum_i dZ_norm(i) * (Z(i) - mu) * -1/2 (var + eps)^(-3/2)    (n, 1)
                = -gamma * dgamma / (2 (var + eps))
        dmu     = sum_i dZ_norm(i) * -1 / sqrt(var + eps)
                  + dvar * 1/m sum_i -2 (Z(i) - mu)      (0: Z - mu sums to 0) (n, 1)
                = -gamma * dbeta / sqrt(var + eps)
        dZ      = dZ_norm / sqrt(var + eps)                  (directly)       (n, m)
                  + dvar * 2 (Z - mu) / m                    (through var)
                  + dmu / m                                  (through mu)
    The second lines of dvar and dmu take sum_i dZ_norm(i) = gamma * dbeta and
    sum_i dZ_norm(i) (Z(i) - mu) = gamma * sqrt(var + eps) * dgamma: no new sum over the batch.

    dZ_tilde: (n, m); cache: the BatchNormCache of `forward`. Returns a BackwardSteps.
    """
    m = dZ_tilde.shape[1]
    gamma, Z_centered, inv_std = cache.gamma, cache.Z_centered, cache.inv_std

    # undo Z_tilde = gamma * Z_norm + beta
    dbeta = _row_sums(dZ_tilde)
    dgamma = _row_sums(dZ_tilde * cache.Z_norm)
    dZ_norm = dZ_tilde * gamma

    # undo Z_norm = (Z - mu) / sqrt(var + eps): var's share
    dvar = -0.5 * gamma * dgamma * inv_std**2

    # undo Z - mu: mu's share (it reaches Z_norm directly and through var)
    dmu = -gamma * dbeta * inv_std

    # undo mu = mean(Z), var = mean((Z - mu)^2): Z reaches the loss three ways
    dZ = dZ_norm * inv_std
    dZ += Z_centered * (2.0 / m * dvar)
    dZ += dmu / m
    return BackwardSteps(dbeta, dgamma, dZ_norm, dvar, dmu, dZ)
