"""The Training Lab's computations: its settings and trainer, smoothed curves, eval-mode
decision maps, predictions, parameter counts, and how large db is (cancelled out under batch
norm, not under layer norm).

Examples are columns, as everywhere in the core: X is (n_x, m). Nothing here trains or changes
a network; everything is a read-only look at one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from bn_core import data
from bn_core.checks import check_fraction
from bn_core.lessons.in_a_network import architecture, n_params


def ema(values, weight=0.9, block=64):
    """Exponentially weighted average along axis 0, bias-corrected (as Adam corrects v):

        v_t = weight * v_{t-1} + (1 - weight) * x_t,   v_0 = 0,   smoothed_t = v_t / (1 - weight^t)

    so the first point is x_1 itself rather than a value pulled towards 0. A NaN or inf
    counts as the last finite value before it (0 if there is none), so one bad point does not
    spoil the rest of the curve. values: (n,) or (n, k). Returns float64 of the same shape.

    Vectorized a block of `block` points at a time: inside a block starting after v_prev,
    v_{k} = w^(k+1) v_prev + (1 - w) w^k cumsum_j(x_j w^-j), j, k = 0, 1, ...
    """
    x = np.asarray(values, dtype=np.float64)
    weight = check_fraction(weight, "weight")
    x = _fill_forward(x)
    if weight == 0 or x.shape[0] == 0:
        return x
    out = np.empty_like(x)
    v = np.zeros(x.shape[1:])
    k = np.arange(block, dtype=np.float64).reshape(-1, *([1] * (x.ndim - 1)))
    w_k, w_neg_k = weight**k, weight**-k
    for start in range(0, x.shape[0], block):
        chunk = x[start : start + block]
        b = chunk.shape[0]
        run = (1 - weight) * w_k[:b] * np.cumsum(chunk * w_neg_k[:b], axis=0)
        out[start : start + b] = weight * w_k[:b] * v + run
        v = out[start + b - 1].copy()
    t = np.arange(1, x.shape[0] + 1, dtype=np.float64).reshape(-1, *([1] * (x.ndim - 1)))
    return out / (1 - weight**t)


def _fill_forward(x):
    """x with each non-finite entry replaced by the last finite one above it in its column
    (0 when there is none). x: (n,) or (n, k); returns a new float64 array."""
    bad = ~np.isfinite(x)
    if not bad.any():
        return x.copy()
    flat = x.reshape(x.shape[0], -1)
    good = ~bad.reshape(flat.shape)
    rows = np.where(good, np.arange(flat.shape[0])[:, None], 0)
    np.maximum.accumulate(rows, axis=0, out=rows)
    filled = flat[rows, np.arange(flat.shape[1])]
    seen = np.maximum.accumulate(good, axis=0)
    return np.where(seen, filled, 0.0).reshape(x.shape)


# --- decision boundary -----------------------------------------------------------------------


GRID_CHUNK = 2048  # grid points per forward pass


@dataclass(frozen=True)
class DecisionMap:
    """Eval-mode predictions of a network on a res x res grid over the 2-D input plane.

    xs: (res,) first input coordinate; ys: (res,) second; label: (res, res) int, the predicted
    class at (ys[i], xs[j]); confidence: (res, res), the probability of that class. Rows run
    along ys, as a heatmap wants them.
    """

    xs: np.ndarray
    ys: np.ndarray
    label: np.ndarray
    confidence: np.ndarray


def grid_bounds(X, margin=0.25):
    """((x_lo, x_hi), (y_lo, y_hi)) around the 2-D points X: (2, m), widened by `margin`."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(f"X must be (2, m) points in the plane, got shape {X.shape}")
    lo, hi = X.min(axis=1), X.max(axis=1)
    return tuple((float(a - margin), float(b + margin)) for a, b in zip(lo, hi, strict=True))


def decision_map(net, bounds, res=60):
    """The network's eval-mode prediction (running averages, no change to the network) on a
    res x res grid. bounds: ((x_lo, x_hi), (y_lo, y_hi)). Returns a DecisionMap, or None when
    the network has 2 inputs no longer or its weights are not finite (a diverged run)."""
    if net.config.layer_dims[0] != 2 or not np.isfinite(net.params.flat).all():
        return None
    xs = np.linspace(*bounds[0], res)
    ys = np.linspace(*bounds[1], res)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.vstack([gx.ravel(), gy.ravel()])
    with np.errstate(all="ignore"):
        # in chunks: eval mode treats every example alone, and OpenBLAS goes multi-threaded on
        # wider products, which measured 10-25x slower on a busy 2-core machine
        probs = np.hstack(
            [
                net.forward(grid[:, i : i + GRID_CHUNK], train=False)
                for i in range(0, grid.shape[1], GRID_CHUNK)
            ]
        )
    if not np.isfinite(probs).all():
        return None
    label = probs.argmax(axis=0)
    confidence = probs[label, np.arange(label.size)]
    return DecisionMap(xs, ys, label.reshape(res, res), confidence.reshape(res, res))


