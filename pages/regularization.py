"""Lesson 6: batch norm as a slight regularizer. The noise mini-batch statistics add to one
example, against the mini-batch size and against dropout's; the train/test gap on a small
training set with and without batch norm."""

from bn_app import ui

import streamlit as st

from bn_core.lessons import regularization as lesson
from bn_viz import regularization as viz

SLUG = "regularization"
GAP_BATCHES = [4, 8, 16, 32, 64, 150]
NOISE_UNITS = lesson.NOISE_DIMS[2]  # the units of hidden layer 2
NOISE_NETWORK = "-".join(map(str, lesson.NOISE_DIMS))  # its network as text: 64-64-32-10


@st.cache_data(max_entries=64, show_spinner=False)
def noise_study(batch_size, keep_prob, unit, example):
    return lesson.noise_study(batch_size, keep_prob, unit, example)


@st.cache_data(max_entries=2, show_spinner=False)
def noise_pool_size():
    return lesson.noise_pool_size()


@st.cache_data(max_entries=64, show_spinner=False)
def gap_experiment(settings):
    return lesson.gap_experiment(settings)


def gap_sentence(with_bn, without_bn, n_test):
    """What this run shows about the gap, in words that follow the numbers."""
    diff = (without_bn.gap - with_bn.gap) * 100
    noise = 100 * lesson.difference_noise(with_bn.test_acc[-1], without_bn.test_acc[-1], n_test)
    better = "smaller" if diff > 0 else "larger"
    verdict = (
        "well within" if abs(diff) < noise else "about at" if abs(diff) < 2 * noise else "beyond"
    )
    return (
        f"In this run the gap is {abs(diff):.1f} accuracy points {better} with batch norm, "
        f"{verdict} the test set's own noise (±{noise:.1f} points for {n_test} test "
        "digits). Change the mini-batch size and see how little of it is systematic."
    )


ui.start_page(SLUG, "Batch norm as a slight regularizer", "🎲")
st.markdown(
    "Each mini-batch's μ and σ² are estimates from only *m* examples, so an example's "
    "normalized value depends on which other examples share its mini-batch: batch norm adds "
    "a little **noise** to every hidden unit, a bit like dropout does. That noise has a "
    "slight regularizing effect, and it shrinks as the mini-batch grows."
)
ui.presets(
    [
        ui.Preset("The default", "m = 16, dropout p = 0.8 for comparison.", {}),
        ui.Preset(
            "Tiny mini-batches", "m = 4: the statistics are very noisy.", {"m": "4", "gm": "4"}
        ),
        ui.Preset(
            "The whole set as one batch",
            "Section 2 trains on its whole training set as "
            f"one mini-batch (m = {lesson.GapSettings.n_train}): no mini-batch noise there. "
            f"Section 1 takes its largest mini-batch, m = {lesson.BATCH_SIZES[-1]} of the "
            f"{noise_pool_size():,} training digits: the least "
            "noise, but not none.",
            {"m": "256", "gm": "150"},
        ),
        ui.Preset(
            "Strong dropout", "p = 0.5: the noise dropout adds, for comparison.", {"p": "0.5"}
        ),
    ]
)
st.info(
    f"**Try this:** slide *m* from {lesson.BATCH_SIZES[0]} to {lesson.BATCH_SIZES[-1]} and "
    "watch the blue histogram narrow (about "
    "1/√m), then set the dropout keep probability to 0.5. Below, compare the gap between "
    "the solid (train) and dashed (test) curves with the whole set as one batch and with "
    "m = 8."
)

st.subheader("1 · The noise of mini-batch statistics")
c1, c2, c3, c4 = ui.columns([3, 3, 2, 2], per_row=2)
with c1:
    batch_size = ui.steps("Mini-batch size m", "m", lesson.BATCH_SIZES, 16)
with c2:
    keep_prob = ui.steps("Dropout keep probability p", "p", [0.5, 0.6, 0.7, 0.8, 0.9, 0.95], 0.8)
for old, new in (("ex", "example_no"), ("unit", "unit_no")):  # older links: 0-based
    ui.renamed(old, new, offset=1)
with c3:  # shown 1-based, passed 0-based
    example = ui.slider("Example", "example_no", 1, lesson.N_EXAMPLES, 1, advanced=True) - 1
with c4:
    unit = ui.slider("Unit of layer 2", "unit_no", 1, NOISE_UNITS, 1, advanced=True) - 1
