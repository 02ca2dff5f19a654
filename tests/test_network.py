"""bn_core.MLP and NetConfig: gradient checks of every parameter, the parameter contract, the
eliminated (or inert) bias, running averages, eval mode, determinism, live parameters, init, and
every bad input."""

import copy
import pickle
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import bn_core as bn
from bn_core.gradcheck import check_network, numeric_gradient, relative_error
from tests.reference import param_shapes

ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]
OPTIMIZERS = ["gd", "momentum", "rmsprop", "adam"]
DIMS = (3, 5, 4, 3)
M = 8
H = 1e-5  # the centred-difference step


def is_bias(key):
    return re.fullmatch(r"b\d+", key) is not None


def make_net(activation="relu", batch_norm=True, eliminate_bias=True, seed=0, dims=DIMS, **kwargs):
    return bn.MLP(
        bn.NetConfig(
            layer_dims=dims,
            activation=activation,
            batch_norm=batch_norm,
            eliminate_bias=eliminate_bias,
            seed=seed,
            **kwargs,
        )
    )


def make_batch(seed=0, m=M, dims=DIMS):
    rng = np.random.default_rng(seed + 1000)
    return rng.standard_normal((dims[0], m)), rng.integers(0, dims[-1], m)


def perturb(net, seed):
    """Move every b, gamma and beta off its initial value (0, 1, 0), so the check sees a
    generic point: a zero b or beta can put a ReLU input exactly on the kink."""
    rng = np.random.default_rng(seed + 2000)
    for key, P in net.params.items():
        if is_bias(key) or key.startswith("beta"):
            P[...] = 0.2 * rng.standard_normal(P.shape)
        elif key.startswith("gamma"):
            P[...] = 1.0 + 0.3 * rng.standard_normal(P.shape)


def smallest_pre_activation(net, X):
    """min |Z_tilde| over the hidden layers in a training-mode forward (nothing changed)."""
    return min((np.abs(t.Z_tilde).min() for t in net.layer_trace(X, train=True)), default=np.inf)


def gradcheck_setup(activation, batch_norm, eliminate_bias):
    """A net and a mini-batch where centred differences are valid.

    ReLU has a kink at 0: if a pre-activation lies within about h * (its sensitivity) of 0,
    the centred difference straddles the kink and disagrees with the (correct) analytic
    gradient. So for ReLU the first seed whose pre-activations all stay 1e-3 (100 h) away
    from 0 is used, and that margin is asserted, not assumed.
    """
    for seed in range(50):
        net = make_net(activation, batch_norm, eliminate_bias, seed=seed)
        perturb(net, seed)
        X, y = make_batch(seed)
        if activation != "relu" or smallest_pre_activation(net, X) > 1e-3:
            return net, X, y
    raise AssertionError("no seed in 0..49 keeps every ReLU input 1e-3 away from its kink")


# ---------------------------------------------------------------- gradient check


