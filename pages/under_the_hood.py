"""Lesson 7: the batch-norm backward pass stage by stage, beside the source and the numbers of
the function the network runs, and a live gradient check of every parameter of a small network."""

from bn_app import ui

import streamlit as st

from bn_core.layers import ACTIVATIONS
from bn_core.lessons import under_the_hood as uh
from bn_viz import under_the_hood as viz

MARKS = {"pass": "✅ pass", "zero": "✅ zero (both ≈ 0)", "kink": "⚠️ ReLU kink", "fail": "❌ fail"}
H_DEFAULT = uh.GRAD_H
H_TEXT = ui.num(H_DEFAULT)  # 1e-5


def _side_by_side(spec, **kwargs):
    """Columns; on a projector (presentation mode, larger type) one above the other instead,
    so wide matrices keep the full width."""
    if ui.presenting():
        return st.container(), st.container()
    return st.columns(spec, **kwargs)


@st.cache_data(show_spinner=False, max_entries=64)
def _walkthrough(n_units, m, seed):
    ex = uh.example_batch(n_units, m, seed)
    steps = uh.staged_backward_steps(ex.dZ_tilde, ex.cache)
    return (
        ex,
        steps,
        uh.backward_agreement(ex.dZ_tilde, ex.cache, steps),
        uh.gradient_paths(steps, ex.cache),
    )


@st.cache_data(show_spinner="Checking every parameter…", max_entries=64)
def _check(activation, batch_norm, eliminate_bias, seed, h):
    return uh.gradient_check(activation, batch_norm, eliminate_bias, seed, h)


ui.start_page("under_the_hood", "Under the hood", "⚙️")
st.markdown(
    "Batch norm's backward pass is the chain rule run backwards through the forward steps. "
    "Below, each stage's equation stands beside the code that computes it, quoted from "
    "`bn_core.batchnorm.backward_steps`, the very function the network runs in every training "
    "step, and the numbers it produces on a small mini-batch; then a gradient check confirms a "
    "whole network's gradients against centred differences."
)
ui.presets(
    [
        ui.Preset(
            "One unit, m = 4",
            "The smallest walk-through: every (n, m) array is one row "
            "of four, every per-unit one (μ, σ², γ, β, dβ, …) a single number.",
            {"n": 1, "m": 4},
        ),
        ui.Preset(
            "Three units, m = 8", "Each unit (row) is normalized on its own.", {"n": 3, "m": 8}
        ),
        ui.Preset(
            "Keep b under batch norm",
            "b's gradient is zero to rounding: the mean subtraction cancels it.",
            {"elim": 0},
        ),
        ui.Preset(
            "A ReLU kink",
            "Without batch norm a ReLU input sits exactly at 0 and the "
            "centred difference straddles the kink.",
            {"bn": 0, "gseed": 7},
        ),
    ]
)

# --- part 1: the backward pass stage by stage ----------------------------------------------------
st.header("1 · The backward pass, one stage at a time")
c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    n_units = ui.slider("Units (rows)", "n", 1, 3, 1)
with c2:
    m = ui.slider("Mini-batch size m", "m", 4, 8, 6)
with c3:
    seed = ui.number(
        "Seed", "seed", 0, 999, 0, advanced=True, help="Draws Z, γ, β and the upstream gradient dZ̃."
    )
ex, steps, agree, paths = _walkthrough(n_units, m, seed)

st.subheader("The forward pass it undoes")
left, right = _side_by_side([2, 3])
with left:
    st.latex(r"\mu = \frac{1}{m}\sum_i z^{(i)} \qquad z_{\text{centered}} = z - \mu")
    st.latex(
        r"\sigma^2 = \frac{1}{m}\sum_i \big(z_{\text{centered}}^{(i)}\big)^2 \qquad "
        r"s = \sqrt{\sigma^2 + \varepsilon}"
    )
    st.latex(
        r"z_{\text{norm}} = \frac{z_{\text{centered}}}{s} \qquad "
        r"\tilde z = \gamma\, z_{\text{norm}} + \beta"
    )
    st.caption(
        "Rows are units, columns the m examples (the course's layout). dZ̃, the "
        "gradient arriving from the layer above, is given: random numbers here."
    )
with right:
    for name, value in (
        ("Z", ex.Z),
        ("gamma", ex.gamma),
        ("beta", ex.beta),
        ("mu", ex.cache.mu),
        ("var", ex.cache.var),
        ("Z_norm", ex.cache.Z_norm),
        ("Z_tilde", ex.Z_tilde),
        ("dZ_tilde", ex.dZ_tilde),
    ):
        st.latex(viz.stage_latex(name, value))

st.subheader("Backward, last forward step first")
st.info(
    "**Try this:** follow one column through: dZ_norm is γ·dZ̃; dσ² and dμ need no new "
    "sum, they are dγ and dβ seen through γ; then Z reaches the loss three ways in dZ "
    "(directly, through σ², through μ). Set m = 4 and check a number by hand."
)
st.caption(
    "The code is `backward_steps` as it runs, cut at its blank lines. "
    "`_row_sums(A)` is Σᵢ A⁽ⁱ⁾, one number per unit: an (n, 1) column."
)
for piece in uh.code_pieces():
    if piece.names and piece.names[0] in viz.UNDOES:
        st.markdown(f"**Undo** ${viz.UNDOES[piece.names[0]]}$")
    elif not piece.names:
        st.markdown("**Read** what the forward kept in its cache")
    left, right = _side_by_side([2, 3], vertical_alignment="center")
    with left:
        for name in piece.names:
            for equation in viz.EQUATIONS[name]:
                st.latex(equation)
        st.code(piece.code, language="python", wrap_lines=True)
    with right:
        for name in piece.names:
            st.latex(viz.stage_latex(name, getattr(steps, name)))
