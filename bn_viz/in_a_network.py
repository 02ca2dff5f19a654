"""Figures for "fitting batch norm into a network": the network drawn layer by layer, and the
numbers of one stop of the training loop as small annotated matrices.

Inputs come from bn_core.lessons.in_a_network (LayerParams, Step). Arrays are (rows, columns)
as the core holds them: for activations a row is a unit and a column is an example.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from bn_core.lessons.step_by_step import saturation_zone
from bn_viz.step_by_step import FLAT_FILL
from bn_viz.theme import (
    BN_COLOR,
    DIAGRAM_FILLS,
    DIAGRAM_LINE,
    DIAGRAM_TEXT,
    INK,
    MUTED_TEXT,
    STAGE_COLORS,
    f32,
    finish,
)

# --- the network, one row per layer ----------------------------------------------------------

_NODE_X = (0.0, 2.6, 5.2, 7.8)  # a[l-1], z[l], z~[l], a[l]
_NODE_W, _NODE_H = 1.1, 0.62
_ROW_DY = 1.75
_SUMMARY_X = 9.0
_NODE_FILL = DIAGRAM_FILLS
_ACT_NAME = {"relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "linear": "linear"}


def network_diagram(layers, activation="relu"):
    """The network drawn layer by layer: a[l-1] -> z[l] -> z~[l] -> a[l] with each arrow
    labelled by the parameters it uses and their counts, and a per-layer total on the right.

    layers: tuple of bn_core.lessons.in_a_network.LayerParams (l = 1..L).
    """
    fig = go.Figure()
    for layer in layers:
        y = -(layer.l - 1) * _ROW_DY
        _draw_layer(fig, layer, y, activation)
        if not layer.output:
            _draw_return(fig, y)
    total = sum(layer.total for layer in layers)
    dropped = [layer for layer in layers if layer.bias_eliminated]
    note = (
        f" · dropping b[{']/b['.join(str(d.l) for d in dropped)}] saved {sum(d.n for d in dropped)}"
        if dropped
        else ""
    )
    fig.update_xaxes(visible=False, range=[-0.8, 12.4], fixedrange=True)
    fig.update_yaxes(
        visible=False, range=[-(len(layers) - 1) * _ROW_DY - 0.75, 0.85], fixedrange=True
    )
    # text sizes follow the layout font, so presentation mode's larger font reaches them
    return finish(
        fig,
        title=f"{total} learned parameters{note}",
        height=int(150 * len(layers) + 70),
        showlegend=False,
        font={"size": 13},
    )


_SYMBOL = {"gamma": "γ", "beta": "β"}


def diagram_summary(layers, activation="relu"):
    """The network diagram in words, layer by layer (its accessible description)."""
    said = []
    for layer in layers:
        kept = ", ".join(
            f"{_SYMBOL.get(name, name)} {count}" for name, count in layer.counts.items() if count
        )
        steps = "Z = W a + b" if layer.counts["b"] else "Z = W a"
        if layer.batch_norm and not layer.output:
            steps += ", then batch norm to Z̃ = γ Z_norm + β"
        z = "Z̃" if layer.batch_norm and not layer.output else "Z"
        steps += ", then softmax" if layer.output else f", then a = {activation}({z})"
        said.append(
            f"Layer {layer.l} ({layer.n_prev} to {layer.n} units): {steps}; "
            f"learned numbers {kept}, {layer.total} in all"
            + (", b dropped" if layer.bias_eliminated else "")
        )
    return ". ".join(said)


def _draw_layer(fig, layer, y, activation):
    l = layer.l
    prev = "x = a[0]" if l == 1 else f"a[{l - 1}]"
    _node(fig, _NODE_X[0], y, f"<b>{prev}</b><br>{layer.n_prev} × m", _NODE_FILL["a"])
    _node(fig, _NODE_X[1], y, f"<b>z[{l}]</b><br>{layer.n} × m", _NODE_FILL["z"])
    bias = "" if layer.bias_eliminated else f" + b[{l}]"
    linear = f"W[{l}] {prev.split()[-1]}{bias}"
    counts = f"{layer.n}×{layer.n_prev} = {layer.counts['W']}" + (
        "" if layer.bias_eliminated else f"  +  {layer.counts['b']}"
    )
    _edge(fig, _NODE_X[0], _NODE_X[1], y, linear, counts, INK)
    if layer.output:
        _node(fig, _NODE_X[2], y, "<b>ŷ</b><br>probabilities", _NODE_FILL["out"])
        _edge(fig, _NODE_X[1], _NODE_X[2], y, "softmax", "no parameters", INK)
    elif layer.batch_norm:
        _node(fig, _NODE_X[2], y, f"<b>z̃[{l}]</b><br>{layer.n} × m", _NODE_FILL["zt"])
        _node(fig, _NODE_X[3], y, f"<b>a[{l}]</b><br>{layer.n} × m", _NODE_FILL["a"])
        _edge(
            fig,
            _NODE_X[1],
            _NODE_X[2],
            y,
            f"BN: γ[{l}], β[{l}]",
            f"{layer.counts['gamma']}  +  {layer.counts['beta']}",
            BN_COLOR,
        )
        _edge(
            fig,
            _NODE_X[2],
            _NODE_X[3],
            y,
            f"g = {_ACT_NAME[activation]}",
            "no parameters",
            STAGE_COLORS["A"],
        )
    else:
        _node(fig, _NODE_X[3], y, f"<b>a[{l}]</b><br>{layer.n} × m", _NODE_FILL["a"])
        _edge(
            fig,
            _NODE_X[1],
            _NODE_X[3],
            y,
            f"g = {_ACT_NAME[activation]}",
            "no parameters",
            STAGE_COLORS["A"],
        )
    _summary(fig, layer, y)


def _node(fig, x, y, text, fill):
    fig.add_shape(
        type="rect",
        x0=x - _NODE_W / 2,
        x1=x + _NODE_W / 2,
        y0=y - _NODE_H / 2,
        y1=y + _NODE_H / 2,
        fillcolor=fill,
        line={"color": DIAGRAM_LINE, "width": 1},
        layer="below",
    )
    # dark text on the pale box, in either theme
    fig.add_annotation(x=x, y=y, text=text, showarrow=False, font={"color": DIAGRAM_TEXT})


def _edge(fig, x_from, x_to, y, label, counts, color):
    """An arrow between two nodes in `color`, the operation above it and the parameter counts
    below (in the chart's text colours: text never takes a series colour)."""
    start, end = x_from + _NODE_W / 2, x_to - _NODE_W / 2
    fig.add_annotation(
        x=end,
        y=y,
        ax=start,
        ay=y,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        text="",
        showarrow=True,
        arrowhead=2,
        arrowsize=1.2,
        arrowwidth=1.6,
        arrowcolor=color,
    )
    middle = (start + end) / 2
    fig.add_annotation(x=middle, y=y + 0.2, text=label, showarrow=False, yanchor="bottom")
    fig.add_annotation(
        x=middle, y=y - 0.2, text=counts, showarrow=False, font={"color": MUTED_TEXT}, yanchor="top"
    )


def _draw_return(fig, y):
    """An elbow from a[l] at the end of this row to a[l] at the start of the next."""
    top, bottom = y - _NODE_H / 2, y - _ROW_DY + _NODE_H / 2
    middle = (top + bottom) / 2
    fig.add_shape(
        type="path",
        path=f"M {_NODE_X[3]},{top} V {middle} H {_NODE_X[0]} V {bottom + 0.08}",
        line={"color": DIAGRAM_LINE, "width": 1.2, "dash": "dot"},
    )


def _summary(fig, layer, y):
    """Layer l's parameter counts on the right of its row."""
    c = layer.counts
    parts = [f"W {c['W']}"]
    parts.append("<i>b dropped</i>" if layer.bias_eliminated else f"b {c['b']}")
    if layer.batch_norm:
        parts += [f"γ {c['gamma']}", f"β {c['beta']}"]
    kind = "output layer" if layer.output else "layer"
    fig.add_annotation(
        x=_SUMMARY_X,
        y=y,
        xanchor="left",
        showarrow=False,
        align="left",
        text=f"<b>{kind} {layer.l}: {layer.total}</b><br>" + " · ".join(parts),
    )


# --- one stop of the training loop -----------------------------------------------------------

_CELL_W = 0.052  # of the figure width
_CELL_H = 24  # px
_HEADER_H = 34  # px above each row of matrices
_GAP_CELLS = 0.7


def step_figure(step):
    """The matrices of one walkthrough stop, each an annotated heatmap (red < 0 < blue),
    side by side per row of `step.panels` (lined up in columns when the rows match).

    step: bn_core.lessons.in_a_network.Step.
    """
    rows = step.panels
    slots = _slot_widths(rows)
    units = max(sum(w + _GAP_CELLS for w in row) for row in slots)
    cell_w = min(_CELL_W, 0.98 / units)
    heights = [max(a.shape[0] for _, a in row) * _CELL_H + _HEADER_H for row in rows]
    total_h = sum(heights) + 20
    fig = go.Figure()
    top, k = 1.0, 0
    for row, widths, h in zip(rows, slots, heights, strict=True):
        x = 0.0
        for (label, array), slot in zip(row, widths, strict=True):
            k += 1
            y1 = top - _HEADER_H / total_h
            y0 = y1 - array.shape[0] * _CELL_H / total_h
            _matrix(fig, k, array, (x, x + array.shape[1] * cell_w), (y0, y1), label)
            x += (slot + _GAP_CELLS) * cell_w
        top -= h / total_h
    fig.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=total_h + 20,
        showlegend=False,
        font={"size": 12},
    )
    return fig