@pytest.mark.parametrize("eliminate_bias", [True, False], ids=["no-b", "b"])
@pytest.mark.parametrize("batch_norm", [True, False], ids=["BN", "plain"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_check_every_parameter(activation, batch_norm, eliminate_bias):
    net, X, y = gradcheck_setup(activation, batch_norm, eliminate_bias)
    if activation == "relu":
        assert smallest_pre_activation(net, X) > 1e-3
    checks = check_network(net, X, y, h=H)
    assert [c.name for c in checks] == list(net.params)
    for c in checks:
        assert c.analytic.shape == c.numeric.shape == net.params[c.name].shape
        if c.name in inert_params(activation, batch_norm):
            # The loss does not depend on these, so both gradients are 0 and their relative
            # error would be noise / noise: hold both to (nearly) zero instead.
            assert np.abs(c.analytic).max() < 1e-12, c.name
            assert np.abs(c.numeric).max() < 1e-9, c.name
        else:
            assert np.linalg.norm(c.analytic) > 1e-6, c.name  # a real, nonzero gradient
            assert c.relative_error < 1e-7, (c.name, c.relative_error)


def inert_params(activation, batch_norm, dims=DIMS):
    """Parameters the loss cannot depend on, by the algebra of batch norm.

    A constant added to every example of a row before batch norm is taken away again by the
    mean. So a kept b[l] on a batch-norm layer is inert; and with the linear activation,
    beta[l] passes straight through A[l] = Z_tilde[l] into W[l+1] A[l], a constant per row of
    Z[l+1], which is inert when layer l+1 is a batch-norm layer too.
    """
    L = len(dims) - 1
    if not batch_norm:
        return set()
    inert = {f"b{l}" for l in range(1, L)}
    if activation == "linear":
        inert |= {f"beta{l}" for l in range(1, L - 1)}
    return inert


def test_gradient_check_leaves_the_network_as_it_was():
    net, X, y = gradcheck_setup("tanh", True, False)
    flat = net.params.flat.copy()
    net.loss_and_grads(X, y)
    mu = {l: v.copy() for l, v in net.running_mu.items()}
    var = {l: v.copy() for l, v in net.running_var.items()}
    check_network(net, X, y)
    assert_array_equal(net.params.flat, flat)
    for l, mu_l in mu.items():
        assert_array_equal(net.running_mu[l], mu_l)
        assert_array_equal(net.running_var[l], var[l])


def test_gradcheck_helpers_on_a_known_function():
    P = np.array([[1.0, -2.0], [0.5, 3.0]])
    numeric = numeric_gradient(lambda: float(np.sum(P**3)), P)
    assert_allclose(numeric, 3 * P**2, rtol=1e-9)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.ones(3), -np.ones(3)) == 1.0


# ---------------------------------------------------------------- the parameter contract


@pytest.mark.parametrize("dims", [(2, 16, 16, 2), DIMS, (4, 3), (2, 7, 2)])
@pytest.mark.parametrize(
    ("batch_norm", "eliminate_bias"), [(True, True), (True, False), (False, True), (False, False)]
)
def test_param_keys_and_shapes_follow_the_contract(dims, batch_norm, eliminate_bias):
    net = make_net(batch_norm=batch_norm, eliminate_bias=eliminate_bias, dims=dims)
    expected = param_shapes(dims, batch_norm, eliminate_bias)
    assert set(net.params) == set(expected)
    for key, P in net.params.items():
        assert P.shape == expected[key] and P.dtype == np.float64, key
    L = len(dims) - 1
    assert f"b{L}" in net.params  # the output layer always has its bias
    if not batch_norm:
        assert all(f"b{l}" in net.params for l in range(1, L + 1))
        assert not any(k.startswith(("gamma", "beta")) for k in net.params)
    X, y = make_batch(dims=dims)
    _, grads = net.loss_and_grads(X, y)
    assert set(grads) == set(net.params)
    for key in grads:
        assert grads[key].shape == net.params[key].shape and grads[key].dtype == np.float64
        assert not np.shares_memory(grads[key], net.params[key])


def test_repr_prints_the_network():
    assert repr(bn.MLP(bn.NetConfig())) == "2 -> [16 BN relu] -> [16 BN relu] -> 2 softmax"
    plain = make_net("tanh", batch_norm=False, dims=(3, 5, 4))
    assert repr(plain) == "3 -> [5 tanh] -> 4 softmax"
    assert repr(make_net(dims=(4, 3))) == "4 -> 3 softmax"


def test_forward_probabilities_and_loss_agree():
    net = make_net("sigmoid")
    X, y = make_batch()
    probs = net.forward(X, train=True)
    assert probs.shape == (DIMS[-1], M) and probs.dtype == np.float64
    assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-14)
    loss, _ = net.loss_and_grads(X, y)
    assert loss == pytest.approx(-np.mean(np.log(probs[y, np.arange(M)])), rel=1e-13)
    assert_allclose(net.last_probs, probs, rtol=1e-14)


