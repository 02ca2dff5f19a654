"""bn_core.lessons.test_time: mini-batch statistics, running averages, train vs eval mode."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from bn_core.lessons import test_time as tt
from tests.presets import page_presets


@pytest.fixture(scope="module")
def setup():
    return tt.lesson_setup(0)


def test_lesson_setup_gives_independent_copies_of_one_trained_network():
    a, b = tt.lesson_setup(0), tt.lesson_setup(0)
    assert_array_equal(a.net.params.flat, b.net.params.flat)
    a.net.running_mu[1][...] = 123.0
    a.X_train[...] = 0.0
    assert not np.any(b.net.running_mu[1] == 123.0)
    assert np.any(tt.lesson_setup(0).X_train != 0.0)
    # trained: clearly better than chance (10 classes) on the held-out digits
    probs = b.net.forward(b.X_test, train=False)
    assert np.mean(probs.argmax(axis=0) == b.y_test) > 0.8
    assert b.X_train.shape[0] == 64 and b.X_train.shape[1] == b.y_train.shape[0]


def test_population_stats_of_layer_1_are_those_of_W1_X(setup):
    Z = setup.net.params["W1"] @ setup.X_train  # b1 is eliminated under batch norm
    mu, var = tt.population_stats(setup.net, setup.X_train, 1)
    assert mu.shape == var.shape == (tt.LAYER_DIMS[1], 1)
    assert_allclose(mu[:, 0], Z.mean(axis=1), atol=1e-12)
    assert_allclose(var[:, 0], Z.var(axis=1), atol=1e-12)


def test_unit_stats():
    mu, var = np.array([[1.0], [2.0]]), np.array([[4.0], [9.0]])
    assert tt.unit_stats(mu, var, 1) == (2.0, 9.0, 3.0)


def test_full_minibatches_are_full_and_cover_an_epoch_without_repeats():
    batches = tt.full_minibatches(10, 4, seed=0)  # 10 = 2 * 4 + 2: the batch of 2 is left out
    first_epoch = [next(batches) for _ in range(2)]
    assert all(b.shape == (4,) for b in first_epoch)
    assert len(set(np.concatenate(first_epoch))) == 8


def test_minibatch_stats_match_the_units_values_in_each_batch(setup):
    mus, sigmas = tt.minibatch_stats(setup.net, setup.X_train, 1, 0, 16, 50, seed=3)
    assert mus.shape == sigmas.shape == (50,)
    Z = (setup.net.params["W1"] @ setup.X_train)[0]
    batches = tt.full_minibatches(setup.X_train.shape[1], 16, seed=3)
    idx = [next(batches) for _ in range(50)]
    assert_allclose(mus, [Z[i].mean() for i in idx], atol=1e-12)
    assert_allclose(sigmas, [Z[i].std() for i in idx], atol=1e-12)


def test_spread_of_the_mean_falls_like_one_over_sqrt_m(setup):
    sizes = (4, 16, 64)
    std_mu, std_sigma = tt.spread_vs_batch_size(setup.net, setup.X_train, 1, 0, sizes, 400)
    assert np.all(np.diff(std_mu) < 0) and np.all(np.diff(std_sigma) < 0)
    _, var = tt.population_stats(setup.net, setup.X_train, 1)
    expected = tt.expected_spread_of_mean(np.sqrt(var[0, 0]), sizes, setup.X_train.shape[1])
    assert_allclose(std_mu, expected, rtol=0.2)


def test_expected_spread_of_mean_limits():
    assert_allclose(tt.expected_spread_of_mean(2.0, [1, 100], 100), [2.0, 0.0])
    assert_allclose(tt.expected_spread_of_mean(1.0, [4], 10**9), [0.5], rtol=1e-6)


def test_running_average_follows_its_recurrence_from_0_and_1(setup):
    beta = 0.8
    before = setup.net.running_mu[1].copy()
    tr = tt.running_average_trace(setup.net, setup.X_train, 1, 0, 8, beta, 30)
    assert tr.running_mu[0] == 0.0 and tr.running_var[0] == 1.0
    assert tr.running_mu.shape == tr.running_var.shape == (31,)
    assert_allclose(tr.running_mu[1:], beta * tr.running_mu[:-1] + (1 - beta) * tr.batch_mu)
    assert_allclose(
        tr.running_var[1:], beta * tr.running_var[:-1] + (1 - beta) * tr.batch_var_unbiased
    )
    assert tr.start_weight == pytest.approx(beta**30)
    assert_array_equal(setup.net.running_mu[1], before)  # the caller's network is untouched


def test_running_variance_takes_the_unbiased_batch_variance(setup):
    m = 4
    tr = tt.running_average_trace(setup.net, setup.X_train, 1, 0, m, 0.9, 5, seed=1)
    _, sigmas = tt.minibatch_stats(setup.net, setup.X_train, 1, 0, m, 5, seed=1)
    assert_allclose(tr.batch_var_unbiased, sigmas**2 * m / (m - 1))


def test_running_averages_converge_to_the_population(setup):
    mu, var = tt.population_stats(setup.net, setup.X_train, 1)
    tr = tt.running_average_trace(setup.net, setup.X_train, 1, 0, 64, 0.9, 300)
    assert abs(tr.running_mu[0] - mu[0, 0]) > 1.0  # the start is far away...
    assert np.mean(tr.running_mu[-100:]) == pytest.approx(mu[0, 0], abs=0.03)  # ...the end close
    assert np.mean(tr.running_var[-100:]) == pytest.approx(var[0, 0], rel=0.05)


def test_a_larger_beta_converges_more_slowly(setup):
    fast = tt.running_average_trace(setup.net, setup.X_train, 1, 0, 32, 0.5, 40)
    slow = tt.running_average_trace(setup.net, setup.X_train, 1, 0, 32, 0.99, 40)
    mu = tt.population_stats(setup.net, setup.X_train, 1)[0][0, 0]
    assert abs(slow.running_mu[-1] - mu) > 5 * abs(fast.running_mu[-1] - mu)


def test_train_mode_output_depends_on_companions_eval_mode_does_not(setup):
    net, x, label = setup.net, setup.X_test[:, 4:5], int(setup.y_test[4])
    saved = net.running_mu[1].copy(), net.running_var[2].copy()
    small = tt.train_vs_eval(net, x, label, setup.X_train, 1, 0, 4, 60, seed=0)
    large = tt.train_vs_eval(net, x, label, setup.X_train, 1, 0, 256, 60, seed=0)
    assert small.train_z_tilde.shape == small.train_prob.shape == (60,)
    assert small.train_z_tilde.std() > 2 * large.train_z_tilde.std() > 0
    assert small.train_prob.std() > large.train_prob.std()
    assert_array_equal(net.running_mu[1], saved[0])  # no running-average update
    assert_array_equal(net.running_var[2], saved[1])
    assert small.eval_prob == pytest.approx(net.forward(x, train=False)[label, 0])
    assert small.eval_z_tilde == large.eval_z_tilde


def test_batch_of_one_maps_every_example_to_beta_and_the_core_refuses_it(setup):
    net = setup.net
    res = tt.batch_of_one(net, setup.X_test[:, :5], setup.y_test[:5], 1, 2)
    assert_array_equal(res.z_minus_mu, 0.0)
    assert_array_equal(res.z_norm, 0.0)
    assert_allclose(res.train_z_tilde, net.params["beta1"][2, 0])
    assert res.beta == net.params["beta1"][2, 0]
    assert np.ptp(res.eval_z_tilde) > 0.1 and np.ptp(res.z) > 0.1
    assert np.all((res.eval_prob > 0) & (res.eval_prob < 1))
    with pytest.raises(ValueError, match="at least 2 examples"):
        net.forward(setup.X_test[:, :1], train=True)


# --- the page's presets: each claim measured through the core (the page's defaults: layer 1,
# unit 1, seed 0, m = 32, beta = 0.9, 200 draws, test example 5) -------------------------------

PRESETS = page_presets("pages/test_time.py")


@pytest.fixture(scope="module")
def lesson_unit():
    """(setup, population mu, var, sigma) of the page's default unit."""
    s = tt.lesson_setup(0)
    mu, var = tt.population_stats(s.net, s.X_train, 1)
    return (s, *tt.unit_stats(mu, var, 0))


