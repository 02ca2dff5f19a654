"""The Training Lab's figures: traces per network in the theme's colours, float32 on the wire,
a message instead of an empty frame, and the lean subplot grid."""

import dataclasses
import json

import numpy as np
import plotly.io as pio
import pytest

from bn_core import training
from bn_core.lessons import training_lab as lab
from bn_viz import lab as viz
from bn_viz import lab_data
from bn_viz.lab_layout import Grid, thin, x_of
from bn_viz.theme import BN_COLOR, LN_COLOR, PLAIN_COLOR, RUNNING_COLOR
from tests.plotly_spec import decode

SETTINGS = lab.LabSettings(
    dataset="circles", n=160, hidden_layers=2, units=6, batch_size=16, seed=1
)


def _trainer(settings=SETTINGS, steps=40):
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


@pytest.fixture(scope="module")
def trainer():
    return _trainer()


@pytest.fixture(scope="module")
def recorders(trainer):
    return [run.recorder for run in trainer.runs]


def wire(fig):
    """The figure as the browser gets it (st.plotly_chart's serialization)."""
    return json.loads(pio.to_json(fig, validate=False))


def colors(fig):
    out = set()
    for trace in fig.data:
        for part in ("line", "marker"):
            color = getattr(getattr(trace, part, None), "color", None)
            if isinstance(color, str):
                out.add(color)
    return out


def is_message(fig):
    return not fig.data and any(a.text for a in fig.layout.annotations)


# --- the helpers -----------------------------------------------------------------------------


def test_thin_keeps_the_last_point_and_an_even_spacing():
    assert list(thin(5, 10)) == [0, 1, 2, 3, 4]
    idx = thin(1001, 100)
    assert len(idx) <= 100 and idx[-1] == 1000
    assert len(set(np.diff(idx))) == 1


def test_x_of_sends_evenly_spaced_steps_as_x0_dx():
    assert x_of(np.array([10, 20, 30])) == {"x0": 10, "dx": 10}
    uneven = x_of(np.array([1, 2, 4]))
    assert uneven["x"].dtype == np.int32


def test_grid_lays_out_axes_row_by_row():
    grid = Grid(2, 3, titles=list("abcdef"), shared_x=True)
    assert grid.axes(1, 1) == {"xaxis": "x", "yaxis": "y"}
    assert grid.axes(2, 3) == {"xaxis": "x6", "yaxis": "y6"}
    assert grid.layout["xaxis"]["matches"] == "x4"  # one x range per column
    assert grid.layout["xaxis4"]["domain"][0] == 0
    assert grid.layout["xaxis6"]["domain"][1] == pytest.approx(1)
    assert grid.layout["yaxis"]["domain"][1] == pytest.approx(1)
    assert [a["text"] for a in grid.layout["annotations"]] == list("abcdef")


# --- before training -------------------------------------------------------------------------


def test_an_untrained_lab_shows_messages_not_empty_frames():
    fresh = _trainer(steps=0)
    recs = [run.recorder for run in fresh.runs]
    assert is_message(viz.loss_figure(recs))
    for view in viz.VIEWS:
        assert is_message(viz.view_figure(view, recs)), view
    assert lab_data.data_figure(
        lab.data_panel(fresh)
    ).data  # the untrained network's regions still show


# --- 1. loss ---------------------------------------------------------------------------------


def test_loss_figure_has_train_and_test_for_both_networks(recorders):
    fig = viz.loss_figure(recorders)
    # per network: faint raw loss, smoothed loss, smoothed accuracy, test loss, test accuracy;
    # and one legend entry for the dashed test curves
    assert len(fig.data) == 2 * 5 + 1
    assert colors(fig) >= {BN_COLOR, PLAIN_COLOR}
    names = {t.name for t in fig.data if t.showlegend is not False}
    assert {"with batch norm", "without normalization", "test set, eval mode"} <= names
    dashed = [t for t in fig.data if t.line.dash == "dash" and t.x0 is not None]
    assert len(dashed) == 4
    assert fig.layout.yaxis.type == "log"


def test_loss_figure_sends_float32_and_its_last_point_is_the_last_step(recorders, trainer):
    spec = wire(viz.loss_figure(recorders))
    for trace in spec["data"]:
        if isinstance(trace.get("y"), dict):
            assert trace["y"]["dtype"] == "f4"
    raw = spec["data"][0]
    y = decode(raw["y"])
    assert raw["x0"] + raw["dx"] * (len(y) - 1) == trainer.step_count
    assert y[-1] == pytest.approx(recorders[0].train.values[-1, 0])


