"""Training Lab: train a network live, with batch norm or layer norm, and beside it its twin: the
same network without normalization, or with the other one.

The trainer lives in session state with the signature of the settings that define the data and
the network; when that signature changes, training starts over and the page says why. The
optimizer settings apply to the running trainer. While playing, a fragment that reruns every
INTERVAL_S seconds (bn_app.lab_options) takes a few steps and redraws the charts, through
bn_app.lab_live, which also paces the ticks; Play, Step, Epoch and Reset sit outside it. The
sidebar is bn_app.lab_sidebar.
"""

import os
import time

from bn_app import lab_gamma_beta, ui
from bn_app import lab_live as charts
from bn_app import lab_options as opts
from bn_app import lab_sidebar as sidebar

import streamlit as st

import bn_a11y
from bn_core import exchange
from bn_core.data import make_dataset
from bn_core.lessons import training_lab as lab
from bn_viz import lab as viz
from bn_viz import lab_data, live
from bn_viz.theme import net_color, net_label

SLUG = "training_lab"
TRAINER, SIGNATURE, PLAYING, NOTE = "lab.trainer", "lab.signature", "lab.playing", "lab.note"
# Epoch trains in chunks, one per tick like Play, so that other sessions keep their share of the
# replica and Pause answers; a press while an epoch runs queues one more.
EPOCH_TARGET, EPOCH_CHUNK = "lab.epoch_target", 50
# BNLAB_LIVE_CHARTS=0 draws the old way (whole st.plotly_chart figures every tick), kept so that
# benchmarks/bench_browser.py can measure both in one run.
LIVE_CHARTS = os.environ.get("BNLAB_LIVE_CHARTS", "1") != "0"
SETTINGS_FILE_KEY, LOADED_KEY = "lab.settings_file", "lab.loaded"

PRESETS = [
    ui.Preset(
        "🐢 Deep sigmoid stalls",
        "A deep sigmoid network stalls without batch norm. 5 sigmoid layers, momentum, "
        "lr 0.1: with batch norm the loss drops within 100 steps; without, it sits at 0.69 "
        "(a coin flip).",
        {
            "data": "circles",
            "layers": 5,
            "act": "sigmoid",
            "opt": "momentum",
            "lr": 0.1,
            "view": "over_time",
        },
    ),
    ui.Preset(
        "💥 lr 1: batch norm survives",
        "Learning rate 1: batch norm survives. 6 layers, plain gradient descent at lr 1: the "
        "twin without batch norm blows up within ~100 steps, the network with batch norm "
        "learns.",
        {"data": "moons", "layers": 6, "opt": "gd", "lr": 1, "view": "gradients"},
    ),
    ui.Preset(
        "🎲 Batch size 2",
        "Batch size 2: noisy statistics. μ and σ of a mini-batch of 2 jump wildly; the "
        "running averages try to smooth them, and test accuracy with batch norm suffers.",
        {"data": "circles", "batch": 2, "view": "minibatch"},
    ),
    ui.Preset(
        "⚖️ Batch size 2: layer norm doesn't care",
        "Batch size 2: layer norm doesn't care. XOR, batch norm against layer norm on the "
        "same initial weights and mini-batches of 2. Batch norm normalizes each unit over "
        "just 2 examples (their values become about −1 and +1) and tests with running "
        "averages that never match that: its test accuracy stays around 50%. Layer norm "
        "normalizes each example over its own units, the same in training and at test: "
        "over 85% within 100 steps, about what it reaches with mini-batches of 32.",
        {"data": "xor", "batch": 2, "twin": "layer", "view": "minibatch"},
    ),
    ui.Preset(
        "🔬 Initial weights × 1e-3",
        "Initial weights at scale 1e-3. Tiny weights: without batch norm the signal shrinks "
        "layer after layer and nothing learns; batch norm scales it back up (to a spread of "
        "about 0.3: ε floors the variance) and learns within about 50 steps.",
        {"data": "circles", "init": "gaussian", "scale": 0.001, "view": "distributions"},
    ),
]

