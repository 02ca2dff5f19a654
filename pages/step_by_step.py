"""Lesson 2: batch norm on one hidden layer and one mini-batch, one stage at a time."""

from bn_app import ui

import pandas as pd
import streamlit as st

from bn_core.lessons import step_by_step as lesson
from bn_viz.step_by_step import activation_figure, linear_part_figure, stages_figure

SLUG = "step_by_step"
GAMMA_RANGE, BETA_RANGE, B_RANGE = (0.0, 5.0), (-6.0, 6.0), (-5.0, 5.0)
EPS_STEPS = (1e-8, 1e-5, 1e-3, 0.01, 0.1, 1.0, 10.0)
M_STEPS = (2, 4, 8, 16, 32, 64, 128, 256)
UNITS = [str(i + 1) for i in range(lesson.N_UNITS)]  # URL values; shown as "unit 1", ...
ACTIVATIONS = ["relu", "sigmoid", "tanh"]
DEFAULTS = {"b": 1.0, "eps": 1e-5, "unit": 0, "m": 64}
IDENTITY_FLAG = f"_identity_request.{SLUG}"
HALF = f"{lesson.LINEAR_HALF_WIDTH:g}"  # |z| < HALF: where the sigmoid is nearly straight


@st.cache_data(max_entries=256, show_spinner=False)
def stages(b, gamma, beta, eps, activation, unit, m):
    return lesson.run(b, gamma, beta, eps, activation, unit, m)


@st.cache_data(max_entries=256, show_spinner=False)
def linear_part(b, gamma, beta, eps, unit, m):
    return lesson.linear_part(b, gamma, beta, eps, unit, m)


LINEAR_QUESTION = ui.Prediction(
    "With γ = 1 and β = 0, what does a sigmoid do to this unit's z̃ = Z_norm?",
    (
        "Almost nothing curved: it acts nearly like a straight line",
        "It bends them clearly: both curved parts are used",
        "It flattens most of them: they saturate",
    ),
    "Almost nothing curved: it acts nearly like a straight line",
    f"Z_norm has mean 0 and variance 1, so most of it sits in |z̃| < {HALF}, where the sigmoid "
    f"is within {lesson.sigmoid_tangent_gap():.2f} of its tangent 1/2 + z̃/4.",
)


def ask_identity():
    st.session_state[IDENTITY_FLAG] = True


def give_identity(b, eps, unit, m):
    """Set gamma = sqrt(var + eps) and beta = mu for the unit shown (before their sliders)."""
    gamma, beta = lesson.identity_params(b, eps, unit, m)
    if not (GAMMA_RANGE[0] <= gamma <= GAMMA_RANGE[1] and BETA_RANGE[0] <= beta <= BETA_RANGE[1]):
        st.warning(
            f"The identity needs γ = {gamma:.3f}, β = {beta:.3f}, outside the sliders' "
            "range: move b back towards 0."
        )
        return
    ui.set_value("gamma", gamma)
    ui.set_value("beta", beta)


def flat_message(summary, activation):
    """The share of this unit's activations with (almost) no slope, in words."""
    share = summary["flat_fraction"]
    if activation == "relu":
        if summary["dead"]:
            return st.error(
                f"**Dead ReLU:** all {share:.0%} of this unit's activations are 0, so "
                "no gradient reaches W for it. Raise β or γ."
            )
        return st.info(
            f"**{share:.0%}** of this unit's activations are 0 (the ReLU's flat side, "
            "no gradient). About half is normal; all of it is a dead unit."
        )
    text = (
        f"**{share:.0%}** of this unit's activations are saturated: {activation}′(z̃) is "
        f"below {lesson.SATURATION:.0%} of its peak there, so almost no gradient flows back."
    )
    return st.warning(text) if share >= 0.25 else st.info(text)


