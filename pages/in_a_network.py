"""Lesson 3: where batch norm sits in each layer, why b goes, and the training loop stepped one
line at a time on a small real network."""

from bn_app import ui

import streamlit as st

from bn_core.lessons import in_a_network as lesson
from bn_core.optimizers import DEFAULTS as OPTIMIZER_DEFAULTS
from bn_core.optimizers import OPTIMIZERS
from bn_viz import in_a_network as viz

SLUG = "in_a_network"
CURSOR = f"stepper:{SLUG}"  # the stepper's position (session only, not in the URL)

UPDATE_LATEX = {  # a few lines each, P standing for any of W, b, γ, β; the optimizer's β₁, β₂
    "gd": [r"P := P - \alpha\, dP"],
    "momentum": [r"v = \beta_1 v + (1-\beta_1)\, dP", r"P := P - \alpha\, v"],
    "rmsprop": [
        r"s = \beta_2 s + (1-\beta_2)\, dP^2",
        r"P := P - \alpha\, \frac{dP}{\sqrt{s} + \varepsilon}",
    ],
    "adam": [
        r"v = \beta_1 v + (1-\beta_1)\, dP",
        r"s = \beta_2 s + (1-\beta_2)\, dP^2",
        r"P := P - \alpha\, \frac{v / (1-\beta_1^t)}{\sqrt{s / (1-\beta_2^t)} + \varepsilon}",
    ],
}
B0, B1, B2 = (OPTIMIZER_DEFAULTS[k] for k in ("beta", "beta1", "beta2"))
UPDATE_NOTES = {  # what to notice in the "step taken" column on the first mini-batch
    "gd": "Gradient descent: the step taken is exactly α·dP.",
    "momentum": "Momentum starts from v = 0, so the first step is only (1 − β₁)·α·dP = "
    f"{1 - B0:g}·α·dP.",
    "rmsprop": "RMSprop has no bias correction: s starts at 0, so the first step is about "
    f"α/√(1 − β₂) ≈ {(1 - B2) ** -0.5:.0f}·α per entry, whatever the "
    "gradient. Lower α to tame it.",
    "adam": "Adam's first step: v̂ = dP and ŝ = dP², so every entry moves by about α.",
}
EACH_P = "P stands for each parameter on the update line in turn. "
NOT_BN_BETA = "it is not batch norm's β[l], which is a parameter learned like W."
UPDATE_SYMBOLS = {  # what P and the optimizer's β₁, β₂ are, under the update formulas
    "gd": EACH_P,
    "momentum": EACH_P + f"β₁ = {B0:g} is momentum's averaging weight (the lecture writes "
    "it β in momentum): " + NOT_BN_BETA,
    "rmsprop": EACH_P + f"β₂ = {B2:g} is RMSprop's averaging weight: " + NOT_BN_BETA,
    "adam": EACH_P + f"β₁ = {B1:g} and β₂ = {B2:g} are Adam's averaging weights. As the "
    "lecture says, batch norm's β[l] is not Adam's β: it is a parameter "
    "learned like W.",
}
LINE_LATEX = {
    lesson.LINE_BATCH: r"X^{\{t\}}:\ (n_x, m), \qquad y^{\{t\}}:\ (m,)",
    lesson.LINE_STATS: r"\mu^{[l]} = \frac{1}{m}\sum_i z^{[l](i)}, \qquad "
    r"\sigma^{2[l]} = \frac{1}{m}\sum_i \left(z^{[l](i)} - \mu^{[l]}\right)^2",
    lesson.LINE_ZT: r"\tilde z^{[l](i)} = \gamma^{[l]}\, \frac{z^{[l](i)} - \mu^{[l]}}"
    r"{\sqrt{\sigma^{2[l]} + \varepsilon}} + \beta^{[l]}",
    lesson.LINE_A: r"A^{[l]} = g\left(\tilde Z^{[l]}\right)",
    lesson.LINE_OUT: r"\hat Y = \mathrm{softmax}\left(W^{[l]} A^{[l-1]} + b^{[l]}\right)",
    lesson.LINE_LOSS: r"J = -\frac{1}{m} \sum_i \log \hat Y_{y^{(i)},\, i}",
    lesson.LINE_BACKPROP: r"dW^{[l]} = \frac{\partial J}{\partial W^{[l]}}, \quad "
    r"d\gamma^{[l]} = \frac{\partial J}{\partial \gamma^{[l]}}, \quad "
    r"d\beta^{[l]} = \frac{\partial J}{\partial \beta^{[l]}}",
}