# ---------------------------------------------------------------- the backward it runs


def test_backward_runs_the_staged_function_the_lesson_shows(monkeypatch):
    """Every batch-norm layer's backward goes through batchnorm.backward_steps, the function
    whose source the page "Under the hood" shows, and its gamma and beta gradients are that
    function's; the lesson's walk-through on the same arrays gives the same numbers."""
    from bn_core import batchnorm
    from bn_core.lessons import under_the_hood as uh

    calls, staged = [], batchnorm.backward_steps

    def spy(dZ_tilde, cache):
        steps = staged(dZ_tilde, cache)
        calls.append((dZ_tilde.copy(), cache, steps))
        return steps

    monkeypatch.setattr(batchnorm, "backward_steps", spy)
    net = make_net("tanh", dims=(3, 5, 4, 3))
    perturb(net, 4)
    _, grads = net.loss_and_grads(*make_batch())
    assert len(calls) == len(net.bn_layers) == 2
    for l, (dZ_tilde, cache, steps) in zip((2, 1), calls, strict=True):  # last layer first
        assert_array_equal(grads[f"gamma{l}"], steps.dgamma)
        assert_array_equal(grads[f"beta{l}"], steps.dbeta)
        lesson = uh.staged_backward_steps(dZ_tilde, cache)
        for name in lesson._fields:
            assert_array_equal(getattr(lesson, name), getattr(steps, name))


# ---------------------------------------------------------------- b before batch norm


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kept_b_on_a_batch_norm_layer_gets_zero_gradient(activation):
    net = make_net(activation, eliminate_bias=False, dims=(2, 16, 16, 2))
    perturb(net, 3)
    X, y = make_batch(dims=(2, 16, 16, 2), m=32)
    _, grads = net.loss_and_grads(X, y)
    for l in (1, 2):
        assert np.abs(grads[f"b{l}"]).max() < 1e-12
    assert np.abs(grads["b3"]).max() > 1e-3  # the output layer's b does learn


def train_with_kept_b(name, steps=200, lr=0.01):
    """Train a BN net that keeps b[1], b[2] for `steps` steps on random mini-batches.

    Returns the largest |b_now - b_start| over b1, b2 and the largest |db| seen.
    """
    dims = (2, 16, 16, 2)
    net = make_net("relu", eliminate_bias=False, dims=dims, seed=4)
    perturb(net, 4)
    start = {k: net.params[k].copy() for k in ("b1", "b2")}
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((2, 64)), rng.integers(0, 2, 64)
    opt = bn.optimizers.make(name, lr=lr)
    largest_db = 0.0
    for _ in range(steps):
        batch = rng.choice(64, 16, replace=False)
        _, grads = net.loss_and_grads(X[:, batch], y[batch])
        largest_db = max(largest_db, *(np.abs(grads[k]).max() for k in start))
        opt.step(net.params, grads)
    moved = max(np.abs(net.params[k] - start[k]).max() for k in start)
    return moved, largest_db


@pytest.mark.parametrize("name", ["gd", "momentum"])
def test_kept_b_on_a_batch_norm_layer_never_moves(name):
    moved, largest_db = train_with_kept_b(name)
    assert largest_db < 1e-12
    assert moved < 1e-10


@pytest.mark.parametrize("name", ["rmsprop", "adam"])
def test_kept_b_under_rmsprop_and_adam_moves_only_by_round_off_over_eps(name):
    # db is computed, not assumed: sum_i dZ(i) is round-off, ~1e-16. RMSprop and Adam divide
    # it by sqrt(s) + eps with sqrt(s) ~ 1e-16 << eps = 1e-8, so b drifts by up to
    # lr * max|db| / eps per step: |dP / (sqrt(s) + eps)| <= |dP| / eps and
    # |v_hat| <= max |dP|. The bound, and the order of magnitude seen, are held here.
    steps, lr = 200, 0.01
    moved, largest_db = train_with_kept_b(name, steps, lr)
    assert largest_db < 1e-12
    assert moved <= steps * lr * largest_db / 1e-8
    assert moved < 1e-8


