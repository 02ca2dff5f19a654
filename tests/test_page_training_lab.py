"""Page "Training Lab" through streamlit's AppTest: every control moved and its effect checked
(session state, the trainer, the charts' traces), the buttons, the presets, divergence, and
the home page's links. Never an exception.

AppTest never fires run_every: each at.run() runs the page, and its live fragment, once, so one
run while playing is one tick.
"""

import re
from pathlib import Path

from bn_app.catalog import LESSONS

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bn_core import training
from bn_viz.theme import BN_COLOR, PLAIN_COLOR
from tests.live_spec import figures, messages, n_points
from tests.plotly_spec import decode

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/training_lab.py"
SLUG = "training_lab"
LOSS, ACCURACY, DATA, VIEW = range(4)  # the order the page draws its charts
TRAINER, PLAYING = "lab.trainer", "lab.playing"


# --- helpers ---------------------------------------------------------------------------------


def open_lab(query=None):
    """A fresh session on the Training Lab, through app.py's router, run once."""
    at = AppTest.from_file(APP, default_timeout=30)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(PAGE)
    return clean(at.run())


@pytest.fixture
def at():
    return open_lab()


def clean(at):
    assert not at.exception, [e.value for e in at.exception]
    figures(at)  # what the live charts hold after this run (the browser's view of them)
    return at


def trainer(at):
    return at.session_state[TRAINER]


def control(at, kind, name):
    return at.get(kind)[[w.key for w in at.get(kind)].index(f"{SLUG}.{name}")]


def set_control(at, kind, name, value):
    control(at, kind, name).set_value(value)
    return clean(at.run())


def click(at, key):
    at.button(key=key).click()
    return clean(at.run())


def charts(at):
    """The live charts' figures: loss, accuracy, data, the lower view."""
    figs = figures(at)
    assert len(figs) == 4
    return figs


def trace_colors(fig):
    return {
        (t.get("line") or {}).get("color") or (t.get("marker") or {}).get("color")
        for t in fig["data"]
    }


def loss_of(at, label="with batch norm"):
    """The smoothed train loss the loss chart shows for one network."""
    return decode(next(t for t in charts(at)[LOSS]["data"] if t.get("name") == label)["y"])


PANEL_NUMBERS = {"Train loss", "Test loss", "Train accuracy", "Test accuracy"}  # γ, β panel


def parameter_metrics(at):
    """The metrics of the Parameters section (the γ, β panel's numbers left out)."""
    return [m for m in at.metric if m.label not in PANEL_NUMBERS]


def status(at):
    return next(m.value for m in at.markdown if m.value.startswith("**Step"))


def texts(elements):
    return " ".join(e.value for e in elements)


def title(fig):
    return (fig["layout"].get("title") or {}).get("text", "")


# --- opening ---------------------------------------------------------------------------------


def test_page_opens_at_step_0_with_both_networks(at):
    assert "Training Lab" in at.title[0].value
    assert status(at).startswith("**Step 0**")
    t = trainer(at)
    assert t.step_count == 0 and t.twin is not None and at.session_state[PLAYING] is False
    figs = charts(at)
    assert n_points(figs[LOSS], "each mini-batch") == 0  # only the test loss at step 0
    assert "Press ▶ Play" in messages(at)[LOSS]["charts"][0]["hint"]
    assert sum(tr["type"] == "heatmap" for tr in figs[DATA]["data"]) == 2
    assert [b.label for b in at.button if b.key == "lab.play"] == ["▶ Play"]
    assert [m.value for m in parameter_metrics(at)] == ["674", "626"]  # 3 x 16 units: 48 b saved


def test_home_page_links_to_every_page():
    at = clean(AppTest.from_file(APP, default_timeout=30).run())
    links = [link.proto.page for link in at.get("page_link")]
    for page in LESSONS:
        assert any(page.url_path in link or page.file in link for link in links), (page, links)
    assert any("training_lab" in link for link in links)


# --- the buttons -----------------------------------------------------------------------------


def test_step_trains_one_minibatch_and_the_loss_chart_follows(at):
    click(at, "lab.step")
    assert trainer(at).step_count == 1
    assert status(at).startswith("**Step 1**")
    first = loss_of(at)
    click(at, "lab.step")
    second = loss_of(at)
    assert trainer(at).step_count == 2
    assert len(second) == len(first) + 1 and not np.isclose(second[-1], first[-1])
    assert trace_colors(charts(at)[LOSS]) >= {BN_COLOR, PLAIN_COLOR}


