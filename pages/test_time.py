"""Lesson 4: how mu and sigma jump between mini-batches, the running averages that replace them
at test time, training mode against eval mode, and why a batch of one cannot be normalized."""

from bn_app import ui

import streamlit as st

from bn_core.batchnorm import DEFAULT_EPS
from bn_core.lessons import test_time as tt
from bn_viz import test_time as viz

N_DRAWS = 200  # mini-batches per batch size in (a)
N_PLACEMENTS = 100  # mini-batches the example of (c) is placed into
N_ALONE = 6  # examples shown alone in (d)
HIDDEN = [f"[{n} BN relu]" for n in tt.LAYER_DIMS[1:-1]]  # the lesson network's hidden layers
EPS, BETA = ui.num(DEFAULT_EPS), ui.num(tt.RUNNING_BETA)  # the lesson network's ε and β
TORCH_MOMENTUM = ui.num(1 - tt.RUNNING_BETA)  # PyTorch's momentum for that β


@st.cache_data(show_spinner="Training the lesson network on the digits (once)…", max_entries=8)
def _population(seed, layer, unit):
    s = tt.lesson_setup(seed)
    mu, var = tt.population_stats(s.net, s.X_train, layer)
    return tt.unit_stats(mu, var, unit), s.X_train.shape[1], s.X_test.shape[1]


@st.cache_data(show_spinner=False, max_entries=32)
def _jumps(seed, layer, unit, m):
    s = tt.lesson_setup(seed)
    return tt.minibatch_stats(s.net, s.X_train, layer, unit, m, N_DRAWS, seed)


@st.cache_data(show_spinner=False, max_entries=16)
def _spread(seed, layer, unit, N, pop_sigma):
    s = tt.lesson_setup(seed)
    std_mu, std_sigma = tt.spread_vs_batch_size(
        s.net, s.X_train, layer, unit, tt.BATCH_SIZES, N_DRAWS, seed
    )
    return std_mu, std_sigma, tt.expected_spread_of_mean(pop_sigma, tt.BATCH_SIZES, N)


@st.cache_data(show_spinner=False, max_entries=32)
def _running(seed, layer, unit, m, beta, steps):
    s = tt.lesson_setup(seed)
    return tt.running_average_trace(s.net, s.X_train, layer, unit, m, beta, steps, seed)


@st.cache_data(show_spinner=False, max_entries=32)
def _train_vs_eval(seed, layer, unit, m, example):
    s = tt.lesson_setup(seed)
    x, label = s.X_test[:, example : example + 1], int(s.y_test[example])
    result = tt.train_vs_eval(s.net, x, label, s.X_train, layer, unit, m, N_PLACEMENTS, seed)
    return result, label


@st.cache_data(show_spinner=False, max_entries=32)
def _alone(seed, layer, unit, first):
    s = tt.lesson_setup(seed)
    cols = slice(first, first + N_ALONE)
    return tt.batch_of_one(s.net, s.X_test[:, cols], s.y_test[cols], layer, unit)


@st.cache_data(show_spinner=False, max_entries=8)
def _compared(seed):
    return tt.compare_estimates(seed)


SAME_QUESTION = ui.Prediction(
    "Test accuracy with the running averages, or with μ and σ² of the whole training set: "
    "which is better?",
    (
        "The whole training set, clearly",
        "The running averages, clearly",
        "About the same: within a point or so",
    ),
    "About the same: within a point or so",
    "Both estimate the same μ and σ² of each unit. The running averages come free with "
    "training; the whole set costs one more pass through the final network.",
)

TORCH_CODE = f"""import torch.nn as nn

# hidden layer l of the course: z = W a (no b), z~ = γ z_norm + β, a = ReLU(z~)
layer = nn.Sequential(
    nn.Linear(n_prev, n, bias=False),           # W[l]; β[l] does b[l]'s job
    nn.BatchNorm1d(n, eps={EPS}, momentum={TORCH_MOMENTUM}),  # γ = .weight, β = .bias
    nn.ReLU(),
)
# running = (1 − momentum) · running + momentum · batch value: momentum = 1 − β

model.train()   # mini-batch μ, σ²; updates running_mean, running_var
...             # the training loop
model.eval()    # test time: running_mean, running_var
with torch.no_grad():       # no_grad does NOT switch to eval mode
    probs = model(X_test)   # X_test: (m, n_x), one example per ROW
"""

