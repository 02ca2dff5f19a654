"""Batch norm inside a network: each layer's parameters, and the lecture's training loop
replayed one line at a time on a small real network.

Hidden layer l computes Z[l] = W[l] A[l-1] (+ b[l]), then Z_tilde[l] = gamma[l] Z_norm[l] +
beta[l], then A[l] = g(Z_tilde[l]). Examples are columns: X is (n_x, m). The walkthrough reads
every number from the core's own MLP (its trace, loss, grads) and optimizer, so what the page
shows is exactly what training computes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core import batchnorm, data, optimizers
from bn_core.layers import activation_forward
from bn_core.lessons.step_by_step import saturated
from bn_core.network import MLP, NetConfig

PARAM_KINDS = ("W", "b", "gamma", "beta")
WALK_DATASET = "moons"
WALK_EXAMPLES = 64


# --- the architecture ------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerParams:
    """One layer with weights: l (1..L), its shape and how many numbers each parameter holds.

    counts: {"W": n_l * n_{l-1}, "b": n_l or 0, "gamma": n_l or 0, "beta": n_l or 0}.
    bias_eliminated: True when b[l] was dropped (batch norm makes it useless).
    """

    l: int
    n_prev: int
    n: int
    output: bool
    batch_norm: bool
    bias_eliminated: bool
    counts: dict

    @property
    def total(self):
        return sum(self.counts.values())


def architecture(layer_dims, batch_norm=True, eliminate_bias=True, layer_norm=False):
    """Each layer's parameters, read from the layout of a real MLP.

    layer_dims: (n_x, n_1, ..., n_L); layer_norm: layer norm instead of batch norm (the Training
    Lab counts both). Returns a tuple of LayerParams, l = 1..L.
    """
    net = MLP(
        NetConfig(
            layer_dims=tuple(layer_dims),
            batch_norm=batch_norm,
            eliminate_bias=eliminate_bias,
            layer_norm=layer_norm,
        )
    )
    sizes = {key: int(np.prod(shape)) for key, shape in net.params.layout}
    dims = net.config.layer_dims
    return tuple(
        LayerParams(
            l=l,
            n_prev=dims[l - 1],
            n=dims[l],
            output=l == net.L,
            batch_norm=l in net.bn_layers,
            bias_eliminated=not net.has_bias(l),
            counts={kind: sizes.get(f"{kind}{l}", 0) for kind in PARAM_KINDS},
        )
        for l in range(1, net.L + 1)
    )


def n_params(layers):
    """Total learned numbers of an architecture (a tuple of LayerParams)."""
    return sum(layer.total for layer in layers)


BIAS_STD = 2.0  # the spread of the b that bias_cancellation adds


def bias_cancellation(n=3, m=8, seed=0):
    """How much adding a bias b changes batch norm's output: max |Z_tilde(W a + b) -
    Z_tilde(W a)| over a random mini-batch, Z: (n, m), b ~ N(0, BIAS_STD^2) of shape (n, 1).

    The mean subtraction removes b exactly (up to rounding): mu moves by b, Z - mu does not.
    """
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, m))
    b = BIAS_STD * rng.standard_normal((n, 1))
    gamma, beta = np.ones((n, 1)), np.zeros((n, 1))
    with_b, _ = batchnorm.forward(Z + b, gamma, beta)
    without_b, _ = batchnorm.forward(Z, gamma, beta)
    return float(np.abs(with_b - without_b).max())


# --- batch norm before or after g -----------------------------------------------------------

PLACEMENT_UNITS = 32
PLACEMENT_EXAMPLES = 256
WEIGHT_SCALES = (0.3, 1.0, 3.0, 10.0)


@dataclass(frozen=True)
class Placement:
    """One hidden layer on a mini-batch, batch norm before g (on Z, the course's and the
    paper's choice) or after it (on A), with gamma = 1, beta = 0:

        before:  A = g(BN(Z))          after:  A = BN(g(Z))          Z = W X + b

    g_input: (n, m) what g receives (Z_tilde before, Z after); next_input: (n, m) what the
    next layer receives, A. flat_share: the share of g's inputs on its flat parts (ReLU:
    z <= 0; sigmoid, tanh: slope under 10% of its peak). unit_means, unit_stds: (n,) each
    unit's mean and standard deviation of next_input over the mini-batch. silent_units: how
    many units send the next layer (almost) the same value for every example (std < 1e-3):
    all their inputs sat on one flat part of g.
    """

    after: bool
    activation: str
    g_input: np.ndarray
    next_input: np.ndarray
    flat_share: float
    unit_means: np.ndarray
    unit_stds: np.ndarray

    @property
    def silent_units(self):
        return int((self.unit_stds < SILENT_STD).sum())


SILENT_STD = 1e-3


def placement_layer(weight_scale=1.0, seed=0):
    """The layer both placements share: X (2, m) the normalized moons set, W (n, 2) and
    b (n, 1) drawn N(0, 1) times weight_scale (b only matters when batch norm comes after g)."""
    X, _ = data.make_dataset(WALK_DATASET, n=PLACEMENT_EXAMPLES, seed=seed)
    X = data.fit_normalizer(X).apply(X)
    rng = np.random.default_rng(seed)
    W = weight_scale * rng.standard_normal((PLACEMENT_UNITS, X.shape[0]))
    b = weight_scale * rng.standard_normal((PLACEMENT_UNITS, 1))
    return X, W, b


def placement(after, activation="relu", weight_scale=1.0, seed=0):
    """Batch norm on Z (after=False) or on A = g(Z) (after=True) for the lesson's layer,
    using bn_core.batchnorm.forward for the normalization. Returns a Placement."""
    X, W, b = placement_layer(weight_scale, seed)
    Z = W @ X + b
    gamma, beta = np.ones((PLACEMENT_UNITS, 1)), np.zeros((PLACEMENT_UNITS, 1))
    if after:
        g_input = Z
        A, _ = batchnorm.forward(activation_forward(Z, activation), gamma, beta)
    else:
        g_input, _ = batchnorm.forward(Z, gamma, beta)
        A = activation_forward(g_input, activation)
    return Placement(
        bool(after),
        activation,
        g_input,
        A,
        float(saturated(g_input, activation).mean()),
        A.mean(axis=1),
        A.std(axis=1),
    )


def placements(activation="relu", weight_scale=1.0, seed=0):
    """(before, after): the two Placements of the same layer and mini-batch."""
    return (
        placement(False, activation, weight_scale, seed),
        placement(True, activation, weight_scale, seed),
    )


# --- the training loop, one line at a time ---------------------------------------------------

# Lines of the lecture's loop (see loop_lines); Step.line holds one of these indices.
LINE_FOR, LINE_BATCH, LINE_LAYERS, LINE_Z, LINE_STATS, LINE_ZT, LINE_A = range(7)
LINE_OUT, LINE_LOSS, LINE_BACKPROP, LINE_UPDATE = range(7, 11)


def loop_lines(batch_norm=True, eliminate_bias=True, optimizer="gd"):
    """The pseudo-code of the loop as plain-text lines (the page marks the current one)."""
    keeps_b = not (batch_norm and eliminate_bias)
    z_line = "Z[l] = W[l] A[l-1] + b[l]" if keeps_b else "Z[l] = W[l] A[l-1]    # no b[l]"
    if batch_norm:
        stats = "μ[l], σ²[l] = mean, variance of Z[l] over the batch"
        zt = "Z̃[l] = γ[l] (Z[l] - μ[l]) / √(σ²[l] + ε) + β[l]"
    else:
        stats = "(no batch norm: no μ, no σ²)"
        zt = "(no batch norm: Z̃[l] is just Z[l])"
    names = ["W"] + (["b"] if keeps_b else []) + (["γ", "β"] if batch_norm else [])
    return (
        "for t = 1 ... T:",
        "    X{t}, y{t} = mini-batch t",
        "    for l = 1 ... L-1:            # forward, hidden layers",
        f"        {z_line}",
        f"        {stats}",
        f"        {zt}",
        "        A[l] = g(Z̃[l])",
        "    Ŷ = softmax(W[L] A[L-1] + b[L])",
        "    J = -1/m Σ_i log Ŷ[y(i), i]",
        "    backprop: " + ", ".join(f"d{n}[l]" for n in names) + "   for l = L ... 1",
        f"    update {', '.join(names)} with {optimizer}" + ("" if keeps_b else "   (and b[L])"),
    )


@dataclass(frozen=True)
class Step:
    """One stop of the walkthrough.

    t: mini-batch number (1..T); line: index into loop_lines(); layer: l or None;
    title: one line on what happens; panels: rows of (label, 2-D array) to show side by side;
    scalars: (label, value) pairs worth a number of their own (the loss, say).
    """

    t: int
    line: int
    layer: int | None
    title: str
    panels: tuple
    scalars: tuple = ()


@dataclass(frozen=True)
class WalkSettings:
    """Everything the walkthrough depends on (hashable, so a page can cache on it)."""

    layer_dims: tuple = (2, 3, 3, 2)
    batch_norm: bool = True
    eliminate_bias: bool = True
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 0.1
    batch_size: int = 6
    n_batches: int = 3
    seed: int = 0


def walk_data(seed=0):
    """The small 2-D set the walkthrough trains on: X (2, 64) normalized, y (64,)."""
    X, y = data.make_dataset(WALK_DATASET, n=WALK_EXAMPLES, seed=seed)
    return data.fit_normalizer(X).apply(X), y


def walkthrough(settings=WalkSettings()):
    """Train settings.n_batches mini-batches and return every stop of the loop, in order.

    Returns a tuple of Step. Per mini-batch: the batch; per hidden layer Z, mu and var, Z~, A
    (without batch norm only Z and A); the output; the loss; one backprop stop per layer
    (l = L..1); one update stop per layer (l = 1..L).
    """
    s = settings
    X, y = walk_data(s.seed)
    net = MLP(
        NetConfig(
            layer_dims=tuple(s.layer_dims),
            activation=s.activation,
            batch_norm=s.batch_norm,
            eliminate_bias=s.eliminate_bias,
            seed=s.seed,
        )
    )
    opt = optimizers.make(s.optimizer, lr=s.lr)
    batches = data.minibatches(X.shape[1], s.batch_size, seed=s.seed)
    steps = []
    for t in range(1, s.n_batches + 1):
        idx = batches.next_indices()
        steps += _iteration(net, opt, X[:, idx], y[idx], t)
    return tuple(steps)


def _iteration(net, opt, X, y, t):
    """The stops of one pass of the loop on mini-batch (X (n_x, m), y (m,)); steps net."""
    before = net.params.copy_arrays()
    loss, grads = net.loss_and_grads(X, y)
    steps = [
        Step(
            t,
            LINE_BATCH,
            None,
            f"t = {t}: take mini-batch {t} (m = {X.shape[1]})",
            ((("X{t}", X), ("y{t}", y[None, :].astype(float))),),
        )
    ]
    A_prev = X
    for l, trace in enumerate(net.trace, start=1):
        steps += _hidden_steps(net, before, l, trace, A_prev, t)
        A_prev = trace.A
    steps += _output_steps(net, before, A_prev, y, loss, t)
    steps += _backprop_steps(net, grads, t)
    opt.step(net.params, dict(grads))  # a plain dict: the optimizer keeps v, s per parameter
    steps += _update_steps(net, opt, before, grads, t)
    return steps


def _hidden_steps(net, p, l, trace, A_prev, t):
    """Z, (mu and var, Z~,) A of hidden layer l. p: parameters before this step's update."""
    z_row = [(f"W[{l}]", p[f"W{l}"]), (f"A[{l - 1}]", A_prev)]
    if net.has_bias(l):
        z_row.append((f"b[{l}]", p[f"b{l}"]))
    z_row.append((f"Z[{l}]", trace.Z))
    bias = " + b" if net.has_bias(l) else ""
    steps = [Step(t, LINE_Z, l, f"Layer {l}: Z[{l}] = W[{l}] A[{l - 1}]{bias}", (tuple(z_row),))]
    if trace.mu is not None:
        steps.append(
            Step(
                t,
                LINE_STATS,
                l,
                f"Layer {l}: mean and variance of each unit over the mini-batch",
                (((f"Z[{l}]", trace.Z), (f"μ[{l}]", trace.mu), (f"σ²[{l}]", trace.var)),),
            )
        )
        steps.append(
            Step(
                t,
                LINE_ZT,
                l,
                f"Layer {l}: normalize, then scale by γ and shift by β",
                (
                    (
                        (f"Z_norm[{l}]", trace.Z_norm),
                        (f"γ[{l}]", p[f"gamma{l}"]),
                        (f"β[{l}]", p[f"beta{l}"]),
                        (f"Z̃[{l}]", trace.Z_tilde),
                    ),
                ),
            )
        )
    steps.append(
        Step(
            t,
            LINE_A,
            l,
            f"Layer {l}: A[{l}] = {net.config.activation}(Z̃[{l}])",
            (((f"Z̃[{l}]", trace.Z_tilde), (f"A[{l}]", trace.A)),),
        )
    )
    return steps


