"""Figures of the Training Lab that look at the data: the decision boundary over the 2-D sets,
and a grid of digits with the labels each network predicts.

Classes are drawn in CLASS_PALETTE (theme.CLASS_COLORS) and each with its own marker symbol
(theme.CLASS_SYMBOLS): training points filled, test points outlined. Panels are titled by
network, a swatch of its colour before its name.
"""

from __future__ import annotations

import numpy as np

from bn_viz.lab_layout import Grid, axis_names, figure, heatmap, scatter, shade
from bn_viz.theme import CLASS_COLORS, CLASS_SYMBOLS, VERMILLION, empty_figure, f32, net_title

CLASS_PALETTE = CLASS_COLORS  # orange and purple first: told apart by red-green colour-blind
# eyes too (and by their symbols)
WRONG_COLOR = VERMILLION  # the frame around a digit predicted wrong (its label says so too)


def _class_colorscale(k):
    """A stepped colour scale over z in [0, k]: class c fills [c, c + 1), from a faint tint of
    its colour (not sure) to a stronger one (sure)."""
    scale = []
    for c in range(k):
        color = CLASS_PALETTE[c % len(CLASS_PALETTE)]
        scale += [
            [c / k, shade(color, 0.06)],
            [(c + 1) / k - 1e-9 if c < k - 1 else 1.0, shade(color, 0.45)],
        ]
    return scale


