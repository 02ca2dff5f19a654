"""Lesson 1: normalizing inputs rounds the loss bowl, so gradient descent stops zig-zagging."""

from bn_app import ui

import pandas as pd
import streamlit as st

from bn_core.lessons import normalizing_inputs as lesson
from bn_viz.normalizing_inputs import (
    bowls_figure,
    data_figure,
    loss_curves_figure,
    slip_label,
    slips_figure,
    steps_short,
    steps_text,
)

RATIOS = (1, 2, 5, 10, 20, 50, 100)
ALPHAS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5)


@st.cache_data(max_entries=64, show_spinner=False)
def compare(ratio, best, alpha):
    return lesson.compare(ratio, best=best, alpha=alpha)


def verdict(cmp):
    """One sentence per outcome, in words, with the numbers the run produced."""
    raw, norm = cmp.raw_run, cmp.norm_run
    limit = f"its stability limit 2/λ_max = {cmp.raw.stability_limit:.3g}"
    if raw.diverged and norm.diverged:
        st.error(
            f"α = {raw.lr:.3g} is too large for both problems: both paths blow up. "
            f"Even round contours have a limit, 2/λ_max = {cmp.norm.stability_limit:.3g}."
        )
    elif raw.diverged:
        st.error(
            f"With α = {raw.lr:.3g} gradient descent on the raw features **diverges**: "
            f"α is above {limit}. The normalized problem, same α, converges in "
            f"{steps_text(norm)}."
        )
    elif raw.steps is None or norm.steps is None:
        st.warning(
            f"Raw features: {steps_text(raw)}; normalized: {steps_text(norm)}. Along "
            "the long axis of the valley the slope is tiny, so each step only crawls."
        )
    elif raw.steps > norm.steps:
        st.success(
            f"Normalized inputs reach the minimum in {steps_text(norm)} instead of "
            f"{steps_text(raw)} ({raw.steps / norm.steps:.0f}× fewer)."
        )
    else:
        st.warning(
            f"Here the raw problem needs {steps_text(raw)} and the normalized one "
            f"{steps_text(norm)}: with one small α for both, normalizing alone does not "
            "help. Its gain is the much larger α the round bowl allows."
        )


ui.start_page("normalizing_inputs", "Normalizing inputs", "📐")
st.markdown(
    "A linear regression with two weights and no bias, $\\hat y = w_1 x_1 + w_2 x_2$, so the "
    "loss $J(w_1, w_2) = \\frac{1}{2m}\\sum_i (\\hat y^{(i)} - y^{(i)})^2$ is an exact bowl "
    "over the two weights. Feature 2 is on a much larger scale than feature 1. Left: the bowl "
    "for the raw features; right: the same data after normalizing the inputs."
)
ui.presets(
    [
        ui.Preset(
            "Stretched ×20",
            "Feature 2 twenty times larger: a long thin valley on raw "
            "inputs, a round bowl after normalizing.",
            {"ratio": 20},
        ),
        ui.Preset(
            "Equal scales",
            "Both features on the same scale: the raw bowl is only mildly "
            "stretched and tilted (its features are not centred), the normalized one nearly "
            "round.",
            {"ratio": 1},
        ),
        ui.Preset(
            "Same α, diverges",
            "One learning rate for both: fine for the round bowl, "
            "above the raw bowl's stability limit.",
            {"ratio": 10, "best": 0, "lr": 0.02},
        ),
        ui.Preset(
            "Same tiny α",
            "A learning rate small enough for the raw bowl: now the "
            "normalized one is no faster, because it could have taken far bigger steps.",
            {"ratio": 10, "best": 0, "lr": 0.01},
        ),
    ]
)

c1, c2, c3 = st.columns([2, 2, 3], gap="large")
with c1:
    ratio = ui.steps("Scale of feature 2 (× feature 1)", "ratio", RATIOS, 10)
with c2:
    best = ui.toggle(
        "Best α for each",
        "best",
        True,
        help="α = 2 / (λ_min + λ_max) of each bowl: the fastest constant step. "
        "Switch off to give both problems the same α.",
    )
with c3:
    alpha = ui.steps(
        "Learning rate α, the same for both",
        "lr",
        ALPHAS,
        0.01,
        disabled=best,
        help="Used when 'Best α for each' is off.",
    )

st.info(
    "**Try this.** Slide the scale of feature 2 from 1 to 50: the raw valley gets longer and "
    "thinner and gradient descent needs hundreds, then thousands of steps, while the "
    "normalized bowl stays round. Then switch off *Best α for each* and raise α to 0.02: the "
    "raw path blows up, the normalized one converges."
)

