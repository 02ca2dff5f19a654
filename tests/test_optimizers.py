"""bn_core.optimizers against the reference's literal formulas: plain dicts, the network's
FlatDict parameters, step counting, learning-rate changes and the default hyperparameters."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import bn_core as bn
from tests.reference import RefOptimizer

OPTIMIZERS = ["gd", "momentum", "rmsprop", "adam"]
SHAPES = {"W1": (5, 3), "b1": (5, 1), "gamma1": (5, 1), "beta1": (5, 1), "W2": (2, 5), "b2": (2, 1)}


def random_params(rng):
    return {k: rng.standard_normal(shape) for k, shape in SHAPES.items()}


def random_grads(rng, scale=1.0):
    # gradients over several orders of magnitude, so sqrt(s) and eps both matter in places
    return {
        k: scale * rng.standard_normal(shape) * 10.0 ** rng.integers(-9, 1, shape)
        for k, shape in SHAPES.items()
    }


def assert_params_close(actual, expected, rtol=1e-13):
    assert set(actual) == set(expected)
    for key in expected:
        assert_allclose(actual[key], expected[key], rtol=rtol, atol=1e-15, err_msg=key)


# ---------------------------------------------------------------- plain dicts


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_plain_dicts_match_the_reference_over_20_steps(name):
    rng = np.random.default_rng(0)
    params = random_params(rng)
    ref_params = {k: v.copy() for k, v in params.items()}
    opt, ref = bn.optimizers.make(name, lr=0.01), RefOptimizer(name, lr=0.01)
    arrays = dict(params)
    for step in range(1, 21):
        grads = random_grads(rng)
        opt.step(params, grads)
        ref.step(ref_params, grads)
        assert opt.t == step
        assert_params_close(params, ref_params)
    assert all(params[k] is arrays[k] for k in arrays)  # updated in place


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize(
    "hyper",
    [
        {"beta": 0.5},
        {"beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        {"beta": 0.0, "beta1": 0.0, "beta2": 0.0, "eps": 1e-3},
    ],
)
def test_hyperparameters_are_used_as_written(name, hyper):
    rng = np.random.default_rng(1)
    params = random_params(rng)
    ref_params = {k: v.copy() for k, v in params.items()}
    opt, ref = bn.optimizers.make(name, lr=0.03, **hyper), RefOptimizer(name, 0.03, **hyper)
    for _ in range(10):
        grads = random_grads(rng)
        opt.step(params, grads)
        ref.step(ref_params, grads)
    assert_params_close(params, ref_params)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_the_step_does_not_change_the_grads(name):
    rng = np.random.default_rng(2)
    params, grads = random_params(rng), random_grads(rng)
    copies = {k: v.copy() for k, v in grads.items()}
    bn.optimizers.make(name).step(params, grads)
    for key in grads:
        assert_array_equal(grads[key], copies[key])


def test_defaults():
    opt = bn.optimizers.make("adam")
    assert opt.hyper["beta1"] == 0.9 and opt.hyper["beta2"] == 0.999
    assert opt.hyper["eps"] == 1e-8 and opt.hyper["beta"] == 0.9
    # and the defaults behave like the reference's literal ones
    for name in OPTIMIZERS:
        rng = np.random.default_rng(3)
        params = random_params(rng)
        ref_params = {k: v.copy() for k, v in params.items()}
        opt, ref = (
            bn.optimizers.make(name, lr=0.1),
            RefOptimizer(name, 0.1, beta=0.9, beta1=0.9, beta2=0.999, eps=1e-8),
        )
        for _ in range(5):
            grads = random_grads(rng)
            opt.step(params, grads)
            ref.step(ref_params, grads)
        assert_params_close(params, ref_params)


def test_first_adam_step_moves_every_entry_by_about_lr():
    # v_hat = dP and s_hat = dP^2 at t = 1: each entry moves by lr * dP / (|dP| + eps).
    rng = np.random.default_rng(4)
    P = rng.standard_normal((4, 4))
    dP = rng.standard_normal((4, 4))
    start = P.copy()
    bn.optimizers.make("adam", lr=0.01).step({"P": P}, {"P": dP})
    assert_allclose(start - P, 0.01 * dP / (np.abs(dP) + 1e-8), rtol=1e-13)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_t_counts_one_per_step_call_whatever_the_number_of_parameters(name):
    rng = np.random.default_rng(5)
    params = random_params(rng)
    opt = bn.optimizers.make(name)
    assert opt.t == 0
    for step in range(1, 4):
        opt.step(params, random_grads(rng))
        assert opt.t == step


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_learning_rate_change_between_steps_takes_effect(name):
    rng = np.random.default_rng(6)
    params = random_params(rng)
    ref_params = {k: v.copy() for k, v in params.items()}
    opt, ref = bn.optimizers.make(name, lr=0.01), RefOptimizer(name, lr=0.01)
    for step in range(12):
        if step == 5:
            opt.lr, ref.lr = 0.2, 0.2
        if step == 9:
            opt.lr, ref.lr = 1e-4, 1e-4
        grads = random_grads(rng)
        opt.step(params, grads)
        ref.step(ref_params, grads)
        assert_params_close(params, ref_params)
    assert opt.lr == 1e-4


def test_gd_is_exactly_P_minus_lr_dP():
    rng = np.random.default_rng(7)
    params, grads = random_params(rng), random_grads(rng)
    expected = {k: params[k] - 0.05 * grads[k] for k in params}
    bn.optimizers.make("gd", lr=0.05).step(params, grads)
    for key in params:
        assert_array_equal(params[key], expected[key])


def test_mismatched_keys_are_refused():
    rng = np.random.default_rng(8)
    params, grads = random_params(rng), random_grads(rng)
    del grads["b2"]
    with pytest.raises(ValueError, match="same keys"):
        bn.optimizers.make("adam").step(params, grads)


# ---------------------------------------------------------------- the network's FlatDicts


def net_and_batches(batch_norm=True, eliminate_bias=False):
    cfg = bn.NetConfig(
        layer_dims=(3, 6, 5, 3),
        activation="tanh",
        batch_norm=batch_norm,
        eliminate_bias=eliminate_bias,
        seed=2,
    )
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((3, 60)), rng.integers(0, 3, 60)
    batches = [rng.choice(60, 12, replace=False) for _ in range(20)]
    return bn.MLP(cfg), X, y, batches


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("batch_norm", [True, False])
def test_network_params_match_the_reference_applied_to_copies(name, batch_norm):
    net, X, y, batches = net_and_batches(batch_norm)
    ref_params = net.params.copy_arrays()
    arrays = dict(net.params)
    opt, ref = bn.optimizers.make(name, lr=0.02), RefOptimizer(name, lr=0.02)
    for step, batch in enumerate(batches, start=1):
        _, grads = net.loss_and_grads(X[:, batch], y[batch])
        plain_grads = {k: v.copy() for k, v in grads.items()}
        opt.step(net.params, grads)
        ref.step(ref_params, plain_grads)
        assert opt.t == step
        assert_params_close(net.params, ref_params)
    assert all(net.params[k] is arrays[k] for k in arrays)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_flat_path_is_bit_identical_to_the_plain_dict_path(name):
    # bn_core updates a network's FlatDicts through their flat vectors: the same arithmetic
    # element by element as the per-key path, so the two agree to the last bit.
    net, X, y, batches = net_and_batches()
    plain = net.params.copy_arrays()
    flat_opt, plain_opt = bn.optimizers.make(name, lr=0.05), bn.optimizers.make(name, lr=0.05)
    for batch in batches:
        _, grads = net.loss_and_grads(X[:, batch], y[batch])
        plain_grads = {k: v.copy() for k, v in grads.items()}
        flat_opt.step(net.params, grads)
        plain_opt.step(plain, plain_grads)
        for key in plain:
            assert_array_equal(net.params[key], plain[key], err_msg=key)


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_network_params_with_plain_dict_grads_keep_the_state(name):
    # Someone may hand the optimizer a plain dict of (say, clipped) gradients for the live
    # FlatDict params, now and then: the v and s of every parameter must carry on regardless.
    net, X, y, batches = net_and_batches()
    ref_params = net.params.copy_arrays()
    opt, ref = bn.optimizers.make(name, lr=0.02), RefOptimizer(name, lr=0.02)
    for step, batch in enumerate(batches):
        _, grads = net.loss_and_grads(X[:, batch], y[batch])
        plain_grads = {k: v.copy() for k, v in grads.items()}
        opt.step(net.params, plain_grads if step % 3 == 1 else grads)
        ref.step(ref_params, plain_grads)
        assert_params_close(net.params, ref_params)


@pytest.mark.parametrize("flat_params", [False, True], ids=["plain", "FlatDict"])
def test_a_gradient_of_the_wrong_shape_is_refused_not_broadcast(flat_params):
    net, X, y, _ = net_and_batches()
    params = net.params if flat_params else net.params.copy_arrays()
    before = {k: v.copy() for k, v in params.items()}
    _, grads = net.loss_and_grads(X, y)
    grads = {k: v.copy() for k, v in grads.items()}
    grads["W1"] = grads["W1"][:, :1]  # (6, 1) would broadcast onto W1's (6, 3)
    opt = bn.optimizers.make("momentum")
    with pytest.raises(ValueError, match=r"gradient of W1 must have shape \(6, 3\)"):
        opt.step(params, grads)
    assert opt.t == 0
    for key, value in before.items():
        assert_array_equal(params[key], value)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_network_larger_than_one_chunk_matches_the_reference(name):
    # The flat update may run in pieces on a large network: the pieces must join up exactly.
    net = bn.MLP(bn.NetConfig(layer_dims=(120, 300, 130, 10), seed=3))
    assert net.params.flat.size > 70_000
    rng = np.random.default_rng(10)
    ref_params = net.params.copy_arrays()
    opt, ref = bn.optimizers.make(name, lr=0.01), RefOptimizer(name, lr=0.01)
    for _ in range(3):
        grads = net.params.zeros_like()
        grads.flat[...] = rng.standard_normal(grads.flat.size)
        opt.step(net.params, grads)
        ref.step(ref_params, {k: v.copy() for k, v in grads.items()})
    assert_params_close(net.params, ref_params)


@pytest.mark.parametrize("flat", [False, True], ids=["plain", "FlatDict"])
def test_a_nan_gradient_is_refused_and_nothing_moves(flat):
    net = bn.MLP(bn.NetConfig(layer_dims=(2, 3, 2)))
    params = net.params if flat else net.params.copy_arrays()
    grads = net.params.zeros_like() if flat else {k: np.zeros_like(v) for k, v in params.items()}
    grads["W1"][0, 0] = np.nan
    before = {k: v.copy() for k, v in params.items()}
    opt = bn.optimizers.make("adam")
    with pytest.raises(ValueError, match="NaN or inf"):
        opt.step(params, grads)
    assert opt.t == 0
    for key, value in before.items():
        np.testing.assert_array_equal(params[key], value)
