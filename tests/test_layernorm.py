"""bn_core.layernorm and NetConfig(layer_norm=True): the forward and backward against the
independent reference, the normalization's promises (per-example statistics, one example alone
as inside a batch, no running averages, b not cancelled), gradient checks of every parameter,
the reference network step by step, and the trainer, recorder and history around it."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import bn_core as bn
from bn_core import exchange, layernorm
from bn_core.gradcheck import check_network
from bn_core.training import Trainer, make_split
from tests.reference import (
    RefNet,
    RefOptimizer,
    ln_backward,
    ln_forward,
    numeric_grad,
    param_shapes,
    rel_error,
)

EPS = 1e-5
RTOL, ATOL = 1e-10, 1e-12
ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"]
DIMS = (3, 5, 4, 3)


def make_inputs(n=5, m=7, seed=0, scale=3.0, shift=2.0):
    """Z (n, m) off-centre per example and spread out, gamma and beta not the identity."""
    rng = np.random.default_rng(seed)
    Z = scale * rng.standard_normal((n, m)) + shift * rng.standard_normal((1, m))
    gamma = 1.0 + 0.5 * rng.standard_normal((n, 1))
    beta = rng.standard_normal((n, 1))
    return Z, gamma, beta


def make_net(activation="relu", eliminate_bias=True, seed=0, dims=DIMS):
    return bn.MLP(
        bn.NetConfig(
            layer_dims=dims,
            activation=activation,
            batch_norm=False,
            layer_norm=True,
            eliminate_bias=eliminate_bias,
            seed=seed,
        )
    )


def perturb(net, seed):
    """Move every b, gamma and beta off (0, 1, 0) so the checks see a generic point."""
    rng = np.random.default_rng(seed + 2000)
    for key, P in net.params.items():
        if key.startswith(("b", "beta")):
            P[...] = 0.2 * rng.standard_normal(P.shape)
        elif key.startswith("gamma"):
            P[...] = 1.0 + 0.3 * rng.standard_normal(P.shape)


# ---------------------------------------------------------------- forward and backward


# (64, 80): large enough for the matrix-vector-product sums (bn_core.batchnorm.GEMV_MIN_SIZE)
@pytest.mark.parametrize(
    ("n", "m", "seed"), [(2, 1, 0), (5, 7, 1), (16, 33, 2), (3, 2, 3), (64, 80, 4)]
)
def test_forward_matches_reference(n, m, seed):
    Z, gamma, beta = make_inputs(n, m, seed)
    Z_tilde, cache = layernorm.forward(Z, gamma, beta, eps=EPS)
    ref_tilde, ref_mu, ref_var, ref_norm = ln_forward(Z, gamma, beta, EPS)
    assert cache.mu.shape == (1, m) and cache.var.shape == (1, m)
    assert Z_tilde.shape == cache.Z_norm.shape == (n, m)
    assert_allclose(cache.mu, ref_mu, rtol=RTOL, atol=ATOL)
    assert_allclose(cache.var, ref_var, rtol=RTOL, atol=ATOL)
    assert_allclose(cache.Z_norm, ref_norm, rtol=RTOL, atol=ATOL)
    assert_allclose(Z_tilde, ref_tilde, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(("n", "m", "seed"), [(2, 1, 0), (5, 7, 1), (16, 33, 2), (64, 80, 4)])
def test_backward_matches_reference(n, m, seed):
    Z, gamma, beta = make_inputs(n, m, seed)
    dZ_tilde = np.random.default_rng(seed + 10).standard_normal((n, m))
    _, cache = layernorm.forward(Z, gamma, beta, eps=EPS)
    dZ, dgamma, dbeta = layernorm.backward(dZ_tilde, cache)
    _, _, ref_var, ref_norm = ln_forward(Z, gamma, beta, EPS)
    ref_dZ, ref_dgamma, ref_dbeta = ln_backward(dZ_tilde, ref_norm, gamma, ref_var, EPS)
    assert dgamma.shape == dbeta.shape == (n, 1)
    assert_allclose(dZ, ref_dZ, rtol=RTOL, atol=ATOL)
    assert_allclose(dgamma, ref_dgamma, rtol=RTOL, atol=ATOL)
    assert_allclose(dbeta, ref_dbeta, rtol=RTOL, atol=ATOL)


def test_backward_matches_numerical_gradients():
    Z, gamma, beta = make_inputs(4, 6, seed=5)
    dZ_tilde = np.random.default_rng(6).standard_normal(Z.shape)

    def f():
        return float(np.sum(layernorm.forward(Z, gamma, beta, EPS)[0] * dZ_tilde))

    _, cache = layernorm.forward(Z, gamma, beta, EPS)
    dZ, dgamma, dbeta = layernorm.backward(dZ_tilde, cache)
    for analytic, P in ((dZ, Z), (dgamma, gamma), (dbeta, beta)):
        assert rel_error(analytic, numeric_grad(f, P)) < 1e-8


def test_each_column_of_Z_norm_has_mean_0_and_variance_var_over_var_plus_eps():
    Z, gamma, beta = make_inputs(6, 9, seed=7, scale=1e-2)  # small var: eps shows
    _, cache = layernorm.forward(Z, gamma, beta, eps=EPS)
    assert_allclose(cache.Z_norm.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(
        cache.Z_norm.var(axis=0, keepdims=True), cache.var / (cache.var + EPS), rtol=1e-10
    )
    assert np.all(cache.var / (cache.var + EPS) < 1 - 1e-3)  # eps made a visible difference


def test_one_example_alone_gives_the_same_output_as_inside_a_batch():
    Z, gamma, beta = make_inputs(5, 12, seed=8)
    batch_out, _ = layernorm.forward(Z, gamma, beta)
    for i in range(12):
        alone, cache = layernorm.forward(Z[:, i : i + 1], gamma, beta)
        assert cache.mu.shape == (1, 1)
        assert_allclose(alone[:, 0], batch_out[:, i], rtol=1e-13, atol=1e-14)


def test_gamma_and_beta_are_per_unit():
    Z, gamma, beta = make_inputs(4, 6, seed=9)
    Z_tilde, cache = layernorm.forward(Z, gamma, beta)
    assert_allclose(Z_tilde, gamma * cache.Z_norm + beta, rtol=1e-14)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((np.ones((3, 2)), np.ones((2, 1)), np.zeros((3, 1))), "gamma"),
        ((np.full((3, 2), np.nan), np.ones((3, 1)), np.zeros((3, 1))), "NaN"),
        ((np.ones((3, 2)), np.ones((3, 1)), np.zeros((3, 1)), 0.0), "eps"),
    ],
)
def test_bad_input_raises(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        layernorm.forward(*args)


def test_backward_refuses_a_wrong_shape():
    _, cache = layernorm.forward(*make_inputs(3, 4))
    with pytest.raises(ValueError, match="shape"):
        layernorm.backward(np.ones((3, 5)), cache)


# ---------------------------------------------------------------- the network


@pytest.mark.parametrize("eliminate_bias", [True, False], ids=["no-b", "b"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradient_check_every_parameter(activation, eliminate_bias):
    for seed in range(50):  # ReLU: a seed whose inputs stay 1e-3 (100 h) away from the kink
        net = make_net(activation, eliminate_bias, seed=seed)
        perturb(net, seed)
        rng = np.random.default_rng(seed + 1000)
        X, y = rng.standard_normal((3, 8)), rng.integers(0, 3, 8)
        margin = min(np.abs(t.Z_tilde).min() for t in net.layer_trace(X, train=True))
        if activation != "relu" or margin > 1e-3:
            break
    checks = check_network(net, X, y, h=1e-5)
    assert [c.name for c in checks] == list(net.params)
    assert ("b1" in net.params) != eliminate_bias
    for c in checks:
        assert np.linalg.norm(c.analytic) > 1e-6, c.name  # nothing is inert under layer norm
        assert c.relative_error < 1e-7, (c.name, c.relative_error)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_kept_b_is_not_cancelled_under_layer_norm(activation):
    """b[l] adds a different amount to each unit of an example, which the example's mean over
    its units does not take away (batch norm's mean over examples does)."""
    ln = make_net(activation, eliminate_bias=False, dims=(2, 16, 16, 2))
    bn_net = bn.MLP(
        bn.NetConfig(layer_dims=(2, 16, 16, 2), activation=activation, eliminate_bias=False)
    )
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((2, 32)), rng.integers(0, 2, 32)
    for net in (ln, bn_net):
        perturb(net, 3)
    ln_grads, bn_grads = ln.loss_and_grads(X, y)[1], bn_net.loss_and_grads(X, y)[1]
    for l in (1, 2):
        assert np.abs(ln_grads[f"b{l}"]).max() > 1e-4
        assert np.abs(bn_grads[f"b{l}"]).max() < 1e-12


@pytest.mark.parametrize("dims", [(2, 16, 16, 2), (4, 3), (3, 6, 5, 4, 3)])
@pytest.mark.parametrize("eliminate_bias", [True, False])
def test_param_keys_and_shapes_follow_the_contract(dims, eliminate_bias):
    net = make_net(eliminate_bias=eliminate_bias, dims=dims)
    expected = param_shapes(dims, False, eliminate_bias, layer_norm=True)
    assert list(net.params) == list(expected)
    assert {k: v.shape for k, v in net.params.items()} == expected
    for l in net.ln_layers:
        assert_array_equal(net.params[f"gamma{l}"], 1.0)
        assert_array_equal(net.params[f"beta{l}"], 0.0)


def test_no_running_averages_and_eval_equals_training_mode():
    net = make_net("tanh", eliminate_bias=False)
    perturb(net, 1)
    X = np.random.default_rng(2).standard_normal((3, 10))
    assert net.bn_layers == () and net.ln_layers == (1, 2) and net.norm_layers == (1, 2)
    assert net.running_mu == {} and net.running_var == {} and net.running_flat.size == 0
    train_probs = net.forward(X, train=True)
    assert_array_equal(net.forward(X, train=False), train_probs)
    for i in range(10):  # one example at a time, in either mode
        for train in (True, False):
            assert_allclose(
                net.forward(X[:, i : i + 1], train=train)[:, 0],
                train_probs[:, i],
                rtol=1e-13,
                atol=1e-15,
            )


def test_a_mini_batch_of_one_trains():
    net = make_net("relu")
    x, y = np.array([[0.5], [-1.0], [2.0]]), np.array([2])
    opt = bn.optimizers.make("adam", lr=0.05)
    losses = []
    for _ in range(30):
        loss, grads = net.loss_and_grads(x, y)
        opt.step(net.params, grads)
        losses.append(loss)
    assert losses[-1] < 0.1 * losses[0]


def test_batch_norm_and_layer_norm_together_is_a_value_error():
    with pytest.raises(ValueError, match="batch_norm or layer_norm"):
        bn.NetConfig(batch_norm=True, layer_norm=True)
    with pytest.raises(ValueError, match="layer_norm must be True or False"):
        bn.NetConfig(batch_norm=False, layer_norm="yes")


def test_repr_shows_layer_norm():
    assert repr(make_net(dims=(2, 16, 16, 2))) == "2 -> [16 LN relu] -> [16 LN relu] -> 2 softmax"


# ---------------------------------------------------------------- against the reference network


@pytest.mark.parametrize(
    ("dims", "activation", "eliminate_bias", "name", "lr"),
    [
        ((3, 6, 5, 3), "relu", True, "adam", 0.01),
        ((3, 6, 5, 3), "tanh", False, "momentum", 0.1),
        ((2, 8, 8, 8, 2), "sigmoid", True, "rmsprop", 0.005),
        ((4, 7, 3), "linear", False, "gd", 0.2),
    ],
)
def test_training_loop_matches_the_reference(dims, activation, eliminate_bias, name, lr):
    net = make_net(activation, eliminate_bias, dims=dims)
    ref = RefNet(
        net.params.copy_arrays(), dims, activation, batch_norm=False, eps=EPS, layer_norm=True
    )
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((dims[0], 48)), rng.integers(0, dims[-1], 48)
    X_test = rng.standard_normal((dims[0], 7))
    opt, ref_opt = bn.optimizers.make(name, lr=lr), RefOptimizer(name, lr=lr)
    for step in range(1, 8):
        batch = rng.choice(48, 1 if step == 3 else 12, replace=False)  # step 3: one example
        loss, grads = net.loss_and_grads(X[:, batch], y[batch])
        ref_loss, ref_probs, ref_grads = ref.loss_and_grads(X[:, batch], y[batch])
        assert loss == pytest.approx(ref_loss, rel=RTOL, abs=ATOL)
        assert_allclose(net.last_probs, ref_probs, rtol=RTOL, atol=ATOL)
        assert set(grads) == set(ref_grads)
        for key in ref_grads:
            assert_allclose(
                grads[key], ref_grads[key], rtol=RTOL, atol=1e-13, err_msg=f"d{key} at step {step}"
            )
        opt.step(net.params, grads)
        ref_opt.step(ref.params, ref_grads)
        for key in ref.params:
            assert_allclose(
                net.params[key],
                ref.params[key],
                rtol=RTOL,
                atol=ATOL,
                err_msg=f"{key} after step {step}",
            )
        assert_allclose(net.forward(X_test, train=False), ref.predict(X_test), rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- trainer, recorder, history


def test_trainer_recorder_and_history_with_layer_norm():
    split = make_split("moons", n=120, seed=0)
    cfg = bn.training.default_config(split, batch_norm=False, layer_norm=True)
    trainer = Trainer(cfg, split, batch_size=1, eval_every=5)
    assert trainer.twin is not None and not trainer.twin.norm_layers
    assert_array_equal(trainer.twin.params["W1"], trainer.net.params["W1"])
    assert trainer.step(20) == 20 and trainer.stop_reason is None
    rec = trainer.runs[0].recorder
    assert rec.normalization == "layer" and not rec.batch_norm
    assert rec.unit_fields == ("mu", "sigma", "gamma", "beta")
    _, gammas = rec.unit_series("gamma", 1)
    assert gammas.shape == (20, 16)
    assert_allclose(gammas[-1], trainer.net.params["gamma1"][:, 0], rtol=1e-6)
    _, sigma = rec.unit_series("sigma", 2)
    assert_array_equal(sigma, 0.0)  # one example per mini-batch: no spread across the batch
    csv = exchange.history_csv([("layer_norm", rec), ("plain", trainer.runs[1].recorder)])
    assert "layer_norm,gamma,1,1," in csv and "running_mu" not in csv


def test_batch_norm_trainer_still_refuses_a_mini_batch_of_one():
    split = make_split("moons", n=60, seed=0)
    with pytest.raises(ValueError, match="at least 2 examples"):
        Trainer(bn.training.default_config(split), split, batch_size=1)