@st.cache_data(max_entries=32, show_spinner=False)
def architecture(layer_dims, batch_norm, eliminate_bias):
    return lesson.architecture(layer_dims, batch_norm, eliminate_bias)


@st.cache_data(max_entries=64, show_spinner=False)
def walkthrough(settings):
    return lesson.walkthrough(settings)


@st.cache_data(max_entries=32, show_spinner=False)
def placements(activation, weight_scale):
    return lesson.placements(activation, weight_scale)


SHAPE_QUESTION = ui.Prediction(
    "Batch norm after g gives every unit's A mean 0 and variance 1. Does it also give the "
    "next layer bell-shaped values?",
    (
        "Yes: normalizing makes the values Gaussian",
        "No: it only shifts and scales them, so g's shape stays",
    ),
    "No: it only shifts and scales them, so g's shape stays",
    "Batch norm is a shift and a scale per unit: a ReLU's spike at 0 and long tail, or a "
    "saturated sigmoid's two piles, reach the next layer unchanged in shape.",
)


def placement_table(before, after):
    """The two placements' numbers, one column each (text, ready to show)."""

    def span(values):
        return " … ".join(f"{v:.2f}".replace("-0.00", "0.00") for v in (values.min(), values.max()))

    rows = {
        "g's inputs on a flat part": lambda p: f"{p.flat_share:.0%}",
        "next layer: unit means": lambda p: span(p.unit_means),
        "next layer: unit std": lambda p: span(p.unit_stds),
        "units that send one constant value": lambda p: str(p.silent_units),
    }
    return {
        "": list(rows),
        **{
            viz.PLACEMENT_NAMES[p.after]: [show(p) for show in rows.values()]
            for p in (before, after)
        },
    }


def line_latex(step, settings):
    """The formulas (0 to 3 lines) of the current line, with the layer number filled in."""
    if step.line == lesson.LINE_Z:
        text = r"Z^{[l]} = W^{[l]} A^{[l-1]}" + (
            "" if settings.batch_norm and settings.eliminate_bias else r" + b^{[l]}"
        )
    elif step.line == lesson.LINE_UPDATE:
        return UPDATE_LATEX[settings.optimizer]
    else:
        text = LINE_LATEX.get(step.line, "")
    if step.layer is not None:
        text = text.replace("[l-1]", f"[{step.layer - 1}]").replace("[l]", f"[{step.layer}]")
    return [text] if text else []


def move(delta=None, to=None, next_batch=False):
    """Button callback: move the stepper (before the rerun draws it)."""
    steps = st.session_state[f"{CURSOR}:steps"]
    index = st.session_state.get(CURSOR, 0)
    if next_batch:
        index = lesson.first_step_of_batch(steps, index)
    elif to is not None:
        index = to
    else:
        index += delta
    st.session_state[CURSOR] = min(max(index, 0), len(steps) - 1)


def reset_stepper():
    st.session_state[CURSOR] = 0


ui.start_page(SLUG, "Fitting batch norm into a network", "🧩")
st.markdown(
    "In a network, batch norm is one more step inside each hidden layer: between computing "
    "*z* and applying the activation *g*. Below, the network drawn layer by layer with every "
    "parameter it learns, then the lecture's training loop run **one line at a time** on a "
    "small real network, with the actual numbers of each line."
)
ui.presets(
    [
        ui.Preset("The lecture's network", "Batch norm on, b dropped, Adam.", {}),
        ui.Preset(
            "Keep the bias b",
            "b[l] stays: it costs one number per hidden unit and does nothing.",
            {"nobias": "0"},
        ),
        ui.Preset("Plain gradient descent", "The same loop with P := P − α dP.", {"opt": "gd"}),
        ui.Preset("Without batch norm", "The ordinary network: no μ, σ², γ, β.", {"bn": "0"}),
    ],
    on_apply=reset_stepper,
)
st.info(
    "**Try this:** toggle *Drop b* and watch the count fall by the number of hidden units. "
    "Then step to an *update* line and switch the optimizer: Adam's first step moves every "
    "weight by about α whatever the gradient, gradient descent by α·dW."
)

