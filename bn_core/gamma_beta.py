"""γ and β by hand: one hidden unit's γ and β moved on a trained network, and what the network
does then (the Training Lab's "Edit γ and β" panel).

Units are 0-based here and layers 1-based, as everywhere in the core (the page numbers units
from 1). Examples are columns: X is (n_x, m). Nothing here changes the network it is given,
except `apply_edit`, which writes an edit into it on purpose (training then goes on from it).

Under batch norm, hidden unit j of layer l computes, in eval mode,

    Z̃_j = γ_j (Z_j − μ_run,j) / √(σ²_run,j + ε) + β_j,

so γ_j = √(σ²_run,j + ε), β_j = μ_run,j gives back Z̃_j = Z_j ("undo batch norm"), and
γ_j = β_j = 0 makes Z̃_j = 0 for every example ("switch the unit off": g(0) is then what the
next layer sees, the same for every example, so the unit carries no information).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from bn_core.lessons.step_by_step import saturated
from bn_core.training import evaluate

SWITCHED_OFF = (0.0, 0.0)  # (gamma, beta)
RANGE_TIMES_LEARNED = 3.0  # a slider runs from -R to R, R at least 3 x |learned value|
SLIDER_STEPS = 200  # positions of a slider between -R and R


@dataclass(frozen=True)
class UnitEdit:
    """γ and β of one hidden unit: layer 1-based, unit 0-based."""

    layer: int
    unit: int
    gamma: float
    beta: float


def check_unit(net, layer, unit):
    """Refuse a layer or unit the network does not have, or a layer without γ and β."""
    if layer not in net.norm_layers:
        raise ValueError(
            f"hidden layer {layer} has no γ and β (normalized layers: "
            f"{list(net.norm_layers) or 'none'})"
        )
    width = net.config.layer_dims[layer]
    if not 0 <= unit < width:
        raise ValueError(f"unit index {unit} outside 0..{width - 1}")


def learned_values(net, layer, unit):
    """(γ, β) the network has learned for this unit, as floats."""
    check_unit(net, layer, unit)
    return (float(net.params[f"gamma{layer}"][unit, 0]), float(net.params[f"beta{layer}"][unit, 0]))


def undo_values(net, layer, unit):
    """(γ, β) = (√(σ²_run + ε), μ_run) that make eval-mode Z̃ = Z for this unit, or None under
    layer norm: there μ and σ belong to each example, so no single γ, β undoes them."""
    check_unit(net, layer, unit)
    if layer not in net.bn_layers:
        return None
    var = float(net.running_var[layer][unit, 0])
    return math.sqrt(var + net.config.eps), float(net.running_mu[layer][unit, 0])


def slider_bound(learned, undo=None):
    """R for a slider from -R to R: at least 3 x |learned|, room for the undo value and 0, at
    least 1; rounded up to two significant digits."""
    need = max(RANGE_TIMES_LEARNED * abs(learned), 1.2 * abs(undo or 0.0), 1.0)
    scale = 10.0 ** (math.floor(math.log10(need)) - 1)
    return round(math.ceil(need / scale - 1e-9) * scale, 12)


def slider_step(bound):
    return bound * 2 / SLIDER_STEPS


def edited_net(net, edit):
    """A copy of net with the edit's γ and β; net itself is left as it was. The copy shares the
    running averages (eval mode only reads them)."""
    check_unit(net, edit.layer, edit.unit)
    probe = copy.copy(net)
    probe.params = copy.deepcopy(net.params)
    probe.trace = []
    _write(probe, edit)
    return probe


def apply_edit(net, edit):
    """Write the edit's γ and β into net itself (training goes on from them)."""
    check_unit(net, edit.layer, edit.unit)
    _write(net, edit)


def _write(net, edit):
    net.params[f"gamma{edit.layer}"][edit.unit, 0] = edit.gamma
    net.params[f"beta{edit.layer}"][edit.unit, 0] = edit.beta


@dataclass(frozen=True)
class EditOutcome:
    """What the network does with an edit, in eval mode (running averages).

    train, test: (loss, accuracy). Z, Z_tilde, A: (m_train,) the unit's values on the training
    set. saturated: the share of Z_tilde where g' is nearly gone (sigmoid, tanh: below a tenth
    of its peak; relu: Z̃ <= 0), or None for other activations.
    """

    train: tuple
    test: tuple
    Z: np.ndarray
    Z_tilde: np.ndarray
    A: np.ndarray
    saturated: float | None


def outcome(net, split, edit):
    """The EditOutcome of `edit` on net (a copy is edited; net is unchanged). split: a
    bn_core.training.Split."""
    probe = edited_net(net, edit)
    return outcome_of(probe, split, edit.layer, edit.unit)


def outcome_of(net, split, layer, unit):
    """The EditOutcome of net as it is, for one unit's values."""
    with np.errstate(all="ignore"):
        trace = net.layer_trace(split.X_train, train=False)[layer - 1]
    Z_tilde = trace.Z_tilde[unit]
    return EditOutcome(
        evaluate(net, split.X_train, split.y_train),
        evaluate(net, split.X_test, split.y_test),
        trace.Z[unit],
        Z_tilde,
        trace.A[unit],
        saturated_share(Z_tilde, net.config.activation),
    )


def saturated_share(Z_tilde, activation):
    """The share of the values Z_tilde (any shape) where the activation is saturated
    (bn_core.lessons.step_by_step.saturated), or None when it has no such zone."""
    if activation not in ("sigmoid", "tanh", "relu"):
        return None
    return float(np.mean(saturated(np.asarray(Z_tilde), activation)))


@dataclass(frozen=True)
class Importance:
    """Each hidden unit's training loss when it alone is switched off (γ = β = 0), eval mode.

    loss_off: {layer: (n_l,) array}; base: the loss with nothing switched off."""

    loss_off: dict
    base: float

    def ranked(self):
        """[(loss increase, layer, unit)], the unit that matters most first."""
        return sorted(
            (
                (float(v) - self.base, l, int(u))
                for l, losses in self.loss_off.items()
                for u, v in enumerate(losses)
            ),
            reverse=True,
        )


def importance(net, split):
    """Try switching off each unit of each normalized hidden layer, one at a time, and measure
    the eval-mode training loss. Returns an Importance (the network is unchanged)."""
    probe = edited_net(
        net, UnitEdit(net.norm_layers[0], 0, *learned_values(net, net.norm_layers[0], 0))
    )
    X, y = split.X_train, split.y_train
    base = evaluate(probe, X, y)[0]
    loss_off = {}
    for l in probe.norm_layers:
        gamma, beta = probe.params[f"gamma{l}"], probe.params[f"beta{l}"]
        losses = np.empty(gamma.shape[0])
        for u in range(gamma.shape[0]):
            kept = gamma[u, 0], beta[u, 0]
            gamma[u, 0] = beta[u, 0] = 0.0
            losses[u] = evaluate(probe, X, y)[0]
            gamma[u, 0], beta[u, 0] = kept
        loss_off[l] = losses
    return Importance(loss_off, base)