def _output_steps(net, p, A_prev, y, loss, t):
    """The softmax output and the mini-batch loss. p: parameters before the update."""
    L, probs = net.L, net.last_probs
    picked = probs[y, np.arange(y.size)]
    out = Step(
        t,
        LINE_OUT,
        L,
        f"Output layer {L}: Ŷ = softmax(W[{L}] A[{L - 1}] + b[{L}])",
        (
            (
                (f"W[{L}]", p[f"W{L}"]),
                (f"A[{L - 1}]", A_prev),
                (f"b[{L}]", p[f"b{L}"]),
                ("Ŷ", probs),
            ),
        ),
    )
    cost = Step(
        t,
        LINE_LOSS,
        None,
        "Loss: the mean of -log(probability of the right class)",
        ((("Ŷ[y(i), i]", picked[None, :]), ("-log Ŷ[y(i), i]", -np.log(picked)[None, :])),),
        (("J", float(loss)),),
    )
    return [out, cost]


def _backprop_steps(net, grads, t):
    """One stop per layer, l = L..1: that layer's gradients."""
    steps = []
    for l in range(net.L, 0, -1):
        row = [
            (f"d{name}[{l}]", grads[f"{key}{l}"])
            for key, name in (("W", "W"), ("b", "b"), ("gamma", "γ"), ("beta", "β"))
            if f"{key}{l}" in grads
        ]
        names = ", ".join(label for label, _ in row)
        steps.append(Step(t, LINE_BACKPROP, l, f"Backprop, layer {l}: {names}", (tuple(row),)))
    return steps


def _update_steps(net, opt, before, grads, t):
    """One stop per layer, l = 1..L: each parameter before, its gradient, the step taken and
    after (rows W, b, gamma, beta as present)."""
    steps = []
    for l in range(1, net.L + 1):
        rows = []
        for key, name in (("W", "W"), ("b", "b"), ("gamma", "γ"), ("beta", "β")):
            k = f"{key}{l}"
            if k in before:
                old, new = before[k], net.params[k]
                rows.append(
                    (
                        (f"{name}[{l}] before", old),
                        (f"d{name}[{l}]", grads[k]),
                        ("step taken", old - new),
                        (f"{name}[{l}] after", new.copy()),
                    )
                )
        steps.append(
            Step(
                t, LINE_UPDATE, l, f"Update, layer {l} ({opt.name}, step t = {opt.t})", tuple(rows)
            )
        )
    return steps


def first_step_of_batch(steps, index):
    """Index of the first stop of the next mini-batch after stop `index` (or the last stop)."""
    t = steps[index].t
    for i in range(index + 1, len(steps)):
        if steps[i].t != t:
            return i
    return len(steps) - 1