# ---------------------------------------------------------------- running averages, eval mode


@pytest.mark.parametrize("m", [2, 8])
def test_running_averages_after_one_training_forward(m):
    net = make_net("tanh")
    for l in net.running_mu:
        assert_array_equal(net.running_mu[l], 0.0)
        assert_array_equal(net.running_var[l], 1.0)
    X, _ = make_batch(m=m)
    net.forward(X, train=True)
    assert sorted(net.running_mu) == sorted(net.running_var) == [1, 2]
    for l, trace in zip((1, 2), net.trace, strict=True):
        mu, var = trace.Z.mean(axis=1, keepdims=True), trace.Z.var(axis=1, keepdims=True)
        assert_allclose(trace.mu, mu, rtol=1e-12, atol=1e-15)
        assert_allclose(trace.var, var, rtol=1e-12)
        assert net.running_mu[l].shape == net.running_var[l].shape == (DIMS[l], 1)
        assert_allclose(net.running_mu[l], 0.1 * mu, rtol=1e-12, atol=1e-15)
        assert_allclose(net.running_var[l], 0.9 + 0.1 * var * m / (m - 1), rtol=1e-12)


def test_running_beta_is_the_weight_kept_on_the_old_value():
    net = make_net("tanh", running_beta=0.5)
    X, _ = make_batch()
    net.forward(X, train=True)
    for l, trace in zip((1, 2), net.trace, strict=True):
        assert_allclose(net.running_mu[l], 0.5 * trace.mu, rtol=1e-12, atol=1e-15)
        assert_allclose(net.running_var[l], 0.5 + 0.5 * trace.var * M / (M - 1), rtol=1e-12)
    frozen = make_net("tanh", running_beta=0.0)
    frozen.forward(X, train=True)
    assert_allclose(frozen.running_mu[1], frozen.trace[0].mu, rtol=1e-15)


def test_loss_and_grads_updates_the_running_averages_exactly_once():
    net = make_net("relu")
    X, y = make_batch()
    for _ in range(3):
        before_mu = {l: v.copy() for l, v in net.running_mu.items()}
        before_var = {l: v.copy() for l, v in net.running_var.items()}
        net.loss_and_grads(X, y)
        for l, trace in zip((1, 2), net.trace, strict=True):
            assert_allclose(
                net.running_mu[l], 0.9 * before_mu[l] + 0.1 * trace.mu, rtol=1e-12, atol=1e-15
            )
            assert_allclose(
                net.running_var[l], 0.9 * before_var[l] + 0.1 * trace.var * M / (M - 1), rtol=1e-12
            )


def test_running_averages_live_on_the_network_not_in_params():
    net = make_net()
    assert not any("running" in key or key.startswith(("mu", "var")) for key in net.params)


def test_a_training_forward_can_leave_the_running_averages_alone():
    """forward(X, train=True, update_running=False): mini-batch statistics, the same
    probabilities and trace as a training forward, the running averages untouched."""
    net, twin = make_net("tanh"), make_net("tanh")
    X, y = make_batch()
    net.loss_and_grads(X, y)  # running averages away from 0 / 1
    twin.loss_and_grads(X, y)
    saved = net.running_flat.copy()
    X2 = np.random.default_rng(5).standard_normal((DIMS[0], M))
    probs = net.forward(X2, train=True, update_running=False)
    assert_array_equal(net.running_flat, saved)
    assert_array_equal(probs, twin.forward(X2, train=True))
    assert not np.array_equal(twin.running_flat, saved)  # the twin's did move
    for ours, theirs in zip(net.trace, twin.trace, strict=True):
        assert_array_equal(ours.Z_tilde, theirs.Z_tilde)
    loss, grads = net.loss_and_grads(X2, y, update_running=False)
    assert_array_equal(net.running_flat, saved)
    twin_loss, twin_grads = twin.loss_and_grads(X2, y)
    assert loss == twin_loss
    assert_array_equal(grads.flat, twin_grads.flat)


