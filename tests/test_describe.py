"""Charts in words and tables (bn_viz.describe): the accessible name, the description with the
chart's current numbers, and the tables, all read from the figure itself."""

import base64

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.subplots import make_subplots

from bn_core import training
from bn_core.lessons import training_lab as lab
from bn_viz import describe, live


def line_figure(n=5, title="Loss"):
    x = np.arange(1, n + 1)
    fig = go.Figure(
        [
            go.Scatter(x=x, y=1.0 / x, mode="lines", name="with batch norm"),
            go.Scatter(x=x, y=2.0 / x, mode="lines", name="without batch norm"),
        ]
    )
    fig.update_layout(title=title, xaxis_title="step", yaxis_title="loss")
    return fig


def test_the_name_is_the_title_in_words():
    fig = line_figure(title="Loss <b>over</b> time<br><sup>log scale</sup> &amp; more")
    assert describe.chart_text(fig).name == "Loss over time log scale & more"


def test_without_a_title_the_name_comes_from_subplot_titles_then_axes():
    fig = make_subplots(1, 2, subplot_titles=("Raw", "Normalized"))
    fig.add_scatter(x=[0, 1], y=[0, 1], row=1, col=1)
    fig.add_scatter(x=[0, 1], y=[1, 0], row=1, col=2)
    assert describe.chart_text(fig).name == "Raw; Normalized"
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    fig.update_layout(xaxis_title="step", yaxis_title="loss")
    assert describe.chart_text(fig).name == "loss against step"
    assert describe.chart_text(fig, name="Mine").name == "Mine"


def test_a_line_is_described_by_its_ends_and_its_range():
    text = describe.chart_text(line_figure()).description
    assert "with batch norm: from 1 at step 1 to 0.2 at 5 (lowest 0.2, highest 1)" in text
    assert "without batch norm: from 2 at step 1 to 0.4 at 5" in text


def test_the_summary_comes_first():
    text = describe.chart_text(line_figure(), summary="Loss after 5 steps: 0.2").description
    assert text.startswith("Loss after 5 steps: 0.2. with batch norm")


def test_each_series_is_named_under_its_subplot_title():
    fig = make_subplots(1, 2, subplot_titles=("Raw", "Normalized"))
    fig.add_scatter(x=[0, 1, 2], y=[3, 4, 5], mode="markers", name="points", row=1, col=1)
    fig.add_histogram(x=[1.0, 2.0, 3.0, 4.0], name="values", row=1, col=2)
    text = describe.chart_text(fig).description
    assert "Raw: points: 3 points, x from 0 to 2, y from 3 to 5" in text
    assert "Normalized: values: 4 values, mean 2.5, standard deviation 1.12, from 1 to 4" in text


def test_legend_entries_and_background_lines_are_not_read():
    fig = line_figure()
    fig.add_scatter(x=[np.nan], y=[np.nan], name="legend only")  # a legend entry
    fig.add_scatter(x=[1, 2], y=[5, 6], name="faint", hoverinfo="skip")  # a background line
    fig.add_scatter(x=[1, 2], y=[5, 6], mode="markers", name="dots", hoverinfo="skip")
    text = describe.chart_text(fig).description
    assert "legend only" not in text and "faint" not in text
    assert "dots: 2 points" in text  # points drawn without hover are still data


def test_a_name_used_twice_on_one_panel_takes_its_group():
    fig = go.Figure(
        [
            go.Scatter(x=[1, 2], y=[1, 2], name="test", legendgroup="with batch norm"),
            go.Scatter(x=[1, 2], y=[3, 4], name="test", legendgroup="without"),
        ]
    )
    text = describe.chart_text(fig).description
    assert "with batch norm, test: from 1" in text and "without, test: from 3" in text


def test_the_description_names_at_most_so_many_series():
    fig = go.Figure([go.Scatter(x=[0, 1], y=[i, i + 1], name=f"s{i}") for i in range(14)])
    text = describe.chart_text(fig).description
    assert "s9:" in text and "s10:" not in text
    assert "and 4 more series, in the tables" in text