KERAS_CODE = f"""from keras import layers

# the same layer in Keras
layers.Dense(n, use_bias=False)                        # W[l], no b[l]
layers.BatchNormalization(momentum={BETA}, epsilon={EPS})  # gamma, beta
layers.Activation("relu")
# moving = momentum · moving + (1 − momentum) · batch value: momentum = β
# (Keras' defaults: momentum 0.99, epsilon 1e-3)

model.fit(X_train, y_train)  # training=True inside: mini-batch μ, σ²
model.predict(X_test)        # training=False: moving_mean, moving_variance
"""

FRAMEWORK_ROWS = (  # (the course, PyTorch, Keras)
    (
        "Z[l] = W[l] A[l−1], b[l] dropped",
        "`nn.Linear(n_prev, n, bias=False)`",
        "`Dense(n, use_bias=False)`",
    ),
    (
        "γ[l], β[l] (start at 1 and 0)",
        "`BatchNorm1d(n)`: `.weight`, `.bias`",
        "`BatchNormalization()`: `gamma`, `beta`",
    ),
    ("ε", "`eps`, default 1e-5", "`epsilon`, default 1e-3"),
    (
        "β of the running average",
        "`momentum = 1 − β`, default 0.1 (β = 0.9)",
        "`momentum = β`, default 0.99",
    ),
    (
        "μ_run, σ²_run (start at 0 and 1)",
        "`running_mean`, `running_var`",
        "`moving_mean`, `moving_variance`",
    ),
    (
        "mini-batch statistics / test time",
        "`model.train()` / `model.eval()`",
        "`training=True` (in `fit`) / `training=False` (`predict`, `evaluate`)",
    ),
    (
        "X: (n_x, m), examples in columns",
        "input (m, n_x), examples in rows",
        "input (m, n_x), examples in rows",
    ),
)
FRAMEWORK_TABLE = "\n".join(
    ["| the course | PyTorch | Keras |", "|---|---|---|"]
    + [f"| {course} | {torch} | {keras} |" for course, torch, keras in FRAMEWORK_ROWS]
)


ui.start_page("test_time", "Mini-batches and test time", "⏱️")
st.markdown(
    "Batch norm normalizes each unit with the mean and variance **of the current mini-batch**. "
    "Those statistics jump from one mini-batch to the next, and at test time there may be no "
    "mini-batch at all. Here a small network "
    f"({' → '.join(map(str, [tt.LAYER_DIMS[0], *HIDDEN, tt.LAYER_DIMS[-1]]))}), trained "
    "briefly on the 8×8 digits and then **frozen**, shows both sides."
)
ui.presets(
    [
        ui.Preset(
            "Tiny mini-batches (m = 4)",
            "μ and σ jump a lot; one example's output depends strongly on its companions.",
            {"m": 4},
        ),
        ui.Preset(
            "Big mini-batches (m = 256)",
            "Steady statistics close to the population values.",
            {"m": 256},
        ),
        ui.Preset(
            "Slow average (β = 0.99)",
            "A long memory: smooth, but it takes hundreds of steps "
            "to forget its start at μ = 0, σ² = 1.",
            {"beta": 0.99, "t": 1000},
        ),
        ui.Preset(
            "Jumpy average (β = 0.5)",
            "A short memory: the running average follows every mini-batch's noise.",
            {"beta": 0.5, "m": 8},
        ),
    ]
)

c1, c2, c3, c4 = st.columns([3, 3, 1, 1])
with c1:
    m = ui.steps(
        "Mini-batch size m", "m", tt.BATCH_SIZES, 32, help="Used by every experiment on this page."
    )
with c2:
    unit = ui.slider("Hidden unit", "unit", 1, tt.LAYER_DIMS[1], 1) - 1
with c3:
    layer = int(ui.choice("Layer", "layer", ["1", "2"], "1", advanced=True))