@pytest.mark.parametrize("batch_norm", [True, False])
@pytest.mark.parametrize("m", [1, 5])
def test_eval_forward_changes_nothing(batch_norm, m):
    net = make_net("relu", batch_norm=batch_norm)
    X, y = make_batch()
    net.loss_and_grads(X, y)  # running averages away from 0 / 1, a trace, last_probs
    flat = net.params.flat.copy()
    arrays = {k: v for k, v in net.params.items()}
    mu = {l: v.copy() for l, v in net.running_mu.items()}
    var = {l: v.copy() for l, v in net.running_var.items()}
    trace, trace_Z = net.trace, [t.Z.copy() for t in net.trace]
    last_probs = net.last_probs.copy()
    X_eval = np.random.default_rng(9).standard_normal((DIMS[0], m))
    probs = net.forward(X_eval, train=False)
    assert probs.shape == (DIMS[-1], m)
    assert_allclose(probs.sum(axis=0), 1.0, rtol=1e-14)
    assert_array_equal(net.params.flat, flat)
    assert all(net.params[k] is arrays[k] for k in arrays)
    for l, mu_l in mu.items():
        assert_array_equal(net.running_mu[l], mu_l)
        assert_array_equal(net.running_var[l], var[l])
    assert net.trace is trace
    for t, Z in zip(net.trace, trace_Z, strict=True):
        assert_array_equal(t.Z, Z)
    assert_array_equal(net.last_probs, last_probs)
    assert_array_equal(net.forward(X_eval, train=False), probs)  # and it is repeatable


def test_eval_forward_treats_examples_independently():
    # With running averages in place of batch statistics, one column's output does not depend
    # on the other columns of the batch.
    net = make_net("tanh")
    X, y = make_batch()
    net.loss_and_grads(X, y)
    probs = net.forward(X, train=False)
    for i in range(M):
        assert_allclose(net.forward(X[:, i : i + 1], train=False)[:, 0], probs[:, i], rtol=1e-13)


def test_training_forward_with_one_example_raises_under_batch_norm():
    net = make_net()
    X, y = make_batch(m=1)
    with pytest.raises(ValueError, match="at least 2 examples"):
        net.forward(X, train=True)
    with pytest.raises(ValueError, match="at least 2 examples"):
        net.loss_and_grads(X, y)
    plain = make_net(batch_norm=False)  # no batch norm: one example is a fine mini-batch
    assert plain.forward(X, train=True).shape == (DIMS[-1], 1)
    plain.loss_and_grads(X, y)


# ---------------------------------------------------------------- determinism, live params


def train(seed, steps=25, name="adam", **config):
    net = make_net(seed=seed, **config)
    X, y = make_batch(seed=7, m=40)
    rng = np.random.default_rng(seed)
    opt = bn.optimizers.make(name, lr=0.05)
    losses = []
    for _ in range(steps):
        batch = rng.choice(40, 10, replace=False)
        loss, grads = net.loss_and_grads(X[:, batch], y[batch])
        opt.step(net.params, grads)
        losses.append(loss)
    return net, losses


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_same_seed_gives_a_bit_identical_run(name):
    net1, losses1 = train(3, name=name)
    net2, losses2 = train(3, name=name)
    assert losses1 == losses2
    for key in net1.params:
        assert np.array_equal(net1.params[key], net2.params[key]), key
    for l in net1.running_mu:
        assert np.array_equal(net1.running_mu[l], net2.running_mu[l])
        assert np.array_equal(net1.running_var[l], net2.running_var[l])
    net3, losses3 = train(4, name=name)
    assert not np.array_equal(net1.params["W1"], net3.params["W1"])
    assert losses1 != losses3


