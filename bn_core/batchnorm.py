"""Batch normalization of one layer's pre-activations, forward and backward.

Examples are columns: Z is (n, m), one row per hidden unit, one column per example of the
mini-batch. Two backward passes are kept on purpose: `backward_staged` retraces the forward
steps one line at a time (the "under the hood" page shows it), `backward` is the compact closed
form the network uses. A test holds them equal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core.checks import check_column, check_matrix, is_number

DEFAULT_EPS = 1e-5


@dataclass(frozen=True, slots=True)
class BatchNormCache:
    """What the backward pass needs from one training-mode forward.

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
    """Compact backward pass, after checking dZ_tilde against the forward's shape.

    dZ_tilde: (n, m), finite. Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1); see
    `backward_unchecked` for the equations.
    """
    dZ_tilde = check_matrix(dZ_tilde, "dZ_tilde", rows=cache.Z_norm.shape[0])
    if dZ_tilde.shape != cache.Z_norm.shape:
        raise ValueError(f"dZ_tilde must have the forward's shape {cache.Z_norm.shape}, "
                         f"got {dZ_tilde.shape}")
    return backward_unchecked(dZ_tilde, cache)


def backward_unchecked(dZ_tilde, cache):
    """Compact backward pass (the one the network uses, on arrays it made itself).

        dbeta  = sum_i dZ_tilde(i)
        dgamma = sum_i dZ_tilde(i) * Z_norm(i)
        dZ     = gamma / (m * sqrt(var + eps)) * (m * dZ_tilde - dbeta - Z_norm * dgamma)

    dZ_tilde: (n, m). Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1).
    """
    m = dZ_tilde.shape[1]
    dbeta = _row_sums(dZ_tilde)
    scratch = dZ_tilde * cache.Z_norm
    dgamma = _row_sums(scratch)
    # In place, in the formula's order of operations (same numbers, fewer temporaries).
    dZ = dZ_tilde * m
    dZ -= dbeta
    dZ -= np.multiply(cache.Z_norm, dgamma, out=scratch)
    dZ *= cache.gamma * cache.inv_std / m
    return dZ, dgamma, dbeta


def backward_staged(dZ_tilde, cache):
    """Backward pass retracing the forward steps one by one, in reverse.

    Forward steps (mirrored below, last first):
        1. mu       = mean(Z)                  5. std     = sqrt(var + eps)
        2. Zc       = Z - mu                   6. inv_std = 1 / std
        3. sq       = Zc ** 2                  7. Z_norm  = Zc * inv_std
        4. var      = mean(sq)                 8. Z_tilde = gamma * Z_norm + beta

    dZ_tilde: (n, m). Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1).
    """
    m = dZ_tilde.shape[1]
    Zc, std, inv_std = cache.Z_centered, cache.std, cache.inv_std
    # 8. Z_tilde = gamma * Z_norm + beta
    dbeta = np.sum(dZ_tilde, axis=1, keepdims=True)
    dgamma = np.sum(dZ_tilde * cache.Z_norm, axis=1, keepdims=True)
    dZ_norm = dZ_tilde * cache.gamma
    # 7. Z_norm = Zc * inv_std  (Zc reaches Z_norm directly and through var: two paths)
    dinv_std = np.sum(dZ_norm * Zc, axis=1, keepdims=True)
    dZc_direct = dZ_norm * inv_std
    # 6. inv_std = 1 / std
    dstd = -dinv_std / std**2
    # 5. std = sqrt(var + eps)
    dvar = 0.5 * dstd / std
    # 4. var = mean(sq)
    dsq = np.ones_like(Zc) * dvar / m
    # 3. sq = Zc ** 2
    dZc_through_var = 2.0 * Zc * dsq
    dZc = dZc_direct + dZc_through_var
    # 2. Zc = Z - mu  (Z reaches Zc directly and through mu)
    dmu = -np.sum(dZc, axis=1, keepdims=True)
    # 1. mu = mean(Z)
    dZ = dZc + np.ones_like(Zc) * dmu / m
    return dZ, dgamma, dbeta
