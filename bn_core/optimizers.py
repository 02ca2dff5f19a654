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
        """One update of every parameter, in place. params, grads: dicts with the same keys."""
        missing = set(params) ^ set(grads)
        if missing:
            raise ValueError(f"params and grads must have the same keys; differ in {missing}")
        self.t += 1
        if _same_flat_layout(params, grads):
            self._update(params.flat, grads.flat, "__flat__")
        else:
            for key, P in params.items():
                self._update(P, np.asarray(grads[key], dtype=np.float64), key)

    def _update(self, P, dP, key):
        lr, h = self.lr, self.hyper
        if self.name == "gd":
            P -= lr * dP
        elif self.name == "momentum":
            v = self._state(self.v, key, P)
            v *= h["beta"]
            v += (1 - h["beta"]) * dP
            P -= lr * v
        elif self.name == "rmsprop":
            s = self._state(self.s, key, P)
            s *= h["beta2"]
            s += (1 - h["beta2"]) * dP**2
            P -= lr * dP / (np.sqrt(s) + h["eps"])
        else:
            v, s = self._state(self.v, key, P), self._state(self.s, key, P)
            v *= h["beta1"]
            v += (1 - h["beta1"]) * dP
            s *= h["beta2"]
            s += (1 - h["beta2"]) * dP**2
            v_hat = v / (1 - h["beta1"] ** self.t)
            s_hat = s / (1 - h["beta2"] ** self.t)
            P -= lr * v_hat / (np.sqrt(s_hat) + h["eps"])

    @staticmethod
    def _state(store, key, P):
        if key not in store:
            store[key] = np.zeros_like(P)
        return store[key]


def _same_flat_layout(params, grads):
    return (isinstance(params, FlatDict) and isinstance(grads, FlatDict)
            and params.layout == grads.layout)


def make(name, lr=0.01, **hyper):
    """An optimizer by name: "gd", "momentum" (beta), "rmsprop" (beta2, eps),
    "adam" (beta1, beta2, eps). Unknown names or keywords raise ValueError."""
    return Optimizer(name, lr, **hyper)
