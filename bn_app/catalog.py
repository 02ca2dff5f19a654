"""The app's pages in lesson order: file, title, icon, and one line on what each shows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageInfo:
    file: str
    title: str
    icon: str
    blurb: str
    url_path: str


# The default page lives at the app's root address: its url_path is empty.
HOME = PageInfo(
    "pages/home.py", "BatchNorm Lab", "🧪", "What batch norm is, in five equations.", ""
)

LESSONS = (
    PageInfo(
        "pages/training_lab.py",
        "Training Lab",
        "🏋️",
        "Train a network live, batch norm on and off side by side: loss, distributions, "
        "mini-batch statistics, gamma and beta.",
        "training_lab",
    ),
    PageInfo(
        "pages/normalizing_inputs.py",
        "1 · Normalizing inputs",
        "📐",
        "Why features on different scales make gradient descent zig-zag, and how "
        "normalizing rounds the loss contours.",
        "normalizing_inputs",
    ),
    PageInfo(
        "pages/step_by_step.py",
        "2 · Batch norm, step by step",
        "🔬",
        "Z → μ, σ² → Z_norm → Z̃ → A on one mini-batch; drag γ, β, ε and b.",
        "step_by_step",
    ),
    PageInfo(
        "pages/in_a_network.py",
        "3 · Fitting it into a network",
        "🧩",
        "Where batch norm sits in each layer, why b goes, and the training loop one line "
        "at a time.",
        "in_a_network",
    ),
    PageInfo(
        "pages/test_time.py",
        "4 · Mini-batches and test time",
        "⏱️",
        "How μ and σ² jump between mini-batches, and the running averages used at test time.",
        "test_time",
    ),
    PageInfo(
        "pages/why_it_works.py",
        "5 · Why it works",
        "📈",
        "Covariate shift in a deep sigmoid network, and robustness to learning rate and "
        "initial scale.",
        "why_it_works",
    ),
    PageInfo(
        "pages/regularization.py",
        "6 · A slight regularizer",
        "🎲",
        "The noise mini-batch statistics add, and what it does to the train/test gap.",
        "regularization",
    ),
    PageInfo(
        "pages/under_the_hood.py",
        "7 · Under the hood",
        "⚙️",
        "The backward pass step by step and a live gradient check.",
        "under_the_hood",
    ),
    PageInfo(
        "pages/layer_norm.py",
        "8 · Beyond the batch: layer norm",
        "↔️",
        "Layer norm normalizes each example over its units: a mini-batch of one, the same "
        "output at test time, b not cancelled, and a batch-size sweep.",
        "layer_norm",
    ),
)
