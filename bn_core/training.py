"""Mini-batch training one step at a time, optionally with a twin network for comparison.

The twin is the same network with another normalization: by default none (batch or layer norm
off), or the other one (layer norm beside batch norm, say). It starts from the same initial
parameters (W, and b, gamma, beta where both have them), sees the same mini-batches in the same
order and steps in lockstep, so its curves differ from the main network's only by the
normalization.
A network whose loss or parameters stop being finite (or whose loss explodes) is stopped with
a plain-language reason; training never raises for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core import data, optimizers
from bn_core.checks import check_labels, check_matrix
from bn_core.data import MiniBatchIterator
from bn_core.network import MLP, NetConfig, check_normalization
from bn_core.recorder import Recorder

EXPLODED_LOSS = 1e3  # nats: the right class given probability below e^-1000 on average


@dataclass(frozen=True)
class Split:
    """Training and test data, inputs already normalized.

    X_train: (n_x, m_train); y_train: (m_train,); X_test: (n_x, m_test); y_test: (m_test,).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "X_train", check_matrix(self.X_train, "X_train"))
        n_x = self.X_train.shape[0]
        object.__setattr__(self, "X_test", check_matrix(self.X_test, "X_test", rows=n_x))
        for name, X in (("y_train", self.X_train), ("y_test", self.X_test)):
            object.__setattr__(self, name, check_labels(getattr(self, name), X.shape[1]))

    @property
    def n_classes(self):
        return int(max(self.y_train.max(), self.y_test.max())) + 1


@dataclass
class Run:
    """One network in training: the network, its recorder, and why it stopped (or None)."""

    net: MLP
    recorder: Recorder | None
    stop_reason: str | None = None
    last_loss: float = float("nan")