def predict(net, X):
    """Eval-mode predicted classes (m,) for X: (n_x, m); -1 where the output is not finite."""
    with np.errstate(all="ignore"):
        probs = net.forward(X, train=False)
    label = probs.argmax(axis=0)
    return np.where(np.isfinite(probs).all(axis=0), label, -1)


@dataclass(frozen=True)
class DataPanel:
    """What the lab's data panel shows, each network main first: for 2-D inputs, maps of
    (normalization, DecisionMap or None) and the split for the points; for images, the first
    test examples X (n_x, n) with labels y (n,) and predictions of (normalization, preds (n,)).
    normalization: the network's, "batch", "layer" or None."""

    split: object
    maps: tuple = ()
    X: np.ndarray | None = None
    y: np.ndarray | None = None
    predictions: tuple = ()


def data_panel(trainer, res=80, n_digits=24, nets=None):
    """The trainer's DataPanel: decision maps on a res x res grid over the data's bounds, or,
    beyond 2 inputs, eval-mode predictions for the first n_digits test examples. nets: the
    networks to show (default: the trainer's, main first)."""
    split = trainer.split
    nets = [run.net for run in trainer.runs] if nets is None else list(nets)
    if split.X_train.shape[0] == 2:
        bounds = grid_bounds(np.hstack([split.X_train, split.X_test]))
        return DataPanel(
            split,
            maps=tuple((net.config.normalization, decision_map(net, bounds, res)) for net in nets),
        )
    X, y = split.X_test[:, :n_digits], split.y_test[:n_digits]
    return DataPanel(
        split,
        X=X,
        y=y,
        predictions=tuple((net.config.normalization, predict(net, X)) for net in nets),
    )


def raw_test_inputs(dataset, n, noise, test_fraction, seed):
    """The test set of `bn_core.training.make_split` with the same arguments, before input
    normalization: for showing digits as the 8x8 images they are. Returns X_test (n_x, m_test)."""
    X, y = data.make_dataset(dataset, n=n, noise=noise, seed=seed)
    return data.train_test_split(X, y, test_fraction=test_fraction, seed=seed)[2]


# --- parameters and the bias -----------------------------------------------------------------


@functools.lru_cache(maxsize=64)  # it builds a network: the page asks on every full run
def count_params(layer_dims, normalization, eliminate_bias):
    """How many numbers a network learns, read from a real network's layout as *Fitting it
    into a network* counts them:

        W[l]: n_l * n_{l-1};  b[l]: n_l (unless eliminated on a normalized layer);
        gamma[l], beta[l]: n_l each on a normalized (hidden) layer.

    normalization: "batch", "layer", or None / "none"; True and False mean batch norm on and
    off. Batch norm and layer norm learn the same numbers (gamma and beta per unit). Any other
    normalization raises ValueError.
    """
    if normalization not in (True, False, None, "none", "batch", "layer"):
        raise ValueError(
            f'normalization must be "batch", "layer", "none", None, True or False, '
            f"got {normalization!r}"
        )
    batch = normalization in (True, "batch")
    layer = normalization == "layer"
    return n_params(
        architecture(layer_dims, batch_norm=batch, eliminate_bias=eliminate_bias, layer_norm=layer)
    )


def hidden_units(layer_dims):
    """n_1 + ... + n_{L-1}: the units of every hidden layer."""
    return int(sum(layer_dims[1:-1]))


def largest_db(net, X, y):
    """max over normalized layers l (batch or layer norm) and units of |db[l]| on the
    mini-batch (X, y), or None when no normalized layer keeps its b.

    Batch norm subtracts each unit's mean of Z = W A + b over the mini-batch, and b[l][j] is
    the same for every example, so it cancels: dL/db = 0 up to rounding. Layer norm subtracts
    each example's mean over the layer's units instead: only b's average over the units
    cancels (db sums to 0 over the units), the rest of b changes the output, so |db| > 0 and b
    learns. The gradient is taken without updating the running averages (update_running=False),
    so the parameters and running averages are left as they were (the trace and last_probs
    are this probe's). X: (n_x, m), m >= 2 under batch norm; y: (m,).
    """
    keys = [f"b{l}" for l in net.norm_layers if net.has_bias(l)]
    if not keys:
        return None
    with np.errstate(all="ignore"):
        _, grads = net.loss_and_grads(X, y, update_running=False)
    return float(max(np.max(np.abs(grads[k])) for k in keys))