TRY_THIS = """
- Press ▶ Play: compare the blue and orange loss curves, then the decision regions.
- Learning rate 1 with plain gradient descent: which network survives?
- Turn *Eliminate b* off: the count grows by one per hidden unit, and |db| stays ~0.
- Mini-batch size 2, then *Mini-batch μ and σ*: how noisy the statistics are, and how the
  running averages (black) smooth them for test time.
- Sigmoid, 5 hidden layers, then *Distributions over time*: without batch norm the layers'
  inputs drift and saturate (Figure 1 of Ioffe & Szegedy, 2015).
- *Compare with* layer norm, then mini-batch size 2: batch norm's statistics jump from one
  mini-batch to the next; layer norm's are each example's own, whatever the batch size.
- Layer norm with *Eliminate b* off: unlike under batch norm, |db| is not 0 and b learns.
  Then *circles* with layer norm, *Eliminate b* on and off: without b it can't see the radius.
"""


@st.cache_data(show_spinner=False, max_entries=4)
def _digit_images(n, test_fraction, seed):
    return lab.raw_test_inputs("digits", n, 0.0, test_fraction, seed)


def _trainer_for(settings, split):
    """The session's trainer, rebuilt (and the reason noted) when the data or network changed."""
    signature = settings.signature()
    old = st.session_state.get(SIGNATURE)
    trainer = st.session_state.get(TRAINER)
    if trainer is None or old != signature:
        trainer = lab.make_trainer(settings, split)
        st.session_state[TRAINER] = trainer
        charts.new_run()
        st.session_state[SIGNATURE] = signature
        if old is not None and old != signature:
            earlier = st.session_state.get(NOTE)  # e.g. "Settings loaded from ..."
            st.session_state[NOTE] = (
                (f"{earlier} " if earlier else "")
                + "Training reset: "
                + opts.describe_changes(old, signature)
                + "."
            )
    name, lr, hyper = settings.optimizer_args()
    trainer.set_optimizer(name, lr, **hyper)
    return trainer


# --- buttons (callbacks run before the script, so the fragment sees their effect) -----------


def _set_playing(value):
    # Set, not toggled: a click that reaches the server twice (its rerun coalesced with a
    # fragment tick's) must not cancel itself out. Pause also drops the epochs queued.
    st.session_state[PLAYING] = value
    charts.keep_mounted()  # the charts stay as they are: only new points
    if not value:
        st.session_state.pop(EPOCH_TARGET, None)
    else:
        lab_gamma_beta.on_resume(st.session_state.get(TRAINER), NOTE)


def _step():
    lab_gamma_beta.on_resume(st.session_state[TRAINER], NOTE)
    st.session_state[TRAINER].step(1)


def _epoch():
    """Queue one more epoch: the ticks train it, EPOCH_CHUNK steps at a time."""
    trainer = st.session_state[TRAINER]
    lab_gamma_beta.on_resume(trainer, NOTE)
    target = st.session_state.get(EPOCH_TARGET) or trainer.epoch
    st.session_state[EPOCH_TARGET] = target + 1


def _busy():
    """Playing, or an epoch under way: the fragment ticks."""
    return bool(st.session_state.get(PLAYING) or st.session_state.get(EPOCH_TARGET))


def _reset():
    st.session_state[TRAINER] = None
    st.session_state[PLAYING] = False
    st.session_state.pop(EPOCH_TARGET, None)
    st.session_state[NOTE] = "Training reset: back to step 0 and the same initial weights."


# --- the live panel --------------------------------------------------------------------------


def _named(normalization):
    """A network's name in markdown after a swatch of its colour (the words stay in the text
    colour, 4.5:1; the swatch is a mark, 3:1): "■ with layer norm", the square in LN_COLOR."""
    return f':color[■]{{foreground="{net_color(normalization)}"}} {net_label(normalization)}'


