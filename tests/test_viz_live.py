"""The Training Lab's live charts as data (bn_viz.live) and on the wire (bn_live.encode): a
whole figure holds every recorded step, an increment holds exactly the steps after the one the
browser has, as float32 arrays of matching lengths; a new run starts from scratch; the views
keep the traces, names and colours of the figures they replace."""

import base64
import dataclasses
import json

import numpy as np
import pytest

import bn_live
from bn_core import training
from bn_core.lessons import training_lab as lab
from bn_viz import lab as viz
from bn_viz import live
from bn_viz.theme import BN_COLOR, LN_COLOR, PLAIN_COLOR, RUNNING_COLOR

SETTINGS = lab.LabSettings(
    dataset="circles", n=160, hidden_layers=2, units=6, batch_size=16, seed=1
)
VIEWS = [
    ("distributions", live.SnapshotChart),
    ("over_time", live.SeriesChart),
    ("minibatch", live.SeriesChart),
    ("gamma_beta", live.SeriesChart),
    ("gradients", live.SeriesChart),
]


def _trainer(steps=40, settings=SETTINGS):
    split = training.make_split(
        settings.dataset,
        n=settings.n,
        noise=settings.noise,
        test_fraction=settings.test_fraction,
        seed=settings.seed,
    )
    trainer = lab.make_trainer(settings, split)
    trainer.step(steps)
    return trainer


def _recorders(trainer):
    return [run.recorder for run in trainer.runs]


def _trace(figure, name):
    return next(t for t in figure["data"] if t.get("name") == name)


# --- whole figures and increments --------------------------------------------------------------


def test_a_whole_figure_holds_every_step_as_float32():
    trainer = _trainer(40)
    message = live.chart_message(live.loss_chart(_recorders(trainer)), trainer.step_count)
    assert message["last"] == 40 and "extend" not in message
    raw = _trace(message["figure"], "each mini-batch")
    assert raw["x"].dtype == np.float32 and raw["y"].dtype == np.float32
    assert raw["x"].tolist() == list(range(1, 41))  # every step, none skipped
    assert raw["y"].shape == raw["x"].shape
    test = _trace(message["figure"], "test, with batch norm")
    assert test["x"].tolist() == [0, 10, 20, 30, 40]  # eval every 10 steps, from step 0


def test_an_increment_holds_exactly_the_new_steps_of_every_trace():
    trainer = _trainer(40)
    before = live.chart_message(live.loss_chart(_recorders(trainer)), 40)
    trainer.step(13)
    chart = live.loss_chart(_recorders(trainer))
    message = live.chart_message(chart, trainer.step_count, after=40)
    assert "figure" not in message and message["after"] == 40
    extend = message["extend"]
    assert extend["last"] == 53 and len(extend["x"]) == len(extend["y"]) == len(chart.traces)
    for x, y in zip(extend["x"], extend["y"], strict=True):
        assert x.dtype == y.dtype == np.float32 and x.shape == y.shape
    names = [t.style.get("name") for t in chart.traces]
    assert extend["x"][names.index("each mini-batch")].tolist() == list(range(41, 54))
    assert extend["x"][names.index("test, with batch norm")].tolist() == [50]
    # the whole figure before and the increment together are the whole figure after
    after = live.chart_message(chart, trainer.step_count)
    for i, trace in enumerate(after["figure"]["data"]):
        joined = np.concatenate([before["figure"]["data"][i]["x"], extend["x"][i]])
        np.testing.assert_array_equal(joined, trace["x"])
    raw = names.index("each mini-batch")
    np.testing.assert_allclose(extend["y"][raw], after["figure"]["data"][raw]["y"][40:])


def test_consecutive_increments_leave_no_step_out_and_none_twice():
    trainer = _trainer(0)
    sent, held = [], 0
    for n in (1, 7, 10, 3):
        trainer.step(n)
        chart = live.loss_chart(_recorders(trainer))
        extend = live.chart_message(chart, trainer.step_count, after=held)["extend"]
        sent += extend["x"][0].astype(int).tolist()
        held = extend["last"]
    assert sent == list(range(1, 22))