def spread_of_mu(setup, m):
    mus, _ = tt.minibatch_stats(setup.net, setup.X_train, 1, 0, m, 200, 0)
    return mus


def output_spread(setup, m):
    x, label = setup.X_test[:, 4:5], int(setup.y_test[4])
    return tt.train_vs_eval(setup.net, x, label, setup.X_train, 1, 0, m, 100, 0).train_prob.std()


def test_preset_tiny_mini_batches_jump_and_the_output_depends_on_companions(lesson_unit):
    assert PRESETS["Tiny mini-batches (m = 4)"] == {"m": "4"}
    setup, _, _, sigma = lesson_unit
    assert spread_of_mu(setup, 4).std() > 2.5 * spread_of_mu(setup, 32).std()
    assert spread_of_mu(setup, 4).std() > 0.4 * sigma  # a lot
    assert output_spread(setup, 4) > 0.3  # its probability of its class swings widely
    assert output_spread(setup, 4) > 1.5 * output_spread(setup, 32)


def test_preset_big_mini_batches_are_steady_near_the_population(lesson_unit):
    assert PRESETS["Big mini-batches (m = 256)"] == {"m": "256"}
    setup, mu, _, sigma = lesson_unit
    mus = spread_of_mu(setup, 256)
    assert mus.std() < 0.1 * sigma and abs(mus.mean() - mu) < 0.02 * sigma