st.subheader("1 · Where batch norm sits")
c1, c2, c3, c4, c5 = ui.columns([3, 3, 2, 3, 2], per_row=2)
with c1:
    n_layers = ui.slider("Hidden layers", "layers", 1, 3, 2)
with c2:
    units = ui.slider("Units per hidden layer", "units", 2, 6, 3)
with c3:
    batch_norm = ui.toggle("Batch norm", "bn", True)
with c4:
    eliminate_bias = ui.toggle(
        "Drop b (bias elimination)",
        "nobias",
        True,
        disabled=not batch_norm,
        help="Only batch-norm layers can drop b: μ subtracts it again.",
    )
with c5:
    activation = ui.choice(
        "Activation g", "act", ["relu", "tanh", "sigmoid"], "relu", advanced=True
    )
layer_dims = (2, *([units] * n_layers), 2)
layers = architecture(layer_dims, batch_norm, eliminate_bias)
ui.chart(
    viz.network_diagram(layers, activation),
    key="diagram",
    summary=viz.diagram_summary(layers, activation),
)

left, right = ui.columns(2, gap="large")
with left:
    st.markdown("**Each hidden layer, for a mini-batch of m examples**")
    st.latex(
        r"z^{[l]} = W^{[l]} a^{[l-1]} \;\big(+\, b^{[l]}\big) \;\to\; "
        r"z^{[l]}_{\text{norm}} = \frac{z^{[l]} - \mu}{\sqrt{\sigma^2 + \varepsilon}}"
    )
    st.latex(
        r"\to\; \tilde z^{[l]} = \gamma^{[l]} z^{[l]}_{\text{norm}} + \beta^{[l]} "
        r"\;\to\; a^{[l]} = g^{[l]}\big(\tilde z^{[l]}\big)"
    )
    st.latex(
        r"W^{[l]}: (n^{[l]}, n^{[l-1]}), \quad b^{[l]}, \gamma^{[l]}, \beta^{[l]}: "
        r"(n^{[l]}, 1)"
    )
with right:
    st.markdown("**Why b goes**")
    st.latex(r"\mu = \frac{1}{m}\sum_j \big(W a^{(j)} + b\big) = \overline{W a} + b")
    st.latex(r"z^{(i)} - \mu = W a^{(i)} + b - \overline{W a} - b = W a^{(i)} - \overline{W a}")
    st.caption(
        "Subtracting the mini-batch mean removes any constant b, so b can never change z̃; "
        "β[l] sets the unit's offset instead. Measured on a random mini-batch: adding "
        f"b ~ N(0, {lesson.BIAS_STD:g}²) changes z̃ by at most {lesson.bias_cancellation():.1e} "
        "(rounding)."
    )

st.subheader("Before or after g?")
left, right = ui.columns([2, 3], gap="large")
with left:
    st.markdown(
        "The course normalizes **z**, before the activation g, and so does the paper "
        "(Ioffe & Szegedy 2015). The lecture notes that some normalize a = g(z) instead, "
        "and recommends z as the default, since it is what is done far more often. The "
        'paper\'s reason: z = W a + b is more likely to be symmetric and "more Gaussian", '
        "while a, the output of a nonlinearity, has a shape that changes during training; "
        "fixing only its mean and variance would not keep its distribution steady."
    )
    after_g = ui.toggle("Normalize A instead of Z (batch norm after g)", "after_g", False)
    weight_scale = ui.steps(
        "Scale of W[1] and b[1]",
        "wscale",
        lesson.WEIGHT_SCALES,
        1.0,
        format_func=lambda v: f"× {v:g}",
        help="Larger weights make z larger. Before g, batch norm undoes "
        "the scale; after g, g has already seen it.",
    )
    st.info(
        "**Try this.** Set the activation g to sigmoid (section 1), switch batch norm "
        "after g and raise the scale: g's inputs pile up on its flat parts, and batch "
        "norm after it cannot spread them out again."
    )
    show_placement = ui.predict(SHAPE_QUESTION, "predict_shape")
