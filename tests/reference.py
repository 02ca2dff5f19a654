"""An independent, deliberately plain implementation of docs/DESIGN.md's formulas, for the tests.

It never imports bn_core. Where bn_core vectorizes, this file loops over examples or units, or
takes a different route through the algebra: batch norm's backward goes through each unit's
explicit m x m Jacobian, the softmax cross-entropy is one example at a time, the optimizers keep
their state in per-parameter dicts. Slow and obviously correct is the point.

Layout as in the course: examples are columns, X is (n_x, m), W[l] is (n_l, n_{l-1}).
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------- batch norm


def bn_forward(Z, gamma, beta, eps):
    """Training-mode batch norm, one unit (row) at a time.

        mu = 1/m sum_i z(i);  var = 1/m sum_i (z(i) - mu)^2
        z_norm = (z - mu) / sqrt(var + eps);  z_tilde = gamma z_norm + beta

    Z: (n, m); gamma, beta: (n, 1). Returns Z_tilde (n, m), mu (n, 1), var (n, 1), Z_norm (n, m).
    """
    n, m = Z.shape
    mu, var = np.zeros((n, 1)), np.zeros((n, 1))
    Z_norm, Z_tilde = np.zeros((n, m)), np.zeros((n, m))
    for j in range(n):
        row = [float(z) for z in Z[j]]
        mean = math.fsum(row) / m
        variance = math.fsum((z - mean) ** 2 for z in row) / m
        sigma = math.sqrt(variance + eps)
        mu[j, 0], var[j, 0] = mean, variance
        for i in range(m):
            Z_norm[j, i] = (row[i] - mean) / sigma
            Z_tilde[j, i] = gamma[j, 0] * Z_norm[j, i] + beta[j, 0]
    return Z_tilde, mu, var, Z_norm


def bn_jacobian(Z_norm_row, gamma_j, var_j, eps):
    """d z_tilde(i) / d z(k) for one unit: an (m, m) matrix.

    With sigma = sqrt(var + eps):
        d z_norm(i) / d z(k) = (delta_ik - 1/m) / sigma - z_norm(i) z_norm(k) / (m sigma)
    (the mean moves with every z(k), and so does sigma: d sigma / d z(k) = z_norm(k) / m).
    """
    m = Z_norm_row.shape[0]
    sigma = math.sqrt(var_j + eps)
    J = np.zeros((m, m))
    for i in range(m):
        for k in range(m):
            delta = 1.0 if i == k else 0.0
            J[i, k] = gamma_j * (
                (delta - 1.0 / m) / sigma - Z_norm_row[i] * Z_norm_row[k] / (m * sigma)
            )
    return J


def bn_backward(dZ_tilde, Z_norm, gamma, var, eps):
    """Batch norm backward through each unit's Jacobian: dz = J^T dz_tilde.

    dZ_tilde, Z_norm: (n, m); gamma, var: (n, 1). Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1).
    """
    n, m = dZ_tilde.shape
    dZ, dgamma, dbeta = np.zeros((n, m)), np.zeros((n, 1)), np.zeros((n, 1))
    for j in range(n):
        J = bn_jacobian(Z_norm[j], gamma[j, 0], var[j, 0], eps)
        dZ[j] = J.T @ dZ_tilde[j]
        dgamma[j, 0] = math.fsum(dZ_tilde[j, i] * Z_norm[j, i] for i in range(m))
        dbeta[j, 0] = math.fsum(dZ_tilde[j])
    return dZ, dgamma, dbeta


def running_update(running, batch_value, running_beta):
    """running = beta_bn * running + (1 - beta_bn) * batch_value."""
    return running_beta * running + (1.0 - running_beta) * batch_value


# ---------------------------------------------------------------- layer norm


def ln_forward(Z, gamma, beta, eps):
    """Layer norm, one example (column) at a time, over that example's n units.

        mu = 1/n sum_j z[j];  var = 1/n sum_j (z[j] - mu)^2
        z_norm = (z - mu) / sqrt(var + eps);  z_tilde[j] = gamma[j] z_norm[j] + beta[j]

    Z: (n, m); gamma, beta: (n, 1). Returns Z_tilde (n, m), mu (1, m), var (1, m), Z_norm (n, m).
    """
    n, m = Z.shape
    mu, var = np.zeros((1, m)), np.zeros((1, m))
    Z_norm, Z_tilde = np.zeros((n, m)), np.zeros((n, m))
    for i in range(m):
        column = [float(z) for z in Z[:, i]]
        mean = math.fsum(column) / n
        variance = math.fsum((z - mean) ** 2 for z in column) / n
        sigma = math.sqrt(variance + eps)
        mu[0, i], var[0, i] = mean, variance
        for j in range(n):
            Z_norm[j, i] = (column[j] - mean) / sigma
            Z_tilde[j, i] = gamma[j, 0] * Z_norm[j, i] + beta[j, 0]
    return Z_tilde, mu, var, Z_norm


def ln_jacobian(Z_norm_column, gamma, var_i, eps):
    """d z_tilde[j] / d z[k] for one example: an (n, n) matrix.

    With sigma = sqrt(var + eps), the same shape as batch norm's Jacobian with the units in the
    place of the examples, and gamma[j] varying along the rows:
        d z_norm[j] / d z[k] = (delta_jk - 1/n) / sigma - z_norm[j] z_norm[k] / (n sigma)
    """
    n = Z_norm_column.shape[0]
    sigma = math.sqrt(var_i + eps)
    J = np.zeros((n, n))
    for j in range(n):
        for k in range(n):
            delta = 1.0 if j == k else 0.0
            J[j, k] = gamma[j, 0] * (
                (delta - 1.0 / n) / sigma - Z_norm_column[j] * Z_norm_column[k] / (n * sigma)
            )
    return J


def ln_backward(dZ_tilde, Z_norm, gamma, var, eps):
    """Layer norm backward through each example's Jacobian: dz = J^T dz_tilde.

    dZ_tilde, Z_norm: (n, m); gamma: (n, 1); var: (1, m).
    Returns dZ (n, m), dgamma (n, 1), dbeta (n, 1).
    """
    n, m = dZ_tilde.shape
    dZ, dgamma, dbeta = np.zeros((n, m)), np.zeros((n, 1)), np.zeros((n, 1))
    for i in range(m):
        J = ln_jacobian(Z_norm[:, i], gamma, var[0, i], eps)
        dZ[:, i] = J.T @ dZ_tilde[:, i]
    for j in range(n):
        dgamma[j, 0] = math.fsum(dZ_tilde[j, i] * Z_norm[j, i] for i in range(m))
        dbeta[j, 0] = math.fsum(dZ_tilde[j])
    return dZ, dgamma, dbeta


# ---------------------------------------------------------------- activations and the loss


def activation(Z, name):
    """g(Z), element by element."""
    if name == "relu":
        return np.where(Z > 0, Z, 0.0)
    if name == "tanh":
        return np.tanh(Z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if name == "linear":
        return Z.copy()
    raise KeyError(name)


def activation_derivative(Z, name):
    """g'(Z) written through Z (bn_core writes it through A). relu'(0) = 0."""
    if name == "relu":
        return np.where(Z > 0, 1.0, 0.0)
    if name == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-Z))
        return s * (1.0 - s)
    if name == "linear":
        return np.ones_like(Z)
    raise KeyError(name)


def softmax_column(z):
    """Softmax of one column z: (K,) -> (K,)."""
    e = np.exp(z - max(z))
    return e / math.fsum(e)


def softmax_cross_entropy(ZL, y):
    """Mean cross-entropy over the mini-batch, one example at a time, and dL/dZL.

        loss = 1/m sum_i -log softmax(z(i))[y(i)];  dz(i) = (softmax(z(i)) - onehot(y(i))) / m

    ZL: (K, m); y: (m,) ints. Returns loss, probs (K, m), dZL (K, m).
    """
    K, m = ZL.shape
    probs, dZL, losses = np.zeros((K, m)), np.zeros((K, m)), []
    for i in range(m):
        z = ZL[:, i]
        top = max(z)
        log_sum = top + math.log(math.fsum(np.exp(z - top)))
        losses.append(log_sum - z[y[i]])
        probs[:, i] = softmax_column(z)
        onehot = np.zeros(K)
        onehot[y[i]] = 1.0
        dZL[:, i] = (probs[:, i] - onehot) / m
    return math.fsum(losses) / m, probs, dZL


# ---------------------------------------------------------------- the network


def param_shapes(layer_dims, batch_norm, eliminate_bias, layer_norm=False):
    """The parameter names and shapes docs/DESIGN.md promises.

    Layer l = 1..L has W{l}; b{l} unless l is a normalized layer and eliminate_bias is on;
    gamma{l}, beta{l} only on normalized (batch- or layer-norm) layers, which are the hidden
    layers 1..L-1.
    """
    L = len(layer_dims) - 1
    shapes = {}
    for l in range(1, L + 1):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        bn_layer = (batch_norm or layer_norm) and l < L
        shapes[f"W{l}"] = (n, n_prev)
        if not (bn_layer and eliminate_bias):
            shapes[f"b{l}"] = (n, 1)
        if bn_layer:
            shapes[f"gamma{l}"] = (n, 1)
            shapes[f"beta{l}"] = (n, 1)
    return shapes


class RefNet:
    """The network of docs/DESIGN.md on a plain dict of parameters (copied in, never shared).

    running_mu, running_var: {l: (n_l, 1)}, starting at 0 and 1 (batch norm only).
    layer_norm=True (with batch_norm=False): layer norm on the hidden layers, the same in
    training and at test time.
    """

    def __init__(
        self,
        params,
        layer_dims,
        activation="relu",
        batch_norm=True,
        eps=1e-5,
        running_beta=0.9,
        layer_norm=False,
    ):
        self.params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
        self.dims, self.act, self.bn = tuple(layer_dims), activation, batch_norm
        self.ln = layer_norm
        self.eps, self.running_beta = eps, running_beta
        self.L = len(self.dims) - 1
        bn_layers = range(1, self.L) if batch_norm else ()
        self.running_mu = {l: np.zeros((self.dims[l], 1)) for l in bn_layers}
        self.running_var = {l: np.ones((self.dims[l], 1)) for l in bn_layers}

    def _linear(self, l, A_prev):
        """Z = W A_prev + b, one example (column) at a time; b may be absent."""
        W, b = self.params[f"W{l}"], self.params.get(f"b{l}")
        Z = np.zeros((W.shape[0], A_prev.shape[1]))
        for i in range(A_prev.shape[1]):
            Z[:, i] = W @ A_prev[:, i] + (b[:, 0] if b is not None else 0.0)
        return Z

    def forward(self, X, train=True):
        """Returns ZL (K, m) and per-layer caches; train=True updates the running averages."""
        A, caches = X, []
        for l in range(1, self.L):
            Z = self._linear(l, A)
            cache = {"A_prev": A, "Z": Z}
            if self.ln:
                Z_tilde, mu, var, Z_norm = ln_forward(
                    Z, self.params[f"gamma{l}"], self.params[f"beta{l}"], self.eps
                )
                cache.update(mu=mu, var=var, Z_norm=Z_norm)
            elif not self.bn:
                Z_tilde = Z
            elif train:
                Z_tilde, mu, var, Z_norm = bn_forward(
                    Z, self.params[f"gamma{l}"], self.params[f"beta{l}"], self.eps
                )
                cache.update(mu=mu, var=var, Z_norm=Z_norm)
                m = Z.shape[1]
                self.running_mu[l] = running_update(self.running_mu[l], mu, self.running_beta)
                self.running_var[l] = running_update(
                    self.running_var[l], var * m / (m - 1), self.running_beta
                )
            else:
                sigma = np.sqrt(self.running_var[l] + self.eps)
                Z_tilde = (
                    self.params[f"gamma{l}"] * (Z - self.running_mu[l]) / sigma
                    + self.params[f"beta{l}"]
                )
            cache["Z_tilde"] = Z_tilde
            A = activation(Z_tilde, self.act)
            caches.append(cache)
        caches.append({"A_prev": A})
        return self._linear(self.L, A), caches

    def predict(self, X):
        """Eval-mode probabilities (K, m), running averages in place of batch statistics."""
        ZL, _ = self.forward(X, train=False)
        return np.stack([softmax_column(ZL[:, i]) for i in range(ZL.shape[1])], axis=1)

    def loss_and_grads(self, X, y):
        """One training-mode forward and the backward pass, by the chain rule layer by layer."""
        ZL, caches = self.forward(X, train=True)
        loss, probs, dZ = softmax_cross_entropy(ZL, y)
        grads = {}
        for l in range(self.L, 0, -1):
            A_prev = caches[l - 1]["A_prev"]
            grads[f"W{l}"] = sum(np.outer(dZ[:, i], A_prev[:, i]) for i in range(dZ.shape[1]))
            if f"b{l}" in self.params:
                grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
            if l == 1:
                break
            dA = self.params[f"W{l}"].T @ dZ
            below = caches[l - 2]
            dZ_tilde = dA * activation_derivative(below["Z_tilde"], self.act)
            if self.bn or self.ln:
                k = l - 1
                backward = ln_backward if self.ln else bn_backward
                dZ, grads[f"gamma{k}"], grads[f"beta{k}"] = backward(
                    dZ_tilde, below["Z_norm"], self.params[f"gamma{k}"], below["var"], self.eps
                )
            else:
                dZ = dZ_tilde
        return loss, probs, grads


# ---------------------------------------------------------------- optimizers


class RefOptimizer:
    """The four update rules, literally as docs/DESIGN.md writes them; state per parameter name.

    step() returns nothing and replaces each params[key] by a new array (no in-place tricks).
    """

    def __init__(self, name, lr, beta=0.9, beta1=0.9, beta2=0.999, eps=1e-8):
        self.name, self.lr = name, lr
        self.beta, self.beta1, self.beta2, self.eps = beta, beta1, beta2, eps
        self.t, self.v, self.s = 0, {}, {}

    def step(self, params, grads):
        self.t += 1
        for key in params:
            P, dP = params[key], grads[key]
            v = self.v.get(key, np.zeros_like(P))
            s = self.s.get(key, np.zeros_like(P))
            if self.name == "gd":
                P = P - self.lr * dP
            elif self.name == "momentum":
                v = self.beta * v + (1 - self.beta) * dP
                P = P - self.lr * v
            elif self.name == "rmsprop":
                s = self.beta2 * s + (1 - self.beta2) * dP**2
                P = P - self.lr * dP / (np.sqrt(s) + self.eps)
            elif self.name == "adam":
                v = self.beta1 * v + (1 - self.beta1) * dP
                s = self.beta2 * s + (1 - self.beta2) * dP**2
                v_hat = v / (1 - self.beta1**self.t)
                s_hat = s / (1 - self.beta2**self.t)
                P = P - self.lr * v_hat / (np.sqrt(s_hat) + self.eps)
            else:
                raise KeyError(self.name)
            params[key], self.v[key], self.s[key] = P, v, s


# ---------------------------------------------------------------- numerical gradient


def numeric_grad(f, P, h=1e-5):
    """Centred differences (f(P + h e) - f(P - h e)) / 2h for every entry of P (restored)."""
    grad = np.zeros(P.shape)
    flat = P.reshape(-1)  # a view: P must be contiguous
    assert np.shares_memory(flat, P)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        up = f()
        flat[k] = old - h
        down = f()
        flat[k] = old
        grad.reshape(-1)[k] = (up - down) / (2 * h)
    return grad


def rel_error(a, b):
    """||a - b|| / (||a|| + ||b||) over the whole array."""
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