def test_preset_slow_average_is_smooth_and_takes_hundreds_of_steps(lesson_unit):
    assert PRESETS["Slow average (β = 0.99)"] == {"beta": "0.99", "t": "1000"}
    setup, mu, var, _ = lesson_unit
    trace = tt.running_average_trace(setup.net, setup.X_train, 1, 0, 32, 0.99, 1000, 0)
    within_mu = np.argmax(np.abs(trace.running_mu - mu) < 0.1 * abs(mu))
    within_var = np.argmax(np.abs(trace.running_var - var) < 0.1 * var)
    assert within_mu >= 100 and within_var >= 100  # hundreds of steps to forget 0 and 1
    assert np.diff(trace.running_mu[300:]).std() < 0.05 * np.diff(trace.batch_mu[300:]).std()


def test_preset_jumpy_average_follows_every_mini_batch(lesson_unit):
    assert PRESETS["Jumpy average (β = 0.5)"] == {"beta": "0.5", "m": "8"}
    setup = lesson_unit[0]
    trace = tt.running_average_trace(setup.net, setup.X_train, 1, 0, 8, 0.5, 200, 0)
    assert np.corrcoef(trace.running_mu[1:], trace.batch_mu)[0, 1] > 0.7
    assert trace.running_mu[20:].std() > 0.5 * trace.batch_mu.std()


# --- running averages or the whole training set ----------------------------------------------


def test_whole_set_stats_are_the_whole_set_as_one_batch(setup):
    mu, var = tt.whole_set_stats(setup.net, setup.X_train)
    assert sorted(mu) == sorted(setup.net.bn_layers) == [1, 2]
    for l in (1, 2):
        p_mu, p_var = tt.population_stats(setup.net, setup.X_train, l)
        assert_allclose(mu[l], p_mu)
        assert_allclose(var[l], p_var)
    # layer 1 by hand: Z[1] = W[1] X over all N examples, the biased variance
    Z = setup.net.params["W1"] @ setup.X_train
    assert_allclose(mu[1], Z.mean(axis=1, keepdims=True), atol=1e-10)
    assert_allclose(var[1], Z.var(axis=1, keepdims=True), rtol=1e-10)


def test_evaluate_with_uses_the_given_statistics_and_puts_the_running_ones_back(setup):
    from bn_core.training import evaluate

    net = setup.net
    saved = {l: net.running_mu[l].copy() for l in net.bn_layers}
    own = tt.evaluate_with(net, net.running_mu, net.running_var, setup.X_test, setup.y_test)
    assert own == evaluate(net, setup.X_test, setup.y_test)
    zeros = {l: np.zeros_like(v) for l, v in net.running_mu.items()}
    ones = {l: np.ones_like(v) for l, v in net.running_var.items()}
    assert tt.evaluate_with(net, zeros, ones, setup.X_test, setup.y_test) != own
    for l in net.bn_layers:
        assert_array_equal(net.running_mu[l], saved[l])


def test_running_averages_and_the_whole_set_give_about_the_same_test_accuracy():
    c = tt.compare_estimates(0)
    s = tt.lesson_setup(0)
    from bn_core.training import evaluate

    assert (c.running_loss, c.running_accuracy) == evaluate(s.net, s.X_test, s.y_test)
    assert c.whole_accuracy > 0.9 and c.running_accuracy > 0.9
    assert abs(c.running_accuracy - c.whole_accuracy) <= 0.02  # within a point or so
    assert abs(c.running_loss - c.whole_loss) < 0.02
    for l in (1, 2):  # close, not equal: the running average lags and is noisy
        assert 0 < c.largest_mu_gap[l] < 0.5
        assert not np.allclose(c.running_mu[l], c.whole_mu[l])