def test_epoch_trains_until_the_epoch_is_complete(at):
    click(at, "lab.epoch")
    t = trainer(at)
    assert t.epoch == 1 and t.step_count == t.batches.steps_per_epoch
    click(at, "lab.epoch")
    assert trainer(at).epoch == 2


def test_reset_returns_to_step_0_and_says_so(at):
    click(at, "lab.epoch")
    click(at, "lab.reset")
    assert trainer(at).step_count == 0
    assert "Training reset" in texts(at.info)
    assert n_points(charts(at)[LOSS], "each mini-batch") == 0


def test_play_ticks_pause_stops(at):
    click(at, "lab.play")
    assert at.session_state[PLAYING] is True
    assert [b.label for b in at.button if b.key == "lab.play"] == ["⏸ Pause"]
    assert trainer(at).step_count == 10  # the first tick: 10 steps per update
    before = loss_of(at)
    clean(at.run())  # the next tick
    assert trainer(at).step_count == 20
    assert len(loss_of(at)) > len(before)
    click(at, "lab.play")  # the same button, now Pause
    assert at.session_state[PLAYING] is False
    steps = trainer(at).step_count
    clean(at.run())
    assert trainer(at).step_count == steps  # paused: a rerun trains nothing


def test_steps_per_update(at):
    set_control(at, "select_slider", "spu", 50)
    click(at, "lab.play")
    assert trainer(at).step_count == 50
    assert at.query_params["spu"] == "50"


# --- data and network: changing them resets --------------------------------------------------


def test_batch_norm_off_resets_and_says_why(at):
    click(at, "lab.epoch")
    set_control(at, "selectbox", "bn", "none")
    t = trainer(at)
    assert t.step_count == 0 and not t.net.bn_layers and t.twin is None
    assert "Training reset: batch norm on → off" in texts(at.info)
    assert "only means something with batch norm" in texts(at.caption)
    assert control(at, "selectbox", "twin").proto.disabled
    click(at, "lab.step")
    assert trace_colors(charts(at)[LOSS]) & {BN_COLOR, PLAIN_COLOR} == {PLAIN_COLOR}
    assert [m.label for m in parameter_metrics(at)] == ["Learned numbers (W and b)"]


def test_learning_rate_applies_live_without_a_reset(at):
    click(at, "lab.step")
    click(at, "lab.step")
    set_control(at, "select_slider", "lr", 0.1)
    t = trainer(at)
    assert t.step_count == 2 and not at.info
    assert all(opt.lr == 0.1 for opt in t.optimizers)
    assert at.query_params["lr"] == "0.1"


@pytest.mark.parametrize(
    ("optimizer", "extra"),
    [
        ("gd", {}),
        ("momentum", {"beta": 0.5}),
        ("rmsprop", {"beta2": 0.99, "eps": 1e-6}),
        ("adam", {"beta1": 0.8, "beta2": 0.9999, "eps": 1e-10}),
    ],
)
def test_optimizer_and_its_settings_apply_live(optimizer, extra):
    at = open_lab({"opt": "gd"} if optimizer == "adam" else None)
    click(at, "lab.step")
    set_control(at, "selectbox", "opt", optimizer)
    for name, value in extra.items():
        set_control(at, "select_slider", name, value)
    t = trainer(at)
    assert t.step_count == 1 and not at.info
    for opt in t.optimizers:
        assert opt.name == optimizer
        for name, value in extra.items():
            assert opt.hyper[name] == value
    shown = {w.key.split(".", 1)[1] for w in at.select_slider}
    assert shown >= set(extra) and not shown & (
        {"beta", "beta1", "beta2", "eps"}
        - set(extra)
        - ({"eps", "beta2"} if optimizer == "adam" else set())
    )


def test_twin_off_removes_the_twins_traces(at):
    set_control(at, "selectbox", "twin", "off")
    assert trainer(at).twin is None
    assert "comparison twin without normalization → off" in texts(at.info)
    click(at, "lab.step")
    figs = charts(at)
    assert PLAIN_COLOR not in trace_colors(figs[LOSS])
    assert sum(tr["type"] == "heatmap" for tr in figs[DATA]["data"]) == 1
    assert next(m.label for m in parameter_metrics(at)) == "Learned numbers, with batch norm"


def test_keeping_b_shows_that_db_is_zero(at):
    set_control(at, "toggle", "nobias", False)
    assert "b1" in trainer(at).net.params
    click(at, "lab.step")
    readout = texts(at.info)
    value = float(re.search(r"\|db\| of the batch-norm layers = \*\*([^*]+)\*\*", readout)[1])
    assert value < 1e-12 and "cancelled out" in readout
    assert "db = 0 and b never moves" in texts(at.caption)
    assert [m.value for m in parameter_metrics(at)] == [
        "722",
        "626",
    ]  # 48 more: one b per hidden unit
    assert parameter_metrics(at)[0].delta == "b kept"