with c4:
    seed = ui.number(
        "Seed",
        "seed",
        0,
        99,
        0,
        advanced=True,
        help="Seeds the network's training and the mini-batch order.",
    )

(pop_mu, pop_var, pop_sigma), N, n_test = _population(seed, layer, unit)
where = f"Unit {unit + 1} of layer {layer}"

# --- (a) -------------------------------------------------------------------------------------
st.header("1 · μ and σ jump between mini-batches")
left, right = st.columns([2, 3])
with left:
    st.latex(r"\mu_B = \frac{1}{m}\sum_{i \in B} z^{(i)}")
    st.latex(r"\sigma_B^2 = \frac{1}{m}\sum_{i \in B} \left(z^{(i)} - \mu_B\right)^2")
    st.latex(r"\operatorname{std}(\mu_B) \approx \frac{\sigma}{\sqrt{m}}")
    st.markdown(
        f"{where} has population mean **μ = {pop_mu:.3f}** and standard deviation "
        f"**σ = {pop_sigma:.3f}** over all {N} training examples (dashed). Each mini-batch "
        f"sees only m = {m} of them, so its μ_B and σ_B scatter around those values."
    )
    st.info(
        f"**Try this:** move *m* from 4 to {tt.BATCH_SIZES[-1]} and watch the dots close "
        "in on the dashed "
        "line; the ring on the right moves down the σ/√m line."
    )
mus, sigmas = _jumps(seed, layer, unit, m)
with right:
    ui.chart(viz.minibatch_stats_figure(mus, sigmas, pop_mu, pop_sigma, m, where))
std_mu, std_sigma, expected = _spread(seed, layer, unit, N, pop_sigma)
if layer == 1:
    ui.chart(viz.spread_figure(tt.BATCH_SIZES, std_mu, std_sigma, expected, m))
    st.caption(
        f"Each point is the standard deviation over {N_DRAWS} mini-batches drawn as in "
        f"training (an epoch is a fresh shuffle of the {N} examples). The dashed line is σ/√m "
        "times √((N−m)/(N−1)), the small correction for drawing without replacement. "
        "Quadrupling m halves the jumps."
    )
else:
    ui.chart(viz.spread_figure(tt.BATCH_SIZES, std_mu, std_sigma, None, m))
    st.warning(
        "**Layer 2 is different.** Its z = W[2] a[1] depends on how layer 1 was normalized, "
        "which depends on the whole mini-batch: with m = 2, layer 1's z_norm is always ±1. So "
        "with small m the mini-batch values are not just noisy around the dashed line but "
        "shifted away from it (the dashed line is the whole training set passed as one batch), "
        "and σ/√m no longer describes them. Switch back to layer 1 for the clean picture."
    )

# --- (b) -------------------------------------------------------------------------------------
st.header("2 · Running averages for test time")
left, right = st.columns([2, 3])
with left:
    st.latex(r"\mu_{\text{run}} \leftarrow \beta\,\mu_{\text{run}} + (1-\beta)\,\mu_B")
    st.latex(
        r"\sigma^2_{\text{run}} \leftarrow \beta\,\sigma^2_{\text{run}} + (1-\beta)\,"
        r"\frac{m}{m-1}\,\sigma_B^2"
    )
    st.markdown(
        "Every training-mode forward updates these exponentially weighted averages, starting "
        "from μ_run = 0 and σ²_run = 1. The variance goes in unbiased (× m/(m−1)), as in the "
        "original paper and PyTorch. Here β is the averaging weight (the course reuses the "
        "letter; it is not the shift β of Z̃)."
    )
    beta = ui.steps(
        "β of the running average",
        "beta",
        [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999],
        0.9,
    )
    steps = ui.steps("Training steps", "t", [50, 100, 200, 500, 1000, 2000, 5000], 200)
    st.info(
        "**Try this:** β = 0.5 follows every jump; β = 0.99 is smooth but slow to leave "
        "its start. With β = 0.999, how many steps until the line reaches the dashed one?"
    )
