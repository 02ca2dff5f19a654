"""Lesson 5: why batch norm works. Covariate shift in a deep sigmoid network (Figure 1 of Ioffe
& Szegedy 2015, in miniature), and robustness to the learning rate and the initial weights."""

from bn_app import ui

import streamlit as st

from bn_core.lessons import why_it_works as lesson
from bn_core.optimizers import OPTIMIZERS
from bn_viz import why_it_works as viz

SHIFT_HIDDEN = "-".join(map(str, lesson.SHIFT_HIDDEN))  # the hidden widths, as text: 100-100-100
SWEEP_HIDDEN = "-".join(map(str, lesson.SWEEP_HIDDEN))

SLUG = "why_it_works"


@st.cache_data(max_entries=32, show_spinner=False)
def covariate_shift(settings):
    return lesson.covariate_shift(settings)


@st.cache_data(max_entries=4, show_spinner=False)
def epsilon_floor():
    return lesson.epsilon_floor()


@st.cache_data(max_entries=512, show_spinner=False)
def final_loss(point):
    return lesson.final_loss(point)


def run_sweeps(sweeps):
    """Every point of every sweep (each cached on its own), with a progress bar."""
    points = [p for sweep in sweeps for p in sweep]
    bar = st.progress(0.0, text="Training one small network per setting…")
    losses = []
    for i, point in enumerate(points, start=1):
        losses.append(final_loss(point))
        bar.progress(
            i / len(points), text=f"Training one small network per setting… {i}/{len(points)}"
        )
    bar.empty()
    tables, start = [], 0
    for sweep in sweeps:
        tables.append(lesson.sweep_table(sweep, losses[start : start + len(sweep)]))
        start += len(sweep)
    return tables


ui.start_page(SLUG, "Why batch norm works", "📈")
st.markdown(
    "The lecture gives three reasons. **First**, as normalizing the inputs does "
    "([lesson 1 · Normalizing inputs](normalizing_inputs)), "
    "it gives every hidden unit's input a similar range, with mean β and variance γ², "
    "which speeds learning. **Second**, it keeps the distribution of every hidden unit's "
    "input steady while the earlier layers learn (less **covariate shift**): section 1 "
    "measures it. **Third**, it is a slight regularizer (lesson 6). Section 2 measures a "
    "further property, shown in the paper (Ioffe & Szegedy 2015) rather than the lecture: "
    "training becomes far less sensitive to the **learning rate** and to the **scale of the "
    "initial weights**, within limits."
)
ui.presets(
    [
        ui.Preset(
            "The paper's experiment",
            "Three hidden layers of 100 sigmoids, gradient "
            "descent, watching the last layer (Ioffe & Szegedy 2015, Figure 1).",
            {},
        ),
        ui.Preset(
            "The first layer",
            "Layer 1 sees the data directly: its input shifts least.",
            {"layer": "1"},
        ),
        ui.Preset(
            "Bigger steps",
            "α = 3: without batch norm the input distribution swings much further.",
            {"lr": "3"},
        ),
        ui.Preset(
            "Adam", "The same comparison with Adam (α = 0.01).", {"opt": "adam", "lr": "0.01"}
        ),
    ]
)
st.info(
    "**Try this:** compare how far the shaded band travels in the two panels, then switch the "
    "watched layer. In the sweeps below, find the learning rates where the orange network "
    "(■) diverges while the blue one (●) still trains."
)

st.subheader("1 · Covariate shift inside the network")
st.markdown(
    "A hidden layer learns a mapping from the values it receives. When the layers before it "
    "change their weights, those values shift: for layer *l* the training distribution "
    "keeps moving under its feet (**covariate shift**), and it has to keep re-adapting. Batch "
    "norm pins the mean of every unit's input to β and its variance to γ² (about, since ε "
    "is added to σ²), which the layer itself learns, so however the earlier layers change, "
    "the later layers see values on a steady scale: they become more robust to the earlier "
    "ones and can learn more independently. Below, the 15th, 50th and 85th percentiles of one "
    "unit's sigmoid input over training, in two networks with the same initial weights and "
    "mini-batches."
)
c1, c2, c3, c4, c5 = ui.columns([2, 2, 2, 2, 2], per_row=2)
with c1:
    layer = ui.slider("Watched hidden layer", "layer", 1, 3, 3)
with c2:
    steps = ui.steps("Training steps", "steps", [200, 300, 500, 800, 1200], 300)
with c3:
    optimizer = ui.choice("Optimizer", "opt", OPTIMIZERS, "gd")
with c4:
    lr = ui.steps("Learning rate α", "lr", [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0], 1.0)
with c5:
    init_scale = ui.steps(
        "Initial weight std", "init", [0.01, 0.03, 0.1, 0.3, 1.0], 0.1, advanced=True
    )
