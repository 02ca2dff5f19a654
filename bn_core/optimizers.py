"""Gradient descent, momentum, RMSprop and Adam, exactly as the course writes them.

Per parameter P with gradient dP, step t counted from 1:

    gd        P -= lr * dP
    momentum  v = beta * v + (1 - beta) * dP;          P -= lr * v
    rmsprop   s = beta2 * s + (1 - beta2) * dP**2;     P -= lr * dP / (sqrt(s) + eps)
    adam      v = beta1 * v + (1 - beta1) * dP;  s = beta2 * s + (1 - beta2) * dP**2
              v_hat = v / (1 - beta1**t);  s_hat = s / (1 - beta2**t)
              P -= lr * v_hat / (sqrt(s_hat) + eps)

gamma and beta are learned like W. When params and grads are FlatDicts of one layout (as the
network's are), the whole update runs on their flat vectors: the same arithmetic, fewer calls.
"""

from __future__ import annotations

import numpy as np

from bn_core.checks import check_choice, check_fraction, check_positive
from bn_core.params import FlatDict

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
CHUNK = 1 << 16  # floats per chunk of the flat update: 512 KB; its few arrays stay in L2
DEFAULTS = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
USES = {"gd": (), "momentum": ("beta",), "rmsprop": ("beta2", "eps"),
        "adam": ("beta1", "beta2", "eps")}


class Optimizer:
    """Holds the hyperparameters and per-parameter state (v, s) of one update rule.

    Every rule accepts the keywords beta, beta1, beta2 and eps (so a settings form can pass
    them all); each uses only its own (USES). `lr` and `hyper` may change between steps; the
    state is kept.
    """

    def __init__(self, name, lr, **hyper):
        self.name = check_choice(name, "optimizer", OPTIMIZERS)
        unknown = set(hyper) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown optimizer keyword(s) {', '.join(sorted(unknown))}; "
                             f"known: {', '.join(DEFAULTS)}")
        self.lr = lr
        self.hyper = {**DEFAULTS, **hyper}
        for key, value in self.hyper.items():
            (check_positive if key == "eps" else check_fraction)(value, key)
        self.t = 0
        self.v = {}
        self.s = {}

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_positive(value, "learning rate")

    def __repr__(self):
        hyper = ", ".join(f"{k}={self.hyper[k]:g}" for k in USES[self.name])
        return f"{self.name}(lr={self.lr:g}{', ' if hyper else ''}{hyper})"

    def step(self, params, grads):
        """One update of every parameter, in place. params, grads: dicts with the same keys
        and shapes."""
        missing = set(params) ^ set(grads)
        if missing:
            raise ValueError(f"params and grads must have the same keys; differ in {missing}")
        if _same_flat_layout(params, grads):
            if not np.isfinite(grads.flat.sum()):  # one sum finds any NaN or inf
                raise ValueError("the gradients contain NaN or inf")
            self._ensure_state(params)
            self.t += 1
            self._update_flat(params.flat, grads.flat)
            return
        grads = {key: _check_grad(key, P, grads[key]) for key, P in params.items()}
        self._ensure_state(params)
        self.t += 1
        for key, P in params.items():
            self._update(P, grads[key], (self.v[key], self.s[key]),
                         np.empty_like(P), np.empty_like(P))

    def _ensure_state(self, params):
        """v and s start at zero. For a FlatDict of parameters they are FlatDicts of the same
        layout, so the flat and the per-key update share one state."""
        if isinstance(params, FlatDict):
            if not (isinstance(self.v, FlatDict) and self.v.layout == params.layout):
                self.v, self.s = params.zeros_like(), params.zeros_like()
            return
        for key, P in params.items():
            if key not in self.v:
                self.v[key], self.s[key] = np.zeros_like(P), np.zeros_like(P)

    def _update_flat(self, theta, grad):
        """The same update on the flat vectors, a cache-sized chunk at a time, so the
        intermediate arrays of the formula stay in cache on a large network."""
        size = min(CHUNK, theta.size)
        tmp, tmp2 = np.empty(size), np.empty(size)
        for start in range(0, theta.size, CHUNK):
            part = slice(start, start + CHUNK)
            n = min(CHUNK, theta.size - start)
            self._update(theta[part], grad[part], (self.v.flat[part], self.s.flat[part]),
                         tmp[:n], tmp2[:n])

    def _update(self, P, dP, state, tmp, tmp2):
        """The formulas of the module docstring, in place; tmp and tmp2 are scratch arrays of
        P's shape. The order of operations is the formula's, so results match it exactly."""
        lr, h, (v, s) = self.lr, self.hyper, state
        if self.name == "gd":
            np.multiply(dP, lr, out=tmp)
            P -= tmp
            return
        if self.name in ("momentum", "adam"):
            beta = h["beta"] if self.name == "momentum" else h["beta1"]
            v *= beta
            np.multiply(dP, 1 - beta, out=tmp)
            v += tmp  # v = beta * v + (1 - beta) * dP
        if self.name in ("rmsprop", "adam"):
            s *= h["beta2"]
            np.multiply(dP, dP, out=tmp)
            tmp *= 1 - h["beta2"]
            s += tmp  # s = beta2 * s + (1 - beta2) * dP**2
        if self.name == "momentum":
            np.multiply(v, lr, out=tmp)
            P -= tmp
            return
        if self.name == "rmsprop":
            np.sqrt(s, out=tmp)
            np.multiply(dP, lr, out=tmp2)
        else:
            np.divide(s, 1 - h["beta2"] ** self.t, out=tmp)  # s_hat
            np.sqrt(tmp, out=tmp)
            np.divide(v, 1 - h["beta1"] ** self.t, out=tmp2)  # v_hat
            tmp2 *= lr
        tmp += h["eps"]
        tmp2 /= tmp  # lr * dP / (sqrt(s) + eps), or lr * v_hat / (sqrt(s_hat) + eps)
        P -= tmp2


def _check_grad(key, P, dP):
    dP = np.asarray(dP, dtype=np.float64)
    if dP.shape != P.shape:
        raise ValueError(f"the gradient of {key} must have shape {P.shape}, got {dP.shape}")
    if not np.isfinite(dP).all():
        raise ValueError(f"the gradient of {key} contains NaN or inf")
    return dP


def _same_flat_layout(params, grads):
    return (isinstance(params, FlatDict) and isinstance(grads, FlatDict)
            and params.layout == grads.layout)


def make(name, lr=0.01, **hyper):
    """An optimizer by name: "gd", "momentum" (beta), "rmsprop" (beta2, eps),
    "adam" (beta1, beta2, eps). Unknown names or keywords raise ValueError."""
    return Optimizer(name, lr, **hyper)
