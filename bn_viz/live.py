"""The Training Lab's live charts as data: what to draw once, and what is new since a step.

A live chart stays mounted in the browser while the network trains. When it is (re)built it
gets a whole `figure` (layout, styled traces and the recorded history); after that, each tick
sends only the points recorded after the last step the browser has (`after`), per trace, which
the browser appends with Plotly's extendTraces and plays back at an even pace. Charts that
are snapshots rather than series (the histograms of the latest mini-batch, the decision
regions) send a whole small figure when they change.

Everything here is pure: recorders in, dicts of float32 NumPy arrays and plain layout dicts
out (the page's component encodes them for the wire). Colours and names are those of
bn_viz.lab: a network is named and coloured by its normalization (theme.net_label and
theme.net_color: batch norm BN_COLOR, layer norm LN_COLOR, none PLAIN_COLOR), test curves
dashed, running averages RUNNING_COLOR.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bn_core.lessons.training_lab import ema
from bn_viz import describe
from bn_viz.lab import (
    GRADIENTS_GRID_TITLES,
    GRADIENTS_LEGEND,
    GRADIENTS_TITLE,
    SMOOTHING,
    STAGE_TITLES,
    VIEWS,
    _shape,
    gamma_beta_title,
    gradients_layout,
    minibatch_columns,
    minibatch_label,
    minibatch_series,
    minibatch_title,
    normalized,
)
from bn_viz.lab_layout import BOTTOM_LEGEND, BOTTOM_MARGIN, Grid, rgba
from bn_viz.theme import (
    GREY,
    LAYER_DASHES,
    RUNNING_COLOR,
    TEST_DASH,
    fit_titles,
    net_color,
    net_label,
    net_marker,
    template_json,
)

HIST_BINS = 30
# The theme's template, spelled out: Plotly.js knows no template by name.
TEMPLATE = template_json()
DARK_TEMPLATE = template_json(dark=True)  # what a page in the dark theme draws them in
NO_STEP = -1  # `after` for a chart built from scratch: every recorded point is new


@dataclass
class LiveTrace:
    """One line of a live chart: its Plotly style (no x or y) and the points it has so far.

    steps: (n,) the training steps; values: (n,) what the line shows at each."""

    style: dict
    steps: np.ndarray
    values: np.ndarray


@dataclass
class SeriesChart:
    """A chart of lines over the training steps: a layout and its traces, in order."""

    id: str
    label: str  # what the chart shows, in words (the chart's accessible name)
    layout: dict
    traces: list = field(default_factory=list)
    hint: str = ""  # shown over the chart while it has no points yet


@dataclass
class SnapshotChart:
    """A chart redrawn whole when it changes: a figure as a plain dict (data and layout)."""

    id: str
    label: str
    figure: dict
    hint: str = ""
    summary: str = ""  # the first sentence of its description (bn_viz.describe.chart_text)


def f32(values):
    return np.ascontiguousarray(values, dtype=np.float32)


# --- what the browser gets -------------------------------------------------------------------


def series_figure(chart):
    """The whole figure of a SeriesChart: {"data": traces with x, y as float32, "layout"}."""
    data = [{**t.style, "x": f32(t.steps), "y": f32(t.values)} for t in chart.traces]
    return {"data": data, "layout": chart.layout}


def series_since(chart, after, upto):
    """The points of each trace recorded after step `after`, up to step `upto` (the trainer's
    step count now): {"x": [...], "y": [...]}, one float32 array per trace in trace order
    (empty where nothing is new), and "last": upto."""
    xs, ys = [], []
    for t in chart.traces:
        steps = np.asarray(t.steps)
        new = (steps > after) & (steps <= upto)
        xs.append(f32(steps[new]))
        ys.append(f32(np.asarray(t.values)[new]))
    return {"x": xs, "y": ys, "last": int(upto)}


def _figure_layout(layout, title=None, height=320, legend=None, margin=None):
    full = {
        "height": height,
        "margin": margin or {"l": 50, "r": 20, "t": 60 if title else 30, "b": 40},
        "legend": legend or {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        "template": TEMPLATE,
        **layout,
    }
    if title:
        full["title"] = {"text": title}
    return full


def _hint(recorders, series, text):
    """`text` while no recorder has a point of `series` yet, else "" (no hint)."""
    return "" if any(getattr(r, series).n for r in recorders) else text


def _ids(recorders):
    return [(rec, net_color(rec.normalization), net_label(rec.normalization)) for rec in recorders]


def _marked(rec):
    """A network's main lines: lines with a few markers of its symbol (its second channel)."""
    return {"mode": "lines+markers", "marker": net_marker(rec.normalization)}