class Trainer:
    """Steps a network (and its twin) one mini-batch at a time.

    twin: True (the default) for the same network without normalization, made only when the
    main network has one; False or None for no twin; or the twin's normalization by name,
    "none", "batch" or "layer", which must differ from the main network's (twin="layer" beside
    a batch-norm network compares the two normalizations on the same weights and mini-batches).
    The optimizer is made per network from (optimizer, lr, hyper); `set_optimizer` changes them
    live. Test loss and accuracy, in eval mode, are recorded every `eval_every` steps, the
    recorders' percentiles and histogram samples every `detail_every`.
    """

    def __init__(
        self,
        config,
        split,
        optimizer="adam",
        lr=0.01,
        batch_size=32,
        twin=True,
        eval_every=10,
        record=True,
        budget_bytes=4_000_000,
        detail_every=10,
        **hyper,
    ):
        dims = config.layer_dims
        if dims[0] != split.X_train.shape[0] or dims[-1] < split.n_classes:
            raise ValueError(
                f"a {dims[0]}-input, {dims[-1]}-class network cannot train on "
                f"{split.X_train.shape[0]}-feature data with {split.n_classes} "
                "classes"
            )
        self.split = split
        # Examples as rows, so a mini-batch is a gather of contiguous rows; its transpose is
        # the course's (n_x, m) view (F-ordered, which matmul takes as is).
        self._examples = np.ascontiguousarray(split.X_train.T)
        configs = [config, *_twin_config(config, twin)]
        self.batches = MiniBatchIterator(
            split.X_train.shape[1],
            batch_size,
            seed=config.seed,
            min_batch=2 if any(c.batch_norm for c in configs) else 1,
        )
        self.eval_every = int(eval_every)
        self.step_count = 0
        recording = (
            {
                "budget_bytes": budget_bytes,
                "detail_every": detail_every,
                "batch_size": self.batches.batch_size,
            }
            if record
            else None
        )
        nets = [MLP(c) for c in configs]
        for other in nets[1:]:
            _copy_shared_params(nets[0], other)
        self.runs = [self._make_run(net, recording) for net in nets]
        self.optimizers = [optimizers.make(optimizer, lr, **hyper) for _ in self.runs]
        self.evaluate()

    @staticmethod
    def _make_run(net, recording):
        return Run(net, Recorder(net, **recording) if recording else None)

    @property
    def net(self):
        return self.runs[0].net

    @property
    def twin(self):
        """The twin (the network compared with the main one), or None."""
        return self.runs[1].net if len(self.runs) > 1 else None

    @property
    def epoch(self):
        return self.batches.epoch

    @property
    def stop_reason(self):
        """Why the main network stopped, or None while it trains."""
        return self.runs[0].stop_reason

    def set_optimizer(self, name, lr, **hyper):
        """Change the optimizer settings live. A new rule starts with fresh state (v, s, t);
        the same rule keeps its state and takes the new lr and hyperparameters."""
        new = optimizers.make(name, lr, **hyper)
        for i, opt in enumerate(self.optimizers):
            if opt.name == name:
                opt.lr, opt.hyper = new.lr, dict(new.hyper)
            else:
                self.optimizers[i] = optimizers.make(name, lr, **hyper)

    # --- stepping ----------------------------------------------------------------------------

    def step(self, n=1):
        """Train n mini-batches (stops early if the main network stops). Returns steps done."""
        done = 0
        while done < n and not self.stop_reason:
            idx = self.batches.next_indices()
            X, y = self._examples[idx].T, self.split.y_train[idx]
            self.step_count += 1
            for run, opt in zip(self.runs, self.optimizers, strict=True):
                if not run.stop_reason:
                    self._step_run(run, opt, X, y)
            if self.step_count % self.eval_every == 0:
                self.evaluate()
            done += 1
        return done

    def run_epoch(self, max_steps=None):
        """Train until the current epoch is complete, or for at most max_steps steps (call again
        to go on with the same epoch: long work in chunks). Returns steps done."""
        start = self.epoch
        done = 0
        while (
            self.epoch == start and not self.stop_reason and (max_steps is None or done < max_steps)
        ):
            done += self.step()
        return done

    def _step_run(self, run, opt, X, y):
        net = run.net
        with np.errstate(all="ignore"):
            loss, grads = net.loss_and_grads_unchecked(X, y)  # the Split was checked
            run.last_loss = loss
            before = net.params.flat.copy() if run.recorder else None
            try:
                opt.step(net.params, grads)
            except ValueError:  # the optimizer refuses NaN or inf gradients: blown up already
                run.stop_reason = _divergence_reason(loss, net, opt, self.step_count, grads)
                return
        run.stop_reason = _divergence_reason(loss, net, opt, self.step_count)
        if run.recorder and not run.stop_reason:
            with np.errstate(all="ignore"):
                run.recorder.record_step(self.step_count, net, loss, y, grads, before)

    def evaluate(self):
        """Record test loss and accuracy, in eval mode, for every running network."""
        for run in self.runs:
            if run.stop_reason or run.recorder is None:
                continue
            loss, accuracy = evaluate(run.net, self.split.X_test, self.split.y_test)
            run.recorder.record_test(self.step_count, loss, accuracy)


def _twin_config(config, twin):
    """[the twin's NetConfig], or [] for no twin (see Trainer for what `twin` may be)."""
    if twin is None or twin is False:
        return []
    if twin is True:
        return [config.with_normalization(None)] if config.normalization else []
    if not isinstance(twin, str):
        raise ValueError(f'twin must be True, False, "none", "batch" or "layer", got {twin!r}')
    normalization = check_normalization(twin)
    if normalization == config.normalization:
        raise ValueError(
            f"the twin must differ from the main network, which already has normalization {twin!r}"
        )
    return [config.with_normalization(normalization)]


def _copy_shared_params(source, target):
    """Give target the initial values of every parameter both networks have (W[l] always;
    b[l], gamma[l], beta[l] where both keep them), so they start from the same point."""
    for key in target.params:
        if key in source.params:
            target.params[key] = source.params[key]


