"""Beyond the batch: layer norm beside batch norm, on the same matrices, networks and data.

Batch norm's statistics run along each row of Z (one unit across the mini-batch), layer norm's
down each column (one example across its units). Everything here sets the two side by side:
one matrix normalized both ways, a mini-batch of one, train-mode against eval-mode outputs, the
gradient of b, and a sweep over mini-batch sizes on the digits. Examples are columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bn_core import batchnorm, layernorm
from bn_core.network import MLP, NetConfig
from bn_core.training import Trainer, digits_split, evaluate

NORMS = ("batch", "layer", "none")
SWEEP_BATCH_SIZES = (2, 4, 8, 16, 32, 64)
HIDDEN = (32, 32)


def config(norm, split, seed=0, eliminate_bias=True, activation="relu"):
    """A 64-32-32-10 digits network with batch norm, layer norm or none ("batch", "layer",
    "none") on its hidden layers."""
    dims = (split.X_train.shape[0], *HIDDEN, split.n_classes)
    return NetConfig(
        layer_dims=dims,
        activation=activation,
        batch_norm=norm == "batch",
        layer_norm=norm == "layer",
        eliminate_bias=eliminate_bias,
        seed=seed,
    )


# --- 1. one matrix, two normalizations ---------------------------------------------------------


@dataclass(frozen=True)
class BothWays:
    """One Z (n, m) normalized both ways with the same gamma, beta, eps.

    bn_*: batch norm, mu and var (n, 1) per unit (row); ln_*: layer norm, mu and var (1, m)
    per example (column). Z_tilde (n, m) each.
    """

    Z: np.ndarray
    bn_mu: np.ndarray
    bn_var: np.ndarray
    bn_Z_tilde: np.ndarray
    ln_mu: np.ndarray
    ln_var: np.ndarray
    ln_Z_tilde: np.ndarray


def both_ways(gamma=1.0, beta=0.0, eps=1e-5, n=5, m=6, seed=0):
    """A small Z, each unit on its own scale and offset, normalized by batch norm and by
    layer norm with gamma, beta the same for every unit. Returns a BothWays."""
    rng = np.random.default_rng(seed)
    Z = rng.uniform(0.5, 3.0, (n, 1)) * rng.standard_normal((n, m)) + rng.uniform(-3.0, 3.0, (n, 1))
    g, b = np.full((n, 1), float(gamma)), np.full((n, 1), float(beta))
    bn_out, bn_cache = batchnorm.forward(Z, g, b, eps)
    ln_out, ln_cache = layernorm.forward(Z, g, b, eps)
    return BothWays(Z, bn_cache.mu, bn_cache.var, bn_out, ln_cache.mu, ln_cache.var, ln_out)


# --- 2. a mini-batch of one ------------------------------------------------------------------


@dataclass(frozen=True)
class OneAtATime:
    """Training with one example per step.

    bn_error: batch norm's refusal, word for word; losses: (steps,) layer norm's loss at each
    step; test_acc_before, test_acc_after: its test accuracy before and after.
    """

    bn_error: str
    losses: np.ndarray
    test_acc_before: float
    test_acc_after: float


def train_one_at_a_time(steps=300, lr=0.003, seed=0):
    """Try batch norm on a mini-batch of one example (it refuses), then train layer norm on
    `steps` mini-batches of one digit each with Adam. Returns a OneAtATime."""
    split = digits_split(seed)
    x, y = split.X_train[:, :1], split.y_train[:1]
    try:
        MLP(config("batch", split, seed)).loss_and_grads(x, y)
        bn_error = ""
    except ValueError as err:
        bn_error = str(err)
    trainer = Trainer(
        config("layer", split, seed),
        split,
        "adam",
        lr,
        batch_size=1,
        twin=False,
        record=False,
        eval_every=10**9,
    )
    before = evaluate(trainer.net, split.X_test, split.y_test)[1]
    losses = np.empty(steps)
    for i in range(steps):
        trainer.step()
        losses[i] = trainer.runs[0].last_loss
    after = evaluate(trainer.net, split.X_test, split.y_test)[1]
    return OneAtATime(bn_error, losses, before, after)


# --- 3 and 4. test time, and the gradient of b -------------------------------------------------


@dataclass(frozen=True)
class SideBySide:
    """Batch norm and layer norm trained with b kept, on the same weights and mini-batches.

    db: {norm: (steps,)} the largest |db[l]| over the hidden layers at each step;
    train_probs, eval_probs: {norm: (10,)} the watched test example's class probabilities in
    training mode (inside a mini-batch of batch_size test examples) and in eval mode (alone);
    label: its true class; batch_size: the mini-batch size used.
    """

    db: dict
    train_probs: dict
    eval_probs: dict
    label: int
    batch_size: int

    def output_gap(self, norm):
        """max |train-mode probability - eval-mode probability| of the watched example."""
        return float(np.max(np.abs(self.train_probs[norm] - self.eval_probs[norm])))


def side_by_side(steps=150, batch_size=8, example=0, lr=0.003, seed=0):
    """Train a batch-norm and a layer-norm network that both keep b, recording the largest
    |db| each step; then show one test example to each in training mode (with the next
    batch_size - 1 test examples) and in eval mode (alone). Returns a SideBySide."""
    split = digits_split(seed)
    db, train_probs, eval_probs = {}, {}, {}
    idx = (example + np.arange(batch_size)) % split.X_test.shape[1]
    X_batch = split.X_test[:, idx]
    for norm in ("batch", "layer"):
        cfg = config(norm, split, seed, eliminate_bias=False)
        trainer = Trainer(
            cfg,
            split,
            "adam",
            lr,
            batch_size=batch_size,
            twin=False,
            record=False,
            eval_every=10**9,
        )
        largest = np.empty(steps)
        for i in range(steps):
            X, y = _next_batch(trainer)
            _, grads = trainer.net.loss_and_grads(X, y)
            largest[i] = max(np.abs(grads[f"b{l}"]).max() for l in trainer.net.norm_layers)
            trainer.optimizers[0].step(trainer.net.params, grads)
        db[norm] = largest
        train_probs[norm] = trainer.net.forward(X_batch, update_running=False)[:, 0]
        eval_probs[norm] = trainer.net.forward(X_batch[:, :1], train=False)[:, 0]
    return SideBySide(db, train_probs, eval_probs, int(split.y_test[idx[0]]), batch_size)


def _next_batch(trainer):
    """The trainer's next mini-batch (X (n_x, m), y (m,)), in its own seeded order."""
    idx = trainer.batches.next_indices()
    return trainer.split.X_train[:, idx], trainer.split.y_train[idx]