cmp = compare(ratio, best, alpha)
ui.chart(bowls_figure(cmp))
numbers, curves = st.columns([2, 3], gap="large")
with numbers:
    st.metric("Steps, raw features", steps_short(cmp.raw_run))
    st.metric("Steps, normalized", steps_short(cmp.norm_run))
    verdict(cmp)
with curves:
    ui.chart(loss_curves_figure(cmp))
st.caption(
    f"Converged means $J - J^* \\le {lesson.TOL:g}\\,(J(w^{{0}}) - J^*)$, from "
    f"$w^{{0}} = ({', '.join(f'{w:g}' for w in lesson.W0.ravel())})$, at most "
    f"{lesson.MAX_STEPS} steps. The contour ellipses' long axis over short axis is "
    "$\\sqrt{\\lambda_{max}/\\lambda_{min}}$ of the Hessian $XX^T/m$; the raw path zig-zags "
    "across the narrow direction and crawls along the long one (drag a box on the chart to "
    "zoom in)."
)

left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("Normalizing the inputs")
    st.markdown(
        "On the **training set**, per feature. Beside the formulas, the lecture's "
        "two slips: σ² as (1/m) Σ x² on x not yet centred, and x divided by σ²."
    )
    st.latex(r"\mu = \frac{1}{m}\sum_{i=1}^{m} x^{(i)}")
    formula, slip = st.columns([3, 2], vertical_alignment="center")
    formula.latex(r"\sigma^2 = \frac{1}{m}\sum_{i=1}^{m} \left(x^{(i)} - \mu\right)^2")
    with slip:
        uncentred = ui.toggle("Slip: Σx²/m", "slip_var", False)
    formula, slip = st.columns([3, 2], vertical_alignment="center")
    formula.latex(r"x := \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}")
    with slip:
        by_variance = ui.toggle("Slip: ÷ σ²", "slip_div", False)
    st.caption(
        "The lecture first sets $x := x - \\mu$ and then writes "
        "$\\sigma^2 = \\frac{1}{m}\\sum_i (x^{(i)})^2$: right on the centred x, but the "
        "same sum on x before centring is $\\sigma^2 + \\mu^2$ (first slip). It then "
        "divides by $\\sigma^2$ (second slip): the standard deviation is what brings the "
        "variance to 1. The code divides by $\\sqrt{\\sigma^2 + \\varepsilon}$ with a "
        "tiny ε, so a constant feature cannot divide by zero."
    )
    st.markdown(
        "**The test set is normalized with the training μ and σ²**, not its own: training and "
        "test inputs must go through the same transformation. So the test set's mean and "
        "variance after normalizing are close to 0 and 1, not exactly."
    )
    st.markdown("The loss and one step of gradient descent:")
    st.latex(r"J(w) = \frac{1}{2m}\left\lVert w^T X - y \right\rVert^2")
    st.latex(r"w := w - \alpha\, \frac{\partial J}{\partial w}")
with right:
    data = cmp.data
    ui.chart(
        data_figure(data, lesson.feature_stats(data.X_train), lesson.feature_stats(data.Xn_train))
    )
    frame = pd.DataFrame(lesson.normalization_summary(data), index=["feature 1", "feature 2"]).T
    st.dataframe(frame.style.format("{:.3f}"), width="stretch")
    st.caption(
        "The normalized fit predicts the centred target y − ȳ, the part a bias would "
        "otherwise take care of; no bias keeps the loss a function of w₁ and w₂ alone."
    )

slips = lesson.compare_slips(cmp.data, uncentred, by_variance)
figure, words = st.columns([3, 2], gap="large")
with figure:
    ui.chart(slips_figure(slips), key="slips")
with words:
    st.subheader("The slips, measured")
    if not slips.any_slip:
        st.markdown(
            "Turn on a slip beside the formulas to see what it does to the training "
            "inputs. Done right, every feature ends with mean 0 and variance 1."
        )
    else:
        (_, right_var), (_, slip_var) = slips.right_stats, slips.slipped_stats
        st.markdown(
            f"With **{slip_label(slips)}** the training inputs end with variance "
            f"**{slip_var[0]:.3g}** (feature 1) and **{slip_var[1]:.3g}** (feature 2), "
            f"not {right_var[0]:.3g} and {right_var[1]:.3g}."
        )
        if uncentred:
            st.markdown(
                f"- (1/m) Σ x² on uncentred x is σ² + μ²: {slips.var_used[0]:.3g} and "
                f"{slips.var_used[1]:.3g} here, so every feature comes out too "
                "small, the more so the further its mean is from 0."
            )
        if by_variance:
            both = " (with the first slip too, σ² / (σ² + μ²)²)" if uncentred else ""
            st.markdown(
                f"- Dividing by σ² leaves variance 1/σ²{both}: a feature with σ > 1 "
                "is squashed, one with σ < 1 stretched, so the scales still differ."
            )

ui.end_page()