# --- 1. loss and accuracy --------------------------------------------------------------------


def loss_chart(recorders, smoothing=SMOOTHING, height=230):
    """The loss (log scale) against the step, for each network: every mini-batch's loss faint,
    its exponentially weighted average solid, the test loss (eval mode) dashed. A small figure
    of its own (accuracy_chart is the other), so that appending a step redraws little."""
    traces = []
    for rec, color, label in _ids(recorders):
        train, test = rec.train, rec.test
        smooth = ema(train.values[:, 0], smoothing)
        traces += [
            LiveTrace(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": "each mini-batch",
                    "line": {"color": color, "width": 0.8},
                    "legendgroup": label,
                    "showlegend": False,
                    "hoverinfo": "skip",
                },
                train.steps,
                train.values[:, 0],
            ),
            LiveTrace(
                {
                    "type": "scatter",
                    **_marked(rec),
                    "name": label,
                    "line": {"color": color, "width": 3},
                    "legendgroup": label,
                },
                train.steps,
                smooth,
            ),
            LiveTrace(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"test, {label}",
                    "legendgroup": label,
                    "showlegend": False,
                    "line": {"color": color, "width": 2, "dash": TEST_DASH},
                },
                test.steps,
                test.values[:, 0],
            ),
        ]
    traces.append(
        LiveTrace(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "test set, eval mode",
                "line": {"color": GREY, "width": 2, "dash": TEST_DASH},
            },
            np.array([np.nan]),
            np.array([np.nan]),
        )
    )  # a legend entry only
    layout = {
        "yaxis": {"type": "log", "tickformat": ".2g", "title": {"text": "loss (log)"}},
        "xaxis": {"showticklabels": False},
    }
    return SeriesChart(
        "loss",
        "Loss against the training step, for each network",
        _figure_layout(layout, height=height, margin={"l": 60, "r": 20, "t": 30, "b": 10}),
        traces,
        hint=_hint(
            recorders,
            "train",
            "Press ▶ Play, Step or Epoch to train: "
            "the loss and accuracy of every step appear here.",
        ),
    )


def accuracy_chart(recorders, smoothing=SMOOTHING, height=170):
    """Mini-batch accuracy (smoothed) and test accuracy (dashed) against the step."""
    traces = []
    for rec, color, label in _ids(recorders):
        train, test = rec.train, rec.test
        traces += [
            LiveTrace(
                {
                    "type": "scatter",
                    **_marked(rec),
                    "name": f"train, {label}",
                    "line": {"color": color, "width": 2.5},
                    "legendgroup": label,
                    "showlegend": False,
                },
                train.steps,
                ema(train.values[:, 1], smoothing),
            ),
            LiveTrace(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": f"test, {label}",
                    "legendgroup": label,
                    "showlegend": False,
                    "line": {"color": color, "width": 2, "dash": TEST_DASH},
                },
                test.steps,
                test.values[:, 1],
            ),
        ]
    layout = {
        "yaxis": {"range": [0, 1.02], "tickformat": ".0%", "title": {"text": "accuracy"}},
        "xaxis": {"title": {"text": "step"}},
        "showlegend": False,
    }
    return SeriesChart(
        "accuracy",
        "Accuracy against the training step, for each network",
        _figure_layout(layout, height=height, margin={"l": 60, "r": 20, "t": 5, "b": 40}),
        traces,
    )


