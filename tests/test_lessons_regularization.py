"""bn_core.lessons.regularization: the mini-batch noise of one example (against an independent
computation, and shrinking about as 1/sqrt(m)), the simulated dropout noise, and the gap
experiment."""

import numpy as np
import pytest

from bn_core.lessons import regularization as lesson
from tests.presets import page_presets


@pytest.fixture(scope="module")
def unit():
    return lesson.watched_unit()


def test_the_watched_unit(unit):
    assert unit.z.shape == (1347,)
    assert unit.a.shape == unit.w.shape == (64,)
    assert unit.z[unit.example] == pytest.approx(unit.w @ unit.a)


def test_minibatch_values_are_the_example_normalized_with_its_batch(unit):
    values = lesson.minibatch_values(unit, 8, n_draws=5, seed=0)
    others = np.delete(np.arange(unit.z.size), unit.example)
    first = np.random.default_rng(0).choice(others, 7, replace=False)  # the first draw
    z = np.concatenate([[unit.z[unit.example]], unit.z[first]])
    assert values[0] == pytest.approx((z[0] - z.mean()) / np.sqrt(z.var() + 1e-5))
    assert np.all(np.abs(values) < np.sqrt(7))  # bounded by sqrt(m - 1) in a batch of m


def test_batches_of_two_normalize_to_plus_or_minus_one(unit):
    values = np.abs(lesson.minibatch_values(unit, 2, n_draws=50))
    assert np.all(values <= 1.0) and np.median(values) > 0.999  # below 1 only when eps matters


def test_noise_shrinks_about_as_one_over_sqrt_m(unit):
    stds = lesson.noise_curve(unit)
    assert np.all(np.diff(stds) < 0)
    c = lesson.inverse_sqrt_fit(lesson.BATCH_SIZES, stds)
    m = np.array(lesson.BATCH_SIZES)
    np.testing.assert_allclose(stds[m >= 8], c / np.sqrt(m[m >= 8]), rtol=0.25)
    assert stds[-1] < stds[3] / 3  # m = 256 against m = 16: 4x less, about


def test_mini_batches_scatter_around_the_whole_set_value(unit):
    values = lesson.minibatch_values(unit, 128)
    assert np.mean(values) == pytest.approx(lesson.noise_free(unit), abs=0.05)


def test_dropout_noise(unit):
    np.testing.assert_allclose(lesson.dropout_relative_std([0.5, 0.8, 1.0]), [1.0, 0.5, 0.0])
    stds = lesson.dropout_noise(unit, (0.5, 0.8, 0.95))
    assert stds[0] > stds[1] > stds[2] > 0
    values = lesson.dropout_values(unit, 0.8, n_draws=4000)
    assert np.mean(values) == pytest.approx(lesson.noise_free(unit), abs=0.05)  # unbiased
    assert lesson.dropout_noise(unit, (1.0,))[0] == pytest.approx(0.0, abs=1e-12)  # rounding


def test_noise_study_holds_everything(unit):
    study = lesson.noise_study(batch_size=32, keep_prob=0.7)
    assert study.bn_values.shape == study.dropout_values.shape == (lesson.NOISE_DRAWS,)
    assert set(study.dropout) == {0.5, 0.7, 0.8, 0.9}
    assert study.stds[list(study.batch_sizes).index(32)] == pytest.approx(study.bn_values.std())


def test_gap_experiment_measures_both_networks():
    settings = lesson.GapSettings(steps=100)
    with_bn, without_bn = lesson.gap_experiment(settings, n_points=10)
    for run in (with_bn, without_bn):
        assert run.steps[0] == 0 and run.steps[-1] == 100 and run.steps.size == 11
        assert run.train_acc[-1] > 0.9 and run.test_acc[-1] > 0.6
        assert run.gap == pytest.approx(run.train_acc[-1] - run.test_acc[-1])
        assert run.stop_reason is None
    assert with_bn.test_acc[0] == pytest.approx(without_bn.test_acc[0], abs=0.15)


def test_difference_noise():
    assert lesson.difference_noise(0.5, 0.5, 100) == pytest.approx(np.sqrt(0.5 / 100))
    assert lesson.difference_noise(1.0, 1.0, 100) == 0.0


# --- the page's presets: each claim measured through the core ---------------------------------

PRESETS = page_presets("pages/regularization.py")


def test_preset_the_default_is_m_16_and_p_08():
    assert PRESETS["The default"] == {}
    study = lesson.noise_study()  # the page's defaults: m = 16, p = 0.8
    assert study.bn_values.size == lesson.NOISE_DRAWS and 0.8 in study.dropout


def test_preset_tiny_mini_batches_are_very_noisy():
    assert PRESETS["Tiny mini-batches"] == {"m": "4", "gm": "4"}
    study = lesson.noise_study(4)
    stds = dict(zip(study.batch_sizes, study.stds, strict=True))
    assert stds[4] > 1.5 * stds[16] and stds[4] > 0.5  # against the default m = 16
    tiny = lesson.gap_batch_noise(lesson.GapSettings(batch_size=4))
    assert tiny > lesson.gap_batch_noise(lesson.GapSettings(batch_size=16)) > 0.1


def test_preset_whole_set_has_no_noise_in_the_gap_study_and_some_in_the_noise_study():
    assert PRESETS["The whole set as one batch"] == {"m": "256", "gm": "150"}
    settings = lesson.GapSettings(batch_size=150)
    assert settings.n_train == 150  # the page's default training set
    assert lesson.gap_batch_noise(settings) < 1e-12  # every mini-batch is the whole set
    study = lesson.noise_study(256)
    assert lesson.noise_pool_size() == 1347  # m = 256 is a fifth of them
    at_16 = study.stds[list(study.batch_sizes).index(16)]
    assert 0.03 < study.bn_values.std() < 0.5 * at_16


def test_preset_strong_dropout_adds_more_noise():
    assert PRESETS["Strong dropout"] == {"p": "0.5"}
    study = lesson.noise_study(keep_prob=0.5)
    assert study.dropout[0.5] > 1.5 * study.dropout[0.8]
    assert study.dropout_values.std() > study.bn_values.std()  # more than m = 16's noise
