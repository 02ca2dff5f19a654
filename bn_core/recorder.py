"""What a network did while it trained, kept within a fixed memory budget.

Every step: loss, mini-batch accuracy, each hidden unit's mini-batch mu and sigma of Z, the
running averages (batch norm), gamma and beta (batch or layer norm), under layer norm how each
example's own mu and sigma spread across the mini-batch, and per layer the gradient norm and
update-to-data ratio.
Every `detail_every` steps: the 15th/50th/85th percentiles of a watched unit's activation input
(Figure 1 of Ioffe & Szegedy 2015) and samples of Z, Z_tilde and A for the histograms.
Series are preallocated; when one fills up, every other point goes and the series keeps only
every second step from then on, so a long run is thinned evenly, never cut off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PERCENTILES = (15, 50, 85)
STAGES = ("Z", "Z_tilde", "A")
UNIT_FIELDS = ("mu", "sigma", "running_mu", "running_sigma", "gamma", "beta")
LAYER_NORM_FIELDS = ("mu", "sigma", "gamma", "beta")  # no running averages to record
EXAMPLE_FIELDS = ("mu", "sigma")  # layer norm's statistics: each example's, over its units
EXAMPLE_STATS = ("mean", "min", "max")  # ... summarized across the mini-batch's examples
MIN_CAPACITY = 64
SERIES = ("train", "test", "units", "layers", "percentiles")  # every recorder has these


class Series:
    """A thinned time series: at most `capacity` points of shape `shape`, evenly spread.

    Points are offered one by one; every `stride`-th offer is kept. When the buffer is full,
    every other kept point goes and the stride doubles. steps: (n,) int64; values: (n, *shape)
    float32.
    """

    def __init__(self, capacity, shape=()):
        self.capacity = max(int(capacity), 2)
        self._steps = np.zeros(self.capacity, dtype=np.int64)
        self._values = np.zeros((self.capacity, *shape), dtype=np.float32)
        self.n = 0
        self.stride = 1
        self._offers = 0

    def take(self):
        """Offer the next point: True if it is to be kept (then `put` it)."""
        keep = self._offers % self.stride == 0
        self._offers += 1
        if keep and self.n == self.capacity:
            self._thin()
            keep = (self._offers - 1) % self.stride == 0
        return keep

    def put(self, step, value):
        self._steps[self.n] = step
        self._values[self.n] = value
        self.n += 1

    def add(self, step, value):
        if self.take():
            self.put(step, value)

    def _thin(self):
        """Keep every other point (those on multiples of twice the stride)."""
        kept = (self.n + 1) // 2
        self._steps[:kept] = self._steps[: self.n : 2]
        self._values[:kept] = self._values[: self.n : 2]
        self.n = kept
        self.stride *= 2

    @property
    def steps(self):
        return self._steps[: self.n]

    @property
    def values(self):
        return self._values[: self.n]

    @property
    def nbytes(self):
        return self._steps.nbytes + self._values.nbytes


@dataclass(frozen=True)
class LayerSlices:
    """Where each hidden layer's units sit in the concatenated per-unit series."""

    widths: tuple

    def __getitem__(self, l):
        """Columns of layer l (1-based, as in the course)."""
        start = sum(self.widths[: l - 1])
        return slice(start, start + self.widths[l - 1])