def _run_states(trainer):
    """[(normalization, state)] per network: its latest test loss and accuracy in words,
    "stopped", or None before the first step."""
    states = []
    for run in trainer.runs:
        rec = run.recorder
        state = None
        if run.stop_reason:
            state = "stopped"
        elif rec.test.n and trainer.step_count:
            loss, acc = rec.test.values[-1]
            state = f"test loss {loss:.3f}, test accuracy {acc:.0%}"
        states.append((run.net.config.normalization, state))
    return states


def _status(trainer):
    """One line: step, epoch, and each network's latest loss and test accuracy, each network
    named in its colour. A screen reader hears the same in words (_spoken_status)."""
    parts = [f"**Step {trainer.step_count}**", f"epoch {trainer.epoch}"]
    parts += [
        f"{_named(norm)}: " + ("**stopped**" if state == "stopped" else state)
        for norm, state in _run_states(trainer)
        if state
    ]
    st.markdown(" · ".join(parts))
    busy = _busy()
    bn_a11y.live_status(_spoken_status(trainer, busy), busy=busy)


def _spoken_status(trainer, busy):
    """The status line as a screen reader should hear it: while training, the step and each
    network's test numbers; when paused, the full state (the mini-batch loss too)."""
    if not trainer.step_count:
        return "Not trained yet. Press Play, Step or Epoch to train."
    head = (
        f"Step {trainer.step_count}, epoch {trainer.epoch}."
        if busy
        else f"Paused at step {trainer.step_count}, epoch {trainer.epoch}."
    )
    parts = [head]
    for run, (norm, state) in zip(trainer.runs, _run_states(trainer), strict=True):
        said = f"{net_label(norm).capitalize()}: {state or 'no test yet'}"
        if not busy and state != "stopped" and run.recorder.train.n:
            said += f", last mini-batch loss {run.recorder.train.values[-1, 0]:.3f}"
        parts.append(said + ".")
    return " ".join(parts)


def _test_summary(trainer):
    """Each network's latest test numbers, in a sentence (the data chart's description)."""
    said = [f"{net_label(norm)}: {state}" for norm, state in _run_states(trainer) if state]
    return ("Latest test numbers: " + "; ".join(said)) if said else "Not trained yet"


def _units_chooser(width):
    """Units (0-based) to show in the mini-batch and γ, β charts, kept valid when the layer
    gets narrower (a link's or settings file's choice is read by the control itself), and
    never none: an empty choice goes back to the first units. (Picking a view while playing
    created the control during a tick, and it came back empty.)"""
    first = opts.first_units(width)
    held = ui.held("units_shown")
    if held is not None and opts.units_within(held, width) != held:
        ui.set_value("units_shown", opts.units_within(held, width))
    return ui.multichoice(
        "Units",
        "units_shown",
        range(width),
        first,
        max_selections=opts.MAX_UNITS_SHOWN,
        format_func=lambda u: f"unit {u + 1}",
    )


def _advance(trainer, steps_per_update):
    """One tick's training: an update's steps while playing, else a chunk of a queued epoch."""
    target = st.session_state.get(EPOCH_TARGET)
    if st.session_state.get(PLAYING):
        trainer.step(steps_per_update)
    elif target:
        trainer.run_epoch(max_steps=EPOCH_CHUNK)
        if trainer.epoch >= target or trainer.stop_reason:
            st.session_state.pop(EPOCH_TARGET)
            st.rerun()  # the whole page: the ticks stop, Play shows again


