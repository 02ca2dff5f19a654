"""The Training Lab's sidebar: every setting of the data, the network and the training, each
control bound to the page's link (bn_app.ui). `settings()` reads them all."""

from __future__ import annotations

import hashlib

from bn_app import lab_options as opts
from bn_app import ui

import streamlit as st

from bn_core import exchange
from bn_core.data import DATASETS, DIGITS_M
from bn_core.layers import ACTIVATIONS
from bn_core.lessons import training_lab as lab
from bn_core.network import INITS
from bn_core.optimizers import OPTIMIZERS, USES
from bn_core.training import make_split, split_and_normalize

DEFAULTS = lab.LabSettings()
DATA_CHOICES = (*DATASETS, lab.OWN_DATA)
OWN_KEY = "lab.own_file"
CSV_HELP = (
    "A CSV with a header row and three columns: two numeric features and a label "
    "(a column named label, class, y or target, else the last one). At most "
    f"{exchange.MAX_POINTS:,} points, {exchange.MIN_CLASSES} to {exchange.MAX_CLASSES} "
    f"classes, each with {exchange.MIN_CLASS_POINTS} or more points."
)
# Links and settings files from before layer norm: bn and twin were on/off switches
NORM_ALIASES = ui.switch_aliases("batch", "none")
TWIN_ALIASES = ui.switch_aliases("none", "off")


@st.cache_data(show_spinner=False, max_entries=16)
def _split(dataset, n, noise, test_fraction, seed):
    return make_split(dataset, n=n, noise=noise, test_fraction=test_fraction, seed=seed)


@st.cache_data(show_spinner=False, max_entries=8)
def _own_split(data, test_fraction, seed):
    """The uploaded points, checked, split and normalized; a refusal raises ValueError."""
    X, y, _ = exchange.parse_points_csv(data)
    return split_and_normalize(X, y, test_fraction, seed)


def _own_data(test_fraction, seed):
    """(split, digest) of the CSV in the uploader, or (None, "") with the reason shown."""
    upload = st.file_uploader("Your points (CSV)", type=["csv"], key=OWN_KEY, help=CSV_HELP)
    if upload is None:
        st.caption("Upload a CSV to train on your own 2-D points. " + CSV_HELP)
        return None, ""
    data = upload.getvalue()
    try:
        split = _own_split(data, test_fraction, seed)
    except ValueError as err:
        st.error(
            f"{ui.user_text(upload.name)} can't be used: {ui.user_text(err, ui.MESSAGE_LIMIT)}.",
            icon="🚫",
        )
        return None, ""
    return split, hashlib.sha256(data).hexdigest()[:12]


def _fit(name, options):
    """If a control's held value is no longer among `options`, move it to the nearest one."""
    value = ui.held(name)
    if value is not None and value not in options:
        ui.set_value(name, opts.nearest(options, value))


def settings():
    """Every setting, from the sidebar's controls. Returns (LabSettings, Split, steps per
    update), or three Nones while "your own points" waits for a usable file."""
    with st.sidebar:
        dataset, n, noise, test_fraction, seed = _data_controls()
        data_file = ""
        if dataset == lab.OWN_DATA:
            split, data_file = _own_data(test_fraction, seed)
            if split is None:
                return None, None, None
        else:
            split = _split(dataset, n, noise, test_fraction, seed)
        m_train = split.X_train.shape[1]
        st.caption(
            f"{m_train} training and {split.X_test.shape[1]} test examples, "
            f"{split.X_train.shape[0]} inputs, {split.n_classes} classes."
        )
        network = _network_controls()
        training, steps_per_update = _training_controls(m_train)
    chosen = lab.LabSettings(
        dataset=dataset,
        n=n,
        noise=noise,
        test_fraction=test_fraction,
        seed=seed,
        data_file=data_file,
        **network,
        **training,
    )
    return chosen, split, steps_per_update


def _data_controls():
    """(dataset, n, noise, test_fraction, seed) from the Data section."""
    st.header("Data")
    dataset = ui.choice(
        "Data set",
        "data",
        DATA_CHOICES,
        DEFAULTS.dataset,
        format_func=lambda d: opts.DATA_NAMES.get(d, d),
    )
    n, noise = DEFAULTS.n, DEFAULTS.noise
    if dataset == lab.OWN_DATA:
        ui.hide("n", "noise")
    else:
        n = ui.slider(
            "Examples",
            "n",
            100,
            2000,
            DEFAULTS.n,
            step=50,
            help=f"Digits has {DIGITS_M} examples; more gives all of them.",
        )
        noise = ui.slider(
            "Noise",
            "noise",
            0.0,
            0.5,
            DEFAULTS.noise,
            step=0.05,
            disabled=dataset == "digits",
            help="Jitter added to the 2-D points (digits ignore it).",
        )
    test_fraction = ui.slider(
        "Test share", "test", 0.1, 0.5, DEFAULTS.test_fraction, step=0.05, advanced=True
    )
    seed = ui.number(
        "Seed",
        "seed",
        0,
        9999,
        DEFAULTS.seed,
        advanced=True,
        help="Seeds the data, the initial weights and the mini-batch order.",
    )
    return dataset, n, noise, test_fraction, seed


