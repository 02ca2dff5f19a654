"""Gradient descent, momentum, RMSprop and Adam, exactly as the course writes them: one small
class per update rule, with its equations in its docstring.

W stands for every parameter the network learns (each W, b, γ and β), dW for its gradient,
α for the learning rate `lr`; the step t counts `step` calls from 1. When params and grads are
FlatDicts of one layout (as the network's are), each rule runs on their flat vectors, a
cache-sized chunk at a time: the same arithmetic as key by key, fewer calls.
"""

from __future__ import annotations

import numpy as np

from bn_core.checks import check_choice, check_fraction, check_positive
from bn_core.params import FlatDict

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
CHUNK = 1 << 16  # floats per chunk of the flat update: 512 KB; its few arrays stay in L2
DEFAULTS = {"beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}


class Optimizer:
    """What every update rule shares: α, the hyperparameters, the step count t, the averages
    (v, s) kept per parameter, and the walk over the parameters. A rule names itself, the
    hyperparameters it uses, the averages it keeps, and writes `update`.

    Every rule accepts the keywords beta, beta1, beta2 and eps (so a settings form can pass
    them all); each uses only its own (`uses`). `lr` and `hyper` may change between steps; the
    averages are kept. `averages_of[name]` maps each parameter's key to its average `name`.
    """

    name = ""
    uses = ()  # the hyperparameters the rule reads
    averages = ()  # the exponentially weighted averages it keeps per parameter: "v", "s"

    def __init__(self, lr, **hyper):
        unknown = set(hyper) - set(DEFAULTS)
        if unknown:
            raise ValueError(
                f"unknown optimizer keyword(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(DEFAULTS)}"
            )
        self.lr = lr
        self.hyper = {**DEFAULTS, **hyper}
        for key, value in self.hyper.items():
            (check_positive if key == "eps" else check_fraction)(value, key)
        self.t = 0
        self.averages_of = {name: {} for name in self.averages}
        self._tmp = None

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_positive(value, "learning rate")

    def __repr__(self):
        hyper = ", ".join(f"{k}={self.hyper[k]:g}" for k in self.uses)
        return f"{self.name}(lr={self.lr:g}{', ' if hyper else ''}{hyper})"

    def update(self, W, dW, averages, tmp, tmp2):
        """One step of the rule on W, in place. W, dW, tmp, tmp2: arrays of one shape; tmp and
        tmp2 are scratch; averages: this W's arrays of `self.averages`, updated in place."""
        raise NotImplementedError

    def step(self, params, grads):
        """One update of every parameter, in place. params, grads: dicts with the same keys
        and shapes."""
        missing = set(params) ^ set(grads)
        if missing:
            raise ValueError(f"params and grads must have the same keys; differ in {missing}")
        if _same_flat_layout(params, grads):
            if not np.isfinite(grads.flat.sum()):  # one sum finds any NaN or inf
                raise ValueError("the gradients contain NaN or inf")
            self._start_averages(params)
            self.t += 1
            self._update_flat(params.flat, grads.flat)
            return
        grads = {key: _check_grad(key, W, grads[key]) for key, W in params.items()}
        self._start_averages(params)
        self.t += 1
        stores = [self.averages_of[name] for name in self.averages]
        for key, W in params.items():
            self.update(
                W, grads[key], [store[key] for store in stores], np.empty_like(W), np.empty_like(W)
            )

    def _start_averages(self, params):
        """The averages start at zero. For a FlatDict of parameters they are FlatDicts of the
        same layout, so the flat and the key-by-key update share them."""
        stores = self.averages_of
        if isinstance(params, FlatDict):
            for name, store in stores.items():
                if not (isinstance(store, FlatDict) and store.layout == params.layout):
                    stores[name] = params.zeros_like()
            return
        for store in stores.values():
            for key, W in params.items():
                if key not in store:
                    store[key] = np.zeros_like(W)

    def _update_flat(self, theta, grad):
        """The rule on the flat vectors, a cache-sized chunk at a time, so the scratch arrays
        stay in cache on a large network."""
        tmp, tmp2 = self._scratch(min(CHUNK, theta.size))
        flats = [self.averages_of[name].flat for name in self.averages]
        for start in range(0, theta.size, CHUNK):
            part = slice(start, start + CHUNK)
            n = min(CHUNK, theta.size - start)
            self.update(theta[part], grad[part], [flat[part] for flat in flats], tmp[:n], tmp2[:n])

    def _scratch(self, size):
        """Two scratch vectors of `size`, kept from step to step: allocated anew on every step,
        they can cost as much as the update itself (fresh pages from the system)."""
        if self._tmp is None or self._tmp[0].size != size:
            self._tmp = np.empty(size), np.empty(size)
        return self._tmp


# Each rule computes its formula in place, in the formula's order of operations, so its
# numbers are bit for bit those of the formula written plainly (as tests/reference.py does).


class GradientDescent(Optimizer):
    """Gradient descent: a step down the gradient.

    W = W − α dW
    """

    name = "gd"

    def update(self, W, dW, averages, tmp, tmp2):
        W -= np.multiply(dW, self.lr, out=tmp)  # W = W − α dW


class Momentum(Optimizer):
    """Gradient descent with momentum: a step along the gradients' exponentially weighted
    average, which smooths out the steps that oscillate.

        v = β v + (1 − β) dW
        W = W − α v
    """

    name, uses, averages = "momentum", ("beta",), ("v",)

    def update(self, W, dW, averages, tmp, tmp2):
        (v,) = averages
        average_into(v, dW, self.hyper["beta"], tmp)  # v = β v + (1 − β) dW
        W -= np.multiply(v, self.lr, out=tmp)  # W = W − α v


class RMSprop(Optimizer):
    """RMSprop: each step divided by the root of the squared gradients' average, so a direction
    with large gradients moves less and one with small gradients more.

        s = β₂ s + (1 − β₂) dW²
        W = W − α dW / (√s + ε)
    """

    name, uses, averages = "rmsprop", ("beta2", "eps"), ("s",)

    def update(self, W, dW, averages, tmp, tmp2):
        (s,) = averages
        dW2 = np.multiply(dW, dW, out=tmp)
        average_into(s, dW2, self.hyper["beta2"], tmp)  # s = β₂ s + (1 − β₂) dW²
        root = np.sqrt(s, out=tmp)
        root += self.hyper["eps"]  # √s + ε
        lr_dW = np.multiply(dW, self.lr, out=tmp2)
        W -= np.divide(lr_dW, root, out=tmp2)  # W = W − α dW / (√s + ε)


class Adam(Optimizer):
    """Adam: momentum and RMSprop together, both averages corrected for starting at zero.

    v = β₁ v + (1 − β₁) dW                 s = β₂ s + (1 − β₂) dW²
    v_corrected = v / (1 − β₁ᵗ)            s_corrected = s / (1 − β₂ᵗ)
    W = W − α v_corrected / (√s_corrected + ε)
    """

    name, uses, averages = "adam", ("beta1", "beta2", "eps"), ("v", "s")

    def update(self, W, dW, averages, tmp, tmp2):
        v, s = averages
        beta1, beta2, eps = self.hyper["beta1"], self.hyper["beta2"], self.hyper["eps"]
        average_into(v, dW, beta1, tmp)  # v = β₁ v + (1 − β₁) dW
        dW2 = np.multiply(dW, dW, out=tmp)
        average_into(s, dW2, beta2, tmp)  # s = β₂ s + (1 − β₂) dW²
        s_corrected = np.divide(s, 1 - beta2**self.t, out=tmp)
        root = np.sqrt(s_corrected, out=tmp)
        root += eps  # √s_corrected + ε
        v_corrected = np.divide(v, 1 - beta1**self.t, out=tmp2)
        v_corrected *= self.lr  # now α v_corrected
        W -= np.divide(v_corrected, root, out=tmp2)  # W = W − α v_corrected / (√s_corr. + ε)


def average_into(avg, x, beta, tmp):
    """avg = β avg + (1 − β) x, in place: the course's exponentially weighted average.

    avg, x, tmp: arrays of one shape; tmp is scratch, and may be x itself.
    """
    avg *= beta
    avg += np.multiply(x, 1 - beta, out=tmp)


RULES = {rule.name: rule for rule in (GradientDescent, Momentum, RMSprop, Adam)}
USES = {name: rule.uses for name, rule in RULES.items()}


def _check_grad(key, W, dW):
    dW = np.asarray(dW, dtype=np.float64)
    if dW.shape != W.shape:
        raise ValueError(f"the gradient of {key} must have shape {W.shape}, got {dW.shape}")
    if not np.isfinite(dW).all():
        raise ValueError(f"the gradient of {key} contains NaN or inf")
    return dW


def _same_flat_layout(params, grads):
    return (
        isinstance(params, FlatDict)
        and isinstance(grads, FlatDict)
        and params.layout == grads.layout
    )


def make(name, lr=0.01, **hyper):
    """An optimizer by name: "gd", "momentum" (beta), "rmsprop" (beta2, eps),
    "adam" (beta1, beta2, eps). Unknown names or keywords raise ValueError."""
    return RULES[check_choice(name, "optimizer", OPTIMIZERS)](lr, **hyper)
