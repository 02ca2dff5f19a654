"""One template and one colour meaning for every figure in the app.

A network with batch norm is always BN_COLOR, one with layer norm LN_COLOR, one without
normalization PLAIN_COLOR; the three stages of a layer (Z, Z_tilde, A) always STAGE_COLORS.
Figures arrive in the page ready to show.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

BN_COLOR = "#1f77b4"  # batch norm on
PLAIN_COLOR = "#ff7f0e"  # the same network without batch norm (without normalization)
LN_COLOR = "#17becf"  # layer norm
TEST_DASH = "dash"  # test-set curves are dashed, train solid
STAGE_COLORS = {"Z": "#7f7f7f", "Z_norm": "#9467bd", "Z_tilde": "#2ca02c", "A": "#d62728"}
CLASS_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
RUNNING_COLOR = "#000000"  # running averages used at test time

TEMPLATE = "plotly_white"
pio.templates.default = TEMPLATE


NET_COLORS = {"batch": BN_COLOR, "layer": LN_COLOR, None: PLAIN_COLOR}
NET_LABELS = {"batch": "with batch norm", "layer": "with layer norm",
              None: "without normalization", False: "without batch norm"}


def _normalization(normalization):
    """"batch", "layer" or None from a network's normalization: those, "none", or a bool
    (batch norm on or off, as the lessons about batch norm say it)."""
    if normalization is True:
        return "batch"
    if normalization is False or normalization == "none":
        return None
    if normalization not in NET_COLORS:
        raise ValueError(f"unknown normalization {normalization!r}")
    return normalization


def net_color(normalization):
    """The colour of a network by its normalization: "batch", "layer", None or "none" (True
    and False: batch norm on and off)."""
    return NET_COLORS[_normalization(normalization)]


def net_label(normalization):
    """A network's name by its normalization: "with batch norm", "with layer norm", "without
    normalization". False (batch norm off, in the lessons that only compare batch norm with
    nothing) reads "without batch norm"."""
    if normalization is False:
        return NET_LABELS[False]
    return NET_LABELS[_normalization(normalization)]


def f32(values):
    """float32 for Plotly: it ships such arrays as compact base64 (half the bytes of float64)."""
    return np.asarray(values, dtype=np.float32)


def finish(fig, title=None, height=320, **layout):
    """Common layout: template, title, tight margins, legend on top."""
    fig.update_layout(template=TEMPLATE, title=title, height=height,
                      margin={"l": 50, "r": 20, "t": 60 if title else 30, "b": 40},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                      **layout)
    return fig


def empty_figure(message, height=240):
    """A figure that says why it has nothing to show yet (never an empty frame)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper",
                       font={"size": 14, "color": "#666"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return finish(fig, height=height)