def _network_controls():
    """The Network section's LabSettings fields."""
    st.header("Network")
    layers = ui.slider("Hidden layers", "layers", 1, 6, DEFAULTS.hidden_layers)
    units = ui.slider("Units per hidden layer", "units", 2, 64, DEFAULTS.units)
    activation = ui.choice("Activation g", "act", ACTIVATIONS, DEFAULTS.activation)
    norm = ui.choice(
        "Normalization",
        "bn",
        lab.NORMALIZATIONS,
        DEFAULTS.normalization,
        format_func=opts.NORM_NAMES.get,
        aliases=NORM_ALIASES,
        help="Before g, on every hidden layer. Batch norm normalizes each "
        "unit's Z over the mini-batch; layer norm normalizes each "
        "example's Z over the layer's units. Both then scale by γ and "
        "shift by β.",
    )
    eliminate_bias = ui.toggle(
        "Eliminate b",
        "nobias",
        DEFAULTS.eliminate_bias,
        help="Drop b from the normalized layers. Under batch norm b "
        "cancels out and β does its job; under layer norm "
        "only b's mean over the units cancels.",
    )
    bias_note = st.container()  # filled once the twin is chosen: it may have layer norm
    init = ui.choice(
        "Initial weights", "init", INITS, DEFAULTS.init, format_func=opts.INIT_NAMES.get
    )
    init_scale = DEFAULTS.init_scale
    if init == "gaussian":
        init_scale = ui.steps(
            "Scale of the initial weights (std)", "scale", opts.INIT_SCALES, DEFAULTS.init_scale
        )
    else:
        ui.hide("scale")
    twin, twin_norm = _twin_choice(norm)
    with bias_note:
        _bias_caption([norm, *([twin_norm] if twin and norm != "none" else [])], eliminate_bias)
    return {
        "hidden_layers": layers,
        "units": units,
        "activation": activation,
        "batch_norm": norm == "batch",
        "layer_norm": norm == "layer",
        "eliminate_bias": eliminate_bias,
        "init": init,
        "init_scale": init_scale,
        "twin": twin,
        "twin_norm": twin_norm,
    }


def _training_controls(m_train):
    """(the Training section's LabSettings fields, steps per update)."""
    st.header("Training")
    sizes = opts.batch_sizes(m_train)
    _fit("batch", sizes)
    batch_size = ui.steps(
        "Mini-batch size",
        "batch",
        sizes,
        min(DEFAULTS.batch_size, m_train),
        help=f"{m_train} = the whole training set (batch gradient descent).",
    )
    optimizer = ui.choice(
        "Optimizer", "opt", OPTIMIZERS, DEFAULTS.optimizer, format_func=opts.OPTIMIZER_NAMES.get
    )
    lr = ui.steps(
        "Learning rate α",
        "lr",
        opts.LEARNING_RATES,
        DEFAULTS.lr,
        help="Applies at once, without starting over.",
    )
    steps_per_update = ui.steps(
        "Steps per update (speed)",
        "spu",
        opts.STEPS_PER_UPDATE,
        opts.DEFAULT_STEPS_PER_UPDATE,
        help=f"Mini-batches trained between two redraws (one every "
        f"{opts.INTERVAL_S:g} s while playing).",
    )
    hyper = {name: getattr(DEFAULTS, name) for name in opts.OPTIMIZER_HYPERS}
    if optimizer == "momentum":
        hyper["beta"] = ui.steps("β (momentum)", "beta", opts.BETAS, DEFAULTS.beta, advanced=True)
    if optimizer == "adam":
        hyper["beta1"] = ui.steps(
            "β₁ (momentum)", "beta1", opts.BETAS, DEFAULTS.beta1, advanced=True
        )
    if optimizer in ("rmsprop", "adam"):
        hyper["beta2"] = ui.steps("β₂ (RMS)", "beta2", opts.BETA2S, DEFAULTS.beta2, advanced=True)
        hyper["eps"] = ui.steps("ε", "eps", opts.EPSILONS, DEFAULTS.eps, advanced=True)
    ui.hide(*opts.hidden_hypers(USES[optimizer]))
    return {"batch_size": batch_size, "optimizer": optimizer, "lr": lr, **hyper}, steps_per_update


def _bias_caption(norms, eliminate_bias):
    """What eliminating (or keeping) b means under the normalizations trained (the main
    network's first, then the twin's)."""
    if norms[0] == "none":
        st.caption(
            "ℹ️ Eliminating b only means something with batch norm or layer norm: "
            "without either, every layer keeps its b."
        )
        return
    if not eliminate_bias and "batch" in norms:
        st.caption("ℹ️ b is kept, but batch norm subtracts the mean, so db = 0 and b never moves.")
    if not eliminate_bias and "layer" in norms:
        st.caption(
            "ℹ️ b is kept, and layer norm does not cancel it: it subtracts each "
            "example's mean over the units, so only b's mean over the units drops out; "
            "db ≠ 0 and b learns."
        )
    if eliminate_bias and "layer" in norms:
        st.caption(
            "ℹ️ Under layer norm b does not cancel (only its mean over the units does), "
            "and dropping it costs something: the first layer's Z = W x is divided by "
            "each example's own σ over the units, which divides out the length of x. "
            "Without b, layer norm can't tell x from 2x: on *circles*, where the radius "
            "is the class, it stays at a coin flip. Turn *Eliminate b* off and it "
            "learns."
        )


def _twin_choice(norm):
    """(twin, twin_norm) from the "Compare with" control: the same network without
    normalization, or with the other one, or no twin. With no normalization on the main
    network there is no twin: the control shows its choice, disabled."""
    if ui.held("twin") == norm and norm != "none":  # the main network took the twin's: swap
        ui.set_value("twin", opts.OTHER_NORM[norm])
    choice = ui.choice(
        "Compare with the same network",
        "twin",
        opts.twin_options(norm),
        "none",
        format_func=opts.TWIN_NAMES.get,
        aliases=TWIN_ALIASES,
        disabled=norm == "none",
        help="A twin trained beside the main network: the same initial W, the "
        "same mini-batches, another normalization. Only with batch or "
        "layer norm on the main network.",
    )
    return choice != "off", DEFAULTS.twin_norm if choice == "off" else choice