# --- 5. the batch-size sweep -----------------------------------------------------------------


@dataclass(frozen=True)
class SweepSettings:
    """Every network sees the same number of examples: examples_seen / batch_size steps."""

    examples_seen: int = 2048
    lr: float = 0.003
    seed: int = 0


def sweep_cell(norm, batch_size, settings=SweepSettings()):
    """Test accuracy (eval mode) of one network ("batch", "layer", "none") after
    settings.examples_seen training examples in mini-batches of batch_size, with Adam."""
    split = digits_split(settings.seed)
    trainer = Trainer(
        config(norm, split, settings.seed),
        split,
        "adam",
        settings.lr,
        batch_size=batch_size,
        twin=False,
        record=False,
        eval_every=10**9,
    )
    trainer.step(settings.examples_seen // batch_size)
    return evaluate(trainer.net, split.X_test, split.y_test)[1]


def sweep(settings=SweepSettings(), batch_sizes=SWEEP_BATCH_SIZES, on_cell=None):
    """{norm: [test accuracy per batch size]} for every norm in NORMS. on_cell(done, total),
    if given, is called after each network."""
    total = len(NORMS) * len(batch_sizes)
    table = {}
    for k, norm in enumerate(NORMS):
        table[norm] = []
        for j, m in enumerate(batch_sizes):
            table[norm].append(sweep_cell(norm, m, settings))
            if on_cell:
                on_cell(k * len(batch_sizes) + j + 1, total)
    return table


def sweep_verdict(table, batch_sizes=SWEEP_BATCH_SIZES, examples_seen=None):
    """What the sweep shows about the smallest mini-batch, in words that follow the numbers
    (and, given examples_seen, a word on the largest)."""
    return (
        _small_batch_verdict(table, batch_sizes)
        + _layer_vs_none(table)
        + (_large_batch_note(table, batch_sizes, examples_seen) if examples_seen else "")
    )


def _layer_vs_none(table):
    """Whether layer norm helped at all, against the network without normalization."""
    diffs = np.subtract(table["layer"], table["none"]) * 100
    if np.all(np.abs(diffs) < 2):
        return (
            " Layer norm does not beat the network without normalization here (within "
            f"{np.abs(diffs).max():.1f} points at every m): this small network trains well "
            "without help; what the sweep shows is that layer norm does not break at tiny "
            "mini-batches, where batch norm does."
        )
    better = "better" if diffs.mean() > 0 else "worse"
    return (
        f" Layer norm does {better} than no normalization on average ({diffs.mean():+.1f} points)."
    )


def _large_batch_note(table, batch_sizes, examples_seen):
    big = batch_sizes[-1]
    best = max(accs[-1] for accs in table.values())
    return (
        f" At m = {big} every network has taken only {examples_seen // big} steps, so all "
        f"three are still learning (best {best:.1%}): the same examples, fewer updates."
    )


def _small_batch_verdict(table, batch_sizes):
    small = batch_sizes[0]
    bn_drop = max(table["batch"]) - table["batch"][0]
    ln_drop = max(table["layer"]) - table["layer"][0]
    gap = table["layer"][0] - table["batch"][0]
    if gap > 0.02 and bn_drop > ln_drop:
        return (
            f"As expected: at m = {small} batch norm reaches {table['batch'][0]:.1%}, "
            f"{bn_drop * 100:.1f} points below its best, while layer norm reaches "
            f"{table['layer'][0]:.1%}, {ln_drop * 100:.1f} points below its best."
        )
    return (
        f"Not the textbook pattern in this run: at m = {small} batch norm reaches "
        f"{table['batch'][0]:.1%} and layer norm {table['layer'][0]:.1%} (best: "
        f"{max(table['batch']):.1%} and {max(table['layer']):.1%}). The data disagree "
        "here; report it rather than the expectation."
    )