# --- 2. distributions now (a snapshot) ---------------------------------------------------------


def histogram_counts(samples, bins=HIST_BINS):
    """Shared bins over every network's samples of one panel, and each one's share per bin.

    samples: [values (k,)] one per network. Returns (centers (bins,), [shares (bins,)]) float32,
    each share summing to 1 (the old charts' histnorm="probability")."""
    finite = [s[np.isfinite(s)] for s in samples]
    both = np.concatenate(finite) if finite else np.zeros(0)
    lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    shares = [np.histogram(s, edges)[0] / max(s.size, 1) for s in finite]
    return f32((edges[:-1] + edges[1:]) / 2), [f32(s) for s in shares]


def histograms_chart(recorders, stages=("Z", "Z_tilde", "A")):
    """Histograms of Z, Z_tilde and A of every hidden layer on the latest recorded mini-batch,
    one row per layer, both networks overlaid, as bars of counts on shared bins."""
    recorders = [r for r in recorders if r.samples]
    if not recorders:
        return SnapshotChart(
            "distributions",
            "Histograms of each hidden layer's values",
            {"data": [], "layout": _figure_layout({}, height=240)},
            hint="Train a few steps: the histograms of Z, Z̃ and A of each "
            "hidden layer appear here.",
        )
    n_hidden = len(recorders[0].layer_units.widths)
    grid = Grid(
        n_hidden,
        len(stages),
        column_titles=[STAGE_TITLES[s] for s in stages],
        row_titles=[f"layer {l}" for l in range(1, n_hidden + 1)],
        hspace=0.05,
        vspace=0.3 / n_hidden,
    )
    data = []
    panels = {}
    for l in range(1, n_hidden + 1):
        for stage in stages:
            panels[(l, stage)] = histogram_counts([r.samples[(l, stage)] for r in recorders])
    for i, (_, color, label) in enumerate(_ids(recorders)):
        for l in range(1, n_hidden + 1):
            for c, stage in enumerate(stages, start=1):
                centers, shares = panels[(l, stage)]
                data.append(
                    {
                        "type": "bar",
                        "x": centers,
                        "y": shares[i],
                        **grid.axes(l, c),
                        "name": label,
                        "legendgroup": label,
                        "marker": {
                            "color": rgba(color, 0.4),  # outlined: 3:1
                            "line": {"color": color, "width": 1},
                        },
                        "showlegend": l == 1 and c == 1,
                        "hovertemplate": "%{x:.3g}: %{y:.0%}<extra></extra>",
                    }
                )
    for axis in grid.every_yaxis():
        axis["showticklabels"] = False
    step = recorders[0].samples_step
    layout = _figure_layout(
        {**grid.layout, "barmode": "overlay", "bargap": 0},
        f"Each hidden layer's values on the mini-batch of step {step}",
        height=140 + 120 * n_hidden,
        legend=BOTTOM_LEGEND,
        margin=BOTTOM_MARGIN,
    )
    return SnapshotChart(
        "distributions",
        "Histograms of Z, Z̃ and A of each hidden layer on the latest mini-batch",
        {"data": data, "layout": layout},
    )


# --- 3. distributions over time --------------------------------------------------------------