trace = _running(seed, layer, unit, m, beta, steps)
with right:
    ui.chart(viz.running_average_figure(trace, pop_mu, pop_var, beta))
    st.caption(
        f"The network's own update (a training-mode forward on {steps} successive mini-batches "
        "of size m) with the weights frozen, so the target stays still and the convergence is "
        f"clear; in real training it chases a moving target. After t steps the start still "
        f"weighs β^t: {beta:g}^{steps} = {trace.start_weight:.2g}."
        + (
            " In layer 2 with small m the average settles where the training-mode values are, "
            "off the dashed line: at test time the network would then see statistics it never "
            "met in training."
            if layer == 2
            else ""
        )
    )

# --- (c) -------------------------------------------------------------------------------------
st.header("3 · Training mode vs eval mode")
left, right = st.columns([2, 3])
with left:
    st.latex(
        r"\text{test time:}\quad z_{\text{norm}} = "
        r"\frac{z - \mu_{\text{run}}}{\sqrt{\sigma^2_{\text{run}} + \varepsilon}}"
    )
    st.latex(r"\tilde z = \gamma\, z_{\text{norm}} + \beta")
    example = ui.slider("Test example", "ex", 1, n_test, 5) - 1
    st.markdown(
        f"In training mode the example is normalized with μ_B and σ_B of **its mini-batch**: "
        f"put it into {N_PLACEMENTS} different random mini-batches of m = {m} training examples "
        "and its output changes every time. In eval mode the running averages (left by "
        "training) are fixed numbers, so its output depends on it alone: one value."
    )
    st.info(
        "**Try this:** at m = 4 even the predicted probability swings (the network "
        f"trained on mini-batches of {tt.TRAIN_BATCH}); at m = {tt.BATCH_SIZES[-1]} the "
        "cloud shrinks toward the eval value."
    )
result, label = _train_vs_eval(seed, layer, unit, m, example)
with right:
    ui.chart(viz.train_vs_eval_figure(result, m, f"Test example {example + 1} (a {label})"))
    st.caption(
        f"Training mode: Z̃ ranges over {result.train_z_tilde.min():.3f} … "
        f"{result.train_z_tilde.max():.3f} and the probability over "
        f"{result.train_prob.min():.3f} … {result.train_prob.max():.3f}. Eval mode: Z̃ = "
        f"{result.eval_z_tilde:.3f}, probability {result.eval_prob:.3f}."
    )

# --- (d) -------------------------------------------------------------------------------------
st.header("4 · A mini-batch of one")
left, right = st.columns([2, 3])
with left:
    st.latex(r"m = 1:\quad \mu_B = z,\qquad \sigma_B^2 = (z - z)^2 = 0")
    st.latex(
        r"z_{\text{norm}} = \frac{z - z}{\sqrt{0 + \varepsilon}} = 0 \qquad "
        r"\tilde z = \gamma \cdot 0 + \beta = \beta"
    )
    st.markdown(
        "With one example the mean is the example itself, so z − μ = 0 and **every input maps "
        "to β**: the layer forgets what it was shown. The core refuses a training-mode batch "
        "of one rather than return that silently wrong number:"
    )
    setup = tt.lesson_setup(seed)
    try:
        setup.net.forward(setup.X_test[:, example : example + 1], train=True)
        st.error("The core accepted a training-mode batch of one; it should not.")
    except ValueError as err:
        st.warning(f"`forward(x, train=True)` with m = 1 → ValueError: {err}")
    st.markdown("Eval mode has no such problem: it uses the running averages, not the batch.")
    st.info(
        "**Try this:** move the test example slider above: the training-mode bars never "
        "move, the eval-mode bars do."
    )
first = min(example, n_test - N_ALONE)
alone = _alone(seed, layer, unit, first)
names = [f"test {first + i + 1}" for i in range(N_ALONE)]
with right:
    ui.chart(viz.batch_of_one_figure(alone, names))
    st.dataframe(
        {
            "example": names,
            "z": alone.z,
            "z − μ (m = 1)": alone.z_minus_mu,
            "z_norm (m = 1)": alone.z_norm,
            "Z̃ (m = 1)": alone.train_z_tilde,
            "Z̃ eval": alone.eval_z_tilde,
            "P(true class), eval": alone.eval_prob,
        },
        hide_index=True,
        width="stretch",
        column_config={
            k: st.column_config.NumberColumn(format="%.3f")
            for k in (
                "z",
                "z − μ (m = 1)",
                "z_norm (m = 1)",
                "Z̃ (m = 1)",
                "Z̃ eval",
                "P(true class), eval",
            )
        },
    )

