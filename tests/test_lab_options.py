"""The Training Lab's options, pacing and wording (bn_app.lab_options), without Streamlit."""

import dataclasses

from bn_app import lab_options as opts

import pytest

from bn_core.lessons import training_lab as lab
from bn_core.optimizers import OPTIMIZERS, USES


@pytest.mark.parametrize(
    ("m_train", "expected"),
    [
        (2, [2]),
        (3, [2, 3]),
        (32, [2, 4, 8, 16, 32]),
        (300, [2, 4, 8, 16, 32, 64, 128, 256, 300]),
    ],
)
def test_batch_sizes_double_up_to_the_whole_training_set(m_train, expected):
    assert opts.batch_sizes(m_train) == expected


def test_nearest_moves_a_value_to_the_closest_option():
    assert opts.nearest([2, 4, 8, 300], 32) == 8
    assert opts.nearest([2, 4, 8, 300], 200) == 300
    assert opts.nearest([2, 4], 3) == 2  # a tie: the first
    assert opts.nearest(opts.LEARNING_RATES, 0.04) == 0.03


@pytest.mark.parametrize(
    ("norm", "offered"),
    [
        ("batch", ("none", "layer", "off")),
        ("layer", ("none", "batch", "off")),
        ("none", ("none", "batch", "layer", "off")),
    ],
)
def test_the_twin_is_never_offered_the_main_networks_own_normalization(norm, offered):
    assert opts.twin_options(norm) == offered
    assert set(offered) <= set(opts.TWIN_NAMES)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_the_hidden_optimizer_controls_are_the_ones_the_rule_does_not_use(optimizer):
    hidden = opts.hidden_hypers(USES[optimizer])
    assert set(hidden) | set(USES[optimizer]) >= set(opts.OPTIMIZER_HYPERS)
    assert not set(hidden) & set(USES[optimizer])
    assert set(opts.OPTIMIZER_NAMES) == set(OPTIMIZERS)


def test_the_defaults_are_among_the_options():
    d = lab.LabSettings()
    assert d.lr in opts.LEARNING_RATES and d.init_scale in opts.INIT_SCALES
    assert d.beta in opts.BETAS and d.beta1 in opts.BETAS
    assert d.beta2 in opts.BETA2S and d.eps in opts.EPSILONS
    assert opts.DEFAULT_STEPS_PER_UPDATE in opts.STEPS_PER_UPDATE
    assert d.batch_size in opts.batch_sizes(1000)


def test_the_smoothed_tick_starts_at_the_first_and_follows_slowly():
    assert opts.smoothed_tick(None, 0.4) == 0.4
    assert opts.smoothed_tick(0.4, 0.4) == pytest.approx(0.4)
    assert opts.smoothed_tick(0.1, 1.1) == pytest.approx(0.7 * 0.1 + 0.3 * 1.1)


@pytest.mark.parametrize(
    ("interval", "tick", "expected"),
    [
        (0.5, 0.3, 1.0),  # a tick takes over half its interval: twice as long
        (1.0, 0.9, 2.0),
        (2.0, 1.5, 2.0),  # never past the longest
        (2.0, 0.2, 1.0),  # quick again: half as long
        (1.0, 0.1, 0.5),
        (0.5, 0.0, 0.5),  # never under the shortest
        (1.0, 0.3, 1.0),  # in between: unchanged
        (1.0, 0.5, 1.0),
        (1.0, 0.15, 1.0),
    ],
)
def test_paced_interval_doubles_when_slow_and_halves_when_quick(interval, tick, expected):
    assert opts.paced_interval(interval, tick, shortest=0.5, longest=2.0) == expected


def test_pacing_a_slow_server_settles_at_the_longest_interval_and_comes_back():
    interval, tick = opts.INTERVAL_S, None
    for _ in range(20):  # every tick costs 1.5 s
        tick = opts.smoothed_tick(tick, 1.5)
        interval = opts.paced_interval(interval, tick)
    assert interval == opts.MAX_INTERVAL_S
    for _ in range(40):  # quick again
        tick = opts.smoothed_tick(tick, 0.01)
        interval = opts.paced_interval(interval, tick)
    assert interval == opts.INTERVAL_S


def test_every_field_that_defines_the_networks_has_a_name():
    assert tuple(opts.FIELD_NAMES) == lab.DEFINING_FIELDS
    assert [name for name, _ in lab.LabSettings().signature()] == list(lab.DEFINING_FIELDS)


def test_describe_changes_names_each_change():
    s = lab.LabSettings()
    t = dataclasses.replace(s, batch_norm=False, hidden_layers=4, noise=0.25)
    assert opts.describe_changes(s.signature(), t.signature()) == (
        "noise 0.1 → 0.25, hidden layers 3 → 4, batch norm on → off"
    )
    assert opts.describe_changes(s.signature(), s.signature()) == ""


def test_switching_normalization_is_described():
    old = lab.LabSettings()
    new = dataclasses.replace(old, batch_norm=False, layer_norm=True, twin_norm="batch")
    assert opts.describe_changes(old.signature(), new.signature()) == (
        "batch norm on → off, layer norm off → on, comparison twin without normalization → "
        "with batch norm"
    )
    assert (
        opts.describe_changes(old.signature(), dataclasses.replace(old, twin=False).signature())
        == "comparison twin without normalization → off"
    )


def test_the_units_shown_stay_within_the_layer_and_are_never_none():
    assert opts.first_units(16) == [0, 1, 2]
    assert opts.first_units(2) == [0, 1]
    assert opts.units_within([0, 5, 9], 8) == [0, 5]
    assert opts.units_within([5, 9], 4) == [0, 1, 2]  # none left: the first ones
    assert opts.units_within([], 4) == [0, 1, 2]
    assert opts.units_within([3, 1], 4) == [3, 1]  # kept as chosen