def test_smoothed_loss_is_the_ema_of_the_recorded_loss(recorders):
    fig = viz.loss_figure(recorders)
    smooth = next(t for t in fig.data if t.name == "with batch norm")
    expected = lab.ema(recorders[0].train.values[:, 0], viz.SMOOTHING)
    np.testing.assert_allclose(smooth.y, expected[thin(len(expected))], rtol=1e-6)


def test_without_the_twin_there_is_one_colour(recorders):
    fig = viz.loss_figure(recorders[:1])
    assert len(fig.data) == 5 + 1
    assert PLAIN_COLOR not in colors(fig)


# --- 2-6. the lower panels -------------------------------------------------------------------


def test_histograms_for_every_layer_and_stage_of_both_networks(recorders):
    fig = viz.histograms_figure(recorders)
    assert len(fig.data) == 2 * 2 * 3  # networks x hidden layers x (Z, Z_tilde, A)
    # bars outlined in the network's colour (3:1), filled with a tint of it
    assert {t.marker.line.color for t in fig.data} == {BN_COLOR, PLAIN_COLOR}
    assert all(t.type == "histogram" and t.x.dtype == np.float32 for t in fig.data)
    assert all(len(t.x) <= viz.MAX_SAMPLES for t in fig.data)
    # the BN network's Z_tilde of layer 1 is normalized over the mini-batch (gamma ~1, beta ~0)
    zt = recorders[0].samples[(1, "Z_tilde")]
    assert abs(zt.mean()) < 0.3 and 0.6 < zt.std() < 1.5


def test_percentile_bands_for_every_layer(recorders):
    fig = viz.percentiles_figure(recorders)
    assert len(fig.data) == 2 * 2 * 3  # networks x layers x (85th edge, 15th band, median)
    assert sum(t.fill == "tonexty" for t in fig.data) == 4
    medians = [t for t in fig.data if t.name and t.name.startswith("median")]
    assert {t.line.color for t in medians} == {BN_COLOR, PLAIN_COLOR}
    rec = recorders[0]
    np.testing.assert_allclose(medians[0].y[-1], rec.percentiles.values[-1, 0, 1])


def test_minibatch_stats_with_running_averages_on_top(recorders):
    units = (0, 2)
    fig = viz.minibatch_figure(recorders, layer=2, units=units)
    # mu, sigma per unit per network, plus the running mu, sigma of the batch-norm network
    assert len(fig.data) == 2 * 2 * 2 + 2 * 2
    running = [t for t in fig.data if t.line.color == RUNNING_COLOR]
    assert len(running) == 4 and fig.data[-1].line.color == RUNNING_COLOR
    _, values = recorders[0].unit_series("running_mu", 2)
    mu_unit_3 = next(t for t in running if t.xaxis == "x2" and t.yaxis == "y2")
    assert mu_unit_3.y[-1] == pytest.approx(values[-1, 2])


def test_gamma_beta_per_unit_with_the_chosen_ones_bold(recorders):
    fig = viz.gamma_beta_figure(recorders[0], layer=1, highlight=(1,))
    assert len(fig.data) == 2 * 6  # gamma and beta of 6 units
    bold = [t for t in fig.data if t.line.width == 2.5]
    assert len(bold) == 2 and all(t.line.color == BN_COLOR for t in bold)
    assert is_message(viz.gamma_beta_figure(recorders[1], layer=1))  # the twin has none


def test_gradients_per_layer_for_both_networks(recorders):
    fig = viz.gradients_figure(recorders)
    assert len(fig.data) == 2 * 2 * 3  # networks x (norm, ratio) x layers with weights
    assert all(ax.type == "log" for ax in (fig.layout.yaxis, fig.layout.yaxis2))
    assert fig.layout.shapes[0].y0 == viz.HEALTHY_RATIO


def test_view_figure_dispatches_and_refuses_unknown_views(recorders):
    for view in viz.VIEWS:
        assert viz.view_figure(view, recorders, 1, (0,)).data
    with pytest.raises(ValueError, match="unknown view"):
        viz.view_figure("loss", recorders)


# --- 7. data ---------------------------------------------------------------------------------


