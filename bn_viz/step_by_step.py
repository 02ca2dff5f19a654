"""Figures for "Batch norm, step by step": the stages of one unit as histograms, and Z_tilde on
the activation curve.

Both take a Stages record from bn_core.lessons.step_by_step and a unit index. Z, Z_norm, Z_tilde
and A keep their STAGE_COLORS everywhere; the common mistake (dividing by sigma^2) is MISTAKE_COLOR.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_core.layers import activation_forward
from bn_core.lessons.step_by_step import saturation_zone
from bn_viz.lab_layout import rgba
from bn_viz.theme import (
    ALIVE_COLOR,
    ALIVE_SYMBOL,
    DEAD_COLOR,
    DEAD_SYMBOL,
    INK,
    MISTAKE_COLOR,
    STAGE_COLORS,
    f32,
    finish,
)

BINS = 40
MIN_HALF_RANGE = 4.0
FLAT_FILL = rgba(DEAD_COLOR, 0.10)  # the flat zones: a background shade


def shared_range(*rows):
    """One x range for the Z, Z_norm and Z_tilde rows: covers all values, at least +-4."""
    lo = min(MIN_HALF_RANGE * -1, *(float(r.min()) for r in rows))
    hi = max(MIN_HALF_RANGE, *(float(r.max()) for r in rows))
    pad = 0.05 * (hi - lo)
    return lo - pad, hi + pad


def _hist(values, name, color, xbins, opacity=1.0, outline=False):
    style = (
        {"color": "rgba(0,0,0,0)", "line": {"color": color, "width": 2}}
        if outline
        else {"color": color, "line": {"color": "white", "width": 0.5}}
    )
    return go.Histogram(
        x=f32(values),
        name=name,
        xbins=xbins,
        marker=style,
        opacity=opacity,
        hovertemplate="%{x}: %{y} examples<extra>" + name + "</extra>",
    )


def _vline(fig, x, row, text, color, dash="dash"):
    fig.add_vline(
        x=x,
        line={"color": color, "dash": dash, "width": 1.5},
        row=row,
        col=1,
        annotation_text=text,
        annotation_position="top right",
    )


def stages_figure(s, unit, show_mistake=False):
    """Three stacked histograms on one x axis: Z, Z_norm, Z_tilde of `unit`.

    Dashed lines mark mu (on Z), 0 (on Z_norm) and beta (on Z_tilde); the shaded band is one
    standard deviation either side. With show_mistake, (Z - mu) / sigma^2 is outlined on the
    Z_norm row.
    """
    z, zn, zt, zw = s.Z[unit], s.Z_norm[unit], s.Z_tilde[unit], s.Z_wrong[unit]
    lo, hi = shared_range(z, zn, zt, *([zw] if show_mistake else []))
    xbins = {"start": lo, "end": hi, "size": (hi - lo) / BINS}
    mu, sd = float(s.mu[unit, 0]), float(np.sqrt(s.var[unit, 0]))
    g, b = float(s.gamma[unit, 0]), float(s.beta[unit, 0])
    fig = make_subplots(
        3,
        1,
        shared_xaxes=True,
        vertical_spacing=0.09,
        subplot_titles=(
            "Z = W X + b  (before batch norm)",
            "Z_norm = (Z − μ) / √(σ² + ε)  (mean 0, variance 1)",
            "Z̃ = γ · Z_norm + β  (mean β, standard deviation γ)",
        ),
    )
    fig.add_trace(_hist(z, "Z", STAGE_COLORS["Z"], xbins), row=1, col=1)
    fig.add_trace(_hist(zn, "Z_norm", STAGE_COLORS["Z_norm"], xbins), row=2, col=1)
    if show_mistake:
        fig.add_trace(
            _hist(zw, "(Z − μ) / σ²  ✗ mistake", MISTAKE_COLOR, xbins, opacity=1, outline=True),
            row=2,
            col=1,
        )
    fig.add_trace(_hist(zt, "Z̃", STAGE_COLORS["Z_tilde"], xbins), row=3, col=1)
    for row, (centre, spread, label, color) in enumerate(
        (
            (mu, sd, f"μ = {mu:.3g}", STAGE_COLORS["Z"]),
            (0.0, 1.0, "0", STAGE_COLORS["Z_norm"]),
            (b, g, f"β = {b:.3g}", STAGE_COLORS["Z_tilde"]),
        ),
        start=1,
    ):
        fig.add_vrect(
            x0=centre - spread,
            x1=centre + spread,
            fillcolor=color,
            opacity=0.08,
            line_width=0,
            row=row,
            col=1,
        )
        _vline(fig, centre, row, label, color)
    fig.update_xaxes(range=[lo, hi])
    fig.update_xaxes(title_text="value", row=3, col=1)
    fig.update_yaxes(title_text="count")
    fig.update_layout(barmode="overlay", bargap=0.05)
    return legend_below(finish(fig, height=640), y=-0.1)


def activation_figure(s, unit, n_curve=400):
    """Left: Z_tilde of `unit` on the activation curve, saturated (or dead) points as crosses
    (DEAD_COLOR), live ones as dots (ALIVE_COLOR), and the flat zones shaded. Right: the
    histogram of A = g(Z_tilde)."""
    zt, a, flat = s.Z_tilde[unit], s.A[unit], s.flat[unit]
    lo, hi = shared_range(zt)
    curve_z = np.linspace(lo, hi, n_curve)
    fig = make_subplots(
        1,
        2,
        column_widths=[0.6, 0.4],
        horizontal_spacing=0.12,
        subplot_titles=(f"A = {s.activation}(Z̃): each dot one example", "A, the layer's output"),
    )
    fig.add_trace(
        go.Scatter(
            x=f32(curve_z),
            y=f32(activation_forward(curve_z, s.activation)),
            mode="lines",
            name=s.activation,
            hoverinfo="skip",
            line={"color": INK, "width": 2},
        ),
        row=1,
        col=1,
    )
    for mask, name, color, symbol in (
        (~flat, "slope alive", ALIVE_COLOR, ALIVE_SYMBOL),
        (flat, "saturated / dead", DEAD_COLOR, DEAD_SYMBOL),
    ):
        fig.add_trace(
            go.Scatter(
                x=f32(zt[mask]),
                y=f32(a[mask]),
                mode="markers",
                name=name,
                marker={"color": color, "size": 8, "symbol": symbol},
                hovertemplate="z̃=%{x:.3g}<br>a=%{y:.3g}<extra></extra>",
            ),
            row=1,
            col=1,
        )
    z_lo, z_hi = saturation_zone(s.activation)
    if np.isfinite(z_lo):
        fig.add_vrect(
            x0=lo, x1=max(min(z_lo, hi), lo), fillcolor=FLAT_FILL, line_width=0, row=1, col=1
        )
    if np.isfinite(z_hi):
        fig.add_vrect(
            x0=min(max(z_hi, lo), hi), x1=hi, fillcolor=FLAT_FILL, line_width=0, row=1, col=1
        )
    a_lo, a_hi = _a_range(s.activation, a)
    fig.add_trace(
        _hist(
            a, "A", STAGE_COLORS["A"], {"start": a_lo, "end": a_hi, "size": (a_hi - a_lo) / BINS}
        ),
        row=1,
        col=2,
    )
    fig.update_xaxes(range=[lo, hi], title_text="z̃", row=1, col=1)
    fig.update_xaxes(range=[a_lo, a_hi], title_text="a", row=1, col=2)
    fig.update_yaxes(title_text="a = g(z̃)", row=1, col=1)
    fig.update_yaxes(title_text="count", row=1, col=2)
    return legend_below(finish(fig, height=400, showlegend=True), y=-0.2)


def legend_below(fig, y):
    """Legend centred under the plots (y in paper units), clear of the subplot titles; subplot
    titles follow the figure's font size (which presentation mode enlarges)."""
    fig.update_annotations(font={"size": None}, selector={"xref": "paper"})
    fig.update_layout(
        font={"size": 13},
        legend={"orientation": "h", "yanchor": "top", "y": y, "x": 0.5, "xanchor": "center"},
        margin={"b": 80},
    )
    return fig