ui.start_page(SLUG, "Batch norm, step by step", "🔬")
st.markdown(
    "One hidden layer with three units, one mini-batch of *m* examples (columns). Follow one "
    "unit through batch norm: its pre-activations *Z*, the mini-batch mean μ and variance σ², "
    "the normalized *Z_norm*, the rescaled *Z̃* and the activation *A*."
)
id_gamma, id_beta = lesson.identity_params(
    DEFAULTS["b"], DEFAULTS["eps"], DEFAULTS["unit"], DEFAULTS["m"]
)
ui.presets(
    [
        ui.Preset(
            "Identity",
            "γ = √(σ² + ε) and β = μ undo the normalization: Z̃ = Z.",
            {"gamma": repr(id_gamma), "beta": repr(id_beta)},
        ),
        ui.Preset(
            "Saturation",
            "A large γ and β push about half of Z̃ onto the flat parts of "
            "the sigmoid (none with γ = 1, β = 0).",
            {"act": "sigmoid", "gamma": 4.0, "beta": 2.5},
        ),
        ui.Preset(
            "Dead ReLU",
            "β well below 0 with a small γ: every example lands on the flat side of the ReLU.",
            {"act": "relu", "gamma": 0.5, "beta": -2.0},
        ),
        ui.Preset(
            "÷ σ² mistake",
            "Dividing by the variance instead of the standard "
            "deviation: the result does not have variance 1.",
            {"mistake": 1},
        ),
    ]
)

controls, charts = st.columns([1, 3], gap="large")
with controls:
    bn_box, layer_box = st.container(), st.container()
with layer_box:
    st.markdown("**The layer**")
    unit = UNITS.index(
        ui.choice(
            "Unit shown", "unit", UNITS, UNITS[0], radio=True, format_func=lambda u: f"unit {u}"
        )
    )
    activation = ui.choice("Activation g", "act", ACTIVATIONS, "relu", radio=True)
    b = ui.slider(
        "Bias b (every unit)",
        "b",
        *B_RANGE,
        DEFAULTS["b"],
        step=0.1,
        help="Z = W X + b. Watch Z move and Z_norm, Z̃ stay put: the mean subtraction cancels b.",
    )
    eps = ui.steps("ε", "eps", EPS_STEPS, DEFAULTS["eps"], format_func=lambda v: f"{v:g}")
    mistake = ui.toggle("Show the common mistake: (Z − μ) / σ²", "mistake", False)
    m = ui.steps("Mini-batch size m", "m", M_STEPS, DEFAULTS["m"], advanced=True)
with bn_box:
    st.markdown(f"**γ and β of unit {unit + 1}** (the others keep γ = 1, β = 0)")
    if st.session_state.pop(IDENTITY_FLAG, False):
        give_identity(b, eps, unit, m)
    gamma = ui.slider("γ (scale)", "gamma", *GAMMA_RANGE, 1.0, step=0.05)
    beta = ui.slider("β (shift)", "beta", *BETA_RANGE, 0.0, step=0.05)
    st.button(
        "Give back the identity: γ = √(σ²+ε), β = μ",
        on_click=ask_identity,
        key=f"{SLUG}.identity_button",
        width="stretch",
    )

batch = stages(b, gamma, beta, eps, activation, unit, m)
summary = lesson.unit_summary(batch, unit)

with charts:
    st.info(
        "**Try this.** Drag *b*: Z slides along the axis, but Z_norm and Z̃ do not move, "
        "because μ moves with it. Then press *Give back the identity* and check that "
        "max |Z̃ − Z| drops to rounding error. Switch to sigmoid and raise γ and β to push "
        "Z̃ into the flat tails."
    )
    ui.chart(stages_figure(batch, unit, show_mistake=mistake))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("μ", f"{summary['mu']:.4f}", help="The mini-batch mean of this unit's z.")
    c2.metric("σ²", f"{summary['var']:.4f}", help="The mini-batch variance of this unit's z.")
    c3.metric(
        "Var(Z_norm)",
        f"{summary['norm_var']:.4f}",
        help="σ² / (σ² + ε): just under 1, further below when ε is large.",
    )
    c4.metric(
        "max |Z̃ − Z|",
        f"{summary['max_diff']:.2g}",
        help="0 up to rounding exactly when γ = √(σ²+ε) and β = μ.",
    )
    if summary["norm_var"] < 0.99:
        st.caption(
            f"ε is not small next to σ² here: Var(Z_norm) = σ²/(σ² + ε) = "
            f"{summary['norm_var']:.3f}, below 1."
        )
    if summary["max_diff"] < 1e-9:
        st.success(
            f"Identity: γ = √(σ² + ε) = {summary['std']:.4f} and β = μ = "
            f"{summary['mu']:.4f} give Z̃ = Z (max |Z̃ − Z| = {summary['max_diff']:.1e}). "
            "So batch norm can always learn to undo itself."
        )
    if mistake:
        st.warning(
            f"**The common mistake.** (Z − μ)/σ² has variance 1/σ² = "
            f"{summary['wrong_var']:.3f}, not 1 (σ² = {summary['var']:.3f}). Divide by "
            "the standard deviation √(σ² + ε), not by the variance."
        )
    ui.chart(activation_figure(batch, unit))
    flat_message(summary, activation)