def _live_panel(steps_per_update, images):
    """Steps (while playing) and redraws everything that changes as the network trains."""
    started = time.perf_counter()
    trainer = st.session_state[TRAINER]
    repaced = charts.take_repaced()  # this run only applies a new interval
    if not repaced:
        _advance(trainer, steps_per_update)
    if trainer.stop_reason and _busy():
        _set_playing(False)
        st.rerun()  # the whole page: Play shows again, with the reason
    _status(trainer)
    twin_run = trainer.runs[1] if len(trainer.runs) > 1 else None
    if twin_run is not None and twin_run.stop_reason and not trainer.stop_reason:
        st.warning(
            f"The twin **{net_label(twin_run.net.config.normalization)}** has stopped; "
            f"the network {net_label(trainer.net.config.normalization)} trains on at "
            "the same learning rate. " + twin_run.stop_reason,
            icon="💥",
        )
    _db_readout(trainer)
    net = trainer.net

    recorders = [run.recorder for run in trainer.runs]
    whole = charts.take_whole()
    step, busy = trainer.step_count, _busy()
    left, right = st.columns(2)
    with left:
        if LIVE_CHARTS:  # two small figures: each step redraws less
            charts.place("loss", live.loss_chart(recorders), step, whole, busy)
            charts.place("accuracy", live.accuracy_chart(recorders), step, whole, busy)
        else:
            ui.chart(
                viz.loss_figure(recorders),
                name="Loss and accuracy against the training step, for each network",
            )
    with right:
        if not LIVE_CHARTS:
            ui.chart(lab_data.data_figure(lab.data_panel(trainer), images))
        elif whole or not busy or charts.seconds_since("data") >= charts.MAP_EVERY_S:
            figure = lab_data.data_figure(lab.data_panel(trainer), images).to_plotly_json()
            chart = live.SnapshotChart(
                "data",
                "The data and each network's decision regions",
                figure,
                summary=_test_summary(trainer),
            )
            charts.place("data", chart, step, whole, busy)
        else:
            charts.place("data", None, step, whole, busy)  # unchanged until the next redraw

    view = ui.choice(
        "Show",
        "view",
        list(viz.VIEWS),
        "distributions",
        radio=True,
        format_func=viz.VIEWS.get,
        label_visibility="collapsed",
    )
    layer, units = 1, (0, 1, 2)
    if view in ("minibatch", "gamma_beta"):
        n_hidden = len(net.config.layer_dims) - 2
        options = [str(l) for l in range(1, n_hidden + 1)]
        if ui.held("layer") not in (None, *options):
            ui.set_value("layer", "1")
        c1, c2 = st.columns([1, 3])
        with c1:
            layer = int(
                ui.choice("Layer", "layer", options, "1", format_func=lambda s: f"hidden layer {s}")
            )
        with c2:
            if view == "minibatch" and all(r.normalization == "layer" for r in recorders):
                ui.hide("units_shown")  # layer norm's statistics are per example, not per unit
                st.caption(
                    "Layer norm's μ and σ belong to each example, not to a unit: no "
                    "units to choose here."
                )
            else:
                units = _units_chooser(net.config.layer_dims[layer])
    else:
        ui.hide("layer", "units_shown")
    if not LIVE_CHARTS:
        ui.chart(viz.view_figure(view, recorders, layer, units))
    else:
        charts.place_view(view, recorders, layer, units, step, whole, busy)
    if not repaced and st.session_state.get(PLAYING):
        charts.pace(time.perf_counter() - started)


DB_READOUT = {
    "batch": "Largest |db| of the batch-norm layers = **{db:.1g}**: b is cancelled out by the "
    "mean subtraction, so it never learns anything.",
    "layer": "Largest |db| of the layer-norm layers = **{db:.2g}**: b is *not* cancelled. "
    "Layer norm subtracts each example's mean over the units, not each unit's mean "
    "over the mini-batch, so only b's mean over the units drops out; b learns.",
}


