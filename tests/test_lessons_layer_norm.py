"""bn_core.lessons.layer_norm: the matrix normalized both ways, batch norm's refusal of a
mini-batch of one and layer norm's training on it, train against eval outputs, |db|, and the
sweep with its verdict."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from bn_core.lessons import layer_norm as lesson
from tests.presets import page_presets


@pytest.mark.parametrize(
    ("gamma", "beta", "eps"), [(1.0, 0.0, 1e-5), (2.0, 1.0, 1e-5), (1.0, 0.0, 10.0)]
)
def test_both_ways_normalize_along_their_own_axis(gamma, beta, eps):
    both = lesson.both_ways(gamma, beta, eps, n=5, m=6, seed=1)
    assert both.bn_mu.shape == (5, 1) and both.ln_mu.shape == (1, 6)
    assert_allclose(both.bn_Z_tilde.mean(axis=1), beta, atol=1e-12)  # every row
    assert_allclose(both.ln_Z_tilde.mean(axis=0), beta, atol=1e-12)  # every column
    assert_allclose(
        both.bn_Z_tilde.std(axis=1),
        gamma * np.sqrt(both.bn_var[:, 0] / (both.bn_var[:, 0] + eps)),
        rtol=1e-10,
    )
    assert_allclose(
        both.ln_Z_tilde.std(axis=0),
        gamma * np.sqrt(both.ln_var[0] / (both.ln_var[0] + eps)),
        rtol=1e-10,
    )
    assert not np.allclose(both.bn_Z_tilde, both.ln_Z_tilde)


def test_batch_norm_refuses_one_example_and_layer_norm_learns_from_one():
    one = lesson.train_one_at_a_time(steps=200)
    assert "at least 2 examples" in one.bn_error and "m=1" in one.bn_error
    assert one.losses.shape == (200,)
    assert one.test_acc_after > one.test_acc_before + 0.4
    assert one.losses[-50:].mean() < one.losses[:20].mean() / 2


def test_test_time_and_db_side_by_side():
    side = lesson.side_by_side(steps=40, batch_size=4, example=3)
    assert side.output_gap("batch") > 1e-3  # running averages are not this mini-batch's
    assert side.output_gap("layer") < 1e-12  # nothing to average: the same computation
    assert np.max(side.db["batch"]) < 1e-9  # b cancels under batch norm (up to rounding)
    assert np.min(side.db["layer"]) > 1e-4  # and does not under layer norm
    for probs in (*side.train_probs.values(), *side.eval_probs.values()):
        assert probs.shape == (10,) and probs.sum() == pytest.approx(1.0)


def test_sweep_table_and_progress():
    calls = []
    table = lesson.sweep(
        lesson.SweepSettings(examples_seen=128),
        batch_sizes=(2, 16),
        on_cell=lambda done, total: calls.append((done, total)),
    )
    assert set(table) == {"batch", "layer", "none"}
    assert all(len(v) == 2 and all(0.0 <= a <= 1.0 for a in v) for v in table.values())
    assert calls == [(k, 6) for k in range(1, 7)]
    assert table["batch"][1] == lesson.sweep_cell("batch", 16, lesson.SweepSettings(128))


def test_sweep_verdict_follows_the_numbers():
    expected = {"batch": [0.5, 0.9], "layer": [0.95, 0.95], "none": [0.9, 0.9]}
    assert lesson.sweep_verdict(expected, (2, 64)).startswith("As expected")
    surprise = {"batch": [0.93, 0.9], "layer": [0.9, 0.95], "none": [0.9, 0.9]}
    assert "data disagree" in lesson.sweep_verdict(surprise, (2, 64))
    assert "only 32 steps" in lesson.sweep_verdict(expected, (2, 64), examples_seen=2048)


def test_sweep_verdict_says_when_layer_norm_does_not_beat_none():
    table = {"batch": [0.5, 0.9], "layer": [0.95, 0.95], "none": [0.96, 0.94]}
    assert "does not beat the network without normalization" in lesson.sweep_verdict(table, (2, 64))
    table["none"] = [0.8, 0.8]
    assert "does better than no normalization" in lesson.sweep_verdict(table, (2, 64))


# --- the page's presets: each claim measured through the core (the page's defaults: seed 0,
# gamma 1, beta 0, eps 1e-5, m = 8, 150 steps, test example 1) --------------------------------

PRESETS = page_presets("pages/layer_norm.py")


def test_preset_the_default():
    assert PRESETS["The default"] == {}
    both = lesson.both_ways()  # gamma 1, beta 0, eps 1e-5
    assert_allclose(both.bn_Z_tilde.std(axis=1), 1, atol=1e-4)
    assert_allclose(both.ln_Z_tilde.std(axis=0), 1, atol=1e-4)


def test_preset_scale_and_shift_act_on_both_alike():
    assert PRESETS["Scale and shift"] == {"gamma": "2", "beta": "1"}
    both = lesson.both_ways(2.0, 1.0)
    assert_allclose(both.bn_Z_tilde.mean(axis=1), 1, atol=1e-9)  # every row
    assert_allclose(both.ln_Z_tilde.mean(axis=0), 1, atol=1e-9)  # every column
    assert_allclose(both.bn_Z_tilde.std(axis=1), 2, atol=1e-4)
    assert_allclose(both.ln_Z_tilde.std(axis=0), 2, atol=1e-4)


def test_preset_a_huge_epsilon_shrinks_rows_and_columns():
    assert PRESETS["A huge ε"] == {"eps": "10"}
    both = lesson.both_ways(eps=10.0)
    assert np.all(both.bn_Z_tilde.std(axis=1) < 0.7)
    assert np.all(both.ln_Z_tilde.std(axis=0) < 0.7)


def test_preset_mini_batches_of_2_train_and_eval_differ_for_batch_norm_only():
    assert PRESETS["Mini-batches of 2"] == {"m": "2"}
    side = lesson.side_by_side(150, 2, 0)
    assert side.output_gap("batch") > 0.03  # several points of probability
    assert side.output_gap("layer") < 1e-12
