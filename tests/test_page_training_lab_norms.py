"""Page "Training Lab" with layer norm, through streamlit's AppTest: the Normalization control
and the twin's, what switching them does (a fresh start and a note), old links and settings
files (bn and twin were on/off switches), the link and the settings file round trip, the
"batch size 2" layer-norm preset, and what the charts, readouts and counts say under layer
norm. Never an exception."""

import json
import re

import numpy as np
import pytest

from bn_core import exchange
from bn_viz import lab as viz
from bn_viz.theme import BN_COLOR, LN_COLOR, PLAIN_COLOR
from tests.apptest import downloaded
from tests.plotly_spec import unwrap_titles
from tests.rendered import plain
from tests.test_page_training_lab import (
    DATA,
    LOSS,
    SLUG,
    VIEW,
    charts,
    clean,
    click,
    control,
    open_lab,
    parameter_metrics,
    set_control,
    status,
    texts,
    title,
    trace_colors,
    trainer,
)

PRESET = "⚖️ Batch size 2: layer norm doesn't care"


def norms(at):
    """The normalization of each network the page trains, main first."""
    return [run.net.config.normalization for run in trainer(at).runs]


def notice(at):
    return " ".join(plain(t.proto.body) for t in at.toast)


def view(at, name):
    at.radio(key=f"{SLUG}.view").set_value(name)
    return clean(at.run())


def load(at, settings):
    """Load {name: value} as a settings file of this page (values as JSON has them)."""
    text = json.dumps(
        {
            "app": exchange.APP_NAME,
            "version": exchange.SETTINGS_VERSION,
            "page": SLUG,
            "settings": settings,
        }
    )
    uploader = next(u for u in at.get("file_uploader") if u.key == "lab.settings_file")
    uploader.set_value(("run.json", text.encode(), "application/json"))
    return clean(at.run())


# --- the controls ------------------------------------------------------------------------------


def test_the_controls_start_at_batch_norm_beside_no_normalization():
    at = open_lab()
    assert control(at, "selectbox", "bn").value == "batch"
    twin = control(at, "selectbox", "twin")
    assert twin.value == "none" and twin.label == "Compare with the same network"
    assert twin.options == ["without normalization", "with layer norm", "no twin"]
    assert norms(at) == ["batch", None]
    assert "bn" not in at.query_params and "twin" not in at.query_params  # the defaults


def test_switching_to_layer_norm_restarts_training_and_says_why():
    at = open_lab()
    click(at, "lab.step")
    old = trainer(at)
    set_control(at, "selectbox", "bn", "layer")
    t = trainer(at)
    assert t is not old and t.step_count == 0 and norms(at) == ["layer", None]
    assert "Training reset: batch norm on → off, layer norm off → on" in texts(at.info)
    assert at.query_params["bn"] == "layer"
    click(at, "lab.step")
    assert f':color[■]{{foreground="{LN_COLOR}"}} with layer norm: test loss' in status(at)
    assert f':color[■]{{foreground="{PLAIN_COLOR}"}} without normalization: test' in status(at)
    assert trace_colors(charts(at)[LOSS]) >= {LN_COLOR, PLAIN_COLOR}
    assert BN_COLOR not in trace_colors(charts(at)[LOSS])
    assert [m.label for m in parameter_metrics(at)] == [
        "Learned numbers, with layer norm",
        "Without normalization (W and b only)",
    ]
    assert [m.value for m in parameter_metrics(at)] == ["674", "626"]  # γ and β as under batch norm


def test_the_twin_can_have_the_other_normalization():
    at = open_lab()
    set_control(at, "selectbox", "twin", "layer")
    assert norms(at) == ["batch", "layer"]
    assert "comparison twin without normalization → with layer norm" in texts(at.info)
    assert at.query_params["twin"] == "layer"
    t = trainer(at)
    for key in t.net.params:  # the same initial parameters: W, γ, β
        np.testing.assert_array_equal(t.net.params[key], t.twin.params[key])
    click(at, "lab.step")
    figs = charts(at)
    assert {BN_COLOR, LN_COLOR} <= trace_colors(figs[LOSS])
    assert PLAIN_COLOR not in trace_colors(figs[LOSS])
    regions = " ".join(a["text"] for a in figs[DATA]["layout"]["annotations"])
    assert "with batch norm" in regions and "with layer norm" in regions
    assert f':color[■]{{foreground="{BN_COLOR}"}} with batch norm: test' in status(at)
    assert f':color[■]{{foreground="{LN_COLOR}"}} with layer norm: test' in status(at)
    set_control(at, "selectbox", "twin", "off")
    assert norms(at) == ["batch"]
    assert "comparison twin with layer norm → off" in texts(at.info)


