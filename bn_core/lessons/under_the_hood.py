"""The batch-norm backward pass one stage at a time, and a gradient check of a whole network.

The walk-through runs `bn_core.batchnorm.backward_steps`, the function the network calls in
every training step, and quotes its source piece by piece (`code_pieces`): the code and the
numbers on the page are that function's. Examples are columns: Z is (n, m).
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap

import numpy as np

from bn_core import batchnorm, data, gradcheck
from bn_core.network import MLP, NetConfig

GRAD_DIMS = (2, 4, 3, 2)
GRAD_M = 8
GRAD_DATASET = "moons"
GRAD_H = 1e-5  # the centred difference's step: truncation h^2 and rounding 1e-16 / h balance
PASS_TOL = 1e-6  # relative error below which a parameter passes
ZERO_TOL = 1e-8  # both gradient norms below this: the gradient is zero (rounding noise only)
STAGED = batchnorm.backward_steps  # the function shown and run


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
    """Every array of the staged backward pass the network runs, in the order it computes them.

    dZ_tilde: (n, m); cache: a BatchNormCache. Returns a batchnorm.BackwardSteps: dbeta,
    dgamma (n, 1); dZ_norm (n, m); dvar, dmu (n, 1); dZ (n, m).
    """
    return STAGED(dZ_tilde, cache)


@dataclasses.dataclass(frozen=True)
class CodePiece:
    """One stage of the staged function's source, verbatim, and the BackwardSteps fields it
    assigns (none for the opening lines that read the cache)."""

    code: str
    names: tuple


def function_source():
    """The staged backward function's source as Python holds it (inspect.getsource)."""
    return inspect.getsource(STAGED)


def code_pieces():
    """The staged function's body after its docstring, cut at its blank lines: one piece per
    stage, in order. Joined with blank lines they give the body back exactly."""
    source = function_source()
    lines = source.splitlines()
    body = ast.parse(textwrap.dedent(source)).body[0].body
    first = body[1].lineno - 1  # the statement after the docstring, as a 0-based line index
    blocks = "\n".join(lines[first:]).split("\n\n")
    return [
        CodePiece(textwrap.dedent(block), _assigned(textwrap.dedent(block))) for block in blocks
    ]


def _assigned(code):
    """The BackwardSteps fields a piece of code assigns (= or +=), in order of first use."""
    names = []
    for node in ast.walk(ast.parse(code)):
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else ([node.target] if isinstance(node, ast.AugAssign) else [])
        )
        for target in targets:
            if (
                isinstance(target, ast.Name)
                and target.id in batchnorm.BackwardSteps._fields
                and target.id not in names
            ):
                names.append(target.id)
    return tuple(names)


def compact_dZ(dZ_tilde, cache):
    """dZ by the compact closed form the stages add up to, as a check:

        dZ = gamma / (m sqrt(var + eps)) (m dZ_tilde - sum_i dZ_tilde(i)
                                          - Z_norm sum_i dZ_tilde(i) Z_norm(i))

    dZ_tilde: (n, m). Returns dZ (n, m)."""
    m = dZ_tilde.shape[1]
    sum_dZ_tilde = np.sum(dZ_tilde, axis=1, keepdims=True)
    sum_dZ_tilde_Z_norm = np.sum(dZ_tilde * cache.Z_norm, axis=1, keepdims=True)
    return (
        cache.gamma
        * cache.inv_std
        / m
        * (m * dZ_tilde - sum_dZ_tilde - cache.Z_norm * sum_dZ_tilde_Z_norm)
    )


@dataclasses.dataclass(frozen=True)
class Agreement:
    """How the staged result checks out (floats).

    staged_vs_compact: the largest |difference| between the staged dZ and the compact form's;
    sum_dZ: the largest |sum_i dZ(i)| over the units, zero up to rounding.
    """

    staged_vs_compact: float
    sum_dZ: float


def backward_agreement(dZ_tilde, cache, steps):
    """Check `steps` (from staged_backward_steps) against the compact form.

    dZ_tilde: (n, m). Returns an Agreement.
    """
    compact = compact_dZ(dZ_tilde, cache)
    return Agreement(
        float(np.max(np.abs(steps.dZ - compact))), float(np.max(np.abs(np.sum(steps.dZ, axis=1))))
    )


def gradient_paths(steps, cache):
    """dZ split into the three terms of its line in the staged function, the three paths by
    which Z reaches the loss, each (n, m):

        direct        dZ_norm / sqrt(var + eps)
        through var   dvar * 2 (Z - mu) / m
        through mu    dmu / m                  (the same for every example)

    They add up to dZ. steps: from staged_backward_steps; cache: its BatchNormCache.
    """
    m = steps.dZ.shape[1]
    return {
        "direct": steps.dZ_norm * cache.inv_std,
        "through σ²": cache.Z_centered * (2.0 / m * steps.dvar),
        "through μ": np.ones_like(steps.dZ) * steps.dmu / m,
    }


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


def gradient_check(
    activation="relu",
    batch_norm=True,
    eliminate_bias=True,
    seed=0,
    h=GRAD_H,
    layer_dims=GRAD_DIMS,
    m=GRAD_M,
):
    """Centred-difference check of every parameter of a small network on one mini-batch of m
    examples from the GRAD_DATASET ("moons") set:

        d_num = (J(theta + h) - J(theta - h)) / (2h)
        relative error = ||d_num - d|| / (||d_num|| + ||d||)

    Returns a GradReport.
    """
    X, y = data.make_dataset(GRAD_DATASET, n=m, seed=seed)
    net = MLP(
        NetConfig(
            layer_dims, activation, batch_norm=batch_norm, eliminate_bias=eliminate_bias, seed=seed
        )
    )
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
    return GradRow(
        check.name,
        check.analytic.shape,
        a_norm,
        n_norm,
        check.relative_error,
        float(np.max(np.abs(check.analytic))),
        status,
    )