class Recorder:
    """Records one network's training within `budget_bytes` of memory.

    Series (each thinned on its own):
      train:       (n, 2)             loss, mini-batch accuracy
      test:        (n, 2)             test loss, test accuracy (eval mode)
      units:       (n, k, n_units)    per hidden unit, side by side (slice layer l with
                                      `layer_units[l]`): the k quantities in unit_fields
                                      (UNIT_FIELDS under batch norm, LAYER_NORM_FIELDS under
                                      layer norm, mu and sigma alone without normalization)
      layers:      (n, 2, L)          per layer with weights: ||dW[l]||, update-to-data ratio
      percentiles: (n, n_hidden, 3)   15/50/85th percentile of a watched unit's activation input
      examples:    (n, n_hidden, 2, 3) layer norm only (else None): per hidden layer, the mu and
                                      sigma layer norm normalizes each example with (over the
                                      layer's units), as their mean, min and max across the
                                      mini-batch's examples (EXAMPLE_FIELDS x EXAMPLE_STATS)
    samples: the latest {(l, stage): float32 values} of Z, Z_tilde and A per hidden layer.
    batch_size: the trainer's mini-batch size m (None when unknown), for
    `running_sigma_on_batch_scale`.

    "mu" and "sigma" are always each unit's mean and standard deviation of Z over the
    mini-batch: the statistics batch norm normalizes with. Layer norm does not use them (it
    normalizes each example over its units); for it they show what a unit's input does, like
    they do without normalization; what it does use, each example's mu and sigma over its
    units, is in `examples`. normalization: "batch", "layer" or None.
    """

    def __init__(
        self,
        net,
        budget_bytes=4_000_000,
        detail_every=10,
        sample_size=2048,
        watch_unit=0,
        batch_size=None,
    ):
        widths = net.config.layer_dims[1:-1]
        self.batch_norm = bool(net.bn_layers)
        self.normalization = "batch" if net.bn_layers else "layer" if net.ln_layers else None
        self.unit_fields = {
            "batch": UNIT_FIELDS,
            "layer": LAYER_NORM_FIELDS,
            None: UNIT_FIELDS[:2],
        }[self.normalization]
        self.layer_units = LayerSlices(tuple(widths))
        self.detail_every = int(detail_every)
        self.sample_size = int(sample_size)
        self.watch_unit = int(watch_unit)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.budget_bytes = int(budget_bytes)
        self._w_slices = _weight_slices(net)
        self._gamma_beta = _gamma_beta_index(net)
        shapes = {
            "train": (2,),
            "test": (2,),
            "units": (len(self.unit_fields), sum(widths)),
            "layers": (2, net.L),
            "percentiles": (len(widths), len(PERCENTILES)),
        }
        if self.normalization == "layer":
            shapes["examples"] = (len(widths), len(EXAMPLE_FIELDS), len(EXAMPLE_STATS))
        point_bytes = sum(4 * int(np.prod(shape)) + 8 for shape in shapes.values())
        samples_bytes = len(STAGES) * len(widths) * self.sample_size * 4
        capacity = (self.budget_bytes - samples_bytes) // point_bytes
        if capacity < MIN_CAPACITY:
            raise ValueError(
                f"a memory budget of {budget_bytes} bytes is too small for this "
                f"network (it needs at least {MIN_CAPACITY} points per series)"
            )
        self.train, self.test, self.units, self.layers, self.percentiles = (
            Series(capacity, shapes[name]) for name in SERIES
        )
        self.examples = Series(capacity, shapes["examples"]) if "examples" in shapes else None
        self.samples = {}
        self.samples_step = None

    # --- recording ---------------------------------------------------------------------------

    def record_step(self, step, net, loss, y, grads, params_before):
        """Record one training step.

        net: after its optimizer step (trace and running averages from this step's forward);
        y: (m,) labels of the mini-batch; grads: this step's grads (a FlatDict);
        params_before: the flat parameter vector before the step.
        """
        if self.train.take():
            self.train.put(step, (loss, np.mean(net.last_probs.argmax(axis=0) == y)))
        if self.units.take():
            self.units.put(step, self._unit_values(net))
        if self.layers.take():
            self.layers.put(step, self._layer_values(net.params.flat, grads.flat, params_before))
        if self.examples is not None and self.examples.take():
            self.examples.put(step, _example_values(net.trace))
        if step % self.detail_every == 0:
            self._record_details(step, net)

    def record_test(self, step, loss, accuracy):
        self.test.add(step, (loss, accuracy))

    def _unit_values(self, net):
        """(k, n_units): mu and sigma of Z over the mini-batch, then for batch norm the
        running mu and sigma, then gamma and beta (batch or layer norm)."""
        trace = net.trace
        if self.normalization != "batch":
            mu = np.concatenate([t.Z.mean(axis=1) for t in trace])
            sigma = np.concatenate([t.Z.std(axis=1) for t in trace])
            if self.normalization is None:
                return np.stack((mu, sigma))
            return np.vstack((mu, sigma, net.params.flat[self._gamma_beta]))
        mu = np.concatenate([t.mu[:, 0] for t in trace])
        var = np.concatenate([t.var[:, 0] for t in trace])
        return np.vstack(
            (
                mu,
                np.sqrt(var),
                net.running_flat[0],
                np.sqrt(net.running_flat[1]),
                net.params.flat[self._gamma_beta],
            )
        )

    def _layer_values(self, theta, grad, theta_before):
        """(2, L): ||dW[l]|| and ||W[l] after - W[l] before|| / ||W[l] after||, from dot
        products over each W[l]'s stretch of the flat vectors (no full-size temporaries)."""
        values = np.empty((2, len(self._w_slices)))
        for l, part in enumerate(self._w_slices):
            W, dW = theta[part], grad[part]
            delta = W - theta_before[part]
            values[0, l] = dW @ dW
            values[1, l] = (delta @ delta) / (W @ W) if W.any() else np.inf
        return np.sqrt(values)

    def _record_details(self, step, net):
        inputs = np.stack(
            [t.Z_tilde[min(self.watch_unit, t.Z_tilde.shape[0] - 1)] for t in net.trace]
        )
        self.percentiles.add(step, _percentiles(inputs))
        for l, t in enumerate(net.trace, start=1):
            for stage in STAGES:
                values = getattr(t, stage).ravel()
                if values.size > self.sample_size:
                    values = values[:: -(-values.size // self.sample_size)]
                self.samples[(l, stage)] = values.astype(np.float32)
        self.samples_step = step

    # --- reading -----------------------------------------------------------------------------

    def unit_series(self, name, l):
        """(steps (n,), values (n, n_l)) of a per-unit quantity (one of unit_fields) for
        hidden layer l."""
        k = self.unit_fields.index(name)
        return self.units.steps, self.units.values[:, k, self.layer_units[l]]

    def running_sigma_on_batch_scale(self, l):
        """(steps (n,), values (n, n_l)) under batch norm: the running sigma of hidden layer l
        on the scale of a mini-batch's sigma, sqrt(running_var * (m - 1) / m).

        A mini-batch's sigma is the biased one, sqrt(1/m sum (z - mu)^2): what training
        divides by. The running variance averages the unbiased var * m / (m - 1) (as in the
        paper; test time divides by it), so at m = 2 its square root sits sqrt(2) above the
        mini-batch sigmas it came from. Times (m - 1) / m it is the average of the same biased
        variances again (m: the mini-batch size, `batch_size`; unchanged when unknown)."""
        steps, values = self.unit_series("running_sigma", l)
        m = self.batch_size
        return steps, values if not m or m < 2 else values * np.sqrt((m - 1) / m)

    def example_series(self, name, l):
        """(steps (n,), values (n, 3)) under layer norm: the mean, min and max across each
        mini-batch's examples of each example's "mu" or "sigma" over hidden layer l's units."""
        if self.examples is None:
            raise ValueError("per-example statistics are recorded under layer norm only")
        k = EXAMPLE_FIELDS.index(name)
        return self.examples.steps, self.examples.values[:, l - 1, k, :]

    def layer_series(self, name):
        """(steps (n,), values (n, L)) of "grad_norm" or "update_ratio" for layers 1..L."""
        k = ("grad_norm", "update_ratio").index(name)
        return self.layers.steps, self.layers.values[:, k, :]

    @property
    def nbytes(self):
        """Memory held by the recorded series and samples."""
        series = (
            self.train,
            self.test,
            self.units,
            self.layers,
            self.percentiles,
            *([self.examples] if self.examples is not None else []),
        )
        return sum(s.nbytes for s in series) + sum(v.nbytes for v in self.samples.values())


def _example_values(trace):
    """(n_hidden, 2, 3): per layer-norm layer, each example's mu and sigma over its units
    (trace mu, var: (1, m)) summarized as mean, min and max across the mini-batch."""
    out = np.empty((len(trace), len(EXAMPLE_FIELDS), len(EXAMPLE_STATS)))
    for l, t in enumerate(trace):
        for k, row in enumerate((t.mu[0], np.sqrt(t.var[0]))):
            out[l, k] = row.mean(), row.min(), row.max()
    return out


def _percentiles(rows):
    """The PERCENTILES of each row, as np.percentile's default (linear) method computes them,
    from one sort. rows: (k, m). Returns (k, len(PERCENTILES))."""
    ordered = np.sort(rows, axis=1)
    position = np.asarray(PERCENTILES) / 100 * (rows.shape[1] - 1)
    lo = np.floor(position).astype(int)
    hi = np.minimum(lo + 1, rows.shape[1] - 1)
    frac = position - lo
    return ordered[:, lo] + frac * (ordered[:, hi] - ordered[:, lo])


def _gamma_beta_index(net):
    """Indices into the flat parameter vector: every gamma[l], then every beta[l]."""
    slots = {key: (start, stop) for key, _, start, stop in net.params._slots}
    ranges = [range(*slots[f"{name}{l}"]) for name in ("gamma", "beta") for l in net.norm_layers]
    return np.array([i for r in ranges for i in r], dtype=np.intp).reshape(2, -1)


def _weight_slices(net):
    """Where each W[l] sits in the flat parameter vector, l = 1..L."""
    return [slice(start, stop) for key, _, start, stop in net.params._slots if key.startswith("W")]