def test_the_main_network_taking_the_twins_normalization_swaps_them():
    at = open_lab({"twin": "layer"})
    assert norms(at) == ["batch", "layer"]
    set_control(at, "selectbox", "bn", "layer")
    assert norms(at) == ["layer", "batch"]
    assert control(at, "selectbox", "twin").value == "batch"
    assert dict(at.query_params) == {"bn": "layer", "twin": "batch"}


def test_no_normalization_has_no_twin_and_the_twin_control_waits():
    at = open_lab({"twin": "layer"})
    set_control(at, "selectbox", "bn", "none")
    assert norms(at) == [None]
    assert control(at, "selectbox", "twin").proto.disabled
    assert "only means something with batch norm or layer norm" in texts(at.caption)
    set_control(at, "selectbox", "bn", "batch")  # the twin's choice was kept
    assert norms(at) == ["batch", "layer"]


# --- old links, new links, settings files -------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected", "url"),
    [
        ({"bn": "0"}, [None], {"bn": "none"}),
        ({"bn": "1"}, ["batch", None], {}),
        ({"bn": "true", "twin": "0"}, ["batch"], {"twin": "off"}),
        ({"bn": "On", "twin": "1"}, ["batch", None], {}),
        ({"bn": "layer", "twin": "batch"}, ["layer", "batch"], {"bn": "layer", "twin": "batch"}),
        ({"bn": "layer", "twin": "none"}, ["layer", None], {"bn": "layer"}),
    ],
)
def test_old_and_new_links_open_the_networks_they_mean(query, expected, url):
    at = open_lab(query)
    assert norms(at) == expected
    assert not at.toast  # nothing ignored: an old link's 0 and 1 still mean what they meant
    assert dict(at.query_params) == url  # written back in today's words


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"bn": "group"}, "bn = group"),
        ({"bn": "layer", "twin": "layer"}, "twin = layer"),  # the twin must differ
        ({"twin": "batch"}, "twin = batch"),
    ],
)
def test_links_with_a_normalization_that_cannot_be_are_named_and_ignored(query, named):
    at = open_lab(query)
    assert named in notice(at) and "Ignored from the link" in notice(at)
    assert trainer(at).twin is None or norms(at)[1] != norms(at)[0]


def test_the_settings_file_round_trips_the_normalizations(downloads):
    at = open_lab({"bn": "layer", "twin": "batch", "batch": "4"})
    settings = json.loads(downloaded(at, "Settings (JSON)"))["settings"]  # the page's download
    assert settings["bn"] == "layer" and settings["twin"] == "batch"
    fresh = load(open_lab(), settings)
    assert norms(fresh) == ["layer", "batch"]
    assert "Settings loaded from run.json" in plain(texts(fresh.info))
    assert dict(fresh.query_params) == {"bn": "layer", "twin": "batch", "batch": "4"}


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"lr": "0.1", "bn": "0"}, [None]),  # a file from before layer norm: bn was on/off
        ({"lr": "0.1", "bn": True, "twin": False}, ["batch"]),
        ({"lr": "0.1", "bn": "1", "twin": "1"}, ["batch", None]),
        ({"lr": "0.1"}, ["batch", None]),  # no bn or twin at all: the defaults
    ],
)
def test_old_settings_files_still_load(settings, expected):
    at = load(open_lab({"bn": "layer", "twin": "batch"}), settings)
    assert norms(at) == expected
    assert at.select_slider(key=f"{SLUG}.lr").value == 0.1
    assert not any("can't be loaded" in plain(e.value) for e in at.error)
    assert not at.toast


# --- what the page says under layer norm ---------------------------------------------------------