def test_eliminating_b_drops_one_number_per_hidden_unit(at):
    set_control(at, "slider", "units", 10)
    set_control(at, "slider", "layers", 2)
    assert trainer(at).net.config.layer_dims == (2, 10, 10, 2)
    assert parameter_metrics(at)[0].delta == "-20 vs keeping b"


@pytest.mark.parametrize(
    ("kind", "name", "value", "check"),
    [
        ("slider", "layers", 5, lambda t: len(t.net.config.layer_dims) == 7),
        ("slider", "units", 32, lambda t: t.net.config.layer_dims[1:-1] == (32, 32, 32)),
        ("selectbox", "act", "tanh", lambda t: t.net.config.activation == "tanh"),
        ("selectbox", "init", "xavier", lambda t: t.net.config.init == "xavier"),
        ("selectbox", "data", "moons", lambda t: t.split.n_classes == 2),
        ("selectbox", "data", "blobs", lambda t: t.split.n_classes == 3),
        ("slider", "n", 200, lambda t: t.split.X_train.shape[1] + t.split.X_test.shape[1] == 200),
        (
            "slider",
            "noise",
            0.3,
            lambda t: (
                t.split.X_train.shape[1] == 300
                and not np.allclose(
                    t.split.X_train, training.make_split("spiral", n=400, noise=0.1).X_train
                )
            ),
        ),
        ("slider", "test", 0.5, lambda t: t.split.X_test.shape[1] == 200),
        ("number_input", "seed", 7, lambda t: t.net.config.seed == 7),
    ],
)
def test_each_data_and_network_control_resets_training(kind, name, value, check):
    at = open_lab()
    click(at, "lab.step")
    old = trainer(at)
    set_control(at, kind, name, value)
    t = trainer(at)
    assert t is not old and t.step_count == 0 and check(t)
    assert "Training reset:" in texts(at.info)
    click(at, "lab.step")  # and it trains
    assert trainer(at).step_count == 1 and n_points(charts(at)[LOSS]) > 0


def test_gaussian_initialization_has_a_scale(at):
    set_control(at, "selectbox", "init", "gaussian")
    assert trainer(at).net.config.init_scale == 0.01
    set_control(at, "select_slider", "scale", 1.0)
    t = trainer(at)
    assert t.net.config.init_scale == 1.0
    assert np.std(t.net.params["W2"]) > 0.5
    assert "initial scale 0.01 → 1" in texts(at.info)


def test_batch_size_from_2_to_the_whole_set_and_clipped_when_data_shrinks(at):
    sizes = control(at, "select_slider", "batch").options
    assert sizes[0] == "2" and sizes[-1] == "300"  # 400 examples, a quarter for the test
    set_control(at, "select_slider", "batch", 2)
    assert trainer(at).batches.batch_size == 2
    set_control(at, "select_slider", "batch", 300)
    assert trainer(at).batches.batch_size == 300
    set_control(at, "slider", "n", 100)  # 76 training examples now
    m_train = trainer(at).split.X_train.shape[1]
    assert m_train < 100
    assert control(at, "select_slider", "batch").value == m_train
    assert trainer(at).batches.batch_size == m_train


def test_digits_show_test_images_with_predictions(at):
    set_control(at, "selectbox", "data", "digits")
    assert control(at, "slider", "noise").proto.disabled
    click(at, "lab.epoch")
    fig = charts(at)[DATA]
    assert [tr["type"] for tr in fig["data"]] == ["heatmap", "heatmap"]
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    assert sum("right" in n for n in notes) == 2 and len(notes) >= 2 + 2 * 24
    assert trainer(at).net.config.layer_dims[0] == 64


# --- the lower panel -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "title_part", "n_traces"),
    [
        ("distributions", "values on the mini-batch", 2 * 3 * 3),
        ("over_time", "over the training steps", 2 * 3 * 3),
        ("minibatch", "mean and spread of Z", 3 * 2 * 2 + 3 * 2),
        ("gamma_beta", "γ and β of every unit", 2 * 16),
        ("gradients", "gradients and the updates", 2 * 2 * 4),
    ],
)
def test_each_view(view, title_part, n_traces):
    at = open_lab()
    click(at, "lab.epoch")
    at.radio(key=f"{SLUG}.view").set_value(view)
    clean(at.run())
    fig = charts(at)[VIEW]
    assert title_part in title(fig)
    assert len(fig["data"]) == n_traces
    assert trainer(at).step_count == 10  # looking trains nothing


