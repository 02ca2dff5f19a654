"""The trainer's twin with another normalization: batch norm beside layer norm (either way
round) starts from the same parameters, sees the same mini-batches in the same order, and
trains exactly as the independent reference does on them; twin=True keeps its old meaning."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import bn_core as bn
from bn_core import training
from bn_core.data import MiniBatchIterator
from tests.reference import RefNet, RefOptimizer

RTOL, ATOL = 1e-10, 1e-12


@pytest.fixture(scope="module")
def split():
    return training.make_split("moons", n=160, noise=0.1, seed=4)


def make_trainer(split, main="batch", twin="layer", eliminate_bias=True, **kwargs):
    config = training.default_config(
        split, hidden=(6, 5), eliminate_bias=eliminate_bias, seed=3
    ).with_normalization(main)
    return training.Trainer(
        config, split, **{"optimizer": "adam", "lr": 0.01, "batch_size": 8, "twin": twin, **kwargs}
    )


@pytest.mark.parametrize(
    ("main", "twin"), [("batch", "layer"), ("layer", "batch"), ("batch", "none"), ("layer", "none")]
)
@pytest.mark.parametrize("eliminate_bias", [True, False])
def test_the_twin_has_its_normalization_and_the_same_initial_parameters(
    split, main, twin, eliminate_bias
):
    trainer = make_trainer(split, main, twin, eliminate_bias)
    net, other = trainer.net, trainer.twin
    assert net.config.normalization == main
    assert other.config.normalization == (None if twin == "none" else twin)
    assert other.config.layer_dims == net.config.layer_dims
    shared = set(net.params) & set(other.params)
    assert {f"W{l}" for l in range(1, net.L + 1)} <= shared
    if twin != "none":  # two normalizations: the same parameters, gamma and beta included
        assert set(other.params) == set(net.params)
    for key in shared:
        assert_array_equal(net.params[key], other.params[key], err_msg=key)
    assert not np.shares_memory(net.params.flat, other.params.flat)


def test_twin_true_is_still_the_network_without_normalization(split):
    for main in ("batch", "layer"):
        twin = make_trainer(split, main, True).twin
        assert twin.config.normalization is None and "b1" in twin.params
    assert make_trainer(split, None, True).twin is None  # nothing to take away
    assert make_trainer(split, "batch", False).twin is None
    assert make_trainer(split, "batch", None).twin is None


@pytest.mark.parametrize(("main", "twin"), [("batch", "batch"), ("layer", "layer"), (None, "none")])
def test_a_twin_like_the_main_network_is_refused(split, main, twin):
    with pytest.raises(ValueError, match="must differ"):
        make_trainer(split, main, twin)


@pytest.mark.parametrize("twin", ["group", "", 1, 0.5])
def test_an_unknown_twin_is_refused(split, twin):
    with pytest.raises(ValueError, match=r"twin must be|normalization must be"):
        make_trainer(split, "batch", twin)


def test_a_batch_norm_twin_needs_mini_batches_of_2(split):
    """Layer norm alone trains on one example at a time; with a batch-norm twin it can't."""
    assert make_trainer(split, "layer", "none", batch_size=1).step(3) == 3
    with pytest.raises(ValueError, match="at least 2 examples"):
        make_trainer(split, "layer", "batch", batch_size=1)


def test_the_networks_see_the_same_mini_batches(split):
    """Each network of a batch-norm / layer-norm pair, after 30 trainer steps, is bit for bit
    the same network trained by hand on the mini-batches of an iterator with the trainer's
    seed: both saw the same examples in the same order."""
    trainer, fresh = (make_trainer(split, "batch", "layer", batch_size=2) for _ in range(2))
    trainer.step(30)
    batches = MiniBatchIterator(split.X_train.shape[1], 2, seed=3)
    expected = [batches.next_indices() for _ in range(30)]
    for run, start in zip(trainer.runs, fresh.runs, strict=True):
        by_hand = start.net
        opt = bn.optimizers.make("adam", lr=0.01)
        for idx in expected:
            _, grads = by_hand.loss_and_grads(split.X_train[:, idx], split.y_train[idx])
            opt.step(by_hand.params, grads)
        assert_array_equal(by_hand.params.flat, run.net.params.flat)


@pytest.mark.parametrize(("main", "twin"), [("batch", "layer"), ("layer", "batch")])
def test_both_networks_train_as_the_reference_does(split, main, twin):
    """Each network of the pair, step by step on the trainer's mini-batches, against the
    independent reference network (tests/reference.py) started from the same parameters."""
    trainer = make_trainer(
        split, main, twin, eliminate_bias=False, optimizer="momentum", lr=0.05, batch_size=16
    )
    refs = [
        RefNet(
            run.net.params.copy_arrays(),
            run.net.config.layer_dims,
            "relu",
            batch_norm=run.net.config.batch_norm,
            eps=run.net.config.eps,
            layer_norm=run.net.config.layer_norm,
        )
        for run in trainer.runs
    ]
    ref_opts = [RefOptimizer("momentum", lr=0.05) for _ in refs]
    batches = MiniBatchIterator(split.X_train.shape[1], 16, seed=3)
    for _ in range(6):
        idx = batches.next_indices()
        X, y = split.X_train[:, idx], split.y_train[idx]
        for ref, opt in zip(refs, ref_opts, strict=True):
            _, _, grads = ref.loss_and_grads(X, y)
            opt.step(ref.params, grads)
        trainer.step()
        for run, ref in zip(trainer.runs, refs, strict=True):
            for key in ref.params:
                assert_allclose(
                    run.net.params[key],
                    ref.params[key],
                    rtol=RTOL,
                    atol=ATOL,
                    err_msg=f"{run.net.config.normalization}: {key}",
                )
    for run, ref in zip(trainer.runs, refs, strict=True):
        assert_allclose(
            run.net.forward(split.X_test, train=False),
            ref.predict(split.X_test),
            rtol=RTOL,
            atol=ATOL,
        )


def test_a_pair_is_bit_identical_run_after_run(split):
    a, b = make_trainer(split), make_trainer(split)
    a.step(25)
    b.step(25)
    for run_a, run_b in zip(a.runs, b.runs, strict=True):
        assert_array_equal(run_a.net.params.flat, run_b.net.params.flat)
        assert_array_equal(run_a.recorder.units.values, run_b.recorder.units.values)


def test_layer_norm_records_each_examples_statistics(split):
    trainer = make_trainer(split, "batch", "layer", batch_size=8)
    trainer.step(12)
    bn_rec, ln_rec = (run.recorder for run in trainer.runs)
    assert bn_rec.examples is None
    steps, values = ln_rec.example_series("mu", 2)
    assert_array_equal(steps, np.arange(1, 13))
    assert values.shape == (12, 3) and values.dtype == np.float32
    # the last step's, from the network's own trace: each example's mu and sigma over units
    trace = trainer.twin.trace[1]
    mu, sigma = trace.Z.mean(axis=0), trace.Z.std(axis=0)
    assert_allclose(values[-1], [mu.mean(), mu.min(), mu.max()], rtol=1e-5, atol=1e-6)
    _, sigmas = ln_rec.example_series("sigma", 2)
    assert_allclose(sigmas[-1], [sigma.mean(), sigma.min(), sigma.max()], rtol=1e-5)
    with pytest.raises(ValueError, match="layer norm only"):
        bn_rec.example_series("mu", 1)