def test_layer_norm_keeps_b_learning_and_the_readout_says_so():
    at = open_lab({"bn": "layer", "twin": "batch", "nobias": "0"})
    readout = texts(at.info)
    assert "b is *not* cancelled" in readout and "layer-norm layers" in readout
    ln_db = float(re.search(r"layer-norm layers = \*\*([^*]+)\*\*", readout)[1])
    bn_db = float(re.search(r"batch-norm layers = \*\*([^*]+)\*\*", readout)[1])
    assert ln_db > 1e-4 and bn_db < 1e-12
    assert "layer norm does not cancel it" in texts(at.caption)
    assert "db = 0 and b never moves" in texts(at.caption)  # the batch-norm twin's b
    assert [m.value for m in parameter_metrics(at)] == ["722", "626"]
    assert "Layer norm cancels only their mean" in texts(at.caption)


def test_layer_norms_mini_batch_view_is_per_example_and_says_so():
    at = open_lab({"bn": "layer", "twin": "batch", "batch": "4"})
    click(at, "lab.epoch")
    view(at, "minibatch")
    fig = charts(at)[VIEW]
    assert "mean and spread of Z" in title(fig) and "no running averages" in title(fig)
    columns = [a["text"] for a in fig["layout"]["annotations"] if "textangle" not in a]
    assert columns == ["unit 1", "unit 2", "unit 3", viz.EXAMPLES_COLUMN]
    names = {t.get("name") for t in fig["data"]}
    assert "mean over the examples, with layer norm" in names
    assert "running average (used at test time)" in names  # batch norm's, the twin
    assert {BN_COLOR, LN_COLOR} <= trace_colors(fig)
    # layer norm alone: no units to choose, no per-unit columns
    set_control(at, "selectbox", "twin", "off")
    click(at, "lab.step")
    fig = charts(at)[VIEW]
    assert f"{SLUG}.units_shown" not in [w.key for w in at.multiselect]
    assert "not to a unit" in texts(at.caption)
    assert [a["text"] for a in fig["layout"]["annotations"] if "textangle" not in a] == [
        viz.EXAMPLES_COLUMN
    ]
    assert "units_shown" not in at.query_params


def test_gamma_and_beta_view_draws_both_normalizations():
    at = open_lab({"twin": "layer", "view": "gamma_beta"})
    click(at, "lab.step")
    fig = charts(at)[VIEW]
    assert "γ and β of every unit" in title(fig)
    assert {BN_COLOR, LN_COLOR} <= trace_colors(fig)
    legend = [t["name"] for t in fig["data"] if t.get("showlegend") is not False]
    assert legend == ["with batch norm", "with layer norm"]


def test_every_view_opens_under_layer_norm():
    at = open_lab({"bn": "layer"})
    click(at, "lab.epoch")  # 10 steps: the histograms' samples come every 10
    for name in viz.VIEWS:
        fig = charts(view(at, name))[VIEW]
        assert fig["data"], name
        assert LN_COLOR in trace_colors(fig) or any(
            LN_COLOR in str(t.get("marker")) for t in fig["data"]
        ), name


def test_the_history_names_the_networks_by_normalization():
    at = open_lab({"bn": "layer", "twin": "batch"})
    click(at, "lab.step")
    runs = [
        (name, run.recorder)
        for name, run in zip(("layer_norm", "batch_norm"), trainer(at).runs, strict=True)
    ]
    text = exchange.history_csv(runs)
    assert "layer_norm,example_mu_mean,1,," in text and "batch_norm,running_mu" in text


# --- the preset ------------------------------------------------------------------------------


def test_the_layer_norm_preset_loads_batch_norm_against_layer_norm():
    at = open_lab()
    click(at, "lab.play")
    at.button(key=f"preset.{SLUG}.{PRESET}").click()
    clean(at.run())
    assert at.session_state["lab.playing"] is False and trainer(at).step_count == 0
    assert norms(at) == ["batch", "layer"]
    assert trainer(at).batches.batch_size == 2
    assert at.radio(key=f"{SLUG}.view").value == "minibatch"


