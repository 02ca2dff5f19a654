"""Numerical gradient checking by centred differences.

For each parameter entry theta: d_num = (J(theta + h) - J(theta - h)) / (2h), compared with the
analytic gradient by the relative error ||d_num - d|| / (||d_num|| + ||d||). Below about 1e-7
the backward pass is right; above 1e-3 something is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParamCheck:
    """One parameter's check: the analytic and numeric gradients and their relative error."""

    name: str
    analytic: np.ndarray
    numeric: np.ndarray
    relative_error: float


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||), and 0 when both are 0 (a gradient that is exactly zero)."""
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numeric_gradient(f, P, h=1e-5):
    """Centred-difference gradient of the scalar f() with respect to the array P, changed in
    place and restored. P: any shape; returns an array of P's shape."""
    grad = np.zeros_like(P)
    for idx in np.ndindex(P.shape):
        old = P[idx]
        P[idx] = old + h
        f_plus = f()
        P[idx] = old - h
        f_minus = f()
        P[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def check_network(net, X, y, h=1e-5):
    """Check every parameter of `net` on the mini-batch (X, y).

    Each loss evaluation is a training-mode forward that leaves the running averages alone
    (update_running=False): parameters and running averages end as they were (the trace and
    last_probs are those of the last evaluation).
    X: (n_x, m); y: (m,). Returns a list of ParamCheck in params order.
    """
    _, grads = net.loss_and_grads(X, y, update_running=False)
    grads = {k: v.copy() for k, v in grads.items()}

    def loss():
        return net.loss_and_grads(X, y, update_running=False)[0]

    checks = []
    for name, P in net.params.items():
        numeric = numeric_gradient(loss, P, h)
        checks.append(ParamCheck(name, grads[name], numeric, relative_error(grads[name], numeric)))
    return checks
