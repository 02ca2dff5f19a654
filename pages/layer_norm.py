"""Lesson 8: beyond the batch. Layer norm beside batch norm: one matrix normalized along each
axis, a mini-batch of one, test time, the gradient of b, and a sweep over mini-batch sizes."""

from bn_app import ui

import streamlit as st

from bn_core.lessons import layer_norm as lesson
from bn_viz import layer_norm as viz

SLUG = "layer_norm"
SWEEP_KEY = "_sweep_requested.layer_norm"  # outside the slug: presets keep the sweep
SWEEP_NETWORKS = len(lesson.NORMS) * len(lesson.SWEEP_BATCH_SIZES)  # one per cell of the table


@st.cache_data(max_entries=64, show_spinner=False)
def both_ways(gamma, beta, eps, seed):
    return lesson.both_ways(gamma, beta, eps, seed=seed)


@st.cache_data(max_entries=8, show_spinner=False)
def one_at_a_time(steps):
    return lesson.train_one_at_a_time(steps)


@st.cache_data(max_entries=32, show_spinner=False)
def side_by_side(steps, batch_size, example):
    return lesson.side_by_side(steps, batch_size, example)


@st.cache_data(max_entries=64, show_spinner=False)
def sweep_cell(norm, batch_size, examples_seen):
    return lesson.sweep_cell(norm, batch_size, lesson.SweepSettings(examples_seen))


def run_sweep(examples_seen):
    """The sweep one cached network at a time, with a progress bar while any is computed."""
    bar = st.progress(0.0, text="Training the sweep's networks…")
    table = {norm: [] for norm in lesson.NORMS}
    total = len(lesson.NORMS) * len(lesson.SWEEP_BATCH_SIZES)
    for norm in lesson.NORMS:
        for m in lesson.SWEEP_BATCH_SIZES:
            table[norm].append(sweep_cell(norm, m, examples_seen))
            done = sum(map(len, table.values()))
            bar.progress(done / total, text=f"{viz.NORM_LABELS[norm]}, m = {m} ({done}/{total})")
    bar.empty()
    return table


ui.start_page(SLUG, "Beyond the batch: layer norm", "↔️")
st.markdown(
    "Batch norm takes its μ and σ² from the **mini-batch**. That is where its regularizing noise "
    "comes from, why it needs running averages at test time, and why it cannot train on a "
    "mini-batch of one. **Layer norm** (Ba, Kiros & Hinton 2016) uses the same formulas along "
    "the other axis: each example is normalized over its own units, so it never looks at "
    "another example."
)
ui.presets(
    [
        ui.Preset("The default", "γ = 1, β = 0, ε = 10⁻⁵; mini-batches of 8.", {}),
        ui.Preset(
            "Scale and shift",
            "γ = 2, β = 1 act on both normalizations alike.",
            {"gamma": "2", "beta": "1"},
        ),
        ui.Preset(
            "A huge ε",
            "ε = 10: the normalized values shrink, rows and columns alike.",
            {"eps": "10"},
        ),
        ui.Preset(
            "Mini-batches of 2",
            "Batch norm's train-mode and eval-mode outputs for the "
            "digit differ by several points of probability; layer norm's agree to rounding.",
            {"m": "2"},
        ),
    ]
)
st.info(
    "**Try this:** drag γ and β and watch both outputs move alike; set ε to 10. Then set the "
    "mini-batch size below to 2 and compare the two networks' train-mode and eval-mode bars. "
    "At the end, run the sweep."
)

st.subheader("1 · One matrix, two axes")
c1, c2, c3, c4 = ui.columns([3, 3, 3, 2], per_row=2)
with c1:
    gamma = ui.slider("γ (scale, every unit)", "gamma", 0.0, 3.0, 1.0, step=0.1)
with c2:
    beta = ui.slider("β (shift, every unit)", "beta", -2.0, 2.0, 0.0, step=0.1)
with c3:
    eps = ui.steps("ε", "eps", [1e-5, 1e-3, 1e-1, 1.0, 10.0], 1e-5)
with c4:
    seed = ui.slider("Matrix seed", "seed", 0, 9, 0, advanced=True)
both = both_ways(gamma, beta, eps, seed)
ui.chart(viz.matrix_figure(both), key="matrix")
left, right = ui.columns(2, gap="large")
with left:
    st.markdown("**Batch norm**: per unit *j*, over the *m* examples")
    st.latex(
        r"\mu_j = \frac{1}{m}\sum_{i=1}^{m} z_j^{(i)},\quad "
        r"\sigma_j^2 = \frac{1}{m}\sum_{i=1}^{m} \bigl(z_j^{(i)} - \mu_j\bigr)^2"
    )
with right:
    st.markdown("**Layer norm**: per example *i*, over the *n* units")
    st.latex(
        r"\mu^{(i)} = \frac{1}{n}\sum_{j=1}^{n} z_j^{(i)},\quad "
        r"\sigma^{2\,(i)} = \frac{1}{n}\sum_{j=1}^{n} \bigl(z_j^{(i)} - \mu^{(i)}\bigr)^2"
    )
