"""The Training Lab's "Edit γ and β" panel: while training is paused, move one hidden unit's γ
and β by hand and watch the network answer (eval mode, on a copy of the network).

Placement only: the math is bn_core.gamma_beta, the figures bn_viz.gamma_beta. The panel runs
as a fragment, so a slider move reruns the panel alone. Its controls are bound to the link like
every control of the page; γ and β leave the link while they hold the learned values.
What Play (or Step, Epoch) does with an edit is the learner's explicit choice (`on_resume`).
"""

from __future__ import annotations

from bn_app import ui

import streamlit as st

from bn_core import gamma_beta as gb
from bn_core.lessons import training_lab as lab
from bn_viz import gamma_beta as viz
from bn_viz.theme import net_label

NAMES = ("gb_layer", "gb_unit", "gb_gamma", "gb_beta", "gb_resume")
SHOWN_KEY = "lab.gb.shown"  # (run, step, layer, unit) the sliders were last set for
NOTE_KEY = "lab.gb.note"
RESUME = {"learned": "go back to the learned values", "edited": "train on from your values"}
NO_GAMMA_BETA = (
    "**Edit γ and β:** this network has no normalization, so it has no γ and β: "
    "each hidden layer feeds Z = W a + b straight into g. Choose batch norm or "
    "layer norm under *Normalization* to get them."
)
LAYER_NORM_NOTE = (
    "Layer norm has γ and β too (Z̃ = γ Z_norm + β), but its Z_norm uses each "
    "example's own μ and σ over the layer's units: no single γ, β gives Z back, "
    "so *Undo batch norm* does not apply."
)


def hide():
    """While training runs the panel is not drawn: its controls leave the link quietly."""
    ui.hide(*NAMES)


def show(trainer_key, run_key, images):
    """The panel, for the trainer in st.session_state[trainer_key] (read at every rerun of the
    fragment: Reset replaces it). run_key: the session key counting fresh trainers."""
    trainer = st.session_state[trainer_key]
    if not trainer.net.norm_layers:
        hide()
        st.info(NO_GAMMA_BETA, icon="🎚️")
        return
    if trainer.stop_reason:
        hide()
        return
    st.fragment(ui.guarded(_panel))(trainer_key, run_key, images)


def _panel(trainer_key, run_key, images):
    trainer = st.session_state[trainer_key]
    net, split = trainer.net, trainer.split
    with st.expander("🎚️ Edit γ and β by hand (training is paused)", expanded=True):
        st.caption(
            f"Pick a hidden unit and move its γ and β: the network "
            f"{net_label(net.config.normalization)} answers at once, in eval mode, on "
            "the training and test sets (its twin is not edited). Training is "
            "untouched until you press ▶ Play, Step or Epoch: see below what they do "
            "with your edit."
        )
        if net.config.normalization == "layer":
            st.caption(LAYER_NORM_NOTE)
        left, right = st.columns([1.3, 1.7])
        with left:
            layer, unit = _unit_choice(net)
            current = (st.session_state.get(run_key, 0), trainer.step_count, layer, unit)
            learned = gb.learned_values(net, layer, unit)
            undo = gb.undo_values(net, layer, unit)
            bounds = [
                gb.slider_bound(v, u) for v, u in zip(learned, undo or (None, None), strict=True)
            ]
            _sync(current, learned, bounds)
            gamma = ui.slider(
                "γ (scale)",
                "gb_gamma",
                -bounds[0],
                bounds[0],
                learned[0],
                step=gb.slider_step(bounds[0]),
                format="%.3f",
            )
            beta = ui.slider(
                "β (shift)",
                "gb_beta",
                -bounds[1],
                bounds[1],
                learned[1],
                step=gb.slider_step(bounds[1]),
                format="%.3f",
            )
            _buttons(trainer_key, learned, undo, current)
        edit = gb.UnitEdit(layer, unit, gamma, beta)
        learned_out = gb.outcome_of(net, split, layer, unit)
        edited_out = gb.outcome(net, split, edit)
        with right:
            _numbers(learned_out, edited_out, net.config.activation)
            note = st.session_state.get(NOTE_KEY)
            if note and note[0] == current:
                st.info(note[1], icon="🎯")
        _resume_choice(edit, learned)
        cols = st.columns(3)
        step, where = trainer.step_count, f"unit {unit + 1}, layer {layer}"
        with cols[0]:
            ui.chart(
                viz.loss_with_edit_figure(trainer.runs[0].recorder, step, learned_out, edited_out),
                key="lab.gb.loss",
                name=f"Loss with your γ, β ({where}) at step {step}",
                summary=f"Eval-mode loss with your γ and β: train {edited_out.train[0]:.3f}"
                f", test {edited_out.test[0]:.3f}; with the learned ones: train "
                f"{learned_out.train[0]:.3f}, test {learned_out.test[0]:.3f}.",
            )
        with cols[1]:
            ui.chart(
                viz.unit_figure(learned_out, edited_out, net.config.activation, layer, unit),
                key="lab.gb.unit",
                name=f"Z̃ and A of {where}: learned γ, β against yours",
            )
        with cols[2]:
            panel = lab.data_panel(trainer, res=60, nets=[gb.edited_net(net, edit)])
            ui.chart(
                viz.regions_figure(panel, images),
                key="lab.gb.regions",
                name=f"Decisions with your γ, β ({where})",
            )