study = noise_study(batch_size, keep_prob, unit, example)
left, right = ui.columns(2)
with left:
    ui.chart(
        viz.noise_histogram(
            study.bn_values, study.noise_free, batch_size, study.dropout_values, keep_prob
        ),
        key="histogram",
    )
with right:
    ui.chart(
        viz.noise_vs_batch_size(study.batch_sizes, study.stds, study.c, batch_size, study.dropout),
        key="noise",
    )
left, right = ui.columns(2, gap="large")
with left:
    st.latex(
        r"z^{(i)}_{\text{norm}} = \frac{z^{(i)} - \mu_B}{\sqrt{\sigma_B^2 + \varepsilon}},"
        r"\qquad \operatorname{std}(\mu_B) \approx \frac{\sigma}{\sqrt{m}}"
    )
with right:
    st.latex(r"\text{dropout:}\ \ \tilde a = \frac{d\, a}{p},\ \ d \sim \text{Bernoulli}(p)")
    st.latex(
        r"\mathbb{E}[\tilde a] = a, \qquad \frac{\operatorname{std}(\tilde a)}{a} = "
        r"\sqrt{\frac{1-p}{p}}"
    )
st.caption(
    f"One unit of hidden layer 2 in a freshly initialized {NOISE_NETWORK} ReLU network with batch "
    "norm, on the 8×8 digits; layer 1 is normalized with whole-set statistics so all the noise "
    f"is this layer's. Each histogram holds {lesson.NOISE_DRAWS} random mini-batches containing "
    "the example (or dropout masks on its layer-1 activations, in the same units). The core "
    "has no dropout layer: the dropout noise is simulated here, on the same unit."
)

st.subheader("2 · The train/test gap on a small training set")
c1, c2, c3, _ = ui.columns([3, 2, 2, 3], per_row=2)
with c1:
    gap_batch = ui.steps("Mini-batch size", "gm", GAP_BATCHES, 16)
with c2:
    n_train = ui.steps("Training examples", "n", [150, 300], 150, advanced=True)
with c3:
    steps = ui.steps("Training steps", "steps", [150, 300, 600], 300, advanced=True)
settings = lesson.GapSettings(n_train=n_train, batch_size=gap_batch, steps=steps)
with st.spinner("Training both networks…"):
    with_bn, without_bn = gap_experiment(settings)
ui.chart(viz.gap_curves(with_bn, without_bn), key="gap")
cols = ui.columns(4, per_row=2)
cols[0].metric(
    "Gap with batch norm",
    f"{with_bn.gap * 100:.1f} pts",
    help="Final train accuracy minus final test accuracy.",
)
cols[1].metric("Gap without", f"{without_bn.gap * 100:.1f} pts")
cols[2].metric("Test loss with batch norm", f"{with_bn.test_loss[-1]:.3f}")
cols[3].metric("Test loss without", f"{without_bn.test_loss[-1]:.3f}")
st.markdown(gap_sentence(with_bn, without_bn, n_train))
st.caption(
    f"64-{'-'.join(map(str, settings.hidden))}-10 ReLU networks, gradient descent α = "
    f"{settings.lr:g}, {n_train} training and {n_train} test digits, the same initial weights "
    "and mini-batches; measured in eval mode (running averages) on the whole sets. A "
    f"mini-batch of {GAP_BATCHES[-1]} is the whole default training set: no mini-batch noise."
)

st.subheader("3 · How it compares with dropout, honestly")
m64 = study.stds[list(study.batch_sizes).index(64)]
st.markdown(
    f"- **Slight.** At m = 64 the example's normalized value scatters with a standard "
    f"deviation of {m64:.2f}; dropout with p = 0.8 on the same unit gives "
    f"{study.dropout[0.8]:.2f}, with p = 0.5 {study.dropout[0.5]:.2f}.\n"
    "- **Bigger mini-batch, less noise, less regularization.** The spread falls about as "
    f"1/√m: {study.stds[0]:.2f} at m = {study.batch_sizes[0]}, {study.stds[-1]:.2f} at "
    f"m = {study.batch_sizes[-1]}.\n"
    "- **A side effect, not the purpose.** Use batch norm to train faster and more stably; "
    "if the network overfits, reach for dropout or L2 (they combine with batch norm).\n"
    "- **Gone at test time.** With the running averages, a test example's output no longer "
    "depends on other examples, just as dropout is switched off at test time."
)

ui.end_page()