settings = lesson.ShiftSettings(
    layer=layer, steps=steps, optimizer=optimizer, lr=lr, init_scale=init_scale
)
with st.spinner("Training both networks on the digits…"):
    with_bn, without_bn = covariate_shift(settings)
for run, name in ((with_bn, "with"), (without_bn, "without")):
    if run.stop_reason:
        st.warning(
            f"The network {name} batch norm diverged (its loss blew up), so its curves "
            "stop there. Lower the learning rate α.",
            icon="⚠️",
        )

bands, acc = ui.columns([2, 1])
with bands:
    ui.chart(viz.percentile_bands(with_bn, without_bn, layer), key="bands")
with acc:
    ui.chart(viz.accuracy_curves(with_bn, without_bn), key="accuracy")
st.latex(
    r"\tilde z^{[l]} = \gamma^{[l]} z^{[l]}_{\text{norm}} + \beta^{[l]}"
    r"\quad\Rightarrow\quad \text{mean}\big(\tilde z^{[l]}\big) = \beta^{[l]},\;\; "
    r"\text{var}\big(\tilde z^{[l]}\big) \approx \big(\gamma^{[l]}\big)^2"
)
st.caption(
    "Whatever W[1] … W[l−1] do, the mean and spread of layer l's input are set by its own β "
    f"and γ. 64-{SHIFT_HIDDEN}-10 sigmoid network, mini-batches of {lesson.SHIFT_BATCH}, on the "
    '8×8 digits (the paper: MNIST, 50,000 steps). "Band moved": how far each percentile\'s '
    "moving average (over a tenth of the run, to leave out the mini-batch jitter) "
    "travelled, largest minus smallest value, averaged over the three. With batch norm the "
    "band still moves, slowly, as γ and β learn."
)

st.subheader("2 · Robust to the learning rate and the initial weights")
st.markdown(
    f"Each point is a fresh 2-{SWEEP_HIDDEN}-2 ReLU network trained for "
    f"{lesson.SWEEP_STEPS} mini-batches on the {lesson.SWEEP_DATASET} set; the final loss is "
    f"the mean mini-batch loss over the last {lesson.FINAL_FRACTION:.0%} of the steps. Batch "
    "norm divides each unit's z by its mini-batch standard deviation, so scaling W[l] up or "
    "down barely changes "
    "Z_norm[l]: a too-small or too-large initialization is largely undone, and larger "
    "learning rates do not blow the hidden layers' inputs up as they do without it. "
    "Largely, not wholly:"
)
floor = epsilon_floor()
st.markdown(
    f"- **ε floors the variance.** Z_norm = (z − μ)/√(σ² + ε), ε = {floor.eps:g}. With "
    f"initial weights of std {floor.init_scale:g} (the sweep's smallest), the variance of "
    f"Z[1] over a mini-batch (mean over its units) is {floor.var_z[0]:.1e}, below ε, so "
    f"Z_norm[1]'s variance is {floor.var_z_norm[0]:.2f}, not 1 (layers 2 and 3: "
    f"{floor.var_z_norm[1]:.2f}, {floor.var_z_norm[2]:.2f}). Smaller weights shrink it "
    "further still, in proportion to Var(Z).\n"
    "- **γ can grow.** Z̃ = γ Z_norm + β is not normalized again: a large α can push γ and β "
    "as far as it would push W.\n"
    "- **The output layer is not normalized.** Z[L] = W[L] A[L−1] + b[L] goes to the "
    "softmax as it is, so large weights or steps there can still blow the loss up."
)
c1, c2, _ = ui.columns([2, 2, 4], per_row=2)
with c1:
    sweep_opt = ui.choice(
        "Optimizer of the sweeps", "sopt", ["gd", "momentum", "adam"], "gd", advanced=True
    )
with c2:
    init_lr = ui.steps(
        "α of the weight-scale sweep", "ilr", [0.01, 0.03, 0.1, 0.3, 1.0], 0.1, advanced=True
    )
lr_table, init_table = run_sweeps(
    [lesson.lr_sweep(sweep_opt), lesson.init_sweep(init_lr, sweep_opt)]
)
left, right = ui.columns(2)
with left:
    ui.chart(
        viz.sweep_figure(lr_table, "learning rate α", "Final loss against the learning rate"),
        key="lr_sweep",
    )
with right:
    ui.chart(
        viz.sweep_figure(
            init_table,
            "std of the initial weights",
            f"Final loss against the initial scale (α = {init_lr:g})",
        ),
        key="init_sweep",
    )
st.caption(
    "Honest reading: batch norm does not give the lowest loss at every setting (at its best "
    "learning rate the plain network can do better in so few steps), but it trains across a "
    "much wider range, where the plain network stalls (tiny weights: the signal vanishes "
    "through the layers) or diverges (large weights or steps)."
)

ui.end_page()
