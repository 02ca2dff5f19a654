"""Mini-batch statistics and the running averages that stand in for them at test time.

Everything runs on one lesson network: a (64, 32, 32, 10) ReLU MLP with batch norm, trained
briefly on the bundled digits and then frozen, so that only the mini-batches (not the weights)
change what we measure. Examples are columns: X is (64, m).
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from bn_core import data, optimizers
from bn_core.network import MLP, NetConfig
from bn_core.training import evaluate

LAYER_DIMS = (64, 32, 32, 10)
TRAIN_STEPS = 300
TRAIN_BATCH = 64
TRAIN_LR = 0.01
RUNNING_BETA = 0.9  # the lesson network's beta for its running averages (NetConfig's default)
TEST_FRACTION = 0.25
BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 256)


@dataclasses.dataclass(frozen=True)
class LessonSetup:
    """The frozen lesson network and its data.

    net: a fresh MLP (its running averages are those left by training; change them freely).
    X_train: (64, N) with y_train (N,); X_test: (64, N_test) with y_test (N_test,).
    """

    net: MLP
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


@functools.lru_cache(maxsize=4)
def _trained(seed):
    """Train once per seed (Adam, TRAIN_STEPS mini-batches); returns read-only snapshots."""
    X, y = data.make_dataset("digits", n=data.DIGITS_M, seed=seed)
    split = data.train_test_split(X, y, TEST_FRACTION, seed=seed)
    X_train, y_train = split[0], split[1]
    net = MLP(NetConfig(LAYER_DIMS, "relu", batch_norm=True, seed=seed, running_beta=RUNNING_BETA))
    opt = optimizers.make("adam", lr=TRAIN_LR)
    batches = data.minibatches(X_train.shape[1], TRAIN_BATCH, seed=seed)
    for _ in range(TRAIN_STEPS):
        idx = batches.next_indices()
        _, grads = net.loss_and_grads(X_train[:, idx], y_train[idx])
        opt.step(net.params, grads)
    return split, net.params.copy_arrays(), dict(net.running_mu), dict(net.running_var)


def lesson_setup(seed=0, running_beta=RUNNING_BETA):
    """The lesson network (trained weights, a fresh copy each call) and its data split.

    running_beta: the network's beta for the running averages.
    """
    split, params, running_mu, running_var = _trained(seed)
    config = NetConfig(LAYER_DIMS, "relu", batch_norm=True, seed=seed, running_beta=running_beta)
    net = _network_with(config, params, running_mu, running_var)
    return LessonSetup(net, *(a.copy() for a in split))


def _network_with(config, params, running_mu, running_var):
    """A new MLP(config) holding copies of the given parameters {key: array} and running
    averages {l: (n_l, 1)}."""
    net = MLP(config)
    for key, value in params.items():
        net.params[key] = value
    for l in net.bn_layers:
        net.running_mu[l][...] = running_mu[l]
        net.running_var[l][...] = running_var[l]
    return net


def population_stats(net, X, layer):
    """The statistics of layer `layer` over the whole set X taken as one batch.

        mu  = 1/N * sum_i Z(i)        var = 1/N * sum_i (Z(i) - mu)^2

    X: (n_x, N). Returns mu, var, each (n_l, 1). Leaves the network unchanged.
    """
    trace = net.layer_trace(X, train=True)[layer - 1]
    return trace.mu, trace.var


def full_minibatches(N, batch_size, seed=0):
    """Endless index arrays (batch_size,) as training draws them (a fresh permutation of
    0..N-1 each epoch), leaving out each epoch's shorter last batch so every batch has the
    same m. batch_size: 2..N."""
    batches = data.minibatches(N, batch_size, seed=seed)
    while True:
        idx = batches.next_indices()
        if idx.shape[0] == batch_size:
            yield idx


def unit_stats(mu, var, unit):
    """One unit's (mu, var, sigma = sqrt(var)) as floats; mu, var: (n_l, 1)."""
    return float(mu[unit, 0]), float(var[unit, 0]), float(np.sqrt(var[unit, 0]))


def minibatch_stats(net, X, layer, unit, batch_size, n_batches, seed=0):
    """The mini-batch mean and standard deviation of one unit over successive mini-batches
    (from `full_minibatches`):

        mu_t = 1/m * sum_{i in batch t} z(i)     sigma_t = sqrt(1/m * sum (z(i) - mu_t)^2)
    X: (n_x, N); layer 1..L-1; unit 0..n_l-1. Returns mus, sigmas, each (n_batches,).
    """
    batches = full_minibatches(X.shape[1], batch_size, seed)
    mus, sigmas = np.empty(n_batches), np.empty(n_batches)
    for t in range(n_batches):
        trace = net.layer_trace(X[:, next(batches)], train=True)[layer - 1]
        mus[t], sigmas[t] = trace.mu[unit, 0], np.sqrt(trace.var[unit, 0])
    return mus, sigmas