def percentiles_chart(recorders):
    """The 15th, 50th and 85th percentiles of the watched unit's input to the activation over
    training, per hidden layer (Figure 1 of Ioffe & Szegedy 2015)."""
    n_hidden = len(recorders[0].layer_units.widths)
    n_rows, n_cols = _shape(n_hidden)
    grid = Grid(
        n_rows,
        n_cols,
        titles=[f"layer {l}" for l in range(1, n_hidden + 1)],
        vspace=0.35 / n_rows,
        hspace=0.06,
    )
    traces = []
    for rec, color, label in _ids(recorders):
        steps, values = rec.percentiles.steps, rec.percentiles.values  # (n, n_hidden, 3)
        for l in range(1, n_hidden + 1):
            axes = grid.axes((l - 1) // n_cols + 1, (l - 1) % n_cols + 1)
            first = l == 1
            traces += [
                LiveTrace(
                    {
                        "type": "scatter",
                        **axes,
                        "mode": "lines",
                        "line": {"width": 0, "color": color},
                        "legendgroup": label,
                        "showlegend": False,
                        "hoverinfo": "skip",
                    },
                    steps,
                    values[:, l - 1, 2],
                ),
                LiveTrace(
                    {
                        "type": "scatter",
                        **axes,
                        "mode": "lines",
                        "fill": "tonexty",
                        "fillcolor": rgba(color, 0.25),
                        "line": {"width": 0, "color": color},
                        "name": f"15th-85th percentile, {label}",
                        "legendgroup": label,
                        "showlegend": first,
                        "hoverinfo": "skip",
                    },
                    steps,
                    values[:, l - 1, 0],
                ),
                LiveTrace(
                    {
                        "type": "scatter",
                        **axes,
                        "mode": "lines",
                        "line": {"width": 2, "color": color},
                        "name": f"median, {label}",
                        "legendgroup": label,
                        "showlegend": first,
                    },
                    steps,
                    values[:, l - 1, 1],
                ),
            ]
    watch = recorders[0].watch_unit + 1
    layout = _figure_layout(
        grid.layout,
        f"Input to the activation of unit {watch} of each layer, over the training steps",
        height=160 + 200 * n_rows,
        legend=BOTTOM_LEGEND,
        margin=BOTTOM_MARGIN,
    )
    return SeriesChart(
        "over_time",
        "15th, 50th and 85th percentiles of each layer's input to the activation over training",
        layout,
        traces,
        hint=_hint(
            recorders,
            "percentiles",
            "Train a few steps: the percentiles appear here, step after step.",
        ),
    )


# --- 4. mini-batch statistics ----------------------------------------------------------------


def minibatch_chart(recorders, layer, units):
    """mu and sigma of Z on every mini-batch in one hidden layer (1-based).

    Batch norm's statistics, and the same per-unit statistics of a network without
    normalization, per chosen unit (0-based), batch norm's running averages (used at test time)
    drawn over them. Layer norm normalizes each example with its own mu and sigma over the
    layer's units and keeps no running averages: a column of its own shows, per step, their
    mean across the mini-batch (a line) and lowest to highest (a band)."""
    per_unit, per_example, units, grid = minibatch_columns(recorders, units)
    batch, running = [], []
    for rec, color, label in _ids(per_unit):
        fields = [
            ("mu", 1, batch, f"each mini-batch, {label}", color, 1.2),
            ("sigma", 2, batch, None, color, 1.2),
        ]
        if rec.normalization == "batch":
            fields += [
                (
                    "running_mu",
                    1,
                    running,
                    "running average (used at test time)",
                    RUNNING_COLOR,
                    2.5,
                ),
                ("running_sigma", 2, running, None, RUNNING_COLOR, 2.5),
            ]
        for name, row, into, legend, line_color, width in fields:
            steps, values = minibatch_series(rec, name, layer)
            group = legend or into[-1].style["legendgroup"]
            for c, u in enumerate(units, start=1):
                into.append(
                    LiveTrace(
                        {
                            "type": "scatter",
                            **grid.axes(row, c),
                            "mode": "lines",
                            "line": {"color": line_color, "width": width},
                            "name": group,
                            "legendgroup": group,
                            "showlegend": bool(legend) and c == 1,
                        },
                        steps,
                        values[:, u],
                    )
                )
    for rec, color, label in _ids(per_example):
        for row, name in enumerate(("mu", "sigma"), start=1):
            batch += _example_traces(
                rec, name, layer, grid.axes(row, len(units) + 1), color, label, row == 1
            )
    layout = _figure_layout(
        grid.layout,
        minibatch_title(layer, recorders),
        height=460,
        legend=BOTTOM_LEGEND,
        margin={
            **BOTTOM_MARGIN,
            "r": 40,
            "t": BOTTOM_MARGIN["t"] + 20 * minibatch_title(layer, recorders).count("<br>"),
        },
    )
    return SeriesChart(
        f"minibatch-{layer}-{'-'.join(map(str, units))}",
        minibatch_label(layer, recorders),
        layout,
        batch + running,
        hint=_hint(recorders, "units", "Train a few steps: each mini-batch's μ and σ appear here."),
    )


def _example_traces(rec, name, layer, axes, color, label, legend):
    """Layer norm's per-example "mu" or "sigma" in one panel: the band from the lowest to the
    highest example of each mini-batch (an invisible top edge, then the bottom filled up to it)
    and the mean over the examples as a line."""
    steps, values = rec.example_series(name, layer)  # (n, 3): mean, min, max
    band, mean = f"lowest to highest example, {label}", f"mean over the examples, {label}"
    return [
        LiveTrace(
            {
                "type": "scatter",
                **axes,
                "mode": "lines",
                "line": {"width": 0, "color": color},
                "legendgroup": band,
                "showlegend": False,
                "hoverinfo": "skip",
            },
            steps,
            values[:, 2],
        ),
        LiveTrace(
            {
                "type": "scatter",
                **axes,
                "mode": "lines",
                "fill": "tonexty",
                "fillcolor": rgba(color, 0.25),
                "line": {"width": 0, "color": color},
                "name": band,
                "legendgroup": band,
                "showlegend": legend,
                "hoverinfo": "skip",
            },
            steps,
            values[:, 1],
        ),
        LiveTrace(
            {
                "type": "scatter",
                **axes,
                "mode": "lines",
                "line": {"color": color, "width": 2},
                "name": mean,
                "legendgroup": mean,
                "showlegend": legend,
            },
            steps,
            values[:, 0],
        ),
    ]


# --- 5. gamma and beta -----------------------------------------------------------------------


def gamma_beta_chart(recorders, layer, highlight=()):
    """gamma and beta of every unit of one hidden layer over training, for each network with a
    normalization (batch or layer norm) among `recorders` (a list, or one Recorder); the
    `highlight` units (0-based) bold."""
    normed = normalized(recorders)
    grid = Grid(1, 2, titles=("γ (scale)", "β (shift)"), hspace=0.08)
    for axis in grid.every_xaxis():
        axis["title"] = {"text": "step"}
    if not normed:
        return SeriesChart(
            "gamma_beta",
            "γ and β (batch or layer norm only)",
            _figure_layout({}, height=240),
            [],
            hint="γ and β exist only with a normalization: choose batch norm or layer norm.",
        )
    highlight = set(highlight)
    traces = []
    for rec, color, label in _ids(normed):
        for c, name in enumerate(("gamma", "beta"), start=1):
            steps, values = rec.unit_series(name, layer)
            for u in sorted(range(values.shape[1]), key=lambda u: u in highlight):
                bold = u in highlight
                traces.append(
                    LiveTrace(
                        {
                            "type": "scatter",
                            **grid.axes(1, c),
                            "mode": "lines",
                            "name": f"unit {u + 1}",
                            "legendgroup": label,
                            "line": {"color": color, "width": 2.5 if bold else 1},
                            "showlegend": False,
                        },
                        steps,
                        values[:, u],
                    )
                )
    many = len(normed) > 1
    if many:  # legend entries only: which colour is which network
        traces += [
            LiveTrace(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": label,
                    "legendgroup": label,
                    "line": {"color": color, "width": 2.5},
                },
                np.array([np.nan]),
                np.array([np.nan]),
            )
            for _, color, label in _ids(normed)
        ]
    layout = _figure_layout(
        grid.layout,
        gamma_beta_title(layer),
        height=340 + 40 * many,
        **({"legend": BOTTOM_LEGEND, "margin": BOTTOM_MARGIN} if many else {}),
    )
    return SeriesChart(
        f"gamma_beta-{layer}-{'-'.join(map(str, sorted(highlight)))}",
        f"γ and β of every unit of hidden layer {layer} over training",
        layout,
        traces,
        hint=_hint(normed, "units", "Train a few steps: γ and β of every unit appear here."),
    )