# --- (e) -------------------------------------------------------------------------------------
st.header("5 · Running averages or the whole training set")
left, right = st.columns([2, 3])
with left:
    st.latex(
        r"\mu = \frac{1}{N}\sum_{i=1}^{N} z^{(i)}, \qquad "
        r"\sigma^2 = \frac{1}{N}\sum_{i=1}^{N} \left(z^{(i)} - \mu\right)^2"
    )
    st.markdown(
        f"The lecture gives **another option**: once training is over, run the whole training "
        f"set ({N} examples) through the final network and take each unit's μ and σ² from "
        "it, layer by layer. In practice people keep the running averages, which training "
        "computes anyway. (The paper, Ioffe & Szegedy 2015, averages μ_B and the unbiased "
        "σ²_B · m/(m − 1) of the trained network over many training mini-batches.) Here the "
        f"network's own running averages (β = {BETA} over its "
        f"{tt.TRAIN_STEPS} training steps of m = {tt.TRAIN_BATCH}) stand beside the "
        "whole-set values."
    )
    st.info(
        "**Try this:** predict, then compare the dots with the diagonal and the two "
        "test accuracies. Try another seed (an advanced control) too."
    )
    show_compared = ui.predict(SAME_QUESTION, "predict_same")
with right:
    if show_compared:
        compared = _compared(seed)
        ui.chart(
            viz.estimates_figure(compared, layer),
            key="estimates",
            name="Running averages against the whole training set's μ and σ²",
            summary=f"Test accuracy {compared.running_accuracy:.1%} with the running "
            f"averages, {compared.whole_accuracy:.1%} with the whole set.",
        )
        k1, k2, k3, k4 = st.columns(4)
        k1.metric("accuracy, running", f"{compared.running_accuracy:.1%}")
        k2.metric("accuracy, whole set", f"{compared.whole_accuracy:.1%}")
        k3.metric("loss, running", f"{compared.running_loss:.4f}")
        k4.metric("loss, whole set", f"{compared.whole_loss:.4f}")
        st.caption(
            f"Test accuracy and loss on {n_test} test examples, in eval mode. The largest gap "
            f"between the two μ of a unit in layer {layer} is "
            f"{compared.largest_mu_gap[layer]:.2f} of that unit's σ: with β = {BETA} the "
            "running average is made mostly of the last dozen or so mini-batches, noisy "
            f"samples of {tt.TRAIN_BATCH} examples taken while the weights were still moving."
        )

# --- (f) -------------------------------------------------------------------------------------
st.header("6 · From the lesson to the frameworks")
st.markdown(
    "The same layer and the same test-time rule in PyTorch and Keras. Two traps: the "
    "frameworks' **momentum** means opposite things, and neither is the course's β of Z̃ "
    "(PyTorch calls that `bias`). PyTorch normalizes with the biased mini-batch variance "
    "(÷ m) and puts the unbiased one (÷ (m − 1)) into `running_var`, as this app does."
)
st.markdown(FRAMEWORK_TABLE)
st.code(TORCH_CODE, language="python")
st.code(KERAS_CODE, language="python")
st.warning(
    "**The model.train() / model.eval() pitfall.** Forget `model.eval()` before testing "
    "and PyTorch normalizes each test batch with its own μ and σ² (one example's output then "
    "depends on the others: section 3), updates the running averages with test data, and "
    'refuses a batch of one ("Expected more than 1 value per channel when training": '
    "section 4). `torch.no_grad()` does not switch modes. Forget `model.train()` after an "
    "evaluation inside the training loop, and training goes on normalizing with the running "
    "averages, which are then never updated again."
)

ui.end_page()
