"""Layer normalization of one layer's pre-activations, forward and backward.

The same formulas as batch norm, summed along the other axis: batch norm normalizes each unit
(row) over the examples of the mini-batch, layer norm normalizes each example (column) over the
layer's n units. So layer norm needs no other example: no running averages, the same output at
test time as in training, and a mini-batch of one trains. gamma and beta stay per unit, (n, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core.batchnorm import DEFAULT_EPS, GEMV_MIN_SIZE
from bn_core.batchnorm import _row_sums as row_sums
from bn_core.checks import check_column, check_matrix, is_number


@dataclass(frozen=True, slots=True)
class LayerNormCache:
    """What the backward pass needs from one forward.

    Shapes: Z, Z_norm are (n, m); mu, var, inv_std are (1, m), one per example; gamma (n, 1).
    """

    Z: np.ndarray
    mu: np.ndarray
    var: np.ndarray
    eps: float
    inv_std: np.ndarray
    Z_norm: np.ndarray
    gamma: np.ndarray


def forward(Z, gamma, beta, eps=DEFAULT_EPS):
    """Normalize each example over the layer's units, then scale and shift per unit.

        batch norm (for comparison)              layer norm
        mu  = 1/m * sum_i Z(i)      (n, 1)       mu  = 1/n * sum_j Z[j]          (1, m)
        var = 1/m * sum_i (Z(i) - mu)^2          var = 1/n * sum_j (Z[j] - mu)^2
        Z_norm  = (Z - mu) / sqrt(var + eps)     (the same line: mu and var broadcast)
        Z_tilde = gamma * Z_norm + beta          (the same line: gamma, beta are (n, 1))

    i runs over the m examples (columns), j over the n units (rows). Nothing is averaged
    across examples, so any m >= 1 works, one example included.
    Z: (n, m); gamma, beta: (n, 1); eps > 0. Returns Z_tilde (n, m) and a LayerNormCache.
    """
    Z = check_matrix(Z, "Z")
    n = Z.shape[0]
    gamma = check_column(gamma, "gamma", n)
    beta = check_column(beta, "beta", n)
    if not (is_number(eps) and np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    return forward_unchecked(Z, gamma, beta, float(eps))


def forward_unchecked(Z, gamma, beta, eps):
    """`forward` without input validation, for the network's inner loop."""
    n = Z.shape[0]
    mu = _column_sums(Z) / n
    Z_norm = Z - mu
    var = _column_sums(Z_norm * Z_norm) / n
    inv_std = 1.0 / np.sqrt(var + eps)
    Z_norm *= inv_std
    Z_tilde = Z_norm * gamma
    Z_tilde += beta
    return Z_tilde, LayerNormCache(Z, mu, var, eps, inv_std, Z_norm, gamma)


def _column_sums(A):
    """sum_j A[j] over the units, as a (1, m) row; on larger arrays a vector-matrix product
    with a row of ones (the same sums in another order, as batch norm's row sums do)."""
    if A.size < GEMV_MIN_SIZE:
        return np.add.reduce(A, axis=0, keepdims=True)
    return (np.ones(A.shape[0]) @ A).reshape(1, -1)


def backward(dZ_tilde, cache):
    """Backward pass, after checking dZ_tilde against the forward's shape.

    dZ_tilde: (n, m), finite. Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1); see
    `backward_unchecked` for the equations.
    """
    dZ_tilde = check_matrix(dZ_tilde, "dZ_tilde", rows=cache.Z_norm.shape[0])
    if dZ_tilde.shape != cache.Z_norm.shape:
        raise ValueError(
            f"dZ_tilde must have the forward's shape {cache.Z_norm.shape}, got {dZ_tilde.shape}"
        )
    return backward_unchecked(dZ_tilde, cache)


def backward_unchecked(dZ_tilde, cache):
    """Backward pass (the one the network uses, on arrays it made itself).

    gamma and beta are per unit, so their gradients sum over the examples, as in batch norm:
        dbeta  = sum_i dZ_tilde(i)                  (n, 1)
        dgamma = sum_i dZ_tilde(i) * Z_norm(i)      (n, 1)
    The normalization ran down each column, so dZ's correction terms sum over the units:
        dZ_norm = gamma * dZ_tilde
        dZ      = 1 / (n * sqrt(var + eps)) * (n * dZ_norm - sum_j dZ_norm[j]
                                                - Z_norm * sum_j dZ_norm[j] * Z_norm[j])
    (batch norm's dZ is the same line with m and sum_i, where gamma comes out of the sums.)

    dZ_tilde: (n, m). Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1).
    """
    n = dZ_tilde.shape[0]
    Z_norm = cache.Z_norm
    dbeta = row_sums(dZ_tilde)
    scratch = dZ_tilde * Z_norm
    dgamma = row_sums(scratch)
    dZ_norm = dZ_tilde * cache.gamma
    np.multiply(dZ_norm, Z_norm, out=scratch)
    proj = _column_sums(scratch)
    # In place, in the formula's order of operations (same numbers, fewer temporaries).
    dZ = dZ_norm * n
    dZ -= _column_sums(dZ_norm)
    dZ -= np.multiply(Z_norm, proj, out=scratch)
    dZ *= cache.inv_std / n
    return dZ, dgamma, dbeta