def test_nothing_new_is_an_empty_increment():
    trainer = _trainer(20)
    extend = live.chart_message(live.loss_chart(_recorders(trainer)), 20, after=20)["extend"]
    assert all(x.size == 0 for x in extend["x"]) and extend["last"] == 20


def test_a_new_run_starts_from_scratch():
    old = _trainer(40)
    new = _trainer(3)  # Reset, a preset, new data: a new trainer
    message = live.chart_message(live.loss_chart(_recorders(new)), new.step_count)
    assert _trace(message["figure"], "each mini-batch")["x"].tolist() == [1, 2, 3]
    assert old.step_count == 40


def test_the_hint_shows_until_something_is_trained():
    trainer = _trainer(0)
    assert "Press ▶ Play" in live.loss_chart(_recorders(trainer)).hint
    trainer.step(1)
    assert live.loss_chart(_recorders(trainer)).hint == ""


def test_smoothed_loss_is_the_ema_of_every_recorded_loss():
    trainer = _trainer(30)
    figure = live.series_figure(live.loss_chart(_recorders(trainer)))
    raw = _trace(figure, "each mini-batch")["y"]
    smooth = _trace(figure, "with batch norm")["y"]
    np.testing.assert_allclose(smooth, lab.ema(raw, viz.SMOOTHING), rtol=1e-5)


# --- the views -------------------------------------------------------------------------------


def _classic_against_live(view, kind, recorders, chart):
    """Assert the live chart has the classic figure's trace names and title; return the two
    sets of colours (classic, live)."""
    old = json.loads(viz.view_figure(view, recorders, 2, (0, 3)).to_json())
    new = chart.figure if kind is live.SnapshotChart else live.series_figure(chart)
    assert [t.get("name") for t in new["data"]] == [t.get("name") for t in old["data"]]
    assert new["layout"]["title"]["text"] == old["layout"]["title"]["text"]
    colours = [
        {
            (t.get("line") or t.get("marker", {}).get("line") or t.get("marker") or {}).get("color")
            for t in fig["data"]
        }
        for fig in (old, new)
    ]
    return tuple(colours)


@pytest.mark.parametrize(("view", "kind"), VIEWS)
def test_each_view_has_the_traces_names_and_colours_of_the_old_figure(view, kind):
    trainer = _trainer(40)
    recorders = _recorders(trainer)
    chart = live.view_chart(view, recorders, 2, (0, 3))
    assert isinstance(chart, kind)
    old_colors, new_colors = _classic_against_live(view, kind, recorders, chart)
    assert new_colors == old_colors


def test_network_colours_mean_batch_norm_on_or_off():
    recorders = _recorders(_trainer(20))
    colors = {
        t.style["line"]["color"]
        for t in live.loss_chart(recorders).traces
        if t.style.get("legendgroup")
    }
    assert colors == {BN_COLOR, PLAIN_COLOR}
    running = [
        t
        for t in live.minibatch_chart(recorders, 1, (0,)).traces
        if t.style["name"].startswith("running")
    ]
    assert running and {t.style["line"]["color"] for t in running} == {RUNNING_COLOR}


def test_a_different_layer_or_unit_choice_is_a_different_chart():
    recorders = _recorders(_trainer(20))
    ids = {
        live.minibatch_chart(recorders, 1, (0, 1)).id,
        live.minibatch_chart(recorders, 2, (0, 1)).id,
        live.minibatch_chart(recorders, 1, (0, 2)).id,
    }
    assert len(ids) == 3


def test_histogram_shares_sum_to_one_on_shared_bins():
    rng = np.random.default_rng(0)
    centers, shares = live.histogram_counts([rng.normal(size=500), rng.normal(3, 1, size=200)])
    assert centers.shape == (live.HIST_BINS,) and centers.dtype == np.float32
    assert [s.shape for s in shares] == [(live.HIST_BINS,)] * 2
    np.testing.assert_allclose([s.sum() for s in shares], 1, rtol=1e-5)
    assert np.all(np.diff(centers) > 0)
    centers, shares = live.histogram_counts([np.zeros(10)])  # one value: still a bin
    assert shares[0].sum() == pytest.approx(1)


def test_unknown_views_are_refused():
    with pytest.raises(ValueError, match="unknown view"):
        live.view_chart("nope", _recorders(_trainer(1)))