def test_units_and_layer_choosers(at):
    click(at, "lab.epoch")
    at.radio(key=f"{SLUG}.view").set_value("minibatch")
    clean(at.run())
    assert at.multiselect(key=f"{SLUG}.units_shown").value == [0, 1, 2]
    at.multiselect(key=f"{SLUG}.units_shown").set_value([4, 15])
    clean(at.run())
    set_control(at, "selectbox", "layer", "3")
    fig = charts(at)[VIEW]
    assert title(fig).startswith("Hidden layer 3")
    columns = [a["text"] for a in fig["layout"]["annotations"] if a["text"].startswith("unit")]
    assert columns == ["unit 5", "unit 16"]
    # a narrower, shallower network: the choices fall back to what exists
    set_control(at, "slider", "units", 4)
    set_control(at, "slider", "layers", 1)
    assert control(at, "selectbox", "layer").value == "1"
    assert at.multiselect(key=f"{SLUG}.units_shown").value == [0, 1, 2]
    clean(at)


def test_an_empty_units_choice_goes_back_to_the_first_units(at):
    at.radio(key=f"{SLUG}.view").set_value("minibatch")
    clean(at.run())
    at.multiselect(key=f"{SLUG}.units_shown").set_value([])
    clean(at.run())  # this run draws what it can (unit 1); the choice comes back with the next
    clean(at.run())
    assert at.multiselect(key=f"{SLUG}.units_shown").value == [0, 1, 2]
    columns = [
        a["text"] for a in charts(at)[VIEW]["layout"]["annotations"] if a["text"].startswith("unit")
    ]
    assert columns == ["unit 1", "unit 2", "unit 3"]


# --- divergence ------------------------------------------------------------------------------


def test_divergence_stops_and_says_what_to_try():
    at = open_lab({"bn": "0", "opt": "gd", "lr": "10"})
    click(at, "lab.play")
    for _ in range(5):
        if trainer(at).stop_reason:
            break
        clean(at.run())
    t = trainer(at)
    assert t.stop_reason and at.session_state[PLAYING] is False
    message = texts(at.error)
    assert "Training stopped" in message and "lower the learning rate" in message
    assert "turn batch norm on" in message
    assert [b.label for b in at.button if b.key == "lab.play"] == ["▶ Play"]
    assert at.button(key="lab.play").proto.disabled
    assert at.button(key="lab.step").proto.disabled and at.button(key="lab.epoch").proto.disabled
    click(at, "lab.reset")
    assert trainer(at).stop_reason is None and trainer(at).step_count == 0


def test_the_twin_can_blow_up_while_batch_norm_trains_on():
    at = open_lab({"data": "moons", "layers": "6", "opt": "gd", "lr": "1", "spu": "50"})
    click(at, "lab.play")
    for _ in range(4):
        clean(at.run())
    t = trainer(at)
    assert t.runs[1].stop_reason and not t.stop_reason
    assert "twin **without normalization** has stopped" in texts(at.warning)
    assert at.session_state[PLAYING] is True  # the main network goes on


# --- presets and presentation mode -----------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "settings"),
    [
        ("🐢 Deep sigmoid stalls", {"act": "sigmoid", "layers": 5, "opt": "momentum"}),
        ("💥 lr 1: batch norm survives", {"data": "moons", "layers": 6, "opt": "gd", "lr": 1.0}),
        ("🎲 Batch size 2", {"data": "circles", "batch": 2, "view": "minibatch"}),
        ("🔬 Initial weights × 1e-3", {"init": "gaussian", "scale": 0.001}),
        (
            "⚖️ Batch size 2: layer norm doesn't care",
            {"data": "xor", "batch": 2, "bn": "batch", "twin": "layer", "view": "minibatch"},
        ),
    ],
)
def test_presets_load(at, label, settings):
    click(at, "lab.play")
    at.button(key=f"preset.{SLUG}.{label}").click()
    clean(at.run())
    assert at.session_state[PLAYING] is False
    assert trainer(at).step_count == 0
    for name, value in settings.items():
        widget = next(
            w
            for kind in ("slider", "selectbox", "select_slider", "radio")
            for w in at.get(kind)
            if w.key == f"{SLUG}.{name}"
        )
        assert widget.value == value, name


