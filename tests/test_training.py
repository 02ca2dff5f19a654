"""The trainer: twin in lockstep, determinism, divergence stops with a reason, live settings."""

import dataclasses

import numpy as np
import pytest

import bn_core as bn
from bn_core import training
from bn_core.data import MiniBatchIterator
from bn_core.lessons import layer_norm, regularization, why_it_works


@pytest.fixture(scope="module")
def split():
    return training.make_split("circles", n=200, noise=0.1, seed=3)


def make_trainer(split, **kwargs):
    config = training.default_config(split, hidden=(8, 8), **kwargs.pop("config", {}))
    return training.Trainer(
        config, split, **{"optimizer": "adam", "lr": 0.01, "batch_size": 16, **kwargs}
    )


def test_twin_starts_from_the_same_weights_without_batch_norm(split):
    trainer = make_trainer(split)
    net, twin = trainer.net, trainer.twin
    assert net.bn_layers and not twin.bn_layers
    for l in range(1, net.L + 1):
        np.testing.assert_array_equal(net.params[f"W{l}"], twin.params[f"W{l}"])
    assert "gamma1" not in twin.params and "b1" in twin.params


def test_twin_is_trained_on_the_same_minibatch_order(split):
    """The twin after N trainer steps equals a plain network trained by hand on the
    mini-batches of an iterator with the same seed."""
    trainer = make_trainer(split, optimizer="momentum", lr=0.1)
    trainer.step(25)
    by_hand = bn.MLP(dataclasses.replace(trainer.net.config, batch_norm=False))
    for key in by_hand.params:
        if key.startswith("W"):
            by_hand.params[key] = make_trainer(split).net.params[key]
    opt = bn.optimizers.make("momentum", lr=0.1)
    batches = MiniBatchIterator(split.X_train.shape[1], 16, seed=trainer.net.config.seed)
    for _ in range(25):
        idx = batches.next_indices()
        _, grads = by_hand.loss_and_grads(split.X_train[:, idx], split.y_train[idx])
        opt.step(by_hand.params, grads)
    np.testing.assert_array_equal(by_hand.params.flat, trainer.twin.params.flat)


def test_same_seed_gives_a_bit_identical_run(split):
    a, b = make_trainer(split), make_trainer(split)
    a.step(40)
    b.step(40)
    for run_a, run_b in zip(a.runs, b.runs, strict=True):
        np.testing.assert_array_equal(run_a.net.params.flat, run_b.net.params.flat)
        np.testing.assert_array_equal(run_a.recorder.train.values, run_b.recorder.train.values)
        np.testing.assert_array_equal(run_a.recorder.units.values, run_b.recorder.units.values)


def test_another_seed_gives_another_run(split):
    a, b = make_trainer(split), make_trainer(split, config={"seed": 1})
    a.step(5)
    b.step(5)
    assert not np.array_equal(a.net.params.flat, b.net.params.flat)


def test_learning_rate_100_stops_with_a_reason_and_no_exception(split):
    trainer = make_trainer(split, optimizer="gd", lr=100, config={"batch_norm": False})
    done = trainer.step(500)
    assert trainer.stop_reason is not None and done < 500
    assert "learning rate" in trainer.stop_reason and "100" in trainer.stop_reason
    assert trainer.step(10) == 0  # a stopped run does not step again


def test_a_diverging_twin_stops_alone(split):
    """Plain gradient descent at learning rate 10: the twin without batch norm blows up; the
    main network keeps training (the "batch norm survives" lesson)."""
    trainer = make_trainer(split, optimizer="gd", lr=10)
    trainer.step(200)
    assert trainer.runs[1].stop_reason is not None
    assert "batch norm" in trainer.runs[1].stop_reason
    assert trainer.stop_reason is None and trainer.step_count == 200


def test_learning_rate_changes_live_and_keeps_adam_state(split):
    trainer = make_trainer(split)
    trainer.step(5)
    opt = trainer.optimizers[0]
    trainer.set_optimizer("adam", 0.001, beta1=0.8)
    assert trainer.optimizers[0] is opt and opt.t == 5
    assert opt.lr == 0.001 and opt.hyper["beta1"] == 0.8
    trainer.set_optimizer("rmsprop", 0.01)
    assert trainer.optimizers[0].name == "rmsprop" and trainer.optimizers[0].t == 0


def test_epoch_runs_to_the_end_of_an_epoch(split):
    trainer = make_trainer(split)
    done = trainer.run_epoch()
    assert trainer.epoch == 1 and done == trainer.batches.steps_per_epoch


def test_test_set_is_evaluated_in_eval_mode_every_n_steps(split):
    trainer = make_trainer(split, eval_every=7)
    trainer.step(21)
    steps = trainer.runs[0].recorder.test.steps
    np.testing.assert_array_equal(steps, [0, 7, 14, 21])
    loss, accuracy = training.evaluate(trainer.net, split.X_test, split.y_test)
    np.testing.assert_allclose(
        trainer.runs[0].recorder.test.values[-1], [loss, accuracy], rtol=1e-6
    )


def test_evaluate_changes_nothing(split):
    trainer = make_trainer(split)
    trainer.step(3)
    before = trainer.net.params.flat.copy(), trainer.net.running_mu[1].copy()
    training.evaluate(trainer.net, split.X_test, split.y_test)
    np.testing.assert_array_equal(before[0], trainer.net.params.flat)
    np.testing.assert_array_equal(before[1], trainer.net.running_mu[1])


def test_no_twin_without_batch_norm_or_when_not_asked(split):
    assert make_trainer(split, config={"batch_norm": False}).twin is None
    assert make_trainer(split, twin=False).twin is None


def test_split_rejects_mismatched_data():
    X = np.zeros((2, 4))
    with pytest.raises(ValueError, match="X_test must have 2 rows"):
        training.Split(X, np.array([0, 1, 0, 1]), np.zeros((3, 2)), np.array([0, 1]))


def test_an_epoch_in_chunks_is_the_same_epoch(split):
    whole, chunked = make_trainer(split), make_trainer(split)
    whole.run_epoch()
    chunks = []
    while chunked.epoch == 0:
        chunks.append(chunked.run_epoch(max_steps=3))
    assert chunks[:-1] == [3] * (len(chunks) - 1) and 1 <= chunks[-1] <= 3
    assert chunked.step_count == whole.step_count == whole.batches.steps_per_epoch
    np.testing.assert_array_equal(chunked.net.params.flat, whole.net.params.flat)


# --- the lessons' digits ---------------------------------------------------------------------


def test_digits_split_has_no_runaway_pixels():
    split = training.digits_split()
    assert split.X_train.shape == (64, 1347) and split.X_test.shape == (64, 450)
    assert np.abs(split.X_train).max() < 15
    assert np.abs(split.X_test).max() < 15  # a near-constant pixel no longer explodes
    assert np.allclose(split.X_train.mean(axis=1), 0.0, atol=1e-12)


def test_the_digits_split_is_made_once():
    """The lessons and the Training Lab split and normalize the digits by one function."""
    for lesson in (why_it_works, regularization, layer_norm):
        assert lesson.digits_split is training.digits_split
    ours = training.digits_split(seed=2, test_fraction=0.5, n=300)
    lab = training.make_split("digits", n=300, test_fraction=0.5, seed=2)
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(ours, field), getattr(lab, field))
