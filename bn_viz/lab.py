"""Figures of the Training Lab: what a network (and its twin) did while it trained, from their
Recorders.

Every builder takes the recorders to draw, main network first. A network is named and coloured
by its normalization (theme.net_label, theme.net_color: batch norm BN_COLOR, layer norm
LN_COLOR, none PLAIN_COLOR); test curves are dashed; the running averages that test time uses
(batch norm only) are RUNNING_COLOR. Series are thinned to a few hundred
points and sent as float32, so one live update stays small (bn_viz.lab_layout). The decision
boundary and the digits grid are in bn_viz.lab_data.
"""

from __future__ import annotations

import math

from bn_core.lessons.training_lab import ema
from bn_viz.lab_layout import (
    BOTTOM_LEGEND,
    BOTTOM_MARGIN,
    Grid,
    figure,
    histogram,
    rgba,
    scatter,
    thin,
    x_of,
)
from bn_viz.theme import (
    GREY,
    LAYER_DASHES,
    MUTED_TEXT,
    RUNNING_COLOR,
    TEST_DASH,
    empty_figure,
    f32,
    net_color,
    net_label,
    net_marker,
)

MAX_SAMPLES = 400  # values per histogram
MANY_LINES_POINTS = 200  # points per line when a chart has many lines
SMOOTHING = 0.9  # weight of the exponentially weighted average drawn over the train loss
STAGE_TITLES = {
    "Z": "Z = W a (+ b)",
    "Z_tilde": "Z̃ = γ Z_norm + β, the input to g",
    "A": "A = g(Z̃)",
}
HEALTHY_RATIO = 1e-3  # a common rule of thumb for the update-to-data ratio
EXAMPLES_COLUMN = "each example, over the units"  # layer norm's column of mini-batch statistics


def _no_data(recorders):
    return not recorders or all(r.train.n == 0 for r in recorders)


def _legend_ids(recorders):
    return [(rec, net_color(rec.normalization), net_label(rec.normalization)) for rec in recorders]


def normalized(recorders):
    """The recorders (a list, or one Recorder) of networks with a normalization."""
    if not isinstance(recorders, list | tuple):
        recorders = [recorders]
    return [r for r in recorders if r.normalization]


# --- 1. loss and accuracy --------------------------------------------------------------------


def loss_figure(recorders, smoothing=SMOOTHING, height=360):
    """Loss (log scale) above accuracy, against the step, for each network.

    Train: every mini-batch's loss faint, its exponentially weighted average solid. Test (eval
    mode, running averages): dashed. Accuracy: smoothed mini-batch accuracy and test accuracy.
    """
    if _no_data(recorders):
        return empty_figure(
            "Press ▶ Play, Step or Epoch to train:<br>the loss and accuracy of "
            "every step appear here.",
            height=height,
        )
    grid = Grid(2, 1, shared_x=True, vspace=0.08)
    top, bottom = grid.axes(1, 1), grid.axes(2, 1)
    traces = []
    for rec, color, label in _legend_ids(recorders):
        train, test = rec.train, rec.test
        smooth = ema(train.values, smoothing)
        idx = thin(train.n)
        x = x_of(train.steps[idx])
        traces += [
            scatter(
                **x,
                **top,
                y=f32(train.values[idx, 0]),
                mode="lines",
                name="each mini-batch",
                line={"color": color, "width": 0.8},
                legendgroup=label,
                showlegend=False,
                hoverinfo="skip",
            ),
            scatter(
                **x,
                **top,
                y=f32(smooth[idx, 0]),
                mode="lines+markers",
                name=label,
                marker=net_marker(rec.normalization),
                line={"color": color, "width": 3},
                legendgroup=label,
            ),
            scatter(
                **x,
                **bottom,
                y=f32(smooth[idx, 1]),
                mode="lines+markers",
                marker=net_marker(rec.normalization),
                name=f"train, {label}",
                line={"color": color, "width": 2.5},
                legendgroup=label,
                showlegend=False,
            ),
        ]
        if test.n:
            tidx = thin(test.n)
            tx = x_of(test.steps[tidx])
            dashed = {"color": color, "width": 2, "dash": TEST_DASH}
            mode = "lines" if test.n > 2 else "lines+markers"  # a lone point shows too
            traces += [
                scatter(
                    **tx,
                    **top,
                    y=f32(test.values[tidx, 0]),
                    mode=mode,
                    name=f"test, {label}",
                    legendgroup=label,
                    line=dashed,
                    showlegend=False,
                ),
                scatter(
                    **tx,
                    **bottom,
                    y=f32(test.values[tidx, 1]),
                    mode=mode,
                    name=f"test, {label}",
                    legendgroup=label,
                    showlegend=False,
                    line=dashed,
                ),
            ]
    traces.append(
        scatter(
            x=[None],
            y=[None],
            **top,
            mode="lines",
            name="test set, eval mode",
            line={"color": GREY, "width": 2, "dash": TEST_DASH},
        )
    )
    grid.yaxis(1, 1).update(type="log", tickformat=".2g", title={"text": "loss (log scale)"})
    grid.yaxis(2, 1).update(range=[0, 1.02], tickformat=".0%", title={"text": "accuracy"})
    grid.xaxis(2, 1).update(title={"text": "step"})
    return figure(traces, grid.layout, height=height)


