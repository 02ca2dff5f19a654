"""Figures for "Beyond the batch: layer norm": one matrix normalized both ways, layer norm
training one example at a time, train-mode against eval-mode outputs, |db| over training, and
the batch-size sweep.

Batch norm keeps BN_COLOR and the network without normalization PLAIN_COLOR; layer norm is
LN_COLOR everywhere on this page.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_viz.theme import BN_COLOR, LN_COLOR, PLAIN_COLOR, f32, finish, net_marker, swatch

NORM_COLORS = {"batch": BN_COLOR, "layer": LN_COLOR, "none": PLAIN_COLOR}
NORM_LABELS = {"batch": "batch norm", "layer": "layer norm", "none": "no normalization"}


def _heatmap(Z, zmax, showscale=False):
    n, m = Z.shape
    return go.Heatmap(
        z=f32(Z),
        x=[f"x({i + 1})" for i in range(m)],
        y=[f"unit {j + 1}" for j in range(n)],
        zmin=-zmax,
        zmax=zmax,
        colorscale="RdBu_r",
        showscale=showscale,
        texttemplate="%{z:.1f}",
        hovertemplate="%{y}, example %{x}: %{z:.3f}<extra></extra>",
    )


def matrix_figure(both):
    """Z (units x examples) with batch norm's statistics beside each row and layer norm's under
    each column, one row and one column outlined. both: a BothWays record."""
    Z = both.Z
    n, m = Z.shape
    zmax = float(np.abs(Z).max())
    fig = go.Figure(_heatmap(Z, zmax))
    # Fixed ranges, and the statistics in the margins placed in paper coordinates (Plotly
    # hides an annotation whose data coordinates fall outside the axes' ranges).
    fig.update_xaxes(range=[-0.5, m - 0.5], side="top", showgrid=False)
    fig.update_yaxes(range=[n - 0.5, -0.5], showgrid=False)
    fig.add_shape(
        type="rect", x0=-0.5, x1=m - 0.5, y0=-0.45, y1=0.45, line={"color": BN_COLOR, "width": 3}
    )
    fig.add_shape(
        type="rect",
        x0=-0.45,
        x1=0.45,
        y0=-0.5,
        y1=n - 0.5,
        line={"color": LN_COLOR, "width": 3, "dash": "dot"},
    )
    for j in range(n):
        fig.add_annotation(
            x=1.01,
            xref="paper",
            y=j,
            xanchor="left",
            showarrow=False,
            text=f"μ={both.bn_mu[j, 0]:.2f}  σ²={both.bn_var[j, 0]:.2f}",
        )
    for i in range(m):
        fig.add_annotation(
            x=i,
            y=-0.02,
            yref="paper",
            yanchor="top",
            showarrow=False,
            text=f"μ={both.ln_mu[0, i]:.2f}<br>σ²={both.ln_var[0, i]:.2f}",
        )
    fig.add_annotation(
        x=1.01,
        y=1.01,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        align="left",
        text=f"{swatch(BN_COLOR)} <b>batch norm</b>: along each row →<br>one unit, all examples",
    )
    fig.add_annotation(
        x=0,
        y=-0.2,
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="top",
        showarrow=False,
        align="left",
        text=f"{swatch(LN_COLOR)} <b>layer norm</b>: down each column ↓  one example, all units",
    )
    finish(fig, "Z[l]: rows are units, columns are the examples of the mini-batch", height=400)
    return fig.update_layout(margin={"l": 60, "r": 190, "t": 90, "b": 80})


def outputs_figure(both):
    """Z_tilde under batch norm and under layer norm, side by side on one colour scale."""
    zmax = max(float(np.abs(both.bn_Z_tilde).max()), float(np.abs(both.ln_Z_tilde).max()))
    fig = make_subplots(
        1,
        2,
        shared_yaxes=True,
        horizontal_spacing=0.04,
        subplot_titles=(
            "batch norm: each ROW has mean β, std ≈ γ",
            "layer norm: each COLUMN has mean β, std ≈ γ",
        ),
    )
    fig.add_trace(_heatmap(both.bn_Z_tilde, zmax), 1, 1)
    fig.add_trace(_heatmap(both.ln_Z_tilde, zmax, showscale=True), 1, 2)
    fig.update_yaxes(autorange="reversed")
    return finish(fig, height=300)


def one_at_a_time_figure(result, window=20):
    """Layer norm's loss at every step of training on one example at a time, with a moving
    average (each point is one example's loss, so the raw curve is noisy)."""
    steps = np.arange(1, result.losses.size + 1)
    window = max(1, min(window, result.losses.size))
    smooth = np.convolve(result.losses, np.ones(window) / window, mode="valid")
    fig = go.Figure(
        [
            go.Scatter(
                x=steps,
                y=f32(result.losses),
                mode="lines",
                name="loss of that one example",
                line={"color": LN_COLOR, "width": 0.8},
            ),
            go.Scatter(
                x=steps[window - 1 :],
                y=f32(smooth),
                mode="lines",
                name=f"average of the last {window}",
                line={"color": LN_COLOR, "width": 3},
            ),
        ]
    )
    fig.update_xaxes(title="step (one digit each)")
    fig.update_yaxes(title="cross-entropy", rangemode="tozero")
    return finish(fig, "Layer norm, mini-batch size 1", height=300)


def test_time_figure(side):
    """The watched example's class probabilities in training mode (inside a mini-batch) and in
    eval mode (alone), for batch norm and for layer norm. side: a SideBySide record."""
    fig = make_subplots(
        1,
        2,
        shared_yaxes=True,
        horizontal_spacing=0.05,
        subplot_titles=tuple(
            f"{NORM_LABELS[norm]}: largest difference {side.output_gap(norm):.2g}"
            for norm in ("batch", "layer")
        ),
    )
    classes = [str(k) for k in range(side.train_probs["batch"].size)]
    for c, norm in enumerate(("batch", "layer"), start=1):
        color = NORM_COLORS[norm]
        fig.add_trace(
            go.Bar(
                x=classes,
                y=f32(side.train_probs[norm]),
                marker_color=color,
                name=f"training mode, in a mini-batch of {side.batch_size}",
                showlegend=c == 1,
                legendgroup="train",
            ),
            1,
            c,
        )
        fig.add_trace(
            go.Bar(
                x=classes,
                y=f32(side.eval_probs[norm]),
                name="eval mode, alone",
                marker={"color": "rgba(0,0,0,0)", "line": {"color": color, "width": 2}},
                showlegend=c == 1,
                legendgroup="eval",
            ),
            1,
            c,
        )
    fig.update_xaxes(title=f"class (true: {side.label})")
    fig.update_yaxes(title="probability", range=[0, 1], col=1)
    finish(fig, height=360, barmode="group")
    return fig.update_layout(
        legend={"y": -0.35, "yanchor": "top"}, margin={"l": 50, "r": 20, "t": 40, "b": 90}
    )


def db_figure(side):
    """The largest |db[l]| over the hidden layers at each training step, log scale."""
    fig = go.Figure()
    floor = 1e-18  # batch norm's |db| is 0 up to rounding; a log axis needs a positive floor
    for norm in ("batch", "layer"):
        values = np.maximum(side.db[norm], floor)
        fig.add_trace(
            go.Scatter(
                x=np.arange(1, values.size + 1),
                y=f32(values),
                mode="lines+markers",
                name=NORM_LABELS[norm],
                line={"color": NORM_COLORS[norm]},
                marker=net_marker(norm),
            )
        )
    fig.update_yaxes(type="log", title="largest |db[l]| (hidden layers)", exponentformat="e")
    fig.update_xaxes(title="training step")
    return finish(fig, "The gradient of b, b kept on the normalized layers", height=300)


def sweep_figure(table, batch_sizes):
    """Test accuracy against mini-batch size (log 2 axis), one line per normalization.
    table: {norm: [accuracy per batch size]}."""
    fig = go.Figure()
    for norm, accs in table.items():
        fig.add_trace(
            go.Scatter(
                x=list(batch_sizes),
                y=f32(accs),
                mode="lines+markers",
                name=NORM_LABELS[norm],
                line={"color": NORM_COLORS[norm]},
                marker={"symbol": net_marker(norm)["symbol"], "size": 8},
                hovertemplate="m = %{x}: %{y:.1%}<extra></extra>",
            )
        )
    fig.update_xaxes(
        type="log",
        tickvals=list(batch_sizes),
        ticktext=[str(m) for m in batch_sizes],
        title="mini-batch size m",
    )
    fig.update_yaxes(title="test accuracy", tickformat=".0%")
    return finish(fig, "Test accuracy after the same number of examples seen", height=340)