def test_boundary_figure_shows_regions_and_points_for_both_networks(trainer):
    fig = lab_data.data_figure(lab.data_panel(trainer))
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2
    assert heatmaps[0].z.dtype == np.uint8 and heatmaps[0].z.shape == (80, 80)
    points = [t for t in fig.data if t.type == "scatter"]
    assert len(points) == 2 * 2 * 2  # networks x classes x (train, test)
    n_shown = sum(len(t.x) for t in points)
    assert n_shown == 2 * (trainer.split.X_train.shape[1] + trainer.split.X_test.shape[1])
    assert not colors(fig) & {BN_COLOR, PLAIN_COLOR}  # class colours never mean a network
    titles = " ".join(a.text for a in fig.layout.annotations)
    assert "with batch norm" in titles and "without normalization" in titles


def test_boundary_figure_of_a_blown_up_network_says_so(trainer):
    maps = [(True, None), (False, None)]
    fig = lab_data.boundary_figure(maps, trainer.split)
    assert not [t for t in fig.data if t.type == "heatmap"]
    assert sum("blew up" in (a.text or "") for a in fig.layout.annotations) == 2


def test_digits_figure_marks_wrong_predictions_in_red():
    images = np.random.default_rng(0).random((10, 64))
    y = np.arange(10)
    preds = y.copy()
    preds[[2, 5]] = 0
    fig = lab_data.digits_figure(images, y, [(True, preds), (False, y)])
    assert [t.type for t in fig.data] == ["heatmap", "heatmap"]
    # a wrong guess says so in words and is framed: not told by colour alone
    wrong = [a for a in fig.layout.annotations if "(is " in (a.text or "")]
    assert len(wrong) == 2 and len(fig.layout.shapes) == 2
    assert {s.line.color for s in fig.layout.shapes} == {lab_data.WRONG_COLOR}
    titles = [a.text for a in fig.layout.annotations if "right" in (a.text or "")]
    assert "8 of 10 right" in titles[0] and "10 of 10 right" in titles[1]


def test_data_figure_for_digits_uses_the_raw_images():
    settings = dataclasses.replace(SETTINGS, dataset="digits", n=300, units=16)
    trainer = _trainer(settings, steps=20)
    images = lab.raw_test_inputs("digits", 300, 0.0, settings.test_fraction, settings.seed)
    fig = lab_data.data_figure(lab.data_panel(trainer, n_digits=16), images)
    tile = fig.data[0].z
    assert np.nanmin(tile) >= 0 and np.nanmax(tile) <= 1
    assert sum("right" in (a.text or "") for a in fig.layout.annotations) == 2


def test_mosaic_places_each_image_in_its_tile():
    images = np.arange(3 * 64, dtype=float).reshape(3, 64)
    tile = lab_data.mosaic(images, n_cols=2)
    gap = lab_data.ROW_GAP
    np.testing.assert_array_equal(tile[gap : gap + 8, :8], images[0].reshape(8, 8))
    np.testing.assert_array_equal(tile[gap : gap + 8, 9:17], images[1].reshape(8, 8))
    assert np.isnan(tile[0]).all()  # the label row above


# --- the size of one update ------------------------------------------------------------------


def test_one_update_stays_under_300_kb():
    trainer = _trainer(lab.LabSettings(), steps=3000)  # the page's defaults
    recs = [run.recorder for run in trainer.runs]
    figs = [viz.loss_figure(recs), lab_data.data_figure(lab.data_panel(trainer))]
    figs += [viz.view_figure(view, recs) for view in viz.VIEWS]
    total = sum(len(pio.to_json(fig, validate=False)) for fig in figs)
    assert total < 300_000


# --- layer norm ------------------------------------------------------------------------------

PAIR = dataclasses.replace(SETTINGS, batch_size=4, twin_norm="layer")  # a layer-norm twin


@pytest.fixture(scope="module")
def pair():
    return _trainer(PAIR, steps=30)


def test_decision_regions_are_titled_and_coloured_by_normalization(pair):
    panel = lab.data_panel(pair, res=20)
    assert [norm for norm, _ in panel.maps] == ["batch", "layer"]
    fig = lab_data.data_figure(panel)
    titles = [a.text for a in fig.layout.annotations if "with" in (a.text or "")]
    # a swatch of the network's colour, its name in the text colour
    assert f"color:{BN_COLOR}'>■</span> <b>with batch norm" in titles[0]
    assert f"color:{LN_COLOR}'>■</span> <b>with layer norm" in titles[1]
    assert not colors(fig) & {BN_COLOR, LN_COLOR, PLAIN_COLOR}  # nor cyan for a class
    assert LN_COLOR not in lab_data.CLASS_PALETTE