# --- 6. gradients ----------------------------------------------------------------------------


def gradients_chart(recorders, smoothing=SMOOTHING):
    """Per layer: the gradient norm ||dW[l]|| and the update-to-data ratio, each smoothed,
    log scale; each layer its own dash."""
    grid = Grid(1, 2, titles=GRADIENTS_GRID_TITLES, hspace=0.12)
    traces = []
    for rec, color, label in _ids(recorders):
        for c, name in enumerate(("grad_norm", "update_ratio"), start=1):
            steps, raw = rec.layer_series(name)
            values = ema(raw, smoothing)
            L = values.shape[1]
            for l in range(1, L + 1):
                traces.append(
                    LiveTrace(
                        {
                            "type": "scatter",
                            **grid.axes(1, c),
                            "mode": "lines",
                            "name": f"layer {l}" + (" (output)" if l == L else ""),
                            "legendgroup": label,
                            "legendgrouptitle": {"text": label},
                            "showlegend": c == 1,
                            "line": {
                                "color": color,
                                "width": 1.5,
                                "dash": LAYER_DASHES[(l - 1) % len(LAYER_DASHES)],
                            },
                        },
                        steps,
                        values[:, l - 1],
                    )
                )
    return SeriesChart(
        "gradients",
        "Gradient norm and update-to-data ratio of each layer over training",
        _figure_layout(
            gradients_layout(grid), GRADIENTS_TITLE, height=380, legend=GRADIENTS_LEGEND
        ),
        traces,
        hint=_hint(
            recorders,
            "layers",
            "Train a few steps: each layer's gradient norm and update size appear here.",
        ),
    )