st.latex(
    r"z_{\text{norm}} = \frac{z - \mu}{\sqrt{\sigma^2 + \varepsilon}},\qquad "
    r"\tilde z_j = \gamma_j\, z_{\text{norm}} + \beta_j"
    r"\qquad(\gamma, \beta \text{ per unit in both})"
)
ui.chart(viz.outputs_figure(both), key="outputs")
st.caption(
    "The same Z and the same γ, β, ε for both. Batch norm gives every row (unit) mean β and "
    "standard deviation γ·√(σ²/(σ²+ε)); layer norm gives that to every column (example). "
    "Batch norm keeps each example's place among the others; layer norm keeps each unit's "
    "place within the example."
)

st.subheader("2 · A mini-batch of one")
steps_one = ui.steps("Steps of one digit each", "steps1", [100, 200, 400], 200, advanced=True)
one = one_at_a_time(steps_one)
left, right = ui.columns([2, 3], gap="large")
with left:
    st.markdown("Batch norm, training mode, one digit:")
    st.error(f"ValueError: {one.bn_error}", icon="🚫")
    st.markdown(
        "With one example, μ is the example itself and σ² is 0: every z_norm would be 0. "
        "Layer norm has n units to average over, so it trains:"
    )
    st.metric(
        "Layer norm's test accuracy",
        f"{one.test_acc_after:.1%}",
        delta=f"{(one.test_acc_after - one.test_acc_before) * 100:+.1f} pts from the start",
    )
with right:
    ui.chart(viz.one_at_a_time_figure(one), key="one")

st.subheader("3 · Test time, and the gradient of b")
c1, c2, c3 = ui.columns(3, per_row=2)
with c1:
    batch_size = ui.steps("Mini-batch size m", "m", [2, 4, 8, 16, 32], 8)
with c2:
    train_steps = ui.steps("Training steps", "steps", [50, 150, 300], 150, advanced=True)
ui.renamed("ex", "example_no", offset=1)  # older links: 0-based
with c3:  # shown 1-based, passed 0-based
    example = ui.slider("Test example", "example_no", 1, 20, 1, advanced=True) - 1
side = side_by_side(train_steps, batch_size, example)
ui.chart(viz.test_time_figure(side), key="test_time")
st.markdown(
    f"Batch norm normalizes this digit with its mini-batch's μ and σ² in training and with the "
    f"running averages at test time: its output moves by up to "
    f"**{side.output_gap('batch'):.3f}** in probability. Layer norm computes the same thing in "
    f"both modes (difference **{side.output_gap('layer'):.1g}**): there is nothing to average."
)
cols = ui.columns([1, 1, 3], per_row=2)
cols[0].metric(
    "|db| batch norm (last step)",
    f"{side.db['batch'][-1]:.1e}",
    help="Largest |dL/db[l]| over the hidden layers, b kept.",
)
cols[1].metric("|db| layer norm (last step)", f"{side.db['layer'][-1]:.1e}")
with cols[2]:
    ui.chart(viz.db_figure(side), key="db")
st.markdown(
    "Under batch norm, b adds the same number to every example of a row and the row's mean "
    "takes it away again: its gradient is 0 up to rounding, so b can go. Under layer norm, "
    "b[l] adds a *different* number to each unit of an example; the column's mean removes only "
    "their average, so b keeps a real gradient. Eliminating b is still common (β does its job), "
    "but it is a choice, not a cancellation."
)

st.subheader("4 · How small can the mini-batch be?")
examples_seen = ui.steps("Training examples seen", "seen", [1024, 2048, 4096], 2048, advanced=True)
st.markdown(
    f"Each network (64-{'-'.join(map(str, lesson.HIDDEN))}-10 ReLU, "
    f"Adam α = {lesson.SweepSettings().lr:g}, the same initial weights) sees {examples_seen} "
    "training digits in mini-batches of m, so a smaller m takes more steps. Test accuracy in "
    "eval mode."
)
if st.button(
    f"Run the sweep ({SWEEP_NETWORKS} networks, a few seconds)", key="layer_norm.run_sweep"
):
    st.session_state[SWEEP_KEY] = True
if st.session_state.get(SWEEP_KEY):
    table = run_sweep(examples_seen)
    ui.chart(viz.sweep_figure(table, lesson.SWEEP_BATCH_SIZES), key="sweep")
    st.dataframe(
        {
            "m": list(lesson.SWEEP_BATCH_SIZES),
            **{viz.NORM_LABELS[k]: [f"{a:.1%}" for a in v] for k, v in table.items()},
        },
        hide_index=True,
    )
    st.markdown(lesson.sweep_verdict(table, examples_seen=examples_seen))
else:
    st.caption(
        f"Press the button: the sweep trains {SWEEP_NETWORKS} small networks (a few "
        "seconds, then cached)."
    )

st.subheader("5 · When to use which")
st.markdown(
    "- **Batch norm**: feed-forward and convolutional networks trained with reasonably large "
    "mini-batches (tens of examples or more). Its mini-batch noise regularizes a little; at "
    "test time it needs the running averages.\n"
    "- **Layer norm**: when the mini-batch is small, ragged or ill-defined: recurrent networks "
    "and transformers, where sequences differ in length and each position is normalized on "
    "its own, and online learning with one example at a time. The same computation in "
    "training and at test time.\n"
    "- **Neither is free**: layer norm assumes a layer's units are comparable enough to share "
    "a μ and σ²; batch norm makes each example's output depend on its mini-batch-mates."
)

ui.end_page()