def evaluate(net, X, y):
    """Mean cross-entropy and accuracy of net on (X, y) in eval mode (running averages).

    X: (n_x, m); y: (m,). Returns (loss, accuracy) as floats.
    """
    with np.errstate(all="ignore"):
        probs = net.forward(X, train=False)
        picked = probs[y, np.arange(y.size)]
        loss = float(-np.mean(np.log(np.maximum(picked, 1e-300))))
    return loss, float(np.mean(probs.argmax(axis=0) == y))


def _divergence_reason(loss, net, opt, step, grads=None):
    """A plain-language reason to stop this network, or None if it is fine. grads: given when
    they are not finite."""
    # One sum finds any NaN or inf among the parameters (an overflowing sum means they blew up).
    if (
        grads is None
        and np.isfinite(loss)
        and loss <= EXPLODED_LOSS
        and np.isfinite(net.params.flat.sum())
    ):
        return None
    what = (
        "the loss became NaN or infinite"
        if not np.isfinite(loss)
        else f"the loss exploded to {loss:.3g}"
        if loss > EXPLODED_LOSS
        else "the gradients became NaN or infinite"
        if grads is not None
        else "some weights became NaN or infinite"
    )
    tips = [f"lower the learning rate (now {opt.lr:g})"]
    if not net.norm_layers:
        tips.append("turn batch norm on")
    if opt.name in ("gd", "momentum"):
        tips.append("try Adam")
    return (
        f"Training stopped at step {step}: {what}. The updates overshot and the weights "
        f"blew up. Try to {', or '.join(tips)}, then press Reset."
    )


# Digit pixels near the border are almost always 0 in training: dividing by their tiny sigma
# would blow a rare stroke on the test set up to values in the hundreds. A variance floor of
# 0.01 (pixels are in [0, 1]) keeps them near the others' scale.
DIGITS_NORMALIZER_EPS = 1e-2


def make_split(dataset, n=400, noise=0.1, test_fraction=0.25, seed=0):
    """A dataset from bn_core.data, split and normalized (see `split_and_normalize`); the
    digits' variance gets the floor DIGITS_NORMALIZER_EPS."""
    X, y = data.make_dataset(dataset, n=n, noise=noise, seed=seed)
    eps = DIGITS_NORMALIZER_EPS if dataset == "digits" else data.NORMALIZER_EPS
    return split_and_normalize(X, y, test_fraction, seed, eps)


def digits_split(seed=0, test_fraction=0.25, n=data.DIGITS_M):
    """The lessons' digits: `make_split("digits")`, all 1797 of them unless n says fewer.

    Returns a Split: X_train (64, m_train), X_test (64, m_test), pixels normalized with the
    training mean and variance (variance floor DIGITS_NORMALIZER_EPS).
    """
    return make_split("digits", n=n, test_fraction=test_fraction, seed=seed)


def split_and_normalize(X, y, test_fraction=0.25, seed=0, eps=data.NORMALIZER_EPS):
    """A stratified train/test split with inputs normalized by the training set's mean and
    variance (the lecture's "normalizing inputs"; the test set gets the same mu and sigma^2).

    X: (n_x, m); y: (m,) labels 0..K-1. Returns a Split in which every class is in training.
    """
    X_tr, y_tr, X_te, y_te = data.train_test_split(X, y, test_fraction=test_fraction, seed=seed)
    missing = sorted(set(np.unique(y).tolist()) - set(np.unique(y_tr).tolist()))
    if missing:
        raise ValueError(f"class {missing} is missing from the training set")
    normalizer = data.fit_normalizer(X_tr, eps=eps)
    return Split(normalizer.apply(X_tr), y_tr, normalizer.apply(X_te), y_te)


def default_config(split, hidden=(16, 16), **overrides):
    """A NetConfig sized for the split: n_x inputs, the given hidden widths, one output per
    class."""
    dims = (split.X_train.shape[0], *hidden, split.n_classes)
    return NetConfig(layer_dims=dims, **overrides)
