"""Figures for "Mini-batches and test time": jumping mini-batch statistics, their spread against
the batch size, the running averages converging, and training mode against eval mode.

Colours: mini-batch (training-mode) values are BN_COLOR, the running averages and eval mode
RUNNING_COLOR, the population values POPULATION_COLOR, dashed.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_viz.theme import BN_COLOR, POPULATION_COLOR, RUNNING_COLOR, f32, finish

POPULATION_DASH = "dash"
LOG_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)


def _legend_below(fig, bottom=100):
    """Move the legend under the plot, clear of subplot titles (call after `finish`)."""
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.14, "x": 0}, margin={"b": bottom}
    )
    return fig


def _population_line(fig, value, row, col=1, name="population", showlegend=True):
    """A dashed horizontal line at the population value, with a legend entry."""
    fig.add_hline(
        y=value,
        line={"color": POPULATION_COLOR, "dash": POPULATION_DASH, "width": 2},
        row=row,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            name=name,
            line={"color": POPULATION_COLOR, "dash": POPULATION_DASH},
            showlegend=showlegend,
        ),
        row=row,
        col=col,
    )


def minibatch_stats_figure(mus, sigmas, pop_mu, pop_sigma, batch_size, unit_label):
    """mu and sigma of each mini-batch (dots) against the population values (dashed).

    mus, sigmas: (T,); pop_mu, pop_sigma: floats; unit_label: e.g. "unit 1 of layer 1".
    """
    t = np.arange(1, len(mus) + 1)
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("mini-batch mean μ", "mini-batch standard deviation σ"),
    )
    for row, values in ((1, mus), (2, sigmas)):
        fig.add_trace(
            go.Scatter(
                x=t,
                y=f32(values),
                mode="markers",
                showlegend=row == 1,
                name="one mini-batch's μ_B, σ_B",
                marker={"color": BN_COLOR, "size": 5},
            ),
            row=row,
            col=1,
        )
    _population_line(fig, pop_mu, 1, name="population μ, σ (whole training set)")
    _population_line(fig, pop_sigma, 2, showlegend=False)
    fig.update_xaxes(title_text="mini-batch", row=2, col=1)
    finish(fig, f"{unit_label}, m = {batch_size}: one dot per mini-batch", height=460)
    return _legend_below(fig)


def spread_figure(batch_sizes, std_mu, std_sigma, expected, chosen):
    """Spread across mini-batches of mu and sigma against the batch size, log-log.

    batch_sizes, std_mu, std_sigma: (k,); expected: (k,) the sigma / sqrt(m) curve, or None
    to leave it out; chosen: the batch size shown above (ringed).
    """
    m = np.asarray(batch_sizes)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=m,
            y=f32(std_mu),
            mode="lines+markers",
            name="std of μ across mini-batches",
            line={"color": BN_COLOR, "width": 3},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=m,
            y=f32(std_sigma),
            mode="lines+markers",
            name="std of σ",
            line={"color": BN_COLOR, "width": 1.5, "dash": "dot"},
        )
    )
    if expected is not None:
        fig.add_trace(
            go.Scatter(
                x=m,
                y=f32(expected),
                mode="lines",
                name="σ/√m",
                line={"color": POPULATION_COLOR, "dash": POPULATION_DASH},
            )
        )
    pick = np.flatnonzero(m == chosen)
    if pick.size:
        fig.add_trace(
            go.Scatter(
                x=m[pick],
                y=f32(std_mu[pick]),
                mode="markers",
                name=f"m = {chosen}",
                marker={
                    "size": 16,
                    "color": "rgba(0,0,0,0)",
                    "line": {"width": 2, "color": RUNNING_COLOR},
                },
            )
        )
    fig.update_xaxes(
        type="log", title_text="mini-batch size m", tickvals=m, ticktext=[str(v) for v in m]
    )
    fig.update_yaxes(
        type="log",
        title_text="spread (standard deviation)",
        tickvals=LOG_TICKS,
        ticktext=[f"{v:g}" for v in LOG_TICKS],
    )
    title = "Bigger mini-batches, steadier statistics" + (
        ": spread ≈ σ/√m" if expected is not None else ""
    )
    finish(fig, title, height=440)
    return _legend_below(fig)


def running_average_figure(trace, pop_mu, pop_var, beta):
    """Batch values (dots), the running average (line) and the population value (dashed), for
    mu (top) and sigma^2 (bottom). trace: a RunningTrace with T steps; pop_mu, pop_var floats."""
    steps = np.arange(1, len(trace.batch_mu) + 1)
    t0 = np.arange(len(trace.running_mu))
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("running μ", "running σ²"),
    )
    rows = (
        (1, trace.batch_mu, trace.running_mu, "mini-batch value fed in"),
        (2, trace.batch_var_unbiased, trace.running_var, None),
    )
    for row, batch, running, name in rows:
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=f32(batch),
                mode="markers",
                name=name or "",
                showlegend=name is not None,
                marker={"color": BN_COLOR, "size": 3},
            ),
            row=row,
            col=1,
        )
        fig.add_trace(
            go.Scatter(
                x=t0,
                y=f32(running),
                mode="lines",
                name=f"running average (β = {beta:g})",
                showlegend=row == 1,
                line={"color": RUNNING_COLOR, "width": 2.5},
            ),
            row=row,
            col=1,
        )
    _population_line(fig, pop_mu, 1, name="population value")
    _population_line(fig, pop_var, 2, showlegend=False)
    fig.update_xaxes(title_text="training step t (weights frozen)", row=2, col=1)
    finish(
        fig,
        f"From (0, 1) toward the population; window ≈ 1/(1−β) = {1 / (1 - beta):.0f} batches",
        height=500,
    )
    return _legend_below(fig)


def train_vs_eval_figure(result, batch_size, example_label):
    """One example's Z_tilde and probability of its true class: a cloud of training-mode
    values (one per mini-batch it was placed in) against the single eval-mode value.
    result: a TrainVsEval."""
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.1,
        subplot_titles=("its Z̃ at the chosen unit", "its probability of the true class"),
    )
    n = len(result.train_z_tilde)
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, n)  # fixed: the same picture always
    columns = (
        (1, result.train_z_tilde, result.eval_z_tilde),
        (2, result.train_prob, result.eval_prob),
    )
    for col, train, value in columns:
        fig.add_trace(
            go.Scatter(
                x=f32(train),
                y=f32(1 + jitter),
                mode="markers",
                name=f"training mode: {n} different mini-batches (m = {batch_size})",
                showlegend=col == 1,
                marker={"color": BN_COLOR, "size": 6},
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=[value],
                y=[0],
                mode="markers",
                showlegend=col == 1,
                name="eval mode: running averages (one value)",
                marker={"color": RUNNING_COLOR, "size": 16, "symbol": "diamond"},
            ),
            row=1,
            col=col,
        )
    fig.update_yaxes(tickvals=[0, 1], ticktext=["eval", "train"], range=[-0.6, 1.6])
    fig.update_xaxes(range=[-0.03, 1.03], row=1, col=2)
    finish(fig, f"{example_label}: training mode depends on its companions", height=360)
    return _legend_below(fig, bottom=90)


def batch_of_one_figure(result, labels):
    """Z_tilde of k examples, each alone: training mode with m = 1 (all equal to beta) against
    eval mode (each its own). result: a BatchOfOne; labels: k example names."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=labels,
            y=f32(result.train_z_tilde),
            name=f"training mode, m = 1: Z̃ = γ·0 + β = {result.beta:.3f}",
            marker={"color": BN_COLOR},
        )
    )
    fig.add_trace(
        go.Bar(
            x=labels,
            y=f32(result.eval_z_tilde),
            name="eval mode: Z̃ from the running averages",
            marker={"color": RUNNING_COLOR},
        )
    )
    fig.add_hline(y=result.beta, line={"color": BN_COLOR, "dash": "dot"})
    fig.update_yaxes(title_text="Z̃ at the chosen unit")
    finish(
        fig, "A batch of one erases the input: every example becomes β", height=360, barmode="group"
    )
    return _legend_below(fig, bottom=90)