st.subheader("Why γ and β exist (with a sigmoid g)")
why_left, why_right = st.columns([2, 3], gap="large")
with why_left:
    st.markdown(
        "Normalizing alone would pin every unit's input to mean 0 and variance 1. For a "
        "sigmoid that is a narrow window around 0, where the curve is almost its tangent:"
    )
    st.latex(rf"|z| < {HALF}:\quad \mathrm{{sigmoid}}(z) \approx \tfrac12 + \tfrac{{z}}{{4}}")
    st.markdown(
        "A layer of units that act linearly adds little that a linear layer could not. "
        "γ and β let each unit choose its own mean and spread, so it can reach the curved "
        "parts when learning needs them (and undo the normalization altogether)."
    )
    st.info(
        "**Try this.** Answer the question, then drag γ to 3 and β to 2 above: the "
        "green diamonds leave the band and the unit bends."
    )
    show_linear = ui.predict(LINEAR_QUESTION, "predict_linear")
    lp = linear_part(b, gamma, beta, eps, unit, m)
    if show_linear:
        k1, k2 = st.columns(2)
        k1.metric(
            f"|z̃| < {HALF} with γ = 1, β = 0",
            f"{lp.share_plain:.0%}",
            help="The share of this unit's inputs in the sigmoid's nearly linear part.",
        )
        k2.metric(
            f"|z̃| < {HALF} with the sliders' γ = {gamma:g}, β = {beta:g}", f"{lp.share_chosen:.0%}"
        )
        st.caption(
            f"A straight line through (z̃, a) explains {lp.r2_plain:.1%} of the variance of A "
            f"with γ = 1, β = 0, and {lp.r2_chosen:.1%} with the sliders' γ and β. On "
            f"|z̃| < {HALF} the sigmoid strays at most {lp.gap:.3f} from its tangent."
        )
with why_right:
    if show_linear:
        ui.chart(
            linear_part_figure(lp),
            key="linear_part",
            name="The sigmoid's nearly straight part and this unit's inputs",
            summary=f"{lp.share_plain:.0%} of the unit's inputs lie in |z̃| < {HALF} with "
            f"γ = 1, β = 0; {lp.share_chosen:.0%} with γ = {gamma:g}, "
            f"β = {beta:g}.",
        )

left, right = st.columns([2, 3], gap="large")
with left:
    st.subheader("The formulas, for each unit over the mini-batch")
    st.latex(r"z^{(i)} = w^T x^{(i)} + b")
    st.latex(r"\mu = \frac{1}{m}\sum_{i=1}^{m} z^{(i)}")
    st.latex(r"\sigma^2 = \frac{1}{m}\sum_{i=1}^{m}\left(z^{(i)} - \mu\right)^2")
    st.latex(r"z^{(i)}_{\text{norm}} = \frac{z^{(i)} - \mu}{\sqrt{\sigma^2 + \varepsilon}}")
    st.latex(
        r"\tilde z^{(i)} = \gamma\, z^{(i)}_{\text{norm}} + \beta \qquad "
        r"a^{(i)} = g\!\left(\tilde z^{(i)}\right)"
    )
    st.latex(
        r"\gamma = \sqrt{\sigma^2 + \varepsilon},\ \beta = \mu "
        r"\ \Longrightarrow\ \tilde z^{(i)} = z^{(i)}"
    )
    st.caption(
        "b cancels: adding b to every z⁽ⁱ⁾ adds b to μ too, so z − μ is unchanged. That "
        "is why a batch-norm layer drops b and lets β do its job."
    )
with right:
    st.subheader(f"The numbers: first {lesson.TABLE_ROWS} examples of unit {unit + 1}")
    table = pd.DataFrame(lesson.example_table(batch, unit))
    if not mistake:
        table = table.drop(columns=table.columns[-1])
    table.index = [f"i = {i + 1}" for i in range(len(table))]
    st.dataframe(table.style.format("{:.4f}"), width="stretch")
    st.caption("μ and σ² are vectors of shape (n, 1), one entry per unit:")
    units = pd.DataFrame(lesson.units_table(batch), index=[f"unit {u}" for u in UNITS])
    st.dataframe(units.style.format("{:.3f}"), width="stretch")

ui.end_page()