# --- 2. distributions now --------------------------------------------------------------------


def histograms_figure(recorders, max_samples=MAX_SAMPLES, stages=("Z", "Z_tilde", "A")):
    """Histograms of Z, Z_tilde and A of every hidden layer on the latest recorded mini-batch,
    one row per layer, both networks overlaid."""
    recorders = [r for r in recorders if r.samples]
    if not recorders:
        return empty_figure(
            "Train a few steps: the histograms of Z, Z̃ and A<br>of each hidden layer appear here."
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
    traces = []
    for rec, color, label in _legend_ids(recorders):
        for l in range(1, n_hidden + 1):
            for c, stage in enumerate(stages, start=1):
                values = rec.samples[(l, stage)]
                values = values[thin(values.size, max_samples)]
                traces.append(
                    histogram(
                        x=f32(values),
                        **grid.axes(l, c),
                        name=label,
                        legendgroup=label,
                        nbinsx=30,
                        bingroup=f"{l},{c}",
                        histnorm="probability",
                        marker={"color": rgba(color, 0.4), "line": {"color": color, "width": 1}},
                        showlegend=l == 1 and c == 1,
                        hovertemplate="%{x}: %{y:.0%}<extra></extra>",
                    )
                )
    for axis in grid.every_yaxis():
        axis["showticklabels"] = False
    step = recorders[0].samples_step
    return figure(
        traces,
        {**grid.layout, "barmode": "overlay"},
        f"Each hidden layer's values on the mini-batch of step {step}",
        height=140 + 120 * n_hidden,
        legend=BOTTOM_LEGEND,
        margin=BOTTOM_MARGIN,
    )


# --- 3. distributions over time --------------------------------------------------------------


def _shape(n):
    """(rows, cols) for n panels, at most 3 a row."""
    cols = min(n, 3)
    return -(-n // cols), cols


def percentiles_figure(recorders, watch_unit=0):
    """The 15th, 50th and 85th percentiles of one unit's input to the activation (Z_tilde, or Z
    without batch norm) over training, per hidden layer: Figure 1 of Ioffe & Szegedy (2015)."""
    recorders = [r for r in recorders if r.percentiles.n]
    if not recorders:
        return empty_figure(
            "Train a few steps: the 15th/50th/85th percentiles<br>of each layer's "
            "activation input appear here, step after step."
        )
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
    for rec, color, label in _legend_ids(recorders):
        idx = thin(rec.percentiles.n, MANY_LINES_POINTS)
        x = x_of(rec.percentiles.steps[idx])
        values = rec.percentiles.values[idx]  # (n, n_hidden, 3)
        for l in range(1, n_hidden + 1):
            axes = grid.axes((l - 1) // n_cols + 1, (l - 1) % n_cols + 1)
            p15, p50, p85 = (f32(values[:, l - 1, k]) for k in range(3))
            first = l == 1
            traces += [
                scatter(
                    **x,
                    **axes,
                    y=p85,
                    mode="lines",
                    line={"width": 0, "color": color},
                    legendgroup=label,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                scatter(
                    **x,
                    **axes,
                    y=p15,
                    mode="lines",
                    fill="tonexty",
                    fillcolor=rgba(color, 0.25),
                    line={"width": 0, "color": color},
                    name=f"15th-85th percentile, {label}",
                    legendgroup=label,
                    showlegend=first,
                    hoverinfo="skip",
                ),
                scatter(
                    **x,
                    **axes,
                    y=p50,
                    mode="lines",
                    line={"width": 2, "color": color},
                    name=f"median, {label}",
                    legendgroup=label,
                    showlegend=first,
                ),
            ]
    return figure(
        traces,
        grid.layout,
        f"Input to the activation of unit {watch_unit + 1} of each layer, over the training steps",
        height=160 + 200 * n_rows,
        legend=BOTTOM_LEGEND,
        margin=BOTTOM_MARGIN,
    )


# --- 4. mini-batch statistics ----------------------------------------------------------------


def minibatch_title(layer, recorders):
    """The mini-batch chart's title; with batch norm, a line on the running σ's scale; with
    layer norm, a line on what its column shows."""
    title = f"Hidden layer {layer}: mean and spread of Z on every mini-batch, step after step"
    m = next((r.batch_size for r in recorders if r.normalization == "batch"), None)
    if m:
        title += (
            f"<br><sup>black σ: √(running σ² × (m−1)/m), on the mini-batch σ's scale (m "
            f"= {m}); test time divides by √(running σ² + ε), {(m / (m - 1)) ** 0.5:.2f}"
            "× higher</sup>"
        )
    if any(r.normalization == "layer" for r in recorders):
        title += (
            "<br><sup>layer norm: each example's own μ and σ over the layer's units, their "
            "mean (line) and range (band) across the mini-batch; no running averages, "
            "as test time needs none</sup>"
        )
    return title


def minibatch_label(layer, recorders):
    """The mini-batch chart in words (its accessible name)."""
    norms = {r.normalization for r in recorders}
    return (
        f"Mini-batch mean and standard deviation of Z in hidden layer {layer}"
        + (", with the running averages" if "batch" in norms else "")
        + (", and layer norm's per-example mean and standard deviation" if "layer" in norms else "")
    )


def gamma_beta_title(layer):
    return f"Layer {layer}: γ and β of every unit, learned like W (bold: the units chosen above)"


def minibatch_series(rec, name, layer):
    """(steps, values (n, n_l)) of one of the mini-batch view's per-unit fields ("mu", "sigma",
    "running_mu", "running_sigma") in hidden layer `layer`, for the classic figure and the
    live chart alike. A mini-batch's σ is the biased one (what training divides by), the
    running variance averages the unbiased one: the running σ is drawn on the mini-batch σ's
    scale (Recorder.running_sigma_on_batch_scale), like against like."""
    if name == "running_sigma":
        return rec.running_sigma_on_batch_scale(layer)
    return rec.unit_series(name, layer)


def minibatch_columns(recorders, units):
    """The mini-batch view's columns, shared by the classic figure and the live chart: the
    recorders drawn per unit (batch norm, none) and per example (layer norm), the units shown
    (0-based; at least one when a recorder is drawn per unit) and the 2-row Grid (μ, σ of Z),
    one column per unit then one for layer norm's examples."""
    per_unit = [r for r in recorders if r.normalization != "layer"]
    per_example = [r for r in recorders if r.normalization == "layer"]
    units = (list(units) or [0]) if per_unit else []
    titles = [f"unit {u + 1}" for u in units] + ([EXAMPLES_COLUMN] if per_example else [])
    grid = Grid(
        2,
        len(titles),
        column_titles=titles,
        row_titles=["μ of Z", "σ of Z"],
        shared_x=True,
        hspace=0.05,
        vspace=0.1,
    )
    return per_unit, per_example, units, grid


def minibatch_figure(recorders, layer, units):
    """mu and sigma of Z on every mini-batch in one hidden layer, as bn_viz.live's
    minibatch_chart draws them: per chosen unit for batch norm (with the running averages that
    test time uses drawn over them) and without normalization; for layer norm, which
    normalizes each example over its own units, a column of each example's mu and sigma
    (their mean across the mini-batch, and lowest to highest).

    layer: 1-based; units: 0-based unit indices (a few)."""
    if _no_data(recorders):
        return empty_figure("Train a few steps: each mini-batch's μ and σ appear here.")
    per_unit, per_example, units, grid = minibatch_columns(recorders, units)
    batch_traces, running_traces = [], []
    for rec, color, label in _legend_ids(per_unit):
        idx = thin(rec.units.n, MANY_LINES_POINTS * 2 // len(units))
        x = x_of(rec.units.steps[idx])
        fields = [
            ("mu", 1, batch_traces, f"each mini-batch, {label}", color, 1.2),
            ("sigma", 2, batch_traces, None, color, 1.2),
        ]
        if rec.normalization == "batch":
            fields += [
                (
                    "running_mu",
                    1,
                    running_traces,
                    "running average (used at test time)",
                    RUNNING_COLOR,
                    2.5,
                ),
                ("running_sigma", 2, running_traces, None, RUNNING_COLOR, 2.5),
            ]
        for field, row, into, name, line_color, width in fields:
            values = minibatch_series(rec, field, layer)[1][idx]
            group = name or into[-1]["legendgroup"]
            for c, u in enumerate(units, start=1):
                into.append(
                    scatter(
                        **x,
                        **grid.axes(row, c),
                        y=f32(values[:, u]),
                        mode="lines",
                        line={"color": line_color, "width": width},
                        name=group,
                        legendgroup=group,
                        showlegend=bool(name) and c == 1,
                    )
                )
    for rec, color, label in _legend_ids(per_example):
        idx = thin(rec.examples.n, MANY_LINES_POINTS)
        x = x_of(rec.examples.steps[idx])
        band, mean = f"lowest to highest example, {label}", f"mean over the examples, {label}"
        for row, field in enumerate(("mu", "sigma"), start=1):
            values = rec.example_series(field, layer)[1][idx]  # mean, min, max
            axes = grid.axes(row, len(units) + 1)
            batch_traces += [
                scatter(
                    **x,
                    **axes,
                    y=f32(values[:, 2]),
                    mode="lines",
                    line={"width": 0, "color": color},
                    legendgroup=band,
                    showlegend=False,
                    hoverinfo="skip",
                ),
                scatter(
                    **x,
                    **axes,
                    y=f32(values[:, 1]),
                    mode="lines",
                    fill="tonexty",
                    fillcolor=rgba(color, 0.25),
                    line={"width": 0, "color": color},
                    name=band,
                    legendgroup=band,
                    showlegend=row == 1,
                    hoverinfo="skip",
                ),
                scatter(
                    **x,
                    **axes,
                    y=f32(values[:, 0]),
                    mode="lines",
                    line={"color": color, "width": 2},
                    name=mean,
                    legendgroup=mean,
                    showlegend=row == 1,
                ),
            ]
    # the running averages go on top of the noisy mini-batch values
    return figure(
        batch_traces + running_traces,
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


# --- 5. gamma and beta -----------------------------------------------------------------------


def gamma_beta_figure(recorders, layer, highlight=()):
    """gamma and beta of every unit of one hidden layer over training, for each network with a
    normalization among `recorders` (a list, or one Recorder); the `highlight` units (0-based)
    drawn bold."""
    normed = normalized(recorders)
    if not normed:
        return empty_figure(
            "γ and β exist only with a normalization: choose batch norm or layer norm."
        )
    if normed[0].units.n == 0:
        return empty_figure("Train a few steps: γ and β of every unit appear here.")
    grid = Grid(1, 2, titles=("γ (scale)", "β (shift)"), hspace=0.08)
    highlight = set(highlight)
    traces = []
    for rec, color, label in _legend_ids(normed):
        idx = thin(rec.units.n, MANY_LINES_POINTS)
        x = x_of(rec.units.steps[idx])
        for c, field in enumerate(("gamma", "beta"), start=1):
            values = rec.unit_series(field, layer)[1][idx]
            for u in sorted(range(values.shape[1]), key=lambda u: u in highlight):
                bold = u in highlight
                traces.append(
                    scatter(
                        **x,
                        **grid.axes(1, c),
                        y=f32(values[:, u]),
                        mode="lines",
                        name=f"unit {u + 1}",
                        legendgroup=label,
                        line={"color": color, "width": 2.5 if bold else 1},
                        showlegend=False,
                    )
                )
    many = len(normed) > 1
    if many:  # legend entries only: which colour is which network
        traces += [
            scatter(
                x=[None],
                y=[None],
                mode="lines",
                name=label,
                legendgroup=label,
                line={"color": color, "width": 2.5},
            )
            for _, color, label in _legend_ids(normed)
        ]
    for axis in grid.every_xaxis():
        axis["title"] = {"text": "step"}
    return figure(
        traces,
        grid.layout,
        gamma_beta_title(layer),
        height=340 + 40 * many,
        **({"legend": BOTTOM_LEGEND, "margin": BOTTOM_MARGIN} if many else {}),
    )


# --- 6. gradients ----------------------------------------------------------------------------


GRADIENTS_GRID_TITLES = ("gradient norm ‖dW‖", "update-to-data ratio ‖ΔW‖ / ‖W‖")
GRADIENTS_TITLE = (
    "Per layer (each its own dash), smoothed: how big the gradients and the updates are"
)
GRADIENTS_LEGEND = {
    "orientation": "v",
    "x": 1.02,
    "y": 1,
    "yanchor": "top",
    "groupclick": "toggleitem",
}


def gradients_layout(grid):
    """The gradients view's layout on its 1 x 2 grid: log y axes, steps along x, and the
    update-to-data ratio's rule of thumb (HEALTHY_RATIO) as a dotted line with its note.
    Shared by the whole figure and the live chart."""
    for axis in grid.every_yaxis():
        axis.update(type="log", exponentformat="power", dtick="D2")
    for axis in grid.every_xaxis():
        axis["title"] = {"text": "step"}
    ratio_line = {
        "type": "line",
        "xref": "x2 domain",
        "yref": "y2",
        "x0": 0,
        "x1": 1,
        "y0": HEALTHY_RATIO,
        "y1": HEALTHY_RATIO,
        "line": {"color": GREY, "dash": "dot", "width": 1},
    }
    note = {
        "text": "10⁻³: a common rule of thumb",
        "xref": "x2 domain",
        "yref": "y2",
        "x": 1,
        "y": math.log10(HEALTHY_RATIO),  # a log axis places annotations by the exponent
        "xanchor": "right",
        "yanchor": "top",
        "showarrow": False,
        "font": {"size": 11, "color": MUTED_TEXT},
    }
    return {
        **grid.layout,
        "shapes": [ratio_line],
        "annotations": [*grid.layout["annotations"], note],
    }


def gradients_figure(recorders, smoothing=SMOOTHING):
    """Per layer with weights: the gradient norm ||dW[l]|| and the update-to-data ratio
    ||W[l] after - W[l] before|| / ||W[l]||, each smoothed by an exponentially weighted
    average, log scale. Each layer has its own dash."""
    if _no_data(recorders):
        return empty_figure(
            "Train a few steps: each layer's gradient norm<br>and update size appear here."
        )
    grid = Grid(1, 2, titles=GRADIENTS_GRID_TITLES, hspace=0.12)
    traces = []
    for rec, color, label in _legend_ids(recorders):
        idx = thin(rec.layers.n, MANY_LINES_POINTS)
        x = x_of(rec.layers.steps[idx])
        for c, name in enumerate(("grad_norm", "update_ratio"), start=1):
            values = ema(rec.layer_series(name)[1], smoothing)[idx]
            L = values.shape[1]
            for l in range(1, L + 1):
                traces.append(
                    scatter(
                        **x,
                        **grid.axes(1, c),
                        y=f32(values[:, l - 1]),
                        mode="lines",
                        name=f"layer {l}" + (" (output)" if l == L else ""),
                        legendgroup=label,
                        legendgrouptitle={"text": label},
                        showlegend=c == 1,
                        line={
                            "color": color,
                            "width": 1.5,
                            "dash": LAYER_DASHES[(l - 1) % len(LAYER_DASHES)],
                        },
                    )
                )
    layout = gradients_layout(grid)
    return figure(traces, layout, GRADIENTS_TITLE, height=380, legend=GRADIENTS_LEGEND)


# --- the lower panel of the page -------------------------------------------------------------

VIEWS = {
    "distributions": "Distributions now",
    "over_time": "Distributions over time",
    "minibatch": "Mini-batch μ and σ",
    "gamma_beta": "γ and β",
    "gradients": "Gradients",
}


def view_figure(view, recorders, layer=1, units=(0, 1, 2)):
    """The figure of one of VIEWS (its key). layer (1-based) and units (0-based) choose what
    "minibatch" and "gamma_beta" show."""
    if view == "distributions":
        return histograms_figure(recorders)
    if view == "over_time":
        return percentiles_figure(recorders, recorders[0].watch_unit)
    if view == "minibatch":
        return minibatch_figure(recorders, layer, units)
    if view == "gamma_beta":
        return gamma_beta_figure(recorders, layer, units)
    if view == "gradients":
        return gradients_figure(recorders)
    raise ValueError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