def test_digits_predictions_are_titled_by_normalization():
    images = np.random.default_rng(0).random((4, 64))
    fig = lab_data.digits_figure(
        images, np.arange(4), [("layer", np.arange(4)), (None, np.arange(4))]
    )
    titles = [a.text for a in fig.layout.annotations if "right" in (a.text or "")]
    assert "with layer norm" in titles[0] and LN_COLOR in titles[0]
    assert "without normalization" in titles[1] and PLAIN_COLOR in titles[1]


def test_classic_minibatch_figure_gives_layer_norm_its_per_example_column(pair):
    recorders = [run.recorder for run in pair.runs]
    fig = viz.minibatch_figure(recorders, layer=1, units=(0,))
    columns = [a.text for a in fig.layout.annotations if a.textangle is None]
    assert columns == ["unit 1", viz.EXAMPLES_COLUMN]
    ln = [t for t in fig.data if t.line.color == LN_COLOR]
    assert len(ln) == 6 and {t.xaxis for t in ln} == {"x2", "x4"}
    assert "no running averages" in fig.layout.title.text
    _, values = recorders[1].example_series("sigma", 1)
    mean = next(
        t for t in ln if t.name == "mean over the examples, with layer norm" and t.xaxis == "x4"
    )
    np.testing.assert_allclose(mean.y, values[thin(len(values), viz.MANY_LINES_POINTS), 0])


def test_classic_gamma_beta_figure_draws_both_normalizations(pair):
    recorders = [run.recorder for run in pair.runs]
    fig = viz.gamma_beta_figure(recorders, layer=1, highlight=(0,))
    assert colors(fig) >= {BN_COLOR, LN_COLOR}
    assert [t.name for t in fig.data if t.showlegend is not False] == [
        "with batch norm",
        "with layer norm",
    ]
    plain = _trainer(dataclasses.replace(SETTINGS, batch_norm=False), steps=3)
    message = viz.gamma_beta_figure([run.recorder for run in plain.runs], layer=1)
    assert is_message(message) and "batch norm or layer norm" in message.layout.annotations[0].text


def test_at_batch_size_2_the_running_sigma_is_drawn_like_the_mini_batch_sigmas():
    """A mini-batch's σ is the biased one; the running variance averages the unbiased
    var·m/(m−1). At m = 2 its square root sat √2 above the σ's it came from; drawn on the
    mini-batch σ's scale (×√((m−1)/m)) it is their running average again, in the classic
    figure and the live chart alike, and the title says so."""
    from bn_viz import live

    trainer = _trainer(dataclasses.replace(SETTINGS, batch_size=2), steps=400)
    recorders = [run.recorder for run in trainer.runs]
    fig = viz.minibatch_figure(recorders, layer=1, units=(0,))
    sigma_row = [t for t in fig.data if t.yaxis == "y2"]
    running = next(t for t in sigma_row if t.line.color == RUNNING_COLOR)
    batch = next(t for t in sigma_row if t.line.color == BN_COLOR)
    drawn, sigmas = np.asarray(running.y, float), np.asarray(batch.y, float)
    _, recorded = recorders[0].unit_series("running_sigma", 1)
    np.testing.assert_allclose(
        drawn, recorded[thin(len(recorded), 400), 0] * np.sqrt(0.5), rtol=1e-6
    )
    window = slice(-300, None)
    like = np.mean(drawn[window] ** 2) / np.mean(sigmas[window] ** 2)
    unlike = np.mean(recorded[-300:, 0] ** 2) / np.mean(sigmas[window] ** 2)
    assert 0.75 < like < 1.33 and unlike > 1.6  # before: about 2 (√2 on the σ scale)
    assert "(m = 2)" in fig.layout.title.text and "1.41×" in fig.layout.title.text
    chart = live.minibatch_chart(recorders, 1, (0,))
    live_running = next(
        t
        for t in chart.traces
        if t.style["name"].startswith("running") and t.style["yaxis"] == "y2"
    )
    np.testing.assert_allclose(
        np.asarray(live_running.values, float)[thin(len(recorded), 400)], drawn, rtol=1e-6
    )
    assert chart.layout["title"]["text"] == fig.layout.title.text