def _slot_widths(rows):
    """Width in cells of each panel's slot: its matrix or its label, whichever is wider;
    when every row has as many panels, each column takes its widest slot (a table)."""
    widths = [[max(a.shape[1], (len(label) + 5) / 7.5) for label, a in row] for row in rows]
    if len({len(row) for row in rows}) == 1:
        columns = [max(column) for column in zip(*widths, strict=True)]
        widths = [columns for _ in rows]
    return widths


def _matrix(fig, k, array, x_domain, y_domain, label):
    """Heatmap number k (1-based) on its own axes, numbers written in the cells."""
    array = np.asarray(array, dtype=np.float64)
    xa, ya = ("x", "y") if k == 1 else (f"x{k}", f"y{k}")
    limit = float(np.abs(array).max()) or 1.0
    fig.add_trace(
        go.Heatmap(
            z=f32(array),
            xaxis=xa,
            yaxis=ya,
            colorscale="RdBu",
            zmid=0.0,
            zmin=-limit,
            zmax=limit,
            showscale=False,
            xgap=1,
            ygap=1,
            texttemplate="%{z:.3r}",
            hovertemplate=f"{label}[%{{y}}, %{{x}}] = %{{z:.6g}}<extra></extra>",
            name=label,
        )
    )
    axis = {"visible": False, "fixedrange": True}
    fig.update_layout(
        {
            f"xaxis{'' if k == 1 else k}": {**axis, "domain": list(x_domain), "anchor": ya},
            f"yaxis{'' if k == 1 else k}": {
                **axis,
                "domain": list(y_domain),
                "anchor": xa,
                "autorange": "reversed",
            },
        }
    )
    rows, cols = array.shape
    fig.add_annotation(
        x=x_domain[0],
        y=y_domain[1],
        xref="paper",
        yref="paper",
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        text=f"<b>{label}</b> {rows}×{cols}",
    )