def _unit_choice(net):
    """(layer 1-based, unit 0-based) from the two choosers, kept valid when the network
    changes."""
    layers = [str(l) for l in net.norm_layers]
    if ui.held("gb_layer") not in (None, *layers):
        ui.set_value("gb_layer", layers[0])
    c1, c2 = st.columns(2)
    with c1:
        layer = int(
            ui.choice(
                "Hidden layer",
                "gb_layer",
                layers,
                layers[0],
                format_func=lambda s: f"hidden layer {s}",
            )
        )
    units = [str(u) for u in range(1, net.config.layer_dims[layer] + 1)]
    if ui.held("gb_unit") not in (None, *units):
        ui.set_value("gb_unit", units[0])
    with c2:
        unit = (
            int(ui.choice("Unit", "gb_unit", units, units[0], format_func=lambda s: f"unit {s}"))
            - 1
        )
    return layer, unit


def _sync(current, learned, bounds):
    """The sliders go back to the learned values whenever the unit, the step or the run
    changes, and never hold a value outside their range. A slider with no value yet (a fresh
    session, a link, a settings file or a preset just applied) reads the link instead."""
    shown = st.session_state.get(SHOWN_KEY)
    st.session_state[SHOWN_KEY] = current
    for name, value, bound in zip(("gb_gamma", "gb_beta"), learned, bounds, strict=True):
        held = ui.held(name)
        if held is not None and (shown != current or not -bound <= held <= bound):
            ui.set_value(name, value)


def _set(gamma, beta):
    ui.set_value("gb_gamma", gamma)
    ui.set_value("gb_beta", beta)
    st.session_state.pop(NOTE_KEY, None)


def _buttons(trainer_key, learned, undo, current):
    c1, c2, c3 = st.columns(3)
    c1.button(
        "Learned",
        key="lab.gb.learned",
        on_click=_set,
        args=learned,
        width="stretch",
        help=f"Back to the learned values: γ = {learned[0]:.4g}, β = {learned[1]:.4g}.",
    )
    c2.button(
        "Switch off",
        key="lab.gb.off",
        on_click=_set,
        args=gb.SWITCHED_OFF,
        width="stretch",
        help="γ = 0, β = 0: Z̃ = 0 for every example, so the unit "
        "sends the same g(0) whatever the input.",
    )
    c3.button(
        "Undo BN",
        key="lab.gb.undo",
        on_click=_set,
        args=undo or learned,
        width="stretch",
        disabled=undo is None,
        help="Undo batch norm for this unit: γ = √(σ²_run + ε), β = μ_run from the "
        "running averages, so Z̃ = Z again."
        + (
            f" Here γ = {undo[0]:.4g}, β = {undo[1]:.4g}."
            if undo
            else " Not under layer norm: its μ and σ belong to each example."
        ),
    )
    st.button(
        "🎯 Switch off the unit that matters most",
        key="lab.gb.most",
        on_click=_switch_off_most,
        args=(trainer_key, current),
        width="stretch",
        help="Tries switching off every hidden unit, one at a time, and picks the one "
        "whose loss on the training set rises most.",
    )


