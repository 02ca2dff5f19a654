"""Figures of the Training Lab's "Edit γ and β" panel: the loss so far with the edited
network's eval-mode loss as markers, one unit's Z̃ and A with the learned values against the
edited ones, and the edited network's decision regions.

Builders take bn_core.gamma_beta.EditOutcome records (learned first, then edited) and a
Recorder; they compute nothing beyond what a chart needs.
"""

from __future__ import annotations

from bn_core.lessons.step_by_step import saturation_zone
from bn_core.lessons.training_lab import ema
from bn_viz import lab_data
from bn_viz.lab_layout import (
    BOTTOM_LEGEND,
    BOTTOM_MARGIN,
    Grid,
    figure,
    histogram,
    rgba,
    scatter,
    thin,
    x_of,
)
from bn_viz.theme import (
    DARK_ORANGE,
    GREY,
    REDDISH_PURPLE,
    TEST_DASH,
    f32,
    net_color,
)

LEARNED_COLOR = GREY
EDITED_COLOR = REDDISH_PURPLE
SATURATED_FILL = rgba(DARK_ORANGE, 0.15)
BINS = 40


def loss_with_edit_figure(recorder, step, learned, edited, height=370):
    """The main network's loss over training (train: smoothed mini-batch loss; test: eval
    mode, dashed), and at the current step its eval-mode loss on the training and test sets
    with the learned γ, β (hollow circles) and with the edited ones (stars).

    recorder: the main network's Recorder; learned, edited: EditOutcome."""
    color = net_color(recorder.normalization)
    traces = []
    if recorder.train.n:
        idx = thin(recorder.train.n)
        traces.append(
            scatter(
                **x_of(recorder.train.steps[idx]),
                y=f32(ema(recorder.train.values)[idx, 0]),
                mode="lines",
                name="train (mini-batches, smoothed)",
                line={"color": color, "width": 2},
            )
        )
    if recorder.test.n:
        idx = thin(recorder.test.n)
        traces.append(
            scatter(
                **x_of(recorder.test.steps[idx]),
                y=f32(recorder.test.values[idx, 0]),
                mode="lines+markers" if recorder.test.n < 3 else "lines",
                name="test (eval mode)",
                line={"color": color, "width": 2, "dash": TEST_DASH},
            )
        )
    for name, result, symbol, mark_color in (
        ("learned γ, β", learned, "circle-open", LEARNED_COLOR),
        ("your γ, β", edited, "star", EDITED_COLOR),
    ):
        traces.append(
            scatter(
                x=[step, step],
                y=[result.train[0], result.test[0]],
                mode="markers",
                text=["train set", "test set"],
                name=f"{name} (train, test)",
                marker={
                    "symbol": symbol,
                    "size": 12,
                    "color": mark_color,
                    "line": {"color": mark_color, "width": 2},
                },
                hovertemplate="%{text}: loss %{y:.3f}<extra>" + name + "</extra>",
            )
        )
    layout = {
        "yaxis": {"type": "log", "tickformat": ".2g", "title": {"text": "loss (log)"}},
        "xaxis": {"title": {"text": "step"}, "range": [0, max(step, 1) * 1.08]},
    }
    return figure(
        traces,
        layout,
        f"Loss; at step {step} in eval mode",
        height=height,
        legend=BOTTOM_LEGEND,
        margin={**BOTTOM_MARGIN, "t": 50, "b": 125},
    )


def unit_figure(learned, edited, activation, layer, unit, height=370):
    """Histograms of one unit's Z̃ (the input to g) and A = g(Z̃) on the training set in eval
    mode: the learned γ, β in grey, the edited ones in purple. For sigmoid and tanh the
    saturated tails (g' under a tenth of its peak) are shaded on the Z̃ panel.

    learned, edited: EditOutcome; layer 1-based, unit 0-based."""
    grid = Grid(1, 2, titles=("Z̃ = γ Z_norm + β", "A = g(Z̃)"), hspace=0.1)
    traces = []
    for name, result, color in (
        ("learned γ, β", learned, LEARNED_COLOR),
        ("your γ, β", edited, EDITED_COLOR),
    ):
        for c, values in enumerate((result.Z_tilde, result.A), start=1):
            traces.append(
                histogram(
                    x=f32(values),
                    **grid.axes(1, c),
                    name=name,
                    legendgroup=name,
                    showlegend=c == 1,
                    nbinsx=BINS,
                    histnorm="probability",
                    marker={"color": rgba(color, 0.4), "line": {"color": color, "width": 1}},
                    hovertemplate="%{x}: %{y:.0%}<extra></extra>",
                )
            )
    shapes = []
    if activation in ("sigmoid", "tanh"):
        lo, hi = saturation_zone(activation)
        shapes = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y domain",
                "x0": x0,
                "x1": x1,
                "y0": 0,
                "y1": 1,
                "fillcolor": SATURATED_FILL,
                "line": {"width": 0},
                "layer": "below",
            }
            for x0, x1 in ((lo - 1e3, lo), (hi, hi + 1e3))
        ]
        low = min(float(learned.Z_tilde.min()), float(edited.Z_tilde.min()), lo - 1)
        high = max(float(learned.Z_tilde.max()), float(edited.Z_tilde.max()), hi + 1)
        grid.xaxis(1, 1)["range"] = [low - 0.05 * (high - low), high + 0.05 * (high - low)]
    for axis in grid.every_yaxis():
        axis["showticklabels"] = False
    return figure(
        traces,
        {**grid.layout, "barmode": "overlay", "shapes": shapes},
        f"Unit {unit + 1}, hidden layer {layer}"
        + ("<br><sup>shaded: saturated</sup>" if shapes else ""),
        height=height,
        legend=BOTTOM_LEGEND,
        margin={**BOTTOM_MARGIN, "b": 80},
    )


def regions_figure(panel, digit_images=None, height=370):
    """The edited network's decision regions (or, for digits, its predictions): a
    bn_core.lessons.training_lab.DataPanel of that one network."""
    fig = lab_data.data_figure(panel, digit_images, height=height)
    fig.update_layout(
        title={"text": "Decision regions, your γ, β" if panel.maps else "Predictions, your γ, β"}
    )
    return fig