# --- on the wire -----------------------------------------------------------------------------


def test_encode_sends_arrays_as_plotly_typed_arrays():
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    wire = bn_live.encode({"z": a, "u": np.array([1, 2], dtype=np.uint8), "n": [np.int64(3)]})
    assert wire["z"]["dtype"] == "f4" and wire["z"]["shape"] == "2,3"
    back = np.frombuffer(base64.b64decode(wire["z"]["bdata"]), dtype=np.float32)
    assert back.tolist() == [0, 1, 2, 3, 4, 5]
    assert wire["u"]["dtype"] == "u1" and wire["n"] == [3]
    json.dumps(wire)


def test_one_tick_on_the_wire_is_small():
    trainer = _trainer(2000)
    chart = live.loss_chart(_recorders(trainer))
    trainer.step(10)
    chart = live.loss_chart(_recorders(trainer))
    tick = json.dumps(bn_live.encode(live.chart_message(chart, trainer.step_count, 2000)))
    assert len(tick) < 3_000  # ten steps of every line, not the history


def test_accuracy_is_a_small_chart_of_its_own_with_train_and_test():
    trainer = _trainer(30)
    chart = live.accuracy_chart(_recorders(trainer))
    names = [t.style["name"] for t in chart.traces]
    assert names == [
        "train, with batch norm",
        "test, with batch norm",
        "train, without normalization",
        "test, without normalization",
    ]
    figure = live.series_figure(chart)
    assert all(0 <= v <= 1 for t in figure["data"] for v in t["y"])
    assert "xaxis2" not in figure["layout"]  # one panel: appending redraws little


# --- layer norm ------------------------------------------------------------------------------

PAIR = lab.LabSettings(
    dataset="circles", n=160, hidden_layers=2, units=6, batch_size=4, seed=1, twin_norm="layer"
)  # batch norm, and a layer-norm twin
LAYER_ALONE = lab.LabSettings(
    dataset="circles",
    n=160,
    hidden_layers=2,
    units=6,
    batch_size=4,
    seed=1,
    batch_norm=False,
    layer_norm=True,
    twin=False,
)


def _styles(chart):
    return [t.style for t in chart.traces]


def test_layer_norms_column_shows_each_examples_statistics_honestly():
    trainer = _trainer(30, PAIR)
    recorders = _recorders(trainer)
    chart = live.minibatch_chart(recorders, 2, (0, 3))
    columns = [a["text"] for a in chart.layout["annotations"] if a.get("textangle") is None]
    assert columns == ["unit 1", "unit 4", viz.EXAMPLES_COLUMN]
    title = chart.layout["title"]["text"]
    assert "each example's own μ and σ over the layer's units" in title
    assert "no running averages" in title
    assert "per-example" in chart.label
    ln = [t for t in chart.traces if t.style["line"]["color"] == LN_COLOR]
    names = {t.style.get("name") for t in ln}
    assert {
        "lowest to highest example, with layer norm",
        "mean over the examples, with layer norm",
    } <= names
    assert len(ln) == 2 * 3  # mu and sigma rows: band top, band bottom (filled), mean
    assert sum(t.style.get("fill") == "tonexty" for t in ln) == 2
    assert {t.style["xaxis"] for t in ln} == {"x3", "x6"}  # the third column, both rows
    # batch norm's per-unit lines and running averages stay in the unit columns
    running = [t for t in chart.traces if t.style["line"]["color"] == RUNNING_COLOR]
    assert len(running) == 2 * 2 and all(
        t.style["xaxis"] in ("x", "x2", "x4", "x5") for t in running
    )
    # the values are the recorder's: mean, min, max of each example's mu over the units
    _, values = recorders[1].example_series("mu", 2)
    figure = live.series_figure(chart)
    by_name = {t.get("name"): t for t in figure["data"] if t["xaxis"] == "x3"}
    mean = by_name["mean over the examples, with layer norm"]
    low = by_name["lowest to highest example, with layer norm"]
    for trace in (mean, low):
        assert trace["x"].dtype == trace["y"].dtype == np.float32
        assert trace["x"].shape == trace["y"].shape == (30,)
    np.testing.assert_allclose(mean["y"], values[:, 0], rtol=1e-6)
    np.testing.assert_allclose(low["y"], values[:, 1], rtol=1e-6)
    assert np.all(values[:, 1] <= values[:, 0] + 1e-6) and np.all(
        values[:, 0] <= values[:, 2] + 1e-6
    )