def spread_vs_batch_size(net, X, layer, unit, batch_sizes=BATCH_SIZES, n_batches=200, seed=0):
    """How much mu and sigma jump between mini-batches, for each batch size.

    Returns std_mu, std_sigma, each (len(batch_sizes),): the standard deviation across
    n_batches mini-batches of the batch mean and of the batch standard deviation.
    """
    spreads = [minibatch_stats(net, X, layer, unit, m, n_batches, seed) for m in batch_sizes]
    return (
        np.array([mus.std() for mus, _ in spreads]),
        np.array([sigmas.std() for _, sigmas in spreads]),
    )


def expected_spread_of_mean(sigma, batch_sizes, N):
    """Standard deviation of a mini-batch mean drawn without replacement from N values:

        std(mu_batch) = sigma / sqrt(m) * sqrt((N - m) / (N - 1))      (about sigma / sqrt(m))

    sigma: the population standard deviation. Returns an array like batch_sizes.
    """
    m = np.asarray(batch_sizes, dtype=np.float64)
    return sigma / np.sqrt(m) * np.sqrt((N - m) / (N - 1))


@dataclasses.dataclass(frozen=True)
class RunningTrace:
    """One unit's running averages over training-mode steps t = 1..T (index 0 is the start).

    batch_mu, batch_var_unbiased: (T,), the values fed in at each step (var * m / (m - 1));
    running_mu, running_var: (T + 1,), starting from 0 and 1;
    start_weight: beta^T, the weight the starting values still carry after T steps.
    """

    batch_mu: np.ndarray
    batch_var_unbiased: np.ndarray
    running_mu: np.ndarray
    running_var: np.ndarray
    start_weight: float


def running_average_trace(net, X, layer, unit, batch_size, beta, n_steps, seed=0):
    """Feed successive mini-batches through the frozen network in training mode and record
    the running averages of one unit, from their starting values mu = 0, var = 1:

        running_mu  = beta * running_mu  + (1 - beta) * mu_batch
        running_var = beta * running_var + (1 - beta) * var_batch * m / (m - 1)

    The network's own update (MLP.forward(train=True)) does the work, on a copy with
    running_beta = beta; `net` is not changed. Mini-batches come from `full_minibatches`.
    X: (n_x, N). Returns a RunningTrace.
    """
    twin = MLP(dataclasses.replace(net.config, running_beta=beta))
    twin.params.flat[...] = net.params.flat
    batches = full_minibatches(X.shape[1], batch_size, seed)
    m = batch_size
    batch_mu, batch_var = np.empty(n_steps), np.empty(n_steps)
    run_mu, run_var = np.empty(n_steps + 1), np.empty(n_steps + 1)
    run_mu[0], run_var[0] = twin.running_mu[layer][unit, 0], twin.running_var[layer][unit, 0]
    for t in range(n_steps):
        twin.forward(X[:, next(batches)], train=True)
        trace = twin.trace[layer - 1]
        batch_mu[t] = trace.mu[unit, 0]
        batch_var[t] = trace.var[unit, 0] * m / (m - 1)
        run_mu[t + 1] = twin.running_mu[layer][unit, 0]
        run_var[t + 1] = twin.running_var[layer][unit, 0]
    return RunningTrace(batch_mu, batch_var, run_mu, run_var, float(beta**n_steps))


@dataclasses.dataclass(frozen=True)
class TrainVsEval:
    """One example's output in training mode (n_batches different mini-batches) and eval mode.

    train_z_tilde, train_prob: (n_batches,) its Z_tilde at the chosen unit and its predicted
    probability of its true class; eval_z_tilde, eval_prob: floats.
    """

    train_z_tilde: np.ndarray
    train_prob: np.ndarray
    eval_z_tilde: float
    eval_prob: float


def train_vs_eval(net, x, label, X_pool, layer, unit, batch_size, n_batches, seed=0):
    """Place the example x into n_batches random mini-batches of size batch_size (its
    batch_size - 1 companions drawn from X_pool) and read its output in training mode, then
    once in eval mode, where

        Z_norm = (z - running_mu) / sqrt(running_var + eps)

    depends on x alone. x: (n_x, 1); label: its class; X_pool: (n_x, N). Returns TrainVsEval.
    """
    rng = np.random.default_rng(seed)
    z_tilde, prob = np.empty(n_batches), np.empty(n_batches)
    for k in range(n_batches):
        companions = rng.choice(X_pool.shape[1], batch_size - 1, replace=False)
        probs = net.forward(np.hstack([x, X_pool[:, companions]]), update_running=False)
        z_tilde[k], prob[k] = net.trace[layer - 1].Z_tilde[unit, 0], probs[label, 0]
    eval_prob = net.forward(x, train=False)[label, 0]
    eval_z = net.layer_trace(x, train=False)[layer - 1].Z_tilde[unit, 0]
    return TrainVsEval(z_tilde, prob, float(eval_z), float(eval_prob))


