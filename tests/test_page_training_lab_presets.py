"""Each Training Lab preset's claims, measured: the preset's button sets the page up (its own
link, so the settings are the page's), then the page's trainer trains in the core and the
outcome each blurb states is checked, step count included. The layer-norm preset is measured
in tests/test_page_training_lab_norms.py.

Measured on the presets' settings (seed 0): deep sigmoid, batch norm's test loss 0.34 at step
100 (0.69 at 20), the twin 0.693 throughout; lr 1, the twin blows up at step 84, batch norm
reaches 94% test accuracy by step 300; tiny weights, the twin's Z shrinks ~300x a layer, batch
norm's Z̃ has a spread of about 0.3 (ε floors the variance), test accuracy 100% at step 50;
batch size 2, the running μ moves ~14x less from step to step than a mini-batch's μ.
"""

import ast
import itertools
import math
from pathlib import Path

import numpy as np

from tests.presets import page_presets
from tests.test_page_training_lab import SLUG, clean, open_lab, trainer

PAGE = "pages/training_lab.py"
ROOT = Path(__file__).resolve().parents[1]
LN2 = math.log(2)


def preset_trainer(label):
    """The page's trainer right after pressing the preset's button, untrained."""
    at = open_lab()
    at.button(key=f"preset.{SLUG}.{label}").click()
    clean(at.run())
    t = trainer(at)
    assert t.step_count == 0
    return t


def _blurb(label):
    """The preset's blurb, read from the page's source (running it needs Streamlit)."""
    tree = ast.parse((ROOT / PAGE).read_text(encoding="utf-8"))
    return next(
        ast.literal_eval(node.args[1])
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "Preset"
        and ast.literal_eval(node.args[0]) == label
    )


def test_lab_preset_labels_are_those_measured():
    assert set(page_presets(PAGE)) == {
        "🐢 Deep sigmoid stalls",
        "💥 lr 1: batch norm survives",
        "🎲 Batch size 2",
        "⚖️ Batch size 2: layer norm doesn't care",
        "🔬 Initial weights × 1e-3",
    }


def test_deep_sigmoid_preset_batch_norm_drops_within_100_steps_the_twin_sits_at_069():
    t = preset_trainer("🐢 Deep sigmoid stalls")
    assert [r.net.config.activation for r in t.runs] == ["sigmoid"] * 2
    t.step(100)
    (bn_loss, bn_acc), (plain_loss, plain_acc) = (r.recorder.test.values[-1] for r in t.runs)
    assert bn_loss < 0.5 and bn_acc > 0.8  # with batch norm: dropping by step 100
    assert abs(plain_loss - LN2) < 0.01 and plain_acc < 0.6  # without: a coin flip, 0.69


def test_lr_1_preset_the_twin_blows_up_within_100_steps_batch_norm_learns():
    t = preset_trainer("💥 lr 1: batch norm survives")
    assert t.optimizers[0].name == "gd" and t.optimizers[0].lr == 1.0
    start_loss = t.runs[0].recorder.test.values[-1, 0]
    blew_up = None
    while t.step_count < 300:
        t.step(1)
        if blew_up is None and t.runs[1].stop_reason:
            blew_up = t.step_count
    assert blew_up is not None and blew_up <= 100, blew_up  # the twin: within ~100 steps
    assert "exploded" in t.runs[1].stop_reason or "NaN" in t.runs[1].stop_reason
    assert t.stop_reason is None  # batch norm survives the same learning rate
    loss, acc = t.runs[0].recorder.test.values[-1]
    assert loss < 0.5 * start_loss and acc > 0.85  # and learns


def test_tiny_weights_preset_the_signal_shrinks_without_batch_norm_and_batch_norm_learns():
    t = preset_trainer("🔬 Initial weights × 1e-3")
    bn, plain = (r.net for r in t.runs)
    X = t.split.X_train
    spread = [float(layer.Z.std()) for layer in plain.layer_trace(X)]
    assert all(b < a / 100 for a, b in itertools.pairwise(spread))  # layer by layer
    rescaled = [float(layer.Z_tilde.std()) for layer in bn.layer_trace(X, train=True)]
    assert all(0.1 < s < 1 for s in rescaled)  # scaled back up, short of 1: ε floors var
    t.step(50)
    assert t.runs[0].recorder.test.values[-1, 1] > 0.9  # learns within about 50 steps
    assert "within about 50 steps" in _blurb("🔬 Initial weights × 1e-3")
    t.step(50)
    loss, acc = t.runs[1].recorder.test.values[-1]
    assert abs(loss - LN2) < 0.01 and acc < 0.6  # without batch norm nothing learns


def test_batch_size_2_preset_statistics_jump_running_averages_smooth_test_accuracy_suffers():
    t = preset_trainer("🎲 Batch size 2")
    assert t.batches.batch_size == 2
    t.step(150)
    rec = t.runs[0].recorder
    _, mu = rec.unit_series("mu", 1)
    _, running = rec.unit_series("running_mu", 1)
    jumps = np.std(np.diff(mu[-100:], axis=0))
    assert np.std(np.diff(running[-100:], axis=0)) < jumps / 5  # the running averages smooth
    bn_acc, plain_acc = (r.recorder.test.values[-1, 1] for r in t.runs)
    assert bn_acc < plain_acc  # test accuracy with batch norm suffers