def _test_losses_after(query, steps):
    at = open_lab({**query, "spu": "50"})
    click(at, "lab.play")
    while trainer(at).step_count < steps:
        clean(at.run())
    return [run.recorder.test.values[-1, 0] for run in trainer(at).runs]


def test_deep_sigmoid_preset_makes_its_point():
    with_bn, without = _test_losses_after(
        {"data": "circles", "layers": "5", "act": "sigmoid", "opt": "momentum", "lr": "0.1"}, 150
    )
    assert with_bn < 0.5 and without > 0.68  # without batch norm: still a coin flip


def test_tiny_initial_weights_preset_makes_its_point():
    with_bn, without = _test_losses_after(
        {"data": "circles", "init": "gaussian", "scale": "0.001"}, 100
    )
    assert with_bn < 0.3 and without > 0.68


def test_batch_size_2_preset_makes_its_point():
    def run(batch):
        at = open_lab({"data": "circles", "batch": batch, "spu": "50"})
        click(at, "lab.play")
        while trainer(at).step_count < 150:
            clean(at.run())
        t = trainer(at)
        _, mu = t.runs[0].recorder.unit_series("mu", 1)
        accuracies = [run.recorder.test.values[-1, 1] for run in t.runs]
        return np.std(np.diff(mu[-100:], axis=0)), accuracies

    jumps_2, (bn_2, plain_2) = run("2")
    jumps_32, _ = run("32")
    assert jumps_2 > 3 * jumps_32  # mu jumps from one mini-batch to the next
    assert bn_2 < plain_2  # and batch norm's test accuracy suffers


def test_presentation_mode_hides_the_advanced_controls():
    at = open_lab({"present": "1"})
    keys = {w.key for kind in ("slider", "number_input", "select_slider") for w in at.get(kind)}
    assert f"{SLUG}.seed" not in keys and f"{SLUG}.test" not in keys
    assert f"{SLUG}.lr" in keys
    click(at, "lab.step")
    assert trainer(at).step_count == 1


def test_controls_that_hide_leave_the_address_quietly(at):
    set_control(at, "selectbox", "init", "gaussian")
    set_control(at, "select_slider", "scale", 0.001)
    assert at.query_params["scale"] == "0.001"
    set_control(at, "selectbox", "init", "he")
    set_control(at, "selectbox", "opt", "momentum")
    set_control(at, "select_slider", "beta", 0.5)
    set_control(at, "selectbox", "opt", "gd")
    at.radio(key=f"{SLUG}.view").set_value("minibatch")
    clean(at.run())
    set_control(at, "selectbox", "layer", "2")
    at.radio(key=f"{SLUG}.view").set_value("gradients")
    clean(at.run())
    set_control(at, "select_slider", "lr", 0.1)  # a full run: the page checks its address
    assert set(at.query_params) == {"opt", "lr", "view"}
    assert not at.toast  # nothing "ignored from the link"


# --- long work in chunks -----------------------------------------------------------------------


EPOCH_TARGET = "lab.epoch_target"


def test_a_long_epoch_trains_in_chunks_and_presses_queue():
    at = open_lab({"data": "circles", "n": "400", "batch": "2"})  # 150 steps an epoch
    per_epoch = trainer(at).batches.steps_per_epoch
    assert per_epoch > 2 * 50
    click(at, "lab.epoch")
    assert trainer(at).step_count == 50  # one chunk, then the ticks go on with it
    assert at.session_state[EPOCH_TARGET] == 1
    assert [b.label for b in at.button if b.key == "lab.play"] == ["⏸ Pause"]
    click(at, "lab.epoch")  # pressed again while it runs: one more epoch, queued
    click(at, "lab.epoch")
    assert at.session_state[EPOCH_TARGET] == 3
    assert trainer(at).step_count == 3 * 50  # one chunk per run, never a pile of epochs
    while EPOCH_TARGET in at.session_state:
        clean(at.run())  # the next tick
    t = trainer(at)
    assert t.epoch == 3 and t.step_count == 3 * per_epoch
    assert [b.label for b in at.button if b.key == "lab.play"] == ["▶ Play"]


def test_pause_stops_an_epoch_under_way():
    at = open_lab({"data": "circles", "n": "400", "batch": "2"})
    click(at, "lab.epoch")
    click(at, "lab.play")  # the Pause button while the epoch runs
    assert EPOCH_TARGET not in at.session_state
    steps = trainer(at).step_count
    clean(at.run())
    assert trainer(at).step_count == steps and trainer(at).epoch == 0
    assert [b.label for b in at.button if b.key == "lab.play"] == ["▶ Play"]