# --- batch norm before or after g ------------------------------------------------------------

PLACEMENT_COLORS = {False: STAGE_COLORS["Z_tilde"], True: STAGE_COLORS["Z_norm"]}
PLACEMENT_NAMES = {False: "BN on Z, before g", True: "BN on A, after g"}
_PLACEMENT_BINS = 50


def placement_figure(chosen, other):
    """What g receives (left) and what the next layer receives (right), every unit's values
    pooled: the chosen placement filled, the other outlined for comparison.

    chosen, other: bn_core.lessons.in_a_network.Placement (one before g, one after).
    """
    fig = make_subplots(
        1,
        2,
        horizontal_spacing=0.1,
        subplot_titles=(
            f"What g = {chosen.activation} receives",
            "What the next layer receives: A",
        ),
    )
    for col, field in ((1, "g_input"), (2, "next_input")):
        values = [getattr(p, field).ravel() for p in (chosen, other)]
        lo = min(float(v.min()) for v in values)
        hi = max(float(v.max()) for v in values)
        pad = 0.02 * (hi - lo or 1.0)
        bins = {"start": lo - pad, "end": hi + pad, "size": (hi - lo + 2 * pad) / _PLACEMENT_BINS}
        for p, v in zip((chosen, other), values, strict=True):
            color, name = PLACEMENT_COLORS[p.after], PLACEMENT_NAMES[p.after]
            filled = p is chosen
            marker = (
                {"color": color, "line": {"color": "white", "width": 0.5}}
                if filled
                else {"color": "rgba(0,0,0,0)", "line": {"color": color, "width": 1.5}}
            )
            fig.add_trace(
                go.Histogram(
                    x=f32(v),
                    xbins=bins,
                    marker=marker,
                    name=name + ("" if filled else " (the other choice)"),
                    legendgroup=name,
                    showlegend=col == 1,
                    histnorm="probability",
                    hovertemplate="%{x}: %{y:.1%} of the values<extra>" + name + "</extra>",
                ),
                row=1,
                col=col,
            )
    lo_flat, hi_flat = saturation_zone(chosen.activation)  # g's flat parts, shaded on the left
    x_lo = min(float(p.g_input.min()) for p in (chosen, other))
    x_hi = max(float(p.g_input.max()) for p in (chosen, other))
    if chosen.activation == "relu":
        lo_flat, hi_flat = 0.0, np.inf
    if lo_flat > x_lo:
        fig.add_vrect(x0=x_lo, x1=lo_flat, fillcolor=FLAT_FILL, line_width=0, row=1, col=1)
    if np.isfinite(hi_flat) and hi_flat < x_hi:
        fig.add_vrect(x0=hi_flat, x1=x_hi, fillcolor=FLAT_FILL, line_width=0, row=1, col=1)
    fig.update_xaxes(title_text="value")
    fig.update_xaxes(title_text="value (shaded: g's flat parts)", col=1)
    fig.update_yaxes(title_text="share of values", tickformat=".0%", col=1)
    fig.update_yaxes(tickformat=".0%", col=2)
    fig.update_layout(barmode="overlay", bargap=0.02)
    finish(fig, height=400)
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0}, margin={"b": 90}
    )  # under the plots, clear of the subplot titles
    return fig