def _decision_z(dmap, k):
    """(z, zmin, zmax): z = class * levels + how sure (0 at confidence 1/k, levels - 1 at
    confidence 1), as uint8 (a quarter of float32's bytes); class c fills [c/k, (c+1)/k] of
    the colour scale."""
    levels = min(20, 255 // k)
    sure = np.clip((dmap.confidence - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    z = (dmap.label * levels + np.round(sure * (levels - 1))).astype(np.uint8)
    return z, -0.5, k * levels - 0.5


def boundary_figure(maps, split, height=360):
    """Each network's eval-mode decision regions over the 2-D inputs, with the training points
    (filled) and the test points (outlined) in their classes' colours and symbols.

    maps: [(normalization, DecisionMap or None), ...], main network first (normalization:
    "batch", "layer" or None, or a bool for batch norm on or off); None is a network whose
    weights blew up. split: a bn_core.training.Split with 2 input features.
    """
    k = split.n_classes
    titles = [net_title(bn) for bn, _ in maps]
    grid = Grid(1, len(maps), titles=titles, hspace=0.04)
    traces, notes = [], []
    for c, (_, dmap) in enumerate(maps, start=1):
        axes = grid.axes(1, c)
        if dmap is None:
            notes.append(
                {
                    "text": "stopped: its weights blew up",
                    "showarrow": False,
                    "xref": f"{axes['xaxis']} domain",
                    "yref": f"{axes['yaxis']} domain",
                    "x": 0.5,
                    "y": 0.5,
                }
            )
        else:
            z, zmin, zmax = _decision_z(dmap, k)
            traces.append(
                heatmap(
                    x=f32(dmap.xs),
                    y=f32(dmap.ys),
                    z=z,
                    **axes,
                    zmin=zmin,
                    zmax=zmax,
                    colorscale=_class_colorscale(k),
                    showscale=False,
                    zsmooth="best",
                    hoverinfo="skip",
                )
            )
        for cls in range(k):
            color = CLASS_PALETTE[cls % len(CLASS_PALETTE)]
            symbol = CLASS_SYMBOLS[cls % len(CLASS_SYMBOLS)]
            train, test = split.y_train == cls, split.y_test == cls
            traces += [
                scatter(
                    x=f32(split.X_train[0, train]),
                    y=f32(split.X_train[1, train]),
                    **axes,
                    mode="markers",
                    name=f"train, class {cls}",
                    marker={
                        "size": 7,
                        "color": color,
                        "symbol": symbol,
                        "line": {"color": "white", "width": 0.8},
                    },
                    hoverinfo="skip",
                ),
                scatter(
                    x=f32(split.X_test[0, test]),
                    y=f32(split.X_test[1, test]),
                    **axes,
                    mode="markers",
                    name=f"test, class {cls}",
                    marker={
                        "size": 8,
                        "symbol": f"{symbol}-open",
                        "color": color,
                        "line": {"color": color, "width": 2},
                    },
                    hoverinfo="skip",
                ),
            ]
    for c in range(1, len(maps) + 1):
        x, _ = axis_names(c)
        grid.xaxis(1, c).update(
            showticklabels=False, constrain="domain", showgrid=False, zeroline=False
        )
        grid.yaxis(1, c).update(
            showticklabels=False, constrain="domain", showgrid=False, zeroline=False, scaleanchor=x
        )
    key = {
        "text": "● train (filled)   ○ test (outlined)",
        "x": 0.5,
        "y": 0,
        "xref": "paper",
        "yref": "paper",
        "xanchor": "center",
        "yanchor": "top",
        "yshift": -4,
        "showarrow": False,
    }
    layout = {
        **grid.layout,
        "annotations": [*grid.layout["annotations"], *notes, key],
        "showlegend": False,
    }
    return figure(
        traces,
        layout,
        "Decision regions (eval mode)",
        height=height,
        margin={"l": 10, "r": 10, "t": 70, "b": 30},
    )


SIDE = 8  # the digits are 8x8 pixels
COL_GAP, ROW_GAP = 1, 4  # pixels between images; a row's gap holds the labels above it


def mosaic(images, n_cols=8, side=SIDE):
    """Tile images (n, side*side) into one array, n_cols per row, with NaN gaps: ROW_GAP above
    each row (for its labels), COL_GAP between columns.

    Returns (n_rows*(side+ROW_GAP), n_cols*(side+COL_GAP)-COL_GAP) float32, row 0 at the top."""
    n = images.shape[0]
    n_rows = -(-n // n_cols)
    th, tw = side + ROW_GAP, side + COL_GAP
    out = np.full((n_rows * th, n_cols * tw - COL_GAP), np.nan, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, n_cols)
        out[r * th + ROW_GAP : r * th + ROW_GAP + side, c * tw : c * tw + side] = images[i].reshape(
            side, side
        )
    return out


def digits_figure(images, y_true, predictions, n_cols=8, height=360):
    """Test digits with the label each network predicts in eval mode; wrong ones framed in
    WRONG_COLOR, their true label beside the guess.

    images: (n, 64) pixels in [0, 1]; y_true: (n,); predictions: [(normalization, preds (n,)),
    ...], main network first (normalization as in boundary_figure).
    """
    if len(images) == 0:
        return empty_figure("No test digits.")
    n = images.shape[0]
    tile = mosaic(images, n_cols)
    titles = []
    for bn, preds in predictions:
        right = int(np.sum(preds == y_true))
        titles.append(f"{net_title(bn)}: {right} of {n} right")
    grid = Grid(len(predictions), 1, titles=titles, vspace=0.1)
    traces, notes, shapes = [], [], []
    for r, (_, preds) in enumerate(predictions, start=1):
        axes = grid.axes(r, 1)
        traces.append(
            heatmap(
                z=tile,
                **axes,
                colorscale="Greys",
                zmin=0,
                zmax=1,
                showscale=False,
                hoverinfo="skip",
            )
        )
        for i in range(n):
            row, col = divmod(i, n_cols)
            x0, y0 = col * (SIDE + COL_GAP), row * (SIDE + ROW_GAP) + ROW_GAP
            wrong = preds[i] != y_true[i]
            guess = "?" if preds[i] < 0 else str(preds[i])
            notes.append(
                {
                    "x": x0 + SIDE / 2 - 0.5,
                    "y": y0 - 0.6,
                    "xref": axes["xaxis"],
                    "yref": axes["yaxis"],
                    "showarrow": False,
                    "yanchor": "bottom",
                    "text": f"<b>{guess}</b>" + (f" (is {y_true[i]})" if wrong else ""),
                    "font": {"size": 11},
                }
            )
            if wrong:
                shapes.append(
                    {
                        "type": "rect",
                        "x0": x0 - 0.5,
                        "x1": x0 + SIDE - 0.5,
                        "y0": y0 - 0.5,
                        "y1": y0 + SIDE - 0.5,
                        "xref": axes["xaxis"],
                        "yref": axes["yaxis"],
                        "line": {"color": WRONG_COLOR, "width": 2},
                    }
                )
        grid.xaxis(r, 1).update(visible=False, constrain="domain")
        grid.yaxis(r, 1).update(
            visible=False, autorange="reversed", constrain="domain", scaleanchor=axes["xaxis"]
        )
    layout = {**grid.layout, "annotations": [*grid.layout["annotations"], *notes], "shapes": shapes}
    return figure(
        traces,
        layout,
        "Test digits and the label each network predicts (framed: wrong)",
        height=height,
        margin={"l": 10, "r": 10, "t": 60, "b": 10},
    )


def data_figure(panel, digit_images=None, height=360):
    """The data panel: decision regions over 2-D inputs, or test digits with each network's
    predictions. panel: a bn_core.lessons.training_lab.DataPanel; digit_images: the panel's
    test images as raw pixels (64, m_test), from bn_core.lessons.training_lab.raw_test_inputs
    (else the inputs, rescaled)."""
    if panel.maps:
        return boundary_figure(list(panel.maps), panel.split, height=height)
    n = panel.X.shape[1]
    images = (
        digit_images[:, :n]
        if digit_images is not None
        else (panel.X - panel.X.min()) / max(np.ptp(panel.X), 1e-12)
    ).T
    return digits_figure(images, panel.y, list(panel.predictions), height=height)