def view_chart(view, recorders, layer=1, units=(0, 1, 2)):
    """The live chart of one of bn_viz.lab.VIEWS (its key)."""
    if view == "distributions":
        return histograms_chart(recorders)
    if view == "over_time":
        return percentiles_chart(recorders)
    if view == "minibatch":
        return minibatch_chart(recorders, layer, units)
    if view == "gamma_beta":
        return gamma_beta_chart(recorders, layer, units)
    if view == "gradients":
        return gradients_chart(recorders)
    raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")


# --- one chart's message ---------------------------------------------------------------------


def chart_figure(chart):
    """A live chart's whole figure as a dict: {"data", "layout"}."""
    return series_figure(chart) if isinstance(chart, SeriesChart) else chart.figure


def _x_title(chart):
    return "step" if isinstance(chart, SeriesChart) else None


def chart_text(chart):
    """A live chart's accessible name (its label) and description (bn_viz.describe)."""
    return read(chart)[0]


def read(chart):
    """A live chart's (ChartText, [Table]) (bn_viz.describe.read)."""
    return describe.read(
        chart_figure(chart),
        name=chart.label,
        summary=getattr(chart, "summary", ""),
        x_title=_x_title(chart),
    )


def chart_message(chart, upto, after=NO_STEP, description=None):
    """What the browser needs for one chart, which then holds every point up to step `upto`
    (the trainer's step count): the whole figure when `after` is NO_STEP (a chart built from
    scratch), else only the points after step `after`. Snapshots are always whole.

    Returns {"id", "label", "hint", "last": upto} and either "figure" or "after" and "extend"
    (see series_since); and "description" when one is given (read's, for the screen reader)."""
    series = isinstance(chart, SeriesChart)
    message = {
        "id": chart.id,
        "label": chart.label,
        "hint": chart.hint,
        "last": int(upto),
        "series": series,
    }
    if series and after != NO_STEP:
        message["after"] = int(after)
        message["extend"] = series_since(chart, after, upto)
    else:
        figure = series_figure(chart) if series else chart.figure
        # titles wrapped for a narrow screen (a copy: the chart's own layout stays as built)
        message["figure"] = {**figure, "layout": fit_titles(dict(figure["layout"]))}
    if description:
        message["description"] = description
    return message
