"""The Training Lab's options, pacing and wording: plain Python, no Streamlit, unit-tested.

What the controls offer (learning rates, batch sizes, the twin's choices...), the names the
page gives them, how the live panel's tick interval follows the server's load, and what the
page says changed when training starts over.
"""

from __future__ import annotations

from bn_core.lessons.training_lab import OWN_DATA

LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
STEPS_PER_UPDATE = (1, 2, 5, 10, 20, 50)
DEFAULT_STEPS_PER_UPDATE = 10
BETAS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999)
BETA2S = (0.9, 0.99, 0.999, 0.9999)
EPSILONS = (1e-10, 1e-8, 1e-6, 1e-4, 1e-2)
INIT_SCALES = (1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0)
OPTIMIZER_HYPERS = ("beta", "beta1", "beta2", "eps")  # the controls some optimizers use
MAX_UNITS_SHOWN = 4  # units picked at once in the mini-batch and γ, β views

INTERVAL_S = 0.5  # measured: the browser keeps up at ~2 updates/s and Pause stays responsive
MAX_INTERVAL_S = 2.0
TICK_MEMORY = 0.7  # weight of the earlier ticks in the smoothed tick cost

DATA_NAMES = {OWN_DATA: "your own points (CSV)"}
NORM_NAMES = {"batch": "batch norm", "layer": "layer norm", "none": "none"}
OTHER_NORM = {"batch": "layer", "layer": "batch"}
TWIN_NAMES = {
    "none": "without normalization",
    "batch": "with batch norm",
    "layer": "with layer norm",
    "off": "no twin",
}
TWIN_CHOICES = ("none", "batch", "layer", "off")
HISTORY_NAMES = {"batch": "batch_norm", "layer": "layer_norm", None: "plain"}  # CSV networks
INIT_NAMES = {
    "he": "He: std √(2/n_prev)",
    "xavier": "Xavier: std √(1/n_prev)",
    "gaussian": "Gaussian with a scale you choose",
}
OPTIMIZER_NAMES = {
    "gd": "gradient descent",
    "momentum": "momentum",
    "rmsprop": "RMSprop",
    "adam": "Adam",
}


# --- what the controls offer -----------------------------------------------------------------


def batch_sizes(m_train):
    """2, 4, 8, ... below the training set's size m_train, then m_train itself (batch gradient
    descent)."""
    sizes, b = [], 2
    while b < m_train:
        sizes.append(b)
        b *= 2
    return [*sizes, m_train]


def nearest(options, value):
    """The option closest to value (the first of a tie)."""
    return min(options, key=lambda option: abs(option - value))


def twin_options(norm):
    """What "Compare with" offers when the main network has normalization `norm`: without
    normalization, the other normalization, or no twin; every choice (shown disabled) when
    the main network has none."""
    return TWIN_CHOICES if norm == "none" else ("none", OTHER_NORM[norm], "off")


def hidden_hypers(uses):
    """The optimizer controls to hide: those the chosen rule does not use (`uses`, as in
    bn_core.optimizers.USES)."""
    return tuple(name for name in OPTIMIZER_HYPERS if name not in uses)


def first_units(width):
    """The units (0-based) shown at first in a layer of `width` units: up to three."""
    return list(range(min(3, width)))


def units_within(units, width):
    """The chosen units (0-based) that a layer of `width` units still has, in order; the first
    units when none is left (the views never show an empty choice)."""
    kept = [u for u in units if u < width]
    return kept or first_units(width)


# --- pacing ----------------------------------------------------------------------------------


def smoothed_tick(previous_s, seconds):
    """The smoothed cost of a tick: an exponentially weighted average of the ticks' seconds,
    starting at the first one (previous_s None)."""
    if previous_s is None:
        return seconds
    return TICK_MEMORY * previous_s + (1 - TICK_MEMORY) * seconds


def paced_interval(interval, tick_s, shortest=INTERVAL_S, longest=MAX_INTERVAL_S):
    """The live panel's next tick interval in seconds, from the current one and a smoothed
    tick cost tick_s: doubled (up to `longest`) while a tick takes over half of it, halved
    (down to `shortest`) once ticks take under 15% of it, else unchanged."""
    if tick_s > 0.5 * interval:
        return min(longest, 2 * interval)
    if tick_s < 0.15 * interval:
        return max(shortest, interval / 2)
    return interval


# --- what changed ----------------------------------------------------------------------------

FIELD_NAMES = {
    "dataset": "data set",
    "n": "data size",
    "noise": "noise",
    "test_fraction": "test share",
    "hidden_layers": "hidden layers",
    "units": "units per layer",
    "activation": "activation",
    "batch_norm": "batch norm",
    "layer_norm": "layer norm",
    "eliminate_bias": "eliminate b",
    "init": "initialization",
    "init_scale": "initial scale",
    "batch_size": "mini-batch size",
    "seed": "seed",
    "twin": "comparison twin",
    "data_file": "your data file",
}
TWIN_SHOWN = {
    "none": "without normalization",
    "batch": "with batch norm",
    "layer": "with layer norm",
    False: "off",
}


def _shown(name, value):
    if name == "twin" and value in TWIN_SHOWN:
        return TWIN_SHOWN[value]
    if isinstance(value, bool):
        return "on" if value else "off"
    return "—" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def describe_changes(old, new):
    """What differs between two LabSettings signatures, in words: "batch norm on → off,
    seed 0 → 1"."""
    old, new = dict(old), dict(new)
    return ", ".join(
        f"{FIELD_NAMES.get(k, k)} {_shown(k, old.get(k))} → {_shown(k, new[k])}"
        for k in new
        if old.get(k) != new[k]
    )