def _preset_trainer(batch=None):
    """The page's trainer for the layer-norm preset's settings (mini-batch size `batch` instead
    of 2 when given), untrained: the settings come from the preset's link itself."""
    at = open_lab()
    at.button(key=f"preset.{SLUG}.{PRESET}").click()
    clean(at.run())
    if batch is not None:
        set_control(at, "select_slider", "batch", batch)
    return trainer(at)


def test_the_layer_norm_preset_makes_its_point():
    """The preset's claims, measured on its settings (XOR, seed 0, mini-batches of 2) by
    training the page's own trainer in the core: batch norm's two values per unit normalize
    to about -1 and +1 and its test accuracy stays around 50%; layer norm is over 85% within
    100 steps and about where it gets with mini-batches of 32 (measured 0.91 at step 100 and
    0.96 at 300, against 0.96 with 32; batch norm 0.46 to 0.59 over steps 100 to 1000)."""
    t = _preset_trainer()
    assert [r.net.config.normalization for r in t.runs] == ["batch", "layer"]
    assert t.split.X_train.shape[0] == 2 and t.batches.batch_size == 2
    t.step(1)
    z_norm = np.abs(t.net.trace[0].Z_norm)
    assert np.median(z_norm) > 0.99  # two examples: each unit's values become about ±1
    t.step(99)
    bn_acc, ln_acc = (run.recorder.test.values[-1, 1] for run in t.runs)
    assert ln_acc > 0.85 and bn_acc < 0.7
    t.step(200)
    bn_acc, ln_acc = (run.recorder.test.values[-1, 1] for run in t.runs)
    assert ln_acc > 0.85 and bn_acc < 0.7
    big = _preset_trainer(batch=32)
    big.step(300)
    ln_32 = big.runs[1].recorder.test.values[-1, 1]
    assert abs(ln_acc - ln_32) < 0.06  # the mini-batch size hardly matters to layer norm
    assert big.runs[0].recorder.test.values[-1, 1] > bn_acc + 0.2  # it does to batch norm


def test_layer_norm_without_b_cannot_see_the_radius_and_the_sidebar_says_so():
    """The Eliminate-b caption's claim: without b layer norm divides out the length of x, so
    on circles it stays at a coin flip; keeping b, it learns them."""
    assert "can't tell x from 2x" in texts(open_lab({"twin": "layer"}).caption)  # the twin's
    assert "can't tell x from 2x" not in texts(open_lab().caption)
    at = open_lab({"data": "circles", "bn": "layer"})
    assert "can't tell x from 2x" in texts(at.caption)
    t = trainer(at)
    X = t.split.X_test
    np.testing.assert_allclose(
        t.net.forward(2 * X, train=False), t.net.forward(X, train=False), rtol=1e-4, atol=1e-6
    )
    t.step(300)
    assert t.runs[0].recorder.test.values[-1, 1] < 0.65
    set_control(at, "toggle", "nobias", False)
    assert "can't tell x from 2x" not in texts(at.caption)
    kept = trainer(at)
    kept.step(300)
    assert kept.runs[0].recorder.test.values[-1, 1] > 0.9


def test_the_classic_charts_show_layer_norm_too(monkeypatch):
    """BNLAB_LIVE_CHARTS=0 (whole Plotly figures every tick): the same names, colours and
    per-example column under layer norm."""
    monkeypatch.setenv("BNLAB_LIVE_CHARTS", "0")
    at = open_lab({"twin": "layer", "view": "minibatch"})
    click(at, "lab.epoch")
    figs = [
        unwrap_titles(json.loads(c.proto.spec))
        for c in at.get("plotly_chart")
        if "lab.gb." not in c.proto.id
    ]  # the γ, β panel's own charts left out
    assert len(figs) == 3  # loss, data, view
    loss, data, minibatch = figs
    assert {"with batch norm", "with layer norm"} <= {t.get("name") for t in loss["data"]}
    regions = " ".join(a["text"] for a in data["layout"]["annotations"])
    assert f"color:{LN_COLOR}'>■</span> <b>with layer norm" in regions
    assert "no running averages" in minibatch["layout"]["title"]["text"]
    assert viz.EXAMPLES_COLUMN in [a["text"] for a in minibatch["layout"]["annotations"]]
    assert LN_COLOR in {(t.get("line") or {}).get("color") for t in minibatch["data"]}
