"""Figures for "batch norm as a slight regularizer": the scatter of one example's z_norm across
mini-batches (and across dropout masks), its spread against the mini-batch size, and the
train/test curves of a small-data network with and without batch norm.

Inputs come from bn_core.lessons.regularization.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_viz.lab_layout import rgba
from bn_viz.theme import (
    BN_COLOR,
    DROPOUT_COLOR,
    GREY,
    INK,
    TEST_DASH,
    f32,
    finish,
    net_color,
    net_label,
    net_marker,
)


def noise_histogram(bn_values, noise_free, batch_size, dropout_values, keep_prob):
    """Where one example's z_norm lands in many random mini-batches of `batch_size`, against
    where dropout with keep probability `keep_prob` puts it; the line is the noise-free value
    (statistics of the whole set). bn_values, dropout_values: (n_draws,)."""
    fig = go.Figure()
    lo = float(min(bn_values.min(), dropout_values.min(), noise_free - 0.5))
    hi = float(max(bn_values.max(), dropout_values.max(), noise_free + 0.5))
    bins = {"start": lo, "end": hi, "size": (hi - lo) / 60}
    fig.add_trace(
        go.Histogram(
            x=f32(dropout_values),
            xbins=bins,
            name=f"dropout, p = {keep_prob:g} (std {dropout_values.std():.2f})",
            marker={
                "color": rgba(DROPOUT_COLOR, 0.3),
                "line": {"color": DROPOUT_COLOR, "width": 1},
            },
        )
    )
    fig.add_trace(
        go.Histogram(
            x=f32(bn_values),
            xbins=bins,
            name=f"batch norm, m = {batch_size} (std {bn_values.std():.2f})",
            marker={"color": rgba(BN_COLOR, 0.55), "line": {"color": BN_COLOR, "width": 1}},
        )
    )
    fig.add_vline(
        x=noise_free,
        line={"color": INK, "dash": "dash"},
        annotation_text="whole-set value",
        annotation_position="top right",
    )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title_text="the example's normalized input z_norm")
    fig.update_yaxes(title_text="mini-batches (or masks)")
    return finish(fig, title="One example, many mini-batches", height=380)


def noise_vs_batch_size(batch_sizes, stds, c, chosen, dropout):
    """Spread of the example's z_norm against the mini-batch size (log-log), the fitted
    c / sqrt(m), the chosen m ringed, and each dropout level as a horizontal line.

    batch_sizes, stds: (k,); dropout: {keep_prob: std}.
    """
    m = np.asarray(batch_sizes, dtype=np.float64)
    fig = go.Figure()
    fine = np.geomspace(m.min(), m.max(), 50)
    fig.add_trace(
        go.Scatter(
            x=f32(fine),
            y=f32(c / np.sqrt(fine)),
            mode="lines",
            name=f"{c:.2f} / √m",
            line={"color": GREY, "dash": "dash"},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=m,
            y=f32(stds),
            mode="lines+markers",
            name="batch norm",
            line={"color": BN_COLOR, "width": 2.5},
            marker={"size": 8},
        )
    )
    if chosen in list(batch_sizes):
        k = list(batch_sizes).index(chosen)
        fig.add_trace(
            go.Scatter(
                x=[chosen],
                y=f32([stds[k]]),
                mode="markers",
                name=f"m = {chosen}",
                marker={
                    "size": 18,
                    "color": BN_COLOR,
                    "symbol": "circle-open",
                    "line": {"width": 2.5},
                },
            )
        )
    for p, std in dropout.items():  # lines as traces: add_hline misplaces labels on log axes
        fig.add_trace(
            go.Scatter(
                x=[m.min(), m.max()],
                y=f32([std, std]),
                mode="lines",
                line={"color": DROPOUT_COLOR, "dash": "dot", "width": 1.5},
                name=f"dropout p = {p:g}",
                showlegend=False,
                hovertemplate=f"dropout p = {p:g}: std {std:.2f}<extra></extra>",
            )
        )
        fig.add_annotation(
            x=np.log10(m.max()),
            y=np.log10(std),
            text=f"dropout p = {p:g}",
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font={"size": 12},
        )
    fig.update_xaxes(type="log", title_text="mini-batch size m", tickvals=list(batch_sizes))
    fig.update_yaxes(
        type="log",
        title_text="std of z_norm across mini-batches",
        tickvals=[0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
    )
    finish(fig, title="Noise against mini-batch size", height=380)
    fig.update_layout(legend={"orientation": "v", "x": 0.02, "y": 0.04, "yanchor": "bottom"})
    return fig


def gap_curves(with_bn, without_bn):
    """Accuracy and loss over training on the training set (solid) and the test set (dashed),
    with and without batch norm. with_bn, without_bn: GapRun."""
    fig = make_subplots(
        1,
        2,
        horizontal_spacing=0.1,
        subplot_titles=(
            "Accuracy: train (solid), test (dashed)",
            "Loss: train (solid), test (dashed)",
        ),
    )
    for run, bn in ((with_bn, True), (without_bn, False)):
        style = {"color": net_color(bn), "width": 2.3}
        for col, (train, test) in enumerate(
            ((run.train_acc, run.test_acc), (run.train_loss, run.test_loss)), start=1
        ):
            fig.add_trace(
                go.Scatter(
                    x=run.steps,
                    y=f32(train),
                    mode="lines+markers",
                    line=style,
                    marker=net_marker(bn),
                    name=f"{net_label(bn)}, train",
                    legendgroup=str(bn),
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Scatter(
                    x=run.steps,
                    y=f32(test),
                    mode="lines+markers",
                    line={**style, "dash": TEST_DASH},
                    marker=net_marker(bn),
                    name=f"{net_label(bn)}, test",
                    legendgroup=str(bn),
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="training step")
    fig.update_yaxes(range=[0, 1.02], row=1, col=1)
    fig.update_yaxes(
        type="log", row=1, col=2, tickvals=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
    )
    finish(fig, height=400)
    fig.update_layout(
        legend={"orientation": "h", "y": -0.22, "yanchor": "top", "x": 0}, margin={"b": 90, "t": 50}
    )
    return fig
