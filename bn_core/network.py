"""A small fully connected network with optional batch norm or layer norm on its hidden layers.

Hidden layer l computes Z = W A_prev (+ b), then batch norm or layer norm (gamma, beta) before
the activation g, as in the lecture; the output layer is W[L] A[L-1] + b[L] then softmax, with the
mean cross-entropy as loss. Examples are columns: X is (n_x, m).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from bn_core import batchnorm, layernorm
from bn_core.checks import (
    check_choice,
    check_fraction,
    check_int,
    check_labels,
    check_matrix,
    check_positive,
    is_integer,
)
from bn_core.layers import (
    ACTIVATIONS,
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
    dense_param_grads,
    softmax,
    softmax_cross_entropy,
)
from bn_core.params import FlatDict

INITS = ("he", "xavier", "gaussian")


@dataclass(frozen=True)
class NetConfig:
    """Everything that defines a network before training.

    layer_dims: (n_x, n_1, ..., n_L); the last is the number of classes.
    init: "he" (std sqrt(2/n_{l-1})), "xavier" (std sqrt(1/n_{l-1})) or "gaussian"
    (std init_scale, for the bad-initialization experiments).
    running_beta: the weight kept on the old value in the running averages (batch norm only).
    layer_norm: layer norm on every hidden layer instead of batch norm (needs batch_norm=False).
    """

    layer_dims: tuple = (2, 16, 16, 2)
    activation: str = "relu"
    batch_norm: bool = True
    eliminate_bias: bool = True
    eps: float = batchnorm.DEFAULT_EPS
    running_beta: float = 0.9
    seed: int = 0
    init: str = "he"
    init_scale: float = 0.01
    layer_norm: bool = False

    def __post_init__(self):
        try:
            dims = tuple(self.layer_dims)
        except TypeError:  # not a sequence at all: a ValueError like any other bad input
            dims = (self.layer_dims,)
        if len(dims) < 2 or not all(_is_positive_int(n) for n in dims):
            raise ValueError(f"layer_dims must be at least 2 positive integers, got {dims!r}")
        if dims[-1] < 2:
            raise ValueError(f"the output layer needs at least 2 classes, got {dims[-1]}")
        object.__setattr__(self, "layer_dims", tuple(int(n) for n in dims))
        check_choice(self.activation, "activation", ACTIVATIONS)
        check_choice(self.init, "init", INITS)
        check_positive(self.eps, "eps")
        check_positive(self.init_scale, "init_scale")
        check_fraction(self.running_beta, "running_beta")
        for name in ("batch_norm", "eliminate_bias", "layer_norm"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.batch_norm and self.layer_norm:
            raise ValueError(
                "choose batch_norm or layer_norm, not both: each hidden layer has one normalization"
            )
        check_int(self.seed, "seed", 0)

    @property
    def n_layers(self):
        """L: the number of layers with weights (hidden layers plus the output layer)."""
        return len(self.layer_dims) - 1

    @property
    def normalization(self):
        """The hidden layers' normalization: "batch", "layer" or None."""
        return "batch" if self.batch_norm else "layer" if self.layer_norm else None

    def with_normalization(self, normalization):
        """The same config with another normalization: "batch", "layer", or None (or "none")
        for none."""
        normalization = check_normalization(normalization)
        return replace(
            self, batch_norm=normalization == "batch", layer_norm=normalization == "layer"
        )


NORMALIZATIONS = ("batch", "layer", None)


def check_normalization(normalization):
    """ "batch", "layer" or None (the text "none" reads as None)."""
    if isinstance(normalization, str) and normalization in ("batch", "layer", "none"):
        return None if normalization == "none" else normalization
    if normalization is None:
        return None
    raise ValueError(f'normalization must be "batch", "layer" or None, got {normalization!r}')


def _is_positive_int(n):
    return is_integer(n) and n > 0


@dataclass(slots=True)
class LayerTrace:
    """One hidden layer's values in the last training-mode forward, for the pictures.

    All (n_l, m) except mu, var: (n_l, 1) under batch norm, (1, m) under layer norm. Without
    normalization, mu, var and Z_norm are None and Z_tilde is Z.
    """

    Z: np.ndarray
    Z_tilde: np.ndarray
    A: np.ndarray
    mu: np.ndarray | None = None
    var: np.ndarray | None = None
    Z_norm: np.ndarray | None = None


@dataclass(slots=True)
class _HiddenCache:
    A_prev: np.ndarray
    A: np.ndarray
    norm: batchnorm.BatchNormCache | layernorm.LayerNormCache | None