with st.expander("The whole function, as the network runs it"):
    st.code(uh.function_source(), language="python")

st.subheader("Compact form, and the check")
st.latex(viz.COMPACT)
k1, k2 = st.columns(2)
k1.metric(
    "staged dZ vs compact form",
    f"{agree.staged_vs_compact:.1e}",
    help="Largest |difference| over dZ: rounding only.",
)
k2.metric(
    "largest |Σᵢ dz⁽ⁱ⁾|",
    f"{agree.sum_dZ:.1e}",
    help="dZ sums to zero over the mini-batch, for every unit.",
)
ui.chart(viz.paths_figure(paths, steps.dZ))
st.caption(
    "Unit 1's dZ split by path. The path through μ adds the same amount to every example, "
    "exactly minus the average of the other two: that is why each unit's dZ sums to zero over "
    "the mini-batch (the second number above), and why b, which shifts every example alike, "
    "gets no gradient under batch norm (part 2)."
)

# --- part 2: the gradient check -----------------------------------------------------------------
st.header("2 · Gradient check of a whole network")
left, right = st.columns([2, 3])
with left:
    st.latex(r"d\theta_{\text{num}} = \frac{J(\theta + h) - J(\theta - h)}{2h}")
    st.latex(
        r"\text{relative error} = \frac{\lVert d\theta_{\text{num}} - d\theta\rVert}"
        r"{\lVert d\theta_{\text{num}}\rVert + \lVert d\theta\rVert}"
    )
    activation = ui.choice("Activation", "act", ACTIVATIONS, "relu")
    batch_norm = ui.toggle("Batch norm on the hidden layers", "bn", True)
    eliminate_bias = ui.toggle(
        "Eliminate b on batch-norm layers",
        "elim",
        True,
        help="Only batch-norm layers drop b; the output layer keeps it.",
    )
    if not batch_norm:
        st.caption(
            "With batch norm off there is no batch-norm layer: every layer keeps its b "
            "whatever this switch says."
        )
    g1, g2 = st.columns(2)
    with g1:
        gseed = ui.number("Seed", "gseed", 0, 99, 0, help="Initial weights and the 8 examples.")
    with g2:
        h = ui.steps("Step h", "h", [1e-3, 1e-4, 1e-5, 1e-6, 1e-7], H_DEFAULT, advanced=True)
    st.info(
        "**Try this:** keep b with batch norm on (switch *Eliminate b* off) and look at "
        "|dP| max for b1 and b2. Then try h = 1e-3 or 1e-7."
    )
report = _check(activation, batch_norm, eliminate_bias, gseed, h)
with right:
    st.markdown(
        f"`{report.network}`, one mini-batch of {uh.GRAD_M} examples from *{uh.GRAD_DATASET}*."
    )
    st.dataframe(
        {
            "parameter": [r.name for r in report.rows],
            "shape": [" × ".join(map(str, r.shape)) for r in report.rows],
            "‖analytic‖": [r.analytic_norm for r in report.rows],
            "‖numeric‖": [r.numeric_norm for r in report.rows],
            "relative error": [
                None if r.status == "zero" else r.relative_error for r in report.rows
            ],
            "|dP| max": [r.max_abs_analytic for r in report.rows],
            "check": [MARKS[r.status] for r in report.rows],
        },
        hide_index=True,
        width="stretch",
        column_config={
            k: st.column_config.NumberColumn(format="%.2e")
            for k in ("‖analytic‖", "‖numeric‖", "relative error", "|dP| max")
        },
    )
    ui.chart(viz.relative_error_figure(report, uh.PASS_TOL))

statuses = {r.status for r in report.rows}
zeros = [r.name for r in report.rows if r.status == "zero"]
if zeros:
    st.success(
        f"Zero gradient: {', '.join(zeros)}. Their relative error is meaningless (two rounding "
        "noises compared, so the table leaves it blank); they pass on size instead: both "
        f"norms are below {ui.num(uh.ZERO_TOL)}. A bias b, or a shift β feeding a linear "
        "layer, adds the same number to every example's z of a batch-norm layer; the mean "
        "subtraction z − μ takes it straight back out, so the loss does not depend on it. In "
        "the backward pass "
        "db = Σᵢ dz⁽ⁱ⁾, and Σᵢ dz⁽ⁱ⁾ = 0 (part 1): what is left is rounding, about 1e-17."
    )
if "kink" in statuses:
    st.warning(
        f"A ReLU input sits at {report.min_relu_input:.1e}, within h = {ui.num(report.h)} of its "
        "kink at 0 (for example, every unit feeding it is off for one example). There the "
        "centred difference averages the two slopes while the analytic gradient takes the "
        "derivative at 0 to be 0, so they disagree: a property of the check, not a bug. "
        "Another seed, tanh or batch norm moves the inputs off 0."
    )
if "fail" in statuses:
    st.warning(
        f"Some relative errors exceed {ui.num(uh.PASS_TOL)}. Centred differences err by about "
        f"h² (truncation) plus 1e-16/h (rounding); h = {H_TEXT} balances the two. "
        + (
            f"Set h back to {H_TEXT}."
            if h != H_DEFAULT
            else f"At h = {H_TEXT} this points to a bug."
        )
    )
if statuses <= {"pass", "zero"}:
    st.caption(
        f"Every parameter passes: relative errors below {ui.num(uh.PASS_TOL)}, "
        "the backward pass is right."
    )

ui.end_page()
