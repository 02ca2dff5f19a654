"""The whole training loop of bn_core (MLP + optimizer) held against the independent reference
(tests/reference.py) to float64 precision: losses, gradients, every parameter, the running
averages and the eval-mode predictions, step by step."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import bn_core as bn
from tests.reference import RefNet, RefOptimizer, param_shapes

RTOL, ATOL = 1e-10, 1e-12

CONFIGS = [
    # (layer_dims, activation, batch_norm, eliminate_bias, optimizer, lr, running_beta)
    ((3, 6, 5, 3), "relu", True, True, "adam", 0.01, 0.9),
    ((3, 6, 5, 3), "tanh", True, False, "momentum", 0.1, 0.9),
    ((2, 8, 8, 8, 2), "sigmoid", True, True, "rmsprop", 0.005, 0.7),
    ((4, 7, 3), "linear", True, False, "gd", 0.2, 0.9),
    ((3, 6, 5, 3), "relu", False, True, "adam", 0.01, 0.9),
    ((3, 6, 5, 3), "tanh", False, False, "gd", 0.3, 0.9),
    ((5, 4), "linear", True, True, "momentum", 0.1, 0.9),  # no hidden layer at all
]


def make_pair(dims, activation, batch_norm, eliminate_bias, running_beta, seed=0):
    cfg = bn.NetConfig(
        layer_dims=dims,
        activation=activation,
        batch_norm=batch_norm,
        eliminate_bias=eliminate_bias,
        running_beta=running_beta,
        seed=seed,
    )
    net = bn.MLP(cfg)
    ref = RefNet(net.params.copy_arrays(), dims, activation, batch_norm, cfg.eps, running_beta)
    return net, ref


def assert_same_state(net, ref, when):
    assert (
        set(net.params)
        == set(ref.params)
        == set(
            param_shapes(net.config.layer_dims, net.config.batch_norm, net.config.eliminate_bias)
        )
    )
    for key in ref.params:
        assert_allclose(
            net.params[key], ref.params[key], rtol=RTOL, atol=ATOL, err_msg=f"{key} {when}"
        )
    assert set(net.running_mu) == set(ref.running_mu)
    for l in ref.running_mu:
        assert_allclose(
            net.running_mu[l],
            ref.running_mu[l],
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"running_mu[{l}] {when}",
        )
        assert_allclose(
            net.running_var[l],
            ref.running_var[l],
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"running_var[{l}] {when}",
        )


@pytest.mark.parametrize(
    ("dims", "activation", "batch_norm", "eliminate_bias", "name", "lr", "running_beta"), CONFIGS
)
def test_training_loop_matches_the_reference(
    dims, activation, batch_norm, eliminate_bias, name, lr, running_beta
):
    net, ref = make_pair(dims, activation, batch_norm, eliminate_bias, running_beta)
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((dims[0], 48)), rng.integers(0, dims[-1], 48)
    X_test = rng.standard_normal((dims[0], 7))
    opt, ref_opt = bn.optimizers.make(name, lr=lr), RefOptimizer(name, lr=lr)
    assert_same_state(net, ref, "at the start")
    for step in range(1, 11):
        batch = rng.choice(48, 12, replace=False)
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
        assert_same_state(net, ref, f"after step {step}")
        assert_allclose(
            net.forward(X_test, train=False),
            ref.predict(X_test),
            rtol=RTOL,
            atol=ATOL,
            err_msg=f"eval probs after step {step}",
        )
    # one example at a time in eval mode, too
    assert_allclose(
        net.forward(X_test[:, :1], train=False), ref.predict(X_test[:, :1]), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize(
    ("batch_norm", "eliminate_bias"), [(True, True), (True, False), (False, True)]
)
def test_gradients_match_the_reference(activation, batch_norm, eliminate_bias):
    net, ref = make_pair((3, 5, 4, 3), activation, batch_norm, eliminate_bias, 0.9, seed=3)
    rng = np.random.default_rng(4)
    for key, P in net.params.items():  # away from b = beta = 0, gamma = 1
        if not key.startswith("W"):
            P += 0.2 * rng.standard_normal(P.shape)
            ref.params[key] = P.copy()
    X, y = rng.standard_normal((3, 8)), rng.integers(0, 3, 8)
    loss, grads = net.loss_and_grads(X, y)
    ref_loss, _, ref_grads = ref.loss_and_grads(X, y)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for key in ref_grads:
        assert_allclose(grads[key], ref_grads[key], rtol=RTOL, atol=1e-13, err_msg=key)