def test_layer_norms_column_grows_by_increments_like_every_other_trace():
    trainer = _trainer(20, PAIR)
    trainer.step(7)
    chart = live.minibatch_chart(_recorders(trainer), 1, (0,))
    extend = live.chart_message(chart, trainer.step_count, after=20)["extend"]
    for style, x, y in zip(_styles(chart), extend["x"], extend["y"], strict=True):
        assert x.dtype == y.dtype == np.float32 and x.shape == y.shape
        if style["line"]["color"] == LN_COLOR:
            assert x.tolist() == list(range(21, 28))


def test_layer_norm_alone_has_no_unit_columns_and_no_running_averages():
    recorders = _recorders(_trainer(10, LAYER_ALONE))
    chart = live.minibatch_chart(recorders, 1, (0, 1, 2))
    columns = [a["text"] for a in chart.layout["annotations"] if a.get("textangle") is None]
    assert columns == [viz.EXAMPLES_COLUMN]
    assert {t.style["line"]["color"] for t in chart.traces} == {LN_COLOR}
    assert not any("running" in (t.style.get("name") or "") for t in chart.traces)


def test_every_chart_names_and_colours_networks_by_their_normalization():
    recorders = _recorders(_trainer(20, PAIR))
    loss = live.loss_chart(recorders)
    named = {
        t.style["name"]: t.style["line"]["color"]
        for t in loss.traces
        if t.style.get("showlegend", True)
    }
    assert named["with batch norm"] == BN_COLOR and named["with layer norm"] == LN_COLOR
    for view in ("over_time", "gradients"):
        colors = {t.style["line"]["color"] for t in live.view_chart(view, recorders).traces}
        assert LN_COLOR in colors and PLAIN_COLOR not in colors
    bars = live.histograms_chart(recorders).figure["data"]
    assert {t["marker"]["line"]["color"] for t in bars} == {BN_COLOR, LN_COLOR}
    assert {t["name"] for t in bars} == {"with batch norm", "with layer norm"}


def test_gamma_and_beta_of_both_normalizations_with_a_legend():
    recorders = _recorders(_trainer(20, PAIR))
    chart = live.gamma_beta_chart(recorders, 1, (2,))
    bold = [
        t.style
        for t in chart.traces
        if t.style["line"]["width"] == 2.5 and t.style.get("showlegend") is False
    ]
    assert {s["line"]["color"] for s in bold} == {BN_COLOR, LN_COLOR} and len(bold) == 4
    legend = [t.style["name"] for t in chart.traces if t.style.get("showlegend", True)]
    assert legend == ["with batch norm", "with layer norm"]
    ln_gamma = [
        t
        for t in chart.traces
        if t.style["line"]["color"] == LN_COLOR
        and t.style.get("xaxis") == "x"
        and t.style["line"]["width"] == 2.5
    ]
    _, gammas = recorders[1].unit_series("gamma", 1)
    np.testing.assert_allclose(ln_gamma[0].values, gammas[:, 2])
    one = live.gamma_beta_chart(recorders[1], 1)  # one recorder, as before
    # in full colour (3:1), the chosen units told by width
    assert {t.style["line"]["color"] for t in one.traces} == {LN_COLOR}
    assert {t.style["line"]["width"] for t in one.traces} == {1}
    plain = live.gamma_beta_chart(
        _recorders(_trainer(5, dataclasses.replace(SETTINGS, batch_norm=False))), 1
    )
    assert not plain.traces and "batch norm or layer norm" in plain.hint


@pytest.mark.parametrize(("view", "kind"), VIEWS)
def test_the_classic_figures_agree_with_the_live_charts_under_layer_norm(view, kind):
    recorders = _recorders(_trainer(30, PAIR))
    chart = live.view_chart(view, recorders, 2, (0, 3))
    old_colors, new_colors = _classic_against_live(view, kind, recorders, chart)
    assert new_colors == old_colors and LN_COLOR in new_colors
