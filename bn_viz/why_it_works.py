"""Figures for "why batch norm works": the 15/50/85th percentiles of a sigmoid's input over
training with and without batch norm, test accuracy over steps, and final loss across learning
rates and initial weight scales.

Inputs come from bn_core.lessons.why_it_works (ShiftRun, sweep_table).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_viz.lab_layout import rgba
from bn_viz.theme import f32, finish, net_color, net_label, net_marker, net_symbol

_BAND_FILL = {bn: rgba(net_color(bn), 0.22) for bn in (True, False)}  # a background band


def percentile_bands(with_bn, without_bn, layer):
    """Two panels side by side, without then with batch norm: the median of one unit's sigmoid
    input over training, shaded between the 15th and 85th percentiles, on a shared y axis."""
    fig = make_subplots(
        1,
        2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(
            f"Without batch norm: {_moved(without_bn)}",
            f"With batch norm: {_moved(with_bn)}",
        ),
    )
    for col, (run, bn) in enumerate(((without_bn, False), (with_bn, True)), start=1):
        _band(fig, run, bn, col)
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text=f"input of a layer-{layer} sigmoid", col=1)
    return finish(fig, height=360, showlegend=False)


def _moved(run):
    if np.isfinite(run.drift):
        return f"band moved {run.drift:.2f}" + (" (then diverged)" if run.stop_reason else "")
    return "diverged before the first record"


def _band(fig, run, batch_norm, col):
    steps, p = run.steps, run.percentiles
    if not len(steps):
        return
    color = net_color(batch_norm)
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=f32(p[:, 2]),
            mode="lines",
            line={"width": 0},
            name="85th percentile",
            hoverinfo="skip",
        ),
        row=1,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=f32(p[:, 0]),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=_BAND_FILL[batch_norm],
            name="15th to 85th percentile",
            hoverinfo="skip",
        ),
        row=1,
        col=col,
    )
    fig.add_trace(
        go.Scatter(
            x=steps,
            y=f32(p[:, 1]),
            mode="lines",
            name="median",
            line={"color": color, "width": 2.5},
        ),
        row=1,
        col=col,
    )
    for k, name in ((0, "15th"), (2, "85th")):
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=f32(p[:, k]),
                mode="lines",
                name=name,
                line={"color": color, "width": 1, "dash": "dot"},
            ),
            row=1,
            col=col,
        )


def accuracy_curves(with_bn, without_bn):
    """Test accuracy over training steps, with and without batch norm."""
    fig = go.Figure()
    for run, bn in ((with_bn, True), (without_bn, False)):
        fig.add_trace(
            go.Scatter(
                x=run.eval_steps,
                y=f32(run.test_accuracy),
                mode="lines+markers",
                marker=net_marker(bn),
                name=net_label(bn),
                line={"color": net_color(bn), "width": 2.5},
            )
        )
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(title_text="test accuracy", range=[0, 1.02])
    finish(fig, title="Test accuracy", height=360)
    fig.update_layout(
        legend={"orientation": "h", "y": -0.3, "yanchor": "top", "x": 0}, margin={"b": 80}
    )
    return fig


def sweep_figure(table, x_title, title):
    """Final training loss against a swept setting (log x), with and without batch norm; a run
    that diverged is an X on the top edge.

    table: {"x": (k,), "bn": (k,), "plain": (k,)} with NaN for a diverged run.
    """
    fig = go.Figure()
    finite = np.concatenate([table["bn"], table["plain"]])
    finite = finite[np.isfinite(finite)]
    top = float(max(finite.max(), 0.75) * 1.6) if finite.size else 1.0
    for key, bn in (("bn", True), ("plain", False)):
        y = np.asarray(table[key], dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=table["x"],
                y=f32(y),
                mode="lines+markers",
                name=net_label(bn),
                line={"color": net_color(bn), "width": 2.5},
                marker={"size": 8, "symbol": net_symbol(bn)},
            )
        )
        gone = ~np.isfinite(y)
        if gone.any():
            fig.add_trace(
                go.Scatter(
                    x=table["x"][gone],
                    y=f32(np.full(gone.sum(), top / 1.12)),
                    mode="markers",
                    name=f"diverged ({net_label(bn)})",
                    hovertemplate="diverged<extra></extra>",
                    marker={"symbol": "x", "size": 13, "color": net_color(bn)},
                )
            )
    bottom = max(finite.min() / 1.6, 1e-4) if finite.size else 0.01
    ticks = [v for v in (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30) if bottom <= v <= top]
    fig.update_xaxes(type="log", title_text=x_title, tickvals=list(table["x"]))
    fig.update_yaxes(
        type="log",
        title_text="final training loss",
        tickvals=ticks,
        range=[np.log10(bottom), np.log10(top)],
    )
    finish(fig, title=title, height=380)
    fig.update_layout(
        legend={"orientation": "h", "y": -0.25, "yanchor": "top", "x": 0}, margin={"b": 90}
    )
    return fig
