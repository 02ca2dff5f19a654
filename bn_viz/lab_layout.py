"""Small, fast building blocks for the Training Lab's live figures.

The lab redraws its charts twice a second, so they are built lean: subplot grids are laid out
here as plain axis domains (plotly's make_subplots and add_traces(rows=...) cost 10-30 ms a
figure, this a fraction of a millisecond), traces carry their axes themselves, evenly spaced
steps go as x0/dx instead of an x array, and values as float32.
The look is the theme's: its default template, its colours, its margins and legend.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from bn_viz.theme import TEMPLATE

MAX_POINTS = 400  # points per line on screen: plenty for a chart a few hundred pixels wide
# For figures with subplot titles: the legend goes under the plots, out of the titles' way.
BOTTOM_LEGEND = {"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom", "x": 0}
BOTTOM_MARGIN = {"l": 50, "r": 30, "t": 70, "b": 60}


def axis_names(k):
    """Plotly's names for subplot k (1-based, row by row): ("x", "y"), ("x2", "y2"), ..."""
    suffix = "" if k == 1 else str(k)
    return f"x{suffix}", f"y{suffix}"


class Grid:
    """A rows x cols grid of subplots as a layout dict.

    `axes(r, c)` gives the {"xaxis": "x3", "yaxis": "y3"} a trace needs to land in row r,
    column c (1-based). titles: one per subplot, row by row (or None); column_titles above the
    top row; row_titles on the right of each row. shared_x: one x range per column, tick
    labels only on the bottom row.
    """

    def __init__(
        self,
        rows,
        cols,
        titles=None,
        column_titles=None,
        row_titles=None,
        hspace=0.06,
        vspace=0.12,
        shared_x=False,
    ):
        self.rows, self.cols = rows, cols
        self.layout = {}
        annotations = []
        width = (1 - hspace * (cols - 1)) / cols
        height = (1 - vspace * (rows - 1)) / rows
        for r in range(1, rows + 1):
            top = 1 - (r - 1) * (height + vspace)
            for c in range(1, cols + 1):
                left = (c - 1) * (width + hspace)
                k = (r - 1) * cols + c
                x, y = axis_names(k)
                xaxis = {"domain": [left, left + width], "anchor": y}
                if shared_x:
                    bottom = axis_names((rows - 1) * cols + c)[0]
                    if x != bottom:
                        xaxis.update(matches=bottom, showticklabels=False)
                self.layout["xaxis" + x[1:]] = xaxis
                self.layout["yaxis" + y[1:]] = {
                    "domain": [max(top - height, 0.0), top],
                    "anchor": x,
                }
                title = titles[k - 1] if titles and k <= len(titles) else None
                if r == 1 and column_titles:
                    title = column_titles[c - 1]
                if title:
                    annotations.append(_title(title, left + width / 2, top))
            if row_titles:
                annotations.append(
                    {
                        **_title(row_titles[r - 1], 1.0, top - height / 2),
                        "textangle": 90,
                        "xanchor": "left",
                        "yanchor": "middle",
                        "xshift": 4,
                    }
                )
        self.layout["annotations"] = annotations

    def axes(self, r, c):
        x, y = axis_names((r - 1) * self.cols + c)
        return {"xaxis": x, "yaxis": y}

    def xaxis(self, r, c):
        return self.layout["xaxis" + axis_names((r - 1) * self.cols + c)[0][1:]]

    def yaxis(self, r, c):
        return self.layout["yaxis" + axis_names((r - 1) * self.cols + c)[1][1:]]

    def every_xaxis(self):
        return [v for k, v in self.layout.items() if k.startswith("xaxis")]

    def every_yaxis(self):
        return [v for k, v in self.layout.items() if k.startswith("yaxis")]


def _title(text, x, y):
    # no font size of its own: a title follows the figure's font (presentation mode enlarges it)
    return {
        "text": text,
        "x": x,
        "y": y,
        "xref": "paper",
        "yref": "paper",
        "showarrow": False,
        "xanchor": "center",
        "yanchor": "bottom",
    }


def figure(traces, layout, title=None, height=320, legend=None, margin=None):
    """A go.Figure with the theme's layout (its default template, a tight margin, the legend on
    top), built in one go. theme.finish does the same but sets the template again, which costs
    ~8 ms a figure; the default template is already the theme's."""
    full = {
        "height": height,
        "margin": margin or {"l": 50, "r": 20, "t": 60 if title else 30, "b": 40},
        "legend": legend or {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        **layout,
    }
    if title:
        full["title"] = {"text": title}
    if pio.templates.default != TEMPLATE:  # Streamlit, imported later, made its own the default
        full["template"] = TEMPLATE
    return go.Figure(data=traces, layout=full)


def scatter(**props):
    """A scatter trace as a plain dict: go.Figure validates it once, where a go.Scatter would
    be validated twice (when made, and again when the figure copies it in)."""
    return {"type": "scatter", **props}


def histogram(**props):
    return {"type": "histogram", **props}


def heatmap(**props):
    return {"type": "heatmap", **props}


def thin(n, max_points=MAX_POINTS):
    """Indices of at most max_points of n points, evenly spaced and ending with the last one
    (so an evenly spaced series stays evenly spaced)."""
    stride = max(1, -(-n // max_points))
    return np.arange(n - 1, -1, -stride)[::-1]


def x_of(steps):
    """The x of a trace over these steps: {"x0", "dx"} when they are evenly spaced (a handful of
    bytes instead of an array), else {"x": int32 array}."""
    steps = np.asarray(steps)
    if steps.size >= 2:
        d = steps[1] - steps[0]
        if d > 0 and np.all(np.diff(steps) == d):
            return {"x0": int(steps[0]), "dx": int(d)}
    return {"x": steps.astype(np.int32)}


def rgba(hex_color, alpha):
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def shade(hex_color, t):
    """hex_color mixed with white: t = 0 white, t = 1 the colour itself."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 - t * (255 - c)):02x}" for c in (r, g, b))