# --- the lab's settings ----------------------------------------------------------------------

OPTIMIZER_FIELDS = ("optimizer", "lr", "beta", "beta1", "beta2", "eps")
OWN_DATA = "own"  # the data set name for points the learner uploads

# The settings that define the data and the networks: a change to one means a fresh start.
DEFINING_FIELDS = (
    "dataset",
    "n",
    "noise",
    "test_fraction",
    "hidden_layers",
    "units",
    "activation",
    "batch_norm",
    "layer_norm",
    "eliminate_bias",
    "init",
    "init_scale",
    "batch_size",
    "seed",
    "twin",
    "data_file",
)
NORMALIZATIONS = ("batch", "layer", "none")  # the lab's names, as in its links


@dataclass(frozen=True)
class LabSettings:
    """Everything the Training Lab trains from. The fields up to `data_file` define the data
    and the networks: changing one means a fresh start. The optimizer fields apply to a running
    trainer.

    batch_norm, layer_norm: the main network's normalization (at most one of them on).
    twin: whether to train a twin beside it (only when the main network is normalized);
    twin_norm: the twin's normalization, "none" or the other one of "batch" and "layer".
    """

    dataset: str = "spiral"
    n: int = 400
    noise: float = 0.1
    test_fraction: float = 0.25
    hidden_layers: int = 3
    units: int = 16
    activation: str = "relu"
    batch_norm: bool = True
    layer_norm: bool = False
    eliminate_bias: bool = True
    init: str = "he"
    init_scale: float = 0.01
    batch_size: int = 32
    seed: int = 0
    twin: bool = True
    twin_norm: str = "none"
    data_file: str = ""  # for dataset "own": a digest of the uploaded CSV
    optimizer: str = "adam"
    lr: float = 0.01
    beta: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8

    @property
    def normalization(self):
        """The main network's normalization: "batch", "layer" or "none"."""
        return "batch" if self.batch_norm else "layer" if self.layer_norm else "none"

    @property
    def has_twin(self):
        """Whether a twin trains beside the main network: asked for, and the main network is
        normalized (a twin is the same network with another normalization)."""
        return self.twin and self.normalization != "none"

    @property
    def hidden(self):
        """The hidden widths (n_1, ..., n_{L-1}): every hidden layer has `units` units."""
        return (self.units,) * self.hidden_layers

    def signature(self):
        """((name, value), ...) of what defines the data and the network. A value that does not
        matter (the noise of digits, the scale of He or Xavier initialization) is left out.
        "twin" is the twin's normalization ("none", "batch", "layer"), or False for none."""
        out = []
        for name in DEFINING_FIELDS:
            value = getattr(self, name)
            if name == "twin":
                value = self.twin_norm if self.twin else False
            own = self.dataset == OWN_DATA
            if (
                (name == "noise" and self.dataset == "digits")
                or (name == "init_scale" and self.init != "gaussian")
                or (name in ("n", "noise") and own)
                or (name == "data_file" and not own)
            ):
                value = None
            out.append((name, value))
        return tuple(out)

    def optimizer_args(self):
        """(name, lr, hyper) for Trainer.set_optimizer."""
        return self.optimizer, self.lr, {k: getattr(self, k) for k in OPTIMIZER_FIELDS[2:]}


def make_trainer(settings, split, **trainer_kwargs):
    """A Trainer for the settings on split (a bn_core.training.Split). The mini-batch size is
    clipped to the training set."""
    from bn_core.training import Trainer, default_config

    config = default_config(
        split,
        hidden=settings.hidden,
        activation=settings.activation,
        batch_norm=settings.batch_norm,
        layer_norm=settings.layer_norm,
        eliminate_bias=settings.eliminate_bias,
        seed=settings.seed,
        init=settings.init,
        init_scale=settings.init_scale,
    )
    name, lr, hyper = settings.optimizer_args()
    return Trainer(
        config,
        split,
        optimizer=name,
        lr=lr,
        batch_size=min(settings.batch_size, split.X_train.shape[1]),
        twin=settings.twin_norm if settings.has_twin else False,
        **trainer_kwargs,
        **hyper,
    )