def test_same_seed_same_initial_weights_other_seed_other_weights():
    a, b, c = make_net(seed=11), make_net(seed=11), make_net(seed=12)
    assert np.array_equal(a.params.flat, b.params.flat)
    assert not np.array_equal(a.params["W1"], c.params["W1"])


def test_params_are_the_live_arrays():
    net = make_net("tanh")
    X, y = make_batch()
    net.loss_and_grads(X, y)
    before = net.forward(X, train=False)
    W1 = net.params["W1"]
    W1 *= 2.0  # in place, through the dict's array
    doubled = net.forward(X, train=False)
    assert not np.allclose(doubled, before)
    W1 /= 2.0
    assert_allclose(net.forward(X, train=False), before, rtol=1e-15)
    net.params["beta1"][0, 0] += 1.0  # one entry of one array
    assert not np.allclose(net.forward(X, train=False), before)
    net.params["beta1"][0, 0] -= 1.0
    # assigning a key changes the network too, and the array object stays the same
    net.params["W1"] = np.zeros_like(W1)
    assert net.params["W1"] is W1 and not W1.any()
    assert not np.allclose(net.forward(X, train=False), before)


def test_params_update_copies_into_the_live_arrays():
    # dict.update would put foreign arrays in the dict, outside the flat vector the optimizer
    # steps: training would silently stop changing them. It copies into the views instead.
    net = make_net("tanh")
    X, y = make_batch()
    W1 = net.params["W1"]
    net.params.update({"W1": np.ones_like(W1)}, beta1=np.full((5, 1), 0.5))
    assert net.params["W1"] is W1 and (W1 == 1.0).all()
    assert (net.params["beta1"] == 0.5).all()
    _, grads = net.loss_and_grads(X, y)
    bn.optimizers.make("gd", lr=0.1).step(net.params, grads)
    assert_allclose(W1, 1.0 - 0.1 * grads["W1"], rtol=1e-15)
    for remove in (
        lambda p: p.pop("W1"),
        lambda p: p.popitem(),
        lambda p: p.clear(),
        lambda p: p.setdefault("W9", 0.0),
    ):
        with pytest.raises(TypeError, match="cannot be removed"):
            remove(net.params)
    assert list(net.params) == [k for k, _ in net.params.layout]


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_network_copies_and_pickles_into_an_independent_twin(how):
    # st.cache_data pickles what it caches; a twin network may be a deep copy.
    net = make_net("relu")
    X, y = make_batch()
    net.loss_and_grads(X, y)
    twin = copy.deepcopy(net) if how == "deepcopy" else pickle.loads(pickle.dumps(net))
    assert list(twin.params) == list(net.params)
    assert_array_equal(twin.params.flat, net.params.flat)
    assert not np.shares_memory(twin.params.flat, net.params.flat)
    assert all(np.shares_memory(v, twin.params.flat) for v in twin.params.values())
    assert_array_equal(twin.forward(X, train=False), net.forward(X, train=False))
    _, grads = twin.loss_and_grads(X, y)
    bn.optimizers.make("adam").step(twin.params, grads)
    assert not np.array_equal(twin.params.flat, net.params.flat)


def test_optimizer_steps_the_live_arrays():
    net = make_net("tanh")
    X, y = make_batch()
    W1 = net.params["W1"]
    start = W1.copy()
    _, grads = net.loss_and_grads(X, y)
    bn.optimizers.make("gd", lr=0.1).step(net.params, grads)
    assert net.params["W1"] is W1
    assert_allclose(W1, start - 0.1 * grads["W1"], rtol=1e-15)


# ---------------------------------------------------------------- initialization


