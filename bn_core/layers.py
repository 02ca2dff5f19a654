"""Dense layers, activations and the softmax cross-entropy loss, in the course's notation.

Examples are columns: A_prev is (n_{l-1}, m), W is (n_l, n_{l-1}), b is (n_l, 1) or None when
batch norm has eliminated it.
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def dense_forward(A_prev, W, b=None):
    """Z = W A_prev + b  (b left out when it is None).

    A_prev: (n_{l-1}, m); W: (n_l, n_{l-1}); b: (n_l, 1) or None. Returns Z (n_l, m).
    """
    Z = W @ A_prev
    if b is not None:
        Z += b
    return Z


def dense_backward(dZ, A_prev, W, dW, db=None):
    """Gradients of Z = W A_prev + b: dW and db written into the arrays given, dA_prev returned.

        dW = dZ A_prev^T     db = sum_i dZ(i)     dA_prev = W^T dZ

    dZ: (n_l, m); A_prev: (n_{l-1}, m); W, dW: (n_l, n_{l-1}); db: (n_l, 1), or None for a
    layer without b. (The network passes views of its flat gradient vector as dW and db.)
    Returns dA_prev (n_{l-1}, m).
    """
    dense_param_grads(dZ, A_prev, dW, db)
    return W.T @ dZ


def dense_param_grads(dZ, A_prev, dW, db=None):
    """dW = dZ A_prev^T and db = sum_i dZ(i), written into dW and db (db None: no b).

    `dense_backward` without dA_prev, for the first layer: dA_prev would be dX, which nothing
    needs. Shapes as in `dense_backward`.
    """
    np.matmul(dZ, A_prev.T, out=dW)
    if db is not None:
        np.add.reduce(dZ, axis=1, keepdims=True, out=db)


def sigmoid(Z):
    """1 / (1 + exp(-Z)), written with tanh so it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def activation_forward(Z, name):
    """A = g(Z) for g in relu, tanh, sigmoid, linear. Z: (n, m); returns A (n, m)."""
    if name == "relu":
        return np.maximum(Z, 0.0)
    if name == "tanh":
        return np.tanh(Z)
    if name == "sigmoid":
        return sigmoid(Z)
    if name == "linear":
        return Z
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def activation_backward(dA, A, name, out=None):
    """dZ = dA * g'(Z), with g' written through A = g(Z) so Z need not be kept.

        relu' = 1 where A > 0 else 0 (0 at Z = 0)   tanh' = 1 - A^2
        sigmoid' = A (1 - A)                          linear' = 1

    dA, A: (n, m); out: where to write dZ for relu (dA itself, when the caller owns it).
    Returns dZ (n, m).
    """
    if name == "relu":
        return np.multiply(dA, A > 0, out=out)
    if name == "tanh":
        return dA * (1.0 - A * A)
    if name == "sigmoid":
        return dA * (A * (1.0 - A))
    if name == "linear":
        return dA
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def softmax(Z):
    """Column-wise softmax, shifted by each column's max so exp never overflows.

    Z: (n_L, m). Returns probabilities (n_L, m); every column sums to 1.
    """
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def softmax_cross_entropy(Z, y):
    """Mean cross-entropy of softmax(Z) against labels y, and its gradient.

        loss = 1/m * sum_i -log softmax(Z)(y(i), i)
        dZ   = (softmax(Z) - Y_onehot) / m

    The log is taken as logsumexp(Z) - Z[y], which stays finite where softmax underflows.
    Z: (n_L, m); y: (m,) int. Returns loss (float), probs (n_L, m), dZ (n_L, m).
    """
    m = Z.shape[1]
    cols = np.arange(m)
    shifted = Z - Z.max(axis=0, keepdims=True)
    E = np.exp(shifted)
    sums = E.sum(axis=0)
    loss = float(np.mean(np.log(sums) - shifted[y, cols]))
    probs = E / sums
    dZ = probs.copy()
    dZ[y, cols] -= 1.0
    dZ /= m
    return loss, probs, dZ