@dataclasses.dataclass(frozen=True)
class BatchOfOne:
    """What a mini-batch of one example would do, worked by hand, beside eval mode.

    All (k,) for k examples, at one unit: z its pre-activation; z_minus_mu = z - mu with
    mu = z; z_norm = 0; train_z_tilde = gamma * 0 + beta; eval_z_tilde from the running
    averages; eval_prob its probability of its true class; beta the unit's beta (float).
    """

    z: np.ndarray
    z_minus_mu: np.ndarray
    z_norm: np.ndarray
    train_z_tilde: np.ndarray
    eval_z_tilde: np.ndarray
    eval_prob: np.ndarray
    beta: float


def batch_of_one(net, X, y, layer, unit):
    """Normalize each column of X as a mini-batch of its own (m = 1), by the formulas:

        mu = z,  var = (z - mu)^2 = 0,  Z_norm = (z - mu) / sqrt(0 + eps) = 0,  Z_tilde = beta

    so every example maps to the same value; eval mode instead uses the running averages.
    X: (n_x, k); y: (k,). Returns a BatchOfOne.
    """
    eval_traces = net.layer_trace(X, train=False)
    Z = eval_traces[layer - 1].Z[unit]  # Z = W A_prev: its inputs came through eval mode
    mu = Z  # the mean of a batch of one is the example itself
    var = (Z - mu) ** 2
    z_norm = (Z - mu) / np.sqrt(var + net.config.eps)
    gamma = net.params[f"gamma{layer}"][unit, 0]
    beta = net.params[f"beta{layer}"][unit, 0]
    eval_prob = net.forward(X, train=False)[y, np.arange(X.shape[1])]
    return BatchOfOne(
        Z.copy(),
        Z - mu,
        z_norm,
        gamma * z_norm + beta,
        eval_traces[layer - 1].Z_tilde[unit].copy(),
        eval_prob,
        float(beta),
    )


# ---------------------------------------------------------------- the two test-time estimates


def whole_set_stats(net, X):
    """The lecture's other option for test time: run the whole training set X (n_x, N)
    through the final network as one batch and keep each layer's

        mu[l] = 1/N sum_i Z[l](i)       var[l] = 1/N sum_i (Z[l](i) - mu[l])^2

    (layer l's Z computed from the layers before it, normalized the same way).
    Returns mu, var: {l: (n_l, 1)} for the batch-norm layers. Leaves the network unchanged.
    """
    traces = net.layer_trace(X, train=True)
    return (
        {l: traces[l - 1].mu.copy() for l in net.bn_layers},
        {l: traces[l - 1].var.copy() for l in net.bn_layers},
    )


def evaluate_with(net, mu, var, X, y):
    """Eval-mode loss and accuracy on (X, y) with the given statistics in place of the
    running averages, on a copy of the network: `net` is not changed.

    mu, var: {l: (n_l, 1)}; X: (n_x, k); y: (k,). Returns (loss, accuracy) as floats.
    """
    return evaluate(_network_with(net.config, net.params, mu, var), X, y)


@dataclasses.dataclass(frozen=True)
class StatsCompared:
    """Running averages (as training left them) against whole-training-set statistics.

    running_mu, running_var, whole_mu, whole_var: {l: (n_l, 1)}; *_loss, *_accuracy: the
    test set's eval-mode loss and accuracy with each; largest_mu_gap: {l: float}, the largest
    |running_mu - whole_mu| / sqrt(whole_var) over layer l's units.
    """

    running_mu: dict
    running_var: dict
    whole_mu: dict
    whole_var: dict
    running_loss: float
    running_accuracy: float
    whole_loss: float
    whole_accuracy: float
    largest_mu_gap: dict


def compare_estimates(seed=0):
    """Both test-time estimates for the lesson network, and its test loss and accuracy with
    each. Returns a StatsCompared."""
    s = lesson_setup(seed)
    net = s.net
    running_mu = {l: net.running_mu[l].copy() for l in net.bn_layers}
    running_var = {l: net.running_var[l].copy() for l in net.bn_layers}
    whole_mu, whole_var = whole_set_stats(net, s.X_train)
    run_loss, run_acc = evaluate_with(net, running_mu, running_var, s.X_test, s.y_test)
    all_loss, all_acc = evaluate_with(net, whole_mu, whole_var, s.X_test, s.y_test)
    gap = {
        l: float((np.abs(running_mu[l] - whole_mu[l]) / np.sqrt(whole_var[l])).max())
        for l in net.bn_layers
    }
    return StatsCompared(
        running_mu, running_var, whole_mu, whole_var, run_loss, run_acc, all_loss, all_acc, gap
    )