before, after = placements(activation, weight_scale)
chosen, other = (after, before) if after_g else (before, after)
with right:
    st.latex(
        r"\text{before } g:\ a = g\big(\mathrm{BN}(z)\big) \qquad "
        r"\text{after } g:\ a = \mathrm{BN}\big(g(z)\big)"
    )
    st.dataframe(placement_table(before, after), hide_index=True, width="stretch")
    st.caption(
        f"One layer of {lesson.PLACEMENT_UNITS} {activation} units on "
        f"{lesson.PLACEMENT_EXAMPLES} points of the {lesson.WALK_DATASET} set, γ = 1, β = 0. "
        "Before g, "
        "the next layer's inputs keep g's own mean and spread, but g always sees a "
        "normalized z; after g, they have mean 0 and standard deviation 1 (a unit whose "
        "inputs all sat on one flat part of g sends a constant, which no normalization "
        "brings back)."
    )
    if show_placement:
        ui.chart(
            viz.placement_figure(chosen, other),
            key="placement",
            name="What g and the next layer receive, batch norm before or after g",
            summary=f"Shown: {viz.PLACEMENT_NAMES[chosen.after]}. g's inputs on a flat "
            f"part: {before.flat_share:.0%} before g, {after.flat_share:.0%} "
            "after g.",
        )

st.subheader("2 · The training loop, one line at a time")
c1, c2, c3 = ui.columns([2, 1, 1], per_row=2)
with c1:
    optimizer = ui.choice("Optimizer", "opt", OPTIMIZERS, "adam", radio=True)
with c2:
    batch_size = ui.slider("Mini-batch size m", "m", 2, 8, 6)
with c3:
    lr = ui.steps(
        "Learning rate α", "lr", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0], 0.1, advanced=True
    )
settings = lesson.WalkSettings(
    layer_dims=layer_dims,
    batch_norm=batch_norm,
    eliminate_bias=eliminate_bias,
    activation=activation,
    optimizer=optimizer,
    lr=lr,
    batch_size=batch_size,
)
steps = walkthrough(settings)
st.session_state[f"{CURSOR}:steps"] = steps
index = min(st.session_state.setdefault(CURSOR, 0), len(steps) - 1)
step = steps[index]

b1, b2, b3, b4, info = ui.columns([1, 1, 1, 1, 2], per_row=2)
b1.button("⏮ Start", on_click=move, kwargs={"to": 0}, width="stretch", disabled=index == 0)
b2.button("◀ Back", on_click=move, kwargs={"delta": -1}, width="stretch", disabled=index == 0)
b3.button(
    "Next line ▶",
    on_click=move,
    kwargs={"delta": 1},
    width="stretch",
    type="primary",
    disabled=index == len(steps) - 1,
)
b4.button(
    "Next mini-batch ⏭",
    on_click=move,
    kwargs={"next_batch": True},
    width="stretch",
    disabled=step.t == settings.n_batches,
)
info.caption(
    f"Stop {index + 1} of {len(steps)} · mini-batch t = {step.t} of "
    f"{settings.n_batches} · a {len(layer_dims) - 1}-layer network on "
    f"{lesson.WALK_EXAMPLES} points of the {lesson.WALK_DATASET} set"
)

code, now = ui.columns([3, 2], gap="large")
with code:
    lines = lesson.loop_lines(batch_norm, eliminate_bias, optimizer)
    st.code(
        "\n".join(("▶ " if i == step.line else "  ") + text for i, text in enumerate(lines)),
        language=None,
    )
with now:
    st.markdown(f"**{step.title}**")
    for formula in line_latex(step, settings):
        st.latex(formula)
    if step.line == lesson.LINE_UPDATE:
        st.caption(UPDATE_SYMBOLS[optimizer])
    for label, value in step.scalars:
        st.metric(label, f"{value:.4f}")
    if step.line == lesson.LINE_UPDATE and step.t == 1:
        st.caption(UPDATE_NOTES[optimizer])
ui.chart(viz.step_figure(step), key="step", name="The matrices of this step")
st.caption(
    "Each box is a matrix: a row per unit, a column per example (or per input, for W); "
    "blue is positive, red negative."
)

ui.end_page()