@dataclass
class MLP:
    """The network: parameters, running averages for test time, and the last forward's trace.

    params: "W{l}", "b{l}", "gamma{l}", "beta{l}" for l = 1..L (b{l} absent on a normalized layer
    when eliminate_bias is on; gamma/beta only on normalized layers). Live arrays.
    bn_layers, ln_layers: the hidden layers with batch norm, with layer norm (one is empty);
    norm_layers: either.
    running_mu, running_var: {l: (n_l, 1)} for each batch-norm layer l (views into
    running_flat, (2, total batch-norm units): row 0 the means, row 1 the variances). Empty
    under layer norm, which keeps no running averages.
    """

    config: NetConfig
    params: FlatDict = field(init=False)
    running_mu: dict = field(init=False)
    running_var: dict = field(init=False)
    running_flat: np.ndarray = field(init=False, repr=False)
    bn_layers: tuple = field(init=False)
    ln_layers: tuple = field(init=False)
    trace: list = field(init=False, default_factory=list)
    last_probs: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self):
        cfg = self.config
        self.bn_layers = tuple(range(1, cfg.n_layers)) if cfg.batch_norm else ()
        self.ln_layers = tuple(range(1, cfg.n_layers)) if cfg.layer_norm else ()
        self.params = FlatDict(self._param_layout())
        self._initialize(np.random.default_rng(cfg.seed))
        # Both dicts hold views into one (2, units) array, so a recorder reads them in one go.
        widths = [cfg.layer_dims[l] for l in self.bn_layers]
        self.running_flat = np.zeros((2, sum(widths)))
        self.running_flat[1] = 1.0
        starts = np.cumsum([0, *widths])
        self.running_mu = {
            l: self.running_flat[0, a:b].reshape(-1, 1)
            for l, a, b in zip(self.bn_layers, starts[:-1], starts[1:], strict=True)
        }
        self.running_var = {
            l: self.running_flat[1, a:b].reshape(-1, 1)
            for l, a, b in zip(self.bn_layers, starts[:-1], starts[1:], strict=True)
        }

    # --- structure -------------------------------------------------------------------------

    @property
    def L(self):
        return self.config.n_layers

    @property
    def norm_layers(self):
        """The hidden layers with a normalization (batch or layer norm), and so gamma, beta."""
        return self.bn_layers or self.ln_layers

    def has_bias(self, l):
        """Whether layer l keeps b[l]: always, unless its normalization eliminates it."""
        return not (l in self.norm_layers and self.config.eliminate_bias)

    def _param_layout(self):
        dims = self.config.layer_dims
        layout = []
        for l in range(1, self.L + 1):
            layout.append((f"W{l}", (dims[l], dims[l - 1])))
            if self.has_bias(l):
                layout.append((f"b{l}", (dims[l], 1)))
            if l in self.norm_layers:
                layout += [(f"gamma{l}", (dims[l], 1)), (f"beta{l}", (dims[l], 1))]
        return layout

    def _initialize(self, rng):
        cfg = self.config
        for l in range(1, self.L + 1):
            n_prev = cfg.layer_dims[l - 1]
            std = {
                "he": np.sqrt(2.0 / n_prev),
                "xavier": np.sqrt(1.0 / n_prev),
                "gaussian": cfg.init_scale,
            }[cfg.init]
            self.params[f"W{l}"] = rng.standard_normal(self.params[f"W{l}"].shape) * std
            if l in self.norm_layers:
                self.params[f"gamma{l}"][...] = 1.0

    @property
    def n_params(self):
        """How many numbers training learns."""
        return self.params.flat.size

    def __repr__(self):
        cfg = self.config
        tag = {**dict.fromkeys(self.bn_layers, " BN"), **dict.fromkeys(self.ln_layers, " LN")}
        hidden = [
            f"[{n}{tag.get(l, '')} {cfg.activation}]"
            for l, n in enumerate(cfg.layer_dims[1:-1], start=1)
        ]
        return " -> ".join([str(cfg.layer_dims[0]), *hidden, f"{cfg.layer_dims[-1]} softmax"])

    # --- forward ---------------------------------------------------------------------------

    def forward(self, X, train=True, update_running=True):
        """Class probabilities for X.

        train=True uses each batch-norm layer's mini-batch statistics, updates the running
        averages and records the trace; with update_running=False it leaves the running
        averages as they are (a look at training mode that does not count as training: a
        gradient check, a lesson's probe). train=False uses the running averages and changes
        nothing (any m, one example included). Layer norm computes the same either way.
        X: (n_x, m). Returns probs (n_L, m).
        """
        X = self._check_X(X, train)
        ZL, _, traces, _ = self._forward(X, train, update_running)
        if train:
            self.trace = traces
        return softmax(ZL)

    def layer_trace(self, X, train=False):
        """The per-layer trace of a forward on X without changing the network.

        X: (n_x, m). Returns a list of LayerTrace, one per hidden layer.
        """
        X = self._check_X(X, train)
        return self._forward(X, train, update_running=False)[2]

    def _forward(self, X, train, update_running=True):
        """Returns Z[L] (n_L, m), the hidden caches backward needs, the traces, A[L-1]."""
        p, cfg = self.params, self.config
        A, caches, traces = X, [], []
        for l in range(1, self.L):
            Z = dense_forward(A, p[f"W{l}"], p.get(f"b{l}"))
            norm_cache = None
            if l in self.ln_layers:  # per example: no running averages, train or not
                Z_tilde, norm_cache = layernorm.forward_unchecked(
                    Z, p[f"gamma{l}"], p[f"beta{l}"], cfg.eps
                )
            elif l not in self.bn_layers:
                Z_tilde = Z
            elif train:
                Z_tilde, norm_cache = batchnorm.forward_unchecked(
                    Z, p[f"gamma{l}"], p[f"beta{l}"], cfg.eps
                )
                if update_running:
                    self._update_running(l, norm_cache.mu, norm_cache.var, Z.shape[1])
            else:
                Z_tilde = batchnorm.forward_eval(
                    Z,
                    p[f"gamma{l}"],
                    p[f"beta{l}"],
                    self.running_mu[l],
                    self.running_var[l],
                    cfg.eps,
                )
            A_next = activation_forward(Z_tilde, cfg.activation)
            caches.append(_HiddenCache(A, A_next, norm_cache))
            traces.append(
                LayerTrace(
                    Z,
                    Z_tilde,
                    A_next,
                    *((norm_cache.mu, norm_cache.var, norm_cache.Z_norm) if norm_cache else ()),
                )
            )
            A = A_next
        return dense_forward(A, p[f"W{self.L}"], p[f"b{self.L}"]), caches, traces, A

    def _update_running(self, l, mu, var, m):
        """running = beta_bn * running + (1 - beta_bn) * batch_value, with the unbiased
        variance var * m / (m - 1) going into the running variance (as in the paper)."""
        rb = self.config.running_beta
        self.running_mu[l] *= rb
        self.running_mu[l] += (1.0 - rb) * mu
        self.running_var[l] *= rb
        self.running_var[l] += (1.0 - rb) * (m / (m - 1)) * var

    # --- loss and gradients ------------------------------------------------------------------

    def loss_and_grads(self, X, y, update_running=True):
        """One training-mode forward (updating the running averages once, unless
        update_running=False: see `forward`) and one backward.

        X: (n_x, m); y: (m,) int labels in 0..n_L-1.
        Returns the mean cross-entropy loss and grads, a dict with the keys of params.
        The probabilities of that forward are kept in `last_probs` (n_L, m).
        """
        X = self._check_X(X, train=True)
        y = check_labels(y, X.shape[1], self.config.layer_dims[-1])
        return self.loss_and_grads_unchecked(X, y, update_running)

    def loss_and_grads_unchecked(self, X, y, update_running=True):
        """`loss_and_grads` for inputs already validated (a trainer's mini-batches of a
        checked data set): float64 X (n_x, m) with m >= 2 under batch norm, int labels y (m,)
        in range."""
        ZL, caches, traces, A_last = self._forward(X, True, update_running)
        self.trace = traces
        loss, self.last_probs, dZ = softmax_cross_entropy(ZL, y)
        return loss, self._backward(dZ, caches, A_last)

    def _backward(self, dZ, caches, A_last):
        """Backprop from dZ[L] (n_L, m); every gradient is written into one flat vector."""
        p, L = self.params, self.L
        grads = p.empty_like()
        dA = self._dense_backward(L, dZ, A_last, grads)
        for l in range(L - 1, 0, -1):
            cache = caches[l - 1]
            # dA is this backward's own temporary: the derivative may overwrite it.
            dZ = activation_backward(dA, cache.A, self.config.activation, out=dA)
            if cache.norm is not None:
                norm = layernorm if l in self.ln_layers else batchnorm
                dZ, grads[f"gamma{l}"], grads[f"beta{l}"] = norm.backward_unchecked(dZ, cache.norm)
            dA = self._dense_backward(l, dZ, cache.A_prev, grads)
        return grads

    def _dense_backward(self, l, dZ, A_prev, grads):
        """Layer l's dW and db (if it has b) into grads. Returns dA[l-1], or None for layer 1,
        whose dA_prev would be dX, which nothing needs."""
        dW, db = grads[f"W{l}"], grads.get(f"b{l}")
        if l == 1:
            dense_param_grads(dZ, A_prev, dW, db)
            return None
        return dense_backward(dZ, A_prev, self.params[f"W{l}"], dW, db)

    def _check_X(self, X, train):
        n_x = self.config.layer_dims[0]
        X = check_matrix(X, "X", rows=n_x)
        if train and self.bn_layers and X.shape[1] < 2:
            raise ValueError(
                "batch norm needs a mini-batch of at least 2 examples in training "
                f"mode, got m={X.shape[1]}; use forward(X, train=False) for one"
            )
        return X
