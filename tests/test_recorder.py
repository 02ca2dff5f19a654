"""The recorder: what it keeps per step, and a memory budget that holds however long a run."""

import numpy as np
import pytest

import bn_core as bn
from bn_core import training
from bn_core.recorder import PERCENTILES, Recorder, Series


@pytest.fixture(scope="module")
def trainer():
    split = training.make_split("moons", n=160, noise=0.1, seed=0)
    config = training.default_config(split, hidden=(6, 5), eliminate_bias=False)
    trainer = training.Trainer(config, split, "adam", 0.02, batch_size=16, eval_every=5)
    trainer.step(30)
    return trainer


def test_series_thins_evenly_and_never_grows():
    series = Series(capacity=100)
    for step in range(1, 100_001):
        series.add(step, step)
        assert series.n <= 100
    steps = series.steps
    gaps = np.diff(steps)
    assert np.all(gaps == series.stride)  # evenly spread
    assert steps[0] == 1  # the oldest point is kept: thinned, not dropped
    assert 100_000 - steps[-1] < series.stride
    np.testing.assert_array_equal(series.values, steps.astype(np.float32))


def test_series_thins_a_sparse_cadence_too():
    series = Series(capacity=10)
    for step in range(0, 10_000, 10):
        series.add(step, 0.0)
    assert series.n <= 10 and np.all(np.diff(series.steps) == np.diff(series.steps)[0])


def test_recorder_stays_within_its_budget_over_100000_steps(trainer):
    net = bn.MLP(trainer.net.config)
    X, y = trainer.split.X_train[:, :16], trainer.split.y_train[:16]
    _, grads = net.loss_and_grads(X, y)
    recorder = Recorder(net, budget_bytes=300_000)
    before = net.params.flat.copy()
    sizes = set()
    for step in range(1, 100_001):
        recorder.record_step(step, net, 0.5, y, grads, before)
        if step % 10_000 == 0:
            sizes.add(recorder.nbytes)
            assert recorder.nbytes <= recorder.budget_bytes
    assert len(sizes) == 1  # preallocated: the footprint does not creep
    assert recorder.train.steps[0] == 1 and recorder.train.steps[-1] > 99_000


def test_too_small_a_budget_is_refused(trainer):
    with pytest.raises(ValueError, match="too small"):
        Recorder(trainer.net, budget_bytes=1000)


def test_per_unit_statistics_match_the_last_forward(trainer):
    run = trainer.runs[0]
    net, rec = run.net, run.recorder
    assert rec.units.steps[-1] == trainer.step_count
    for l in (1, 2):
        t = net.trace[l - 1]
        _, mu = rec.unit_series("mu", l)
        _, sigma = rec.unit_series("sigma", l)
        np.testing.assert_allclose(mu[-1], t.mu[:, 0], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(sigma[-1], np.sqrt(t.var[:, 0]), rtol=1e-6)
        _, running = rec.unit_series("running_mu", l)
        np.testing.assert_allclose(running[-1], net.running_mu[l][:, 0], rtol=1e-6, atol=1e-7)
        _, gamma = rec.unit_series("gamma", l)
        np.testing.assert_allclose(gamma[-1], net.params[f"gamma{l}"][:, 0], rtol=1e-6)
        assert mu.shape == (rec.units.n, net.config.layer_dims[l])


def test_twin_records_mu_and_sigma_of_z_without_batch_norm(trainer):
    run = trainer.runs[1]
    assert run.recorder.unit_fields == ("mu", "sigma")
    Z = run.net.trace[0].Z
    _, sigma = run.recorder.unit_series("sigma", 1)
    np.testing.assert_allclose(sigma[-1], Z.std(axis=1), rtol=1e-5)


def test_loss_accuracy_and_layer_series(trainer):
    rec = trainer.runs[0].recorder
    assert rec.train.n == 30
    np.testing.assert_allclose(rec.train.values[-1, 0], trainer.runs[0].last_loss, rtol=1e-6)
    assert 0 <= rec.train.values[:, 1].min() and rec.train.values[:, 1].max() <= 1
    _, grad_norm = rec.layer_series("grad_norm")
    _, ratio = rec.layer_series("update_ratio")
    assert grad_norm.shape == (30, 3) and np.all(grad_norm > 0)
    assert np.all((ratio > 0) & (ratio < 1))


def test_percentiles_and_histogram_samples(trainer):
    rec = trainer.runs[0].recorder
    np.testing.assert_array_equal(rec.percentiles.steps, [10, 20, 30])
    watched = trainer.net.trace[0].Z_tilde[0]
    np.testing.assert_allclose(
        rec.percentiles.values[-1, 0], np.percentile(watched, PERCENTILES), rtol=1e-5, atol=1e-6
    )
    assert set(rec.samples) == {(l, s) for l in (1, 2) for s in ("Z", "Z_tilde", "A")}
    assert rec.samples[(1, "A")].dtype == np.float32