def _db_readout(trainer):
    """How big db is in each normalized network that keeps its b (on the first examples, one
    mini-batch's worth): about 0 under batch norm, not under layer norm."""
    if trainer.net.config.eliminate_bias:
        return
    m = min(trainer.batches.batch_size, trainer.split.X_train.shape[1])
    X, y = trainer.split.X_train[:, :m], trainer.split.y_train[:m]
    for run in trainer.runs:
        norm = run.net.config.normalization
        if norm and not run.stop_reason:
            st.info(DB_READOUT[norm].format(db=lab.largest_db(run.net, X, y)), icon="🔎")


def _parameters(trainer):
    """Parameter counts of the main network and of the same network without normalization,
    and what eliminating b saves."""
    dims = trainer.net.config.layer_dims
    cfg = trainer.net.config
    hidden = lab.hidden_units(dims)
    st.subheader("Parameters")
    cols = st.columns(3)
    norm = cfg.normalization
    if norm:
        name = opts.NORM_NAMES[norm]
        kept = lab.count_params(dims, norm, False)
        delta = trainer.net.n_params - kept
        cols[0].metric(
            f"Learned numbers, {net_label(norm)}",
            f"{trainer.net.n_params:,}",
            delta=f"{delta:+d} vs keeping b" if delta else "b kept",
            delta_color="inverse" if delta else "off",
        )
        cols[1].metric(
            "Without normalization (W and b only)", f"{lab.count_params(dims, None, True):,}"
        )
        cols[2].caption(_parameters_note(norm, name, cfg.eliminate_bias, hidden))
    else:
        cols[0].metric("Learned numbers (W and b)", f"{trainer.net.n_params:,}")
        cols[1].caption(
            "No normalization: every layer keeps its b, so *Eliminate b* changes "
            "nothing. Choose batch norm or layer norm to compare."
        )
    st.caption(
        f"The network: `{trainer.net!r}`"
        + (f"; its twin: `{trainer.twin!r}`" if trainer.twin else "")
    )


def _parameters_note(norm, name, eliminate_bias, hidden):
    """What γ, β and b cost under the normalization, in a sentence or two."""
    adds = f"{name.capitalize()} adds γ and β (2 per hidden unit) to every hidden layer. "
    if eliminate_bias and norm == "batch":
        return adds + (
            f"Eliminating b saves one number per hidden unit: {hidden} here, since "
            "β already shifts every unit."
        )
    if eliminate_bias:
        return adds + (
            f"Eliminating b saves one number per hidden unit: {hidden} here; under "
            "layer norm b is not cancelled, so they are numbers it could have "
            "learned."
        )
    if norm == "batch":
        return (
            f"b is kept: {hidden} numbers (one per hidden unit) that batch norm cancels "
            "out, so they never move. Turn *Eliminate b* on to drop them."
        )
    return (
        f"b is kept: {hidden} numbers (one per hidden unit). Layer norm cancels only their "
        "mean over each layer's units, so they learn."
    )


def _save_and_load(trainer):
    """Download the run's history (CSV) and settings (JSON); load settings from a JSON file."""
    with st.expander("💾 Save or load this run"):
        left, right = st.columns(2)
        runs = [
            (opts.HISTORY_NAMES[run.net.config.normalization], run.recorder) for run in trainer.runs
        ]
        left.download_button(
            "Recorded history (CSV)",
            lambda: exchange.history_csv(runs),
            file_name="batchnorm-lab-history.csv",
            mime="text/csv",
            on_click="ignore",
            help="Every series the recorders kept, one row per value: network, quantity, "
            "layer, unit, step, value.",
        )
        left.download_button(
            "Settings (JSON)",
            ui.settings_later(lambda s: exchange.settings_json(SLUG, s)),
            file_name="batchnorm-lab-settings.json",
            mime="application/json",
            on_click="ignore",
            help="Every control of this page; load it here to continue.",
        )
        upload = right.file_uploader("Load settings (JSON)", type=["json"], key=SETTINGS_FILE_KEY)
        if upload is not None and st.session_state.get(LOADED_KEY) != upload.file_id:
            try:
                loaded = exchange.parse_settings_json(upload.getvalue(), SLUG)
            except ValueError as err:
                right.error(
                    f"{ui.user_text(upload.name)} can't be loaded: "
                    f"{ui.user_text(err, ui.MESSAGE_LIMIT)}.",
                    icon="🚫",
                )
                return
            st.session_state[LOADED_KEY] = upload.file_id
            st.session_state[NOTE] = f"Settings loaded from {ui.user_text(upload.name)}."
            _set_playing(False)
            ui.apply_params(loaded)
            st.rerun()


