"""Figures for "Normalizing inputs": the loss bowls with their descent paths, and the data.

Both take records from bn_core.lessons.normalizing_inputs. Raw features are drawn in
PLAIN_COLOR and normalized ones in BN_COLOR; every panel has equal scales on its two axes, so an
elongated contour or a stretched cloud is really that shape.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_viz.theme import (
    BN_COLOR,
    CONTOUR_COLORS,
    CONTOUR_LINE,
    INK,
    MISTAKE_COLOR,
    PLAIN_COLOR,
    f32,
    finish,
)

MAX_PATH_POINTS = 400  # a longer path is thinned (its first steps all kept) before drawing
FIRST_KEPT = 150


def _thin(path):
    """The path's first FIRST_KEPT points and an even selection of the rest:
    (2, k) -> (2, <= MAX)."""
    k = path.shape[1]
    if k <= MAX_PATH_POINTS:
        return path
    rest = np.linspace(FIRST_KEPT, k - 1, MAX_PATH_POINTS - FIRST_KEPT).astype(int)
    return path[:, np.concatenate([np.arange(FIRST_KEPT), rest])]


def steps_text(run):
    """How a descent ended, in words: "123 steps", "diverged", "no convergence in 10000 steps"."""
    if run.diverged:
        return f"diverged after {run.path.shape[1] - 1} steps"
    if run.steps is None:
        return f"not converged in {run.path.shape[1] - 1} steps"
    return f"{run.steps} step{'s' if run.steps != 1 else ''}"


def steps_short(run):
    """The same in a word or number, for a metric: "123", "diverged", "> 10000"."""
    if run.diverged:
        return "diverged"
    if run.steps is None:
        return f"> {run.path.shape[1] - 1}"
    return str(run.steps)


def _bowl_traces(bowl, run, color, grid):
    """Contours of log10(J - J*), the descent path, its start and the minimum."""
    w1, w2, Z = grid
    start = np.log10(max(run.excess[0], 1e-300))
    contours = go.Contour(
        x=f32(w1),
        y=f32(w2),
        z=f32(Z),
        showscale=False,
        hoverinfo="skip",
        colorscale=CONTOUR_COLORS,
        line={"color": CONTOUR_LINE, "width": 1},
        contours={"start": start - 4, "end": start + 1, "size": 0.5},
        name="loss contours",
    )
    path = _thin(run.path)
    line = go.Scatter(
        x=f32(path[0]),
        y=f32(path[1]),
        mode="lines+markers",
        name="GD path",
        line={"color": color, "width": 2},
        marker={"size": 4, "color": color},
        hovertemplate="w1=%{x:.3g}<br>w2=%{y:.3g}<extra></extra>",
    )
    w0 = go.Scatter(
        x=f32(run.path[0, :1]),
        y=f32(run.path[1, :1]),
        mode="markers",
        name="start w=(0,0)",
        marker={"symbol": "circle-open", "size": 12, "color": INK, "line": {"width": 2}},
    )
    ws = go.Scatter(
        x=f32(bowl.w_star[0]),
        y=f32(bowl.w_star[1]),
        mode="markers",
        name="minimum w*",
        marker={"symbol": "star", "size": 14, "color": INK},
    )
    return [contours, line, w0, ws]


def bowls_figure(cmp):
    """Loss contours over (w1, w2) before and after normalization, with the GD paths.

    cmp: a Comparison (its grids hold log10(J - J*) over each window).
    """
    raw_title = (
        f"Raw features: contours {cmp.raw.elongation:.1f} : 1, "
        f"α = {cmp.raw_run.lr:.3g}, {steps_text(cmp.raw_run)}"
    )
    norm_title = (
        f"Normalized: contours {cmp.norm.elongation:.2f} : 1, "
        f"α = {cmp.norm_run.lr:.3g}, {steps_text(cmp.norm_run)}"
    )
    titles = (raw_title, norm_title)
    fig = make_subplots(1, 2, subplot_titles=titles, horizontal_spacing=0.1)
    panels = (
        (cmp.raw, cmp.raw_run, cmp.raw_window, cmp.raw_grid, PLAIN_COLOR),
        (cmp.norm, cmp.norm_run, cmp.norm_window, cmp.norm_grid, BN_COLOR),
    )
    for col, (bowl, run, window, grid, color) in enumerate(panels, start=1):
        for i, trace in enumerate(_bowl_traces(bowl, run, color, grid)):
            trace.showlegend = col == 1 and i >= 2  # start and minimum, once
            fig.add_trace(trace, row=1, col=col)
        anchor = "x" if col == 1 else "x2"
        fig.update_xaxes(range=list(window[0]), title_text="w1", constrain="domain", row=1, col=col)
        fig.update_yaxes(
            range=list(window[1]),
            title_text="w2",
            scaleanchor=anchor,
            scaleratio=1,
            constrain="domain",
            row=1,
            col=col,
        )
    return _legend_below(finish(fig, height=500))


def loss_curves_figure(cmp):
    """J - J* against the step, log scale, for both descents; the dotted line is the
    convergence threshold TOL * (J(w0) - J*) of each (they differ only in J(w0))."""
    fig = go.Figure()
    for run, name, color, symbol in (
        (cmp.raw_run, "raw features", PLAIN_COLOR, "square"),
        (cmp.norm_run, "normalized", BN_COLOR, "circle"),
    ):
        path = _thin(run.excess[None, :])[0]
        steps = _thin(np.arange(run.excess.size)[None, :])[0]
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=f32(np.maximum(path, 1e-30)),
                mode="lines+markers",
                name=f"{name}: {steps_text(run)}",
                marker={"size": 6, "symbol": symbol, "maxdisplayed": 30},
                line={"color": color, "width": 2},
            )
        )
        fig.add_hline(y=run.excess[0] * run.tol, line={"color": color, "dash": "dot", "width": 1})
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(title_text="J − J*", type="log", exponentformat="power")
    return finish(fig, "Distance to the minimum, J − J*, at each step", height=320)


def _legend_below(fig):
    """Legend under the panels, clear of the subplot titles above them."""
    fig.update_annotations(font={"size": None})  # subplot titles follow the figure's font
    fig.update_layout(
        font={"size": 13},
        legend={"orientation": "h", "yanchor": "top", "y": -0.16, "x": 0.5, "xanchor": "center"},
        margin={"b": 70},
    )
    return fig


def _cloud(X, name, color, hollow=False):
    """Scatter of the columns of X (2, m)."""
    marker = {
        "size": 6,
        "color": "rgba(0,0,0,0)" if hollow else color,
        "line": {"color": color, "width": 1.5 if hollow else 0.5},
    }
    return go.Scatter(
        x=f32(X[0]),
        y=f32(X[1]),
        mode="markers",
        name=name,
        marker=marker,
        hovertemplate="x1=%{x:.3g}<br>x2=%{y:.3g}<extra></extra>",
    )


def _square_range(*Xs, pad=0.08):
    """One range for both axes that holds every point of every X (2, m)."""
    allx = np.hstack(Xs)
    lo, hi = float(allx.min()), float(allx.max())
    half = (hi - lo) / 2 * (1 + pad)
    mid = (hi + lo) / 2
    return [mid - half, mid + half]


def _sigma_box(fig, mu, var, color, col):
    """The rectangle mu +- sigma per feature, and mu as a cross."""
    sd = np.sqrt(var)
    fig.add_shape(
        type="rect",
        x0=mu[0] - sd[0],
        x1=mu[0] + sd[0],
        y0=mu[1] - sd[1],
        y1=mu[1] + sd[1],
        line={"color": color, "dash": "dash"},
        row=1,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=f32(mu[:1]),
            y=f32(mu[1:]),
            mode="markers",
            name="μ (train)",
            marker={"symbol": "x", "size": 12, "color": INK},
            showlegend=col == 1,
        ),
        row=1,
        col=col,
    )


def data_figure(d, stats_raw, stats_norm):
    """The inputs before and after normalization, training points filled, test points hollow.

    d: a RegressionData; stats_raw, stats_norm: (mu (2,), var (2,)) of the raw and normalized
    training inputs, drawn as a cross at mu and a dashed box mu +- sigma.
    """
    fig = make_subplots(
        1,
        2,
        horizontal_spacing=0.1,
        subplot_titles=(
            "Raw inputs (same scale on both axes)",
            "Normalized with the training μ and σ²",
        ),
    )
    panels = (
        (d.X_train, d.X_test, stats_raw, PLAIN_COLOR),
        (d.Xn_train, d.Xn_test, stats_norm, BN_COLOR),
    )
    for col, (Xtr, Xte, (mu, var), color) in enumerate(panels, start=1):
        fig.add_trace(_cloud(Xtr, "training set", color), row=1, col=col)
        fig.add_trace(_cloud(Xte, "test set", color, hollow=True), row=1, col=col)
        _sigma_box(fig, mu, var, color, col)
        rng = _square_range(Xtr, Xte)
        anchor = "x" if col == 1 else "x2"
        fig.update_xaxes(range=rng, title_text="x1", constrain="domain", row=1, col=col)
        fig.update_yaxes(
            range=rng,
            title_text="x2",
            scaleanchor=anchor,
            scaleratio=1,
            constrain="domain",
            row=1,
            col=col,
        )
    for trace in fig.data[3:]:
        trace.showlegend = False
    return _legend_below(finish(fig, height=460))


def slips_figure(cmp):
    """The training inputs normalized right (BN_COLOR) and, when a slip is on, with the slips
    (MISTAKE_COLOR), each with its dashed mean +- sigma box; equal scales on both axes, so a
    squashed cloud looks squashed. cmp: a SlipComparison."""
    fig = make_subplots(1, 1)
    clouds = [(cmp.right, cmp.right_stats, "right: (x − μ)/√(σ² + ε)", BN_COLOR)]
    if cmp.any_slip:
        clouds.append(
            (cmp.slipped, cmp.slipped_stats, f"with the slips: {slip_label(cmp)}", MISTAKE_COLOR)
        )
    for X, (mu, var), name, color in clouds:
        fig.add_trace(_cloud(X, name, color, hollow=color == MISTAKE_COLOR))
        _sigma_box(fig, mu, var, color, 1)
    for trace in [t for t in fig.data if t.name == "μ (train)"][1:]:
        trace.showlegend = False
    rng = _square_range(*(X for X, *_ in clouds))
    fig.update_xaxes(range=rng, title_text="x1 normalized", constrain="domain")
    fig.update_yaxes(
        range=rng, title_text="x2 normalized", scaleanchor="x", scaleratio=1, constrain="domain"
    )
    return _legend_below(finish(fig, title="The training inputs after normalizing", height=460))


def slip_label(cmp):
    """The slipped formula in words: (x − μ)/√(mean(x²) + ε), (x − μ)/σ², or both."""
    var = "mean(x²)" if cmp.uncentred_variance else "σ²"
    return f"(x − μ)/{var}" if cmp.divide_by_variance else f"(x − μ)/√({var} + ε)"