def estimates_figure(compared, layer):
    """Each unit of `layer` as a dot: its whole-training-set statistic (x, the lecture's other
    option) against the running average training left (y); left μ, right σ². On the dashed
    diagonal the two agree. compared: bn_core.lessons.test_time.StatsCompared."""
    fig = make_subplots(
        1,
        2,
        horizontal_spacing=0.12,
        subplot_titles=(f"μ of each unit, layer {layer}", f"σ² of each unit, layer {layer}"),
    )
    for col, (whole, running, name) in enumerate(
        (
            (compared.whole_mu[layer], compared.running_mu[layer], "μ"),
            (compared.whole_var[layer], compared.running_var[layer], "σ²"),
        ),
        start=1,
    ):
        x, y = whole.ravel(), running.ravel()
        lo, hi = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        pad = 0.05 * (hi - lo or 1.0)
        fig.add_trace(
            go.Scatter(
                x=[lo - pad, hi + pad],
                y=[lo - pad, hi + pad],
                mode="lines",
                name="the two agree",
                showlegend=col == 1,
                hoverinfo="skip",
                line={"color": POPULATION_COLOR, "dash": POPULATION_DASH, "width": 1},
            ),
            row=1,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=f32(x),
                y=f32(y),
                mode="markers",
                name="one unit",
                showlegend=col == 1,
                marker={"color": RUNNING_COLOR, "size": 7, "opacity": 0.7},
                hovertemplate=f"whole set {name} = %{{x:.3g}}<br>running {name} = %{{y:.3g}}"
                "<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text=f"whole training set {name}", row=1, col=col)
        fig.update_yaxes(title_text=f"running average {name}", row=1, col=col)
    finish(fig, height=400)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.24, "x": 0}, margin={"b": 100}
    )  # under the axis titles
    return fig