@pytest.mark.parametrize(
    ("init", "std"), [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(1 / 400)), ("gaussian", 0.05)]
)
def test_init_standard_deviations(init, std):
    net = bn.MLP(bn.NetConfig(layer_dims=(400, 300, 2), init=init, init_scale=0.05, seed=1))
    W1 = net.params["W1"]  # 120,000 draws: the sample std is within ~0.5% of the true one
    assert W1.std() == pytest.approx(std, rel=0.01)
    assert abs(W1.mean()) < 0.01 * std
    assert net.params["W2"].std() == pytest.approx(
        {"he": np.sqrt(2 / 300), "xavier": np.sqrt(1 / 300), "gaussian": 0.05}[init], rel=0.1
    )


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("X", "fragment"),
    [
        (np.zeros((2, M)), "X must have 3 rows"),
        (np.zeros((4, M)), "X must have 3 rows"),
        (np.zeros(3), "X must be 2-D"),
        (np.zeros((3, 0)), "X has no examples"),
        (np.where(np.eye(3, M) > 0, np.nan, 0.0), "X contains NaN or inf"),
        (np.where(np.eye(3, M) > 0, np.inf, 0.0), "X contains NaN or inf"),
        (np.where(np.eye(3, M) > 0, -np.inf, 0.0), "X contains NaN or inf"),
        ([["a"] * M] * 3, "X must be a numeric array"),
    ],
    ids=["2 rows", "4 rows", "1-D", "m=0", "nan", "inf", "-inf", "strings"],
)
@pytest.mark.parametrize("call", ["train", "eval", "loss"])
def test_bad_X_raises(X, fragment, call):
    net = make_net()
    y = np.zeros(M, dtype=int)
    with pytest.raises(ValueError, match=fragment):
        if call == "loss":
            net.loss_and_grads(X, y)
        else:
            net.forward(X, train=call == "train")


@pytest.mark.parametrize(
    ("y", "fragment"),
    [
        (np.zeros(M - 1, dtype=int), "y must be a 1-D array of 8 labels"),
        (np.zeros(M + 1, dtype=int), "y must be a 1-D array of 8 labels"),
        (np.zeros((M, 1), dtype=int), "y must be a 1-D array of 8 labels"),
        (np.full(M, 3), r"labels must lie in 0\.\.2"),
        (np.full(M, -1), r"labels must lie in 0\.\.2"),
        (np.full(M, 0.5), "y must hold integer class labels"),
        (np.full(M, np.nan), "y must hold integer class labels"),
        (np.full(M, np.inf), "y must hold integer class labels"),
        (np.array(["a"] * M), "y must hold integer class labels"),
        (np.ones(M, dtype=bool), "y must hold integer class labels"),
    ],
    ids=["short", "long", "2-D", "too big", "negative", "0.5", "nan", "inf", "strings", "bools"],
)
def test_bad_labels_raise(y, fragment):
    net = make_net()
    X, _ = make_batch()
    with pytest.raises(ValueError, match=fragment):
        net.loss_and_grads(X, y)