def _switch_off_most(trainer_key, current):
    """The scenario: find the unit that matters most by switching off each in turn, pick it,
    switch it off, and say what was found."""
    trainer = st.session_state[trainer_key]
    ranked = gb.importance(trainer.net, trainer.split).ranked()
    (rise, layer, unit), (least, l_low, u_low) = ranked[0], ranked[-1]
    ui.set_value("gb_layer", str(layer))
    ui.set_value("gb_unit", str(unit + 1))
    ui.set_value("gb_gamma", 0.0)
    ui.set_value("gb_beta", 0.0)
    picked = (current[0], current[1], layer, unit)
    st.session_state[SHOWN_KEY] = picked
    st.session_state[NOTE_KEY] = (
        picked,
        (
            f"Tried all {len(ranked)} hidden units, one at a time: switching off **unit {unit + 1} "
            f"of hidden layer {layer}** raises the training loss most, by {rise:+.3f}. The least "
            f"missed, unit {u_low + 1} of hidden layer {l_low}, changes it by {least:+.3f}"
            + (" (it even helps)" if least < 0 else "")
            + ": the network spreads what it knows "
            "over many units, unevenly."
        ),
    )


def _numbers(learned, edited, activation):
    """Eval-mode loss and accuracy with the edit, the change from the learned values, and the
    share of the unit's inputs in the saturated tails."""
    cols = st.columns(4)
    for col, label, (now, was), percent in zip(
        cols,
        ("Train loss", "Test loss", "Train accuracy", "Test accuracy"),
        (
            (edited.train[0], learned.train[0]),
            (edited.test[0], learned.test[0]),
            (edited.train[1], learned.train[1]),
            (edited.test[1], learned.test[1]),
        ),
        (False, False, True, True),
        strict=True,
    ):
        if percent:
            col.metric(
                label, f"{now:.1%}", delta=f"{(now - was) * 100:+.1f} pts" if now != was else None
            )
        else:
            col.metric(
                label,
                f"{now:.4f}",
                delta=f"{now - was:+.4f}" if now != was else None,
                delta_color="inverse",
            )
    if activation in ("sigmoid", "tanh"):
        st.markdown(
            f"**{edited.saturated:.0%}** of this unit's inputs Z̃ sit in {activation}'s "
            f"saturated tails, where g' is under a tenth of its peak (learned γ, β: "
            f"{learned.saturated:.0%}). There the gradient barely passes."
        )
    elif activation == "relu":
        st.markdown(
            f"**{edited.saturated:.0%}** of this unit's inputs Z̃ are ≤ 0, where ReLU "
            f"gives 0 and passes no gradient (learned γ, β: {learned.saturated:.0%})."
        )


def _resume_choice(edit, learned):
    """The explicit choice of what training does with the edit, and a sentence saying it."""
    choice = ui.choice(
        "When you press ▶ Play, Step or Epoch",
        "gb_resume",
        list(RESUME),
        "learned",
        radio=True,
        format_func=RESUME.get,
    )
    if (edit.gamma, edit.beta) == learned:
        st.caption("γ and β hold the learned values: training goes on from them.")
    elif choice == "learned":
        st.caption(
            f"▶ Play will put back the learned γ = {learned[0]:.4g}, β = "
            f"{learned[1]:.4g} and train on from them: your edit is dropped."
        )
    else:
        st.caption(
            f"▶ Play will write γ = {edit.gamma:.4g}, β = {edit.beta:.4g} into unit "
            f"{edit.unit + 1} of hidden layer {edit.layer} and train on from there: "
            "the network has to recover (or not) from your edit."
        )


def on_resume(trainer, note_key):
    """Called as training resumes (Play, Step, Epoch): with "train on from your values" chosen,
    write the edit held by the sliders into the network and say so in st.session_state[
    note_key]; either way the sliders go back to the learned values at the next pause."""
    if trainer is None or not trainer.net.norm_layers or ui.held("gb_resume") != "edited":
        return
    try:
        edit = gb.UnitEdit(
            int(ui.held("gb_layer")),
            int(ui.held("gb_unit")) - 1,
            float(ui.held("gb_gamma")),
            float(ui.held("gb_beta")),
        )
        if (edit.gamma, edit.beta) == gb.learned_values(trainer.net, edit.layer, edit.unit):
            return
        gb.apply_edit(trainer.net, edit)
    except (TypeError, ValueError):  # nothing edited yet, or a unit the network lacks
        return
    st.session_state[note_key] = (
        f"Training went on from your γ = {edit.gamma:.4g}, β = "
        f"{edit.beta:.4g} for unit {edit.unit + 1} of hidden layer "
        f"{edit.layer}."
    )