def _a_range(activation, a):
    """The x range of A's histogram: the activation's whole output range (relu: 0 to at
    least 1), so a pile-up at a limit shows as one narrow bar at the edge."""
    if activation == "sigmoid":
        return -0.025, 1.025
    if activation == "tanh":
        return -1.05, 1.05
    top = max(float(a.max()), 1.0) * 1.05
    return -0.025 * top, top


def linear_part_figure(lp, n_curve=400):
    """The sigmoid, its tangent 1/2 + z/4 and the band |z| < 1 where the two nearly agree;
    on the curve, one unit's examples with gamma = 1, beta = 0 (Z_norm) and with the chosen
    gamma, beta (Z_tilde). lp: a LinearPart from bn_core.lessons.step_by_step."""
    lo, hi = shared_range(lp.z_plain, lp.z_chosen)
    curve_z = np.linspace(lo, hi, n_curve)
    fig = go.Figure()
    fig.add_vrect(
        x0=-1,
        x1=1,
        fillcolor=STAGE_COLORS["Z_norm"],
        opacity=0.08,
        line_width=0,
        annotation_text="|z̃| < 1",
        annotation_position="top left",
    )
    fig.add_trace(
        go.Scatter(
            x=f32(curve_z),
            y=f32(activation_forward(curve_z, "sigmoid")),
            mode="lines",
            name="sigmoid(z̃)",
            hoverinfo="skip",
            line={"color": INK, "width": 2},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=f32(curve_z),
            y=f32(0.5 + curve_z / 4),
            mode="lines",
            name="tangent 1/2 + z̃/4 (close on the shaded |z̃| < 1)",
            hoverinfo="skip",
            line={"color": INK, "width": 1, "dash": "dot"},
        )
    )
    for z, a, name, color, symbol, size in (  # open rings: both show where they coincide
        (
            lp.z_plain,
            lp.a_plain,
            "γ = 1, β = 0 (Z̃ = Z_norm)",
            STAGE_COLORS["Z_norm"],
            "circle-open",
            11,
        ),
        (
            lp.z_chosen,
            lp.a_chosen,
            f"γ = {lp.gamma:.3g}, β = {lp.beta:.3g}",
            STAGE_COLORS["Z_tilde"],
            "diamond",
            7,
        ),
    ):
        fig.add_trace(
            go.Scatter(
                x=f32(z),
                y=f32(a),
                mode="markers",
                name=name,
                marker={
                    "color": color,
                    "size": size,
                    "opacity": 0.8,
                    "symbol": symbol,
                    "line": {"width": 1.5},
                },
                hovertemplate="z̃=%{x:.3g}<br>a=%{y:.3g}<extra></extra>",
            )
        )
    fig.update_xaxes(range=[lo, hi], title_text="z̃")
    fig.update_yaxes(range=[-0.05, 1.05], title_text="a = sigmoid(z̃)")
    return legend_below(finish(fig, height=380, showlegend=True), y=-0.22)