def _wait_for_own_data():
    st.info(
        "**Your own points:** upload a CSV in the sidebar (under *Data*) to train on it. "
        + sidebar.CSV_HELP
        + " Here is one to start from:",
        icon="📄",
    )
    X, y = make_dataset("moons", n=200, noise=0.15, seed=0)
    st.download_button(
        "Example CSV (moons)",
        exchange.points_csv(X, y),
        file_name="moons.csv",
        mime="text/csv",
        on_click="ignore",
    )
    ui.end_page(partial=True)  # the network and training settings apply once there is data
    st.stop()


# --- the page --------------------------------------------------------------------------------

ui.start_page(SLUG, "Training Lab", "🏋️")
st.markdown(
    "Train a network live, **with batch norm** (blue, ●) or **with layer norm** (green, ◆), "
    "beside the same network **without normalization** (orange, ■) or with the other one: same "
    "initial "
    "weights, same mini-batches. Learning rate and optimizer apply at once; changing the data "
    "or the network starts over."
)
ui.presets(PRESETS, on_apply=lambda: _set_playing(False))

settings, split, steps_per_update = sidebar.settings()
if settings is None:
    _wait_for_own_data()
trainer = _trainer_for(settings, split)
if trainer.stop_reason:
    st.session_state[PLAYING] = False
    st.session_state.pop(EPOCH_TARGET, None)
st.session_state.setdefault(PLAYING, False)
playing = _busy()

bar = st.columns([1.3, 1, 1, 1, 1.4], vertical_alignment="bottom")
bar[0].button(
    "⏸ Pause" if playing else "▶ Play",
    key="lab.play",
    on_click=_set_playing,
    args=(not playing,),
    type="primary",
    width="stretch",
    disabled=trainer.stop_reason is not None,
)
bar[1].button(
    "Step",
    key="lab.step",
    on_click=_step,
    width="stretch",
    disabled=trainer.stop_reason is not None,
    help="Train on one mini-batch.",
)
bar[2].button(
    "Epoch",
    key="lab.epoch",
    on_click=_epoch,
    width="stretch",
    disabled=trainer.stop_reason is not None,
    help="Train until every example has been seen once more.",
)
bar[3].button(
    "Reset",
    key="lab.reset",
    on_click=_reset,
    width="stretch",
    help="Back to step 0 and the same initial weights.",
)
with bar[4].popover("💡 Try this", width="stretch"):
    st.markdown(TRY_THIS)
note = st.session_state.pop(NOTE, None)
if note:
    st.info(note, icon="🔄")
if trainer.stop_reason:
    st.error(trainer.stop_reason, icon="🛑")

images = (
    _digit_images(settings.n, settings.test_fraction, settings.seed)
    if settings.dataset == "digits"
    else None
)
interval = charts.interval()
# A full run: the live charts may have been remounted, unless it is Play, Pause or a change of
# pace. (A chart that was remounted anyway finds a gap in its steps and asks for its figure.)
charts.begin_full_run()
st.fragment(run_every=interval if playing else None)(ui.guarded(_live_panel))(
    steps_per_update, images
)
if playing:
    lab_gamma_beta.hide()
else:
    lab_gamma_beta.show(TRAINER, charts.RUN_KEY, images)
_parameters(trainer)
if not ui.presenting():
    _save_and_load(trainer)
ui.end_page()