def test_integer_valued_float_labels_are_accepted():
    net = make_net()
    X, y = make_batch()
    loss_int, _ = net.loss_and_grads(X, y)
    loss_float, _ = net.loss_and_grads(X, y.astype(float))
    assert loss_float == loss_int


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"activation": "softplus"}, "unknown activation 'softplus'"),
        ({"activation": "ReLU"}, "unknown activation 'ReLU'"),
        ({"init": "lecun"}, "unknown init 'lecun'"),
        ({"layer_dims": (2,)}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": ()}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": (2, 0, 2)}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": (2, -3, 2)}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": (2, 3.5, 2)}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": (2, True, 2)}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": (2, 4, 1)}, "at least 2 classes"),
        ({"layer_dims": 5}, "layer_dims must be at least 2 positive integers"),
        ({"layer_dims": None}, "layer_dims must be at least 2 positive integers"),
        ({"running_beta": 1.0}, r"running_beta must lie in \[0, 1\)"),
        ({"running_beta": 1.5}, r"running_beta must lie in \[0, 1\)"),
        ({"running_beta": -0.1}, "running_beta must be a finite number >= 0"),
        ({"running_beta": np.nan}, "running_beta must be a finite number >= 0"),
        ({"eps": 0.0}, "eps must be a finite number > 0"),
        ({"eps": -1e-5}, "eps must be a finite number > 0"),
        ({"init_scale": 0.0}, "init_scale must be a finite number > 0"),
        ({"seed": 1.5}, "seed must be an integer"),
        ({"seed": True}, "seed must be an integer"),
        ({"seed": -1}, "seed must be >= 0"),
    ],
    ids=lambda v: ",".join(f"{k}={x!r}" for k, x in v.items()) if isinstance(v, dict) else "",
)
def test_bad_config_is_refused_when_made(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        bn.NetConfig(**kwargs)


@pytest.mark.parametrize(
    ("name", "kwargs", "fragment"),
    [
        ("sgd", {}, "unknown optimizer 'sgd'"),
        ("Adam", {}, "unknown optimizer 'Adam'"),
        ("adam", {"momentum": 0.9}, "unknown optimizer keyword.*momentum"),
        ("gd", {"beta3": 0.9}, "unknown optimizer keyword.*beta3"),
        ("gd", {"lr": 0.0}, "learning rate must be a finite number > 0"),
        ("gd", {"lr": -0.1}, "learning rate must be a finite number > 0"),
        ("gd", {"lr": np.nan}, "learning rate must be a finite number > 0"),
        ("gd", {"lr": np.inf}, "learning rate must be a finite number > 0"),
        ("momentum", {"beta": 1.0}, r"beta must lie in \[0, 1\)"),
        ("adam", {"beta1": 1.0}, r"beta1 must lie in \[0, 1\)"),
        ("adam", {"beta2": -0.5}, "beta2 must be a finite number >= 0"),
        ("rmsprop", {"eps": 0.0}, "eps must be a finite number > 0"),
    ],
)
def test_bad_optimizer_is_refused_when_made(name, kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        bn.optimizers.make(name, **kwargs)


@pytest.mark.parametrize("lr", [0.0, -1.0])
def test_changing_lr_to_a_bad_value_is_refused(lr):
    opt = bn.optimizers.make("adam", lr=0.01)
    with pytest.raises(ValueError, match="learning rate must be a finite number > 0"):
        opt.lr = lr
    assert opt.lr == 0.01


@pytest.mark.parametrize("name", ["batch_norm", "eliminate_bias"])
def test_switches_must_be_booleans(name):
    with pytest.raises(ValueError, match=f"{name} must be True or False"):
        bn.NetConfig(**{name: "no"})


def test_a_boolean_is_not_a_number():
    with pytest.raises(ValueError, match="eps must be a number"):
        bn.NetConfig(eps=True)


@pytest.mark.parametrize("value", ["0.1", None, 1j, True])
def test_numbers_are_refused_as_text_by_one_rule(value):
    """A number spelled as text used to pass the config and the optimizer, then fail inside
    NumPy at the first forward or step: bn_core/checks.py's is_number refuses it up front."""
    for make, name in (
        (lambda: bn.NetConfig(eps=value), "eps"),
        (lambda: bn.NetConfig(running_beta=value), "running_beta"),
        (lambda: bn.optimizers.make("adam", lr=0.1, beta1=value), "beta1"),
        (lambda: bn.optimizers.make("adam", lr=value), "learning rate"),
    ):
        with pytest.raises(ValueError, match=f"^{name} must be a number, got "):
            make()
    Z = np.arange(6.0).reshape(2, 3)
    for norm in (bn.batchnorm, bn.layernorm):
        with pytest.raises(ValueError, match="eps must be a positive finite number"):
            norm.forward(Z, np.ones((2, 1)), np.zeros((2, 1)), eps=value)