def test_grids_bars_and_single_points_are_described():
    fig = go.Figure(
        [
            go.Heatmap(z=[[0, 1, 2], [3, 4, 5]], name="Z"),
            go.Bar(x=["a", "b"], y=[0.25, 0.75], name="shares"),
            go.Scatter(x=[2.0], y=[3.0], mode="markers", name="μ"),
        ]
    )
    text = describe.chart_text(fig).description
    assert "Z: a 2 by 3 grid of values from 0 to 5" in text
    assert "shares: a: 0.25, b: 0.75" in text
    assert "μ: at x 2, y 3" in text


def test_an_empty_figure_says_so():
    assert describe.chart_text(go.Figure()).description == "Nothing drawn yet."


def test_numbers_read_like_numbers():
    assert [describe._num(v) for v in (0, 0.000123, -2.5, 1234567, np.nan, np.inf)] == [
        "0",
        "1.23e−04",
        "−2.5",
        "1.23e+06",
        "not a number",
        "∞",
    ]


def test_plotly_typed_arrays_are_read():
    y = np.array([1.0, 0.5], dtype=np.float32)
    trace = {
        "type": "scatter",
        "mode": "lines",
        "name": "loss",
        "x": [0, 1],
        "y": {"dtype": "f4", "bdata": base64.b64encode(y.tobytes()).decode()},
    }
    text = describe.chart_text({"data": [trace], "layout": {}}).description
    assert "loss: from 1 at x 0 to 0.5 at 1" in text


# --- tables ---------------------------------------------------------------------------------


def test_lines_sharing_x_make_one_table_with_a_column_each():
    (table,) = describe.chart_tables(line_figure())
    assert list(table.columns) == ["step", "with batch norm", "without batch norm"]
    assert table.columns["step"] == [1, 2, 3, 4, 5]
    assert table.columns["with batch norm"] == [1.0, 0.5, 0.3333, 0.25, 0.2]


def test_long_lines_are_cut_to_evenly_spread_rows_ending_on_the_last():
    (table,) = describe.chart_tables(line_figure(n=1000))
    steps = table.columns["step"]
    assert len(steps) == describe.TABLE_ROWS and steps[0] == 1 and steps[-1] == 1000
    assert "40 of 1000 rows, evenly spread" in table.caption


def test_lines_with_different_x_make_separate_tables():
    fig = go.Figure(
        [
            go.Scatter(x=[1, 2, 3], y=[1, 2, 3], name="train"),
            go.Scatter(x=[0, 3], y=[1, 1], name="test"),
        ]
    )
    assert [list(t.columns) for t in describe.chart_tables(fig)] == [["x", "train"], ["x", "test"]]


def test_histograms_become_counts_in_shared_bins():
    rng = np.random.default_rng(0)
    fig = go.Figure(
        [
            go.Histogram(x=rng.normal(size=300), name="with"),
            go.Histogram(x=rng.normal(size=200), name="without"),
        ]
    )
    (table,) = describe.chart_tables(fig)
    assert len(table.columns["from"]) == describe.HIST_TABLE_BINS
    assert sum(table.columns["with (count)"]) == 300
    assert sum(table.columns["without (count)"]) == 200


def test_shadings_are_left_to_the_description():
    fig = go.Figure([go.Heatmap(z=np.zeros((50, 50)))])
    assert describe.chart_tables(fig) == []


# --- the live charts -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained():
    settings = lab.LabSettings(dataset="moons", n=160, hidden_layers=2, units=6, seed=1)
    split = training.make_split(
        settings.dataset,
        n=settings.n,
        noise=settings.noise,
        test_fraction=settings.test_fraction,
        seed=settings.seed,
    )
    trainer = lab.make_trainer(settings, split)
    trainer.step(30)
    return trainer


def test_a_live_charts_description_holds_each_networks_latest_loss(trained):
    recorders = [run.recorder for run in trained.runs]
    text = live.chart_text(live.loss_chart(recorders))
    assert text.name == "Loss against the training step, for each network"
    for rec in recorders:
        loss = rec.test.values[-1, 0]
        assert f"to {describe._num(loss)} at {rec.test.steps[-1]}" in text.description
    assert "at step 1" in text.description  # the live chart's untitled x axis is the step


def test_a_live_charts_tables_hold_its_steps(trained):
    recorders = [run.recorder for run in trained.runs]
    _, tables = live.read(live.loss_chart(recorders))
    assert tables and all("step" in t.columns for t in tables)
    assert tables[0].columns["step"][-1] == trained.step_count
