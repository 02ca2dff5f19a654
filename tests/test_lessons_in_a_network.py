"""bn_core.lessons.in_a_network: parameter counts, the bias that batch norm cancels, and the
walkthrough's numbers checked against an independent computation and against plain training."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from bn_core import data, optimizers
from bn_core.lessons import in_a_network as lesson
from bn_core.network import MLP, NetConfig
from tests.presets import page_presets

DIMS = (2, 4, 3, 2)


def by_line(steps, line, t=1, layer=None):
    found = [
        s for s in steps if s.line == line and s.t == t and (layer is None or s.layer == layer)
    ]
    assert found, f"no stop for line {line}, t={t}, layer={layer}"
    return found[0]


def panel(step, label):
    return next(a for row in step.panels for name, a in row if name == label)


# ---------------------------------------------------------------- the architecture


def test_counts_per_layer():
    layers = lesson.architecture(DIMS, batch_norm=True, eliminate_bias=True)
    assert [(p.l, p.n_prev, p.n, p.output) for p in layers] == [
        (1, 2, 4, False),
        (2, 4, 3, False),
        (3, 3, 2, True),
    ]
    assert layers[0].counts == {"W": 8, "b": 0, "gamma": 4, "beta": 4}
    assert layers[1].counts == {"W": 12, "b": 0, "gamma": 3, "beta": 3}
    assert layers[2].counts == {"W": 6, "b": 2, "gamma": 0, "beta": 0}
    assert lesson.n_params(layers) == 8 + 8 + 12 + 6 + 6 + 2


def test_keeping_b_costs_one_number_per_hidden_unit():
    dropped = lesson.architecture(DIMS, batch_norm=True, eliminate_bias=True)
    kept = lesson.architecture(DIMS, batch_norm=True, eliminate_bias=False)
    assert lesson.n_params(kept) - lesson.n_params(dropped) == 4 + 3
    assert [p.bias_eliminated for p in dropped] == [True, True, False]
    assert not any(p.bias_eliminated for p in kept)


def test_without_batch_norm_every_layer_keeps_b_and_has_no_gamma_beta():
    layers = lesson.architecture(DIMS, batch_norm=False, eliminate_bias=True)
    assert all(p.counts["b"] == p.n and p.counts["gamma"] == 0 for p in layers)
    assert lesson.n_params(layers) == MLP(NetConfig(DIMS, batch_norm=False)).n_params


def test_the_bias_cancels():
    assert lesson.bias_cancellation() < 1e-12


# ---------------------------------------------------------------- the walkthrough


@pytest.fixture(scope="module")
def walk():
    settings = lesson.WalkSettings(layer_dims=DIMS, optimizer="gd", lr=0.1, batch_size=5)
    return settings, lesson.walkthrough(settings)


def test_stops_follow_the_loop(walk):
    settings, steps = walk
    L = len(DIMS) - 1
    per_batch = 1 + 4 * (L - 1) + 2 + L + L
    assert len(steps) == settings.n_batches * per_batch
    lines = [s.line for s in steps[:per_batch]]
    assert lines == (
        [lesson.LINE_BATCH]
        + [lesson.LINE_Z, lesson.LINE_STATS, lesson.LINE_ZT, lesson.LINE_A] * (L - 1)
        + [lesson.LINE_OUT, lesson.LINE_LOSS]
        + [lesson.LINE_BACKPROP] * L
        + [lesson.LINE_UPDATE] * L
    )
    assert [s.layer for s in steps if s.line == lesson.LINE_BACKPROP][:L] == [3, 2, 1]
    assert [s.t for s in steps][::per_batch] == [1, 2, 3]


def test_forward_numbers_are_batch_norm(walk):
    _, steps = walk
    X = panel(by_line(steps, lesson.LINE_BATCH), "X{t}")
    W1 = panel(by_line(steps, lesson.LINE_Z, layer=1), "W[1]")
    Z = panel(by_line(steps, lesson.LINE_Z, layer=1), "Z[1]")
    assert_allclose(Z, W1 @ X)
    stats = by_line(steps, lesson.LINE_STATS, layer=1)
    assert_allclose(panel(stats, "μ[1]"), Z.mean(axis=1, keepdims=True))
    assert_allclose(panel(stats, "σ²[1]"), Z.var(axis=1, keepdims=True))
    zt = by_line(steps, lesson.LINE_ZT, layer=1)
    Z_norm = (Z - Z.mean(axis=1, keepdims=True)) / np.sqrt(Z.var(axis=1, keepdims=True) + 1e-5)
    assert_allclose(panel(zt, "Z_norm[1]"), Z_norm, atol=1e-12)
    assert_allclose(panel(zt, "Z̃[1]"), Z_norm, atol=1e-12)  # gamma = 1, beta = 0 at the start
    A = panel(by_line(steps, lesson.LINE_A, layer=1), "A[1]")
    assert_allclose(A, np.maximum(Z_norm, 0.0), atol=1e-12)


def test_loss_is_the_mean_negative_log_probability(walk):
    _, steps = walk
    cost = by_line(steps, lesson.LINE_LOSS)
    ((label, J),) = cost.scalars
    assert label == "J"
    assert J == pytest.approx(panel(cost, "-log Ŷ[y(i), i]").mean())


def test_gradient_descent_steps_by_lr_times_the_gradient(walk):
    settings, steps = walk
    update = by_line(steps, lesson.LINE_UPDATE, layer=2)
    assert_allclose(panel(update, "step taken"), settings.lr * panel(update, "dW[2]"))
    assert_allclose(
        panel(update, "W[2] after"),
        panel(update, "W[2] before") - settings.lr * panel(update, "dW[2]"),
    )


def test_adams_first_step_is_about_lr_everywhere():
    settings = lesson.WalkSettings(layer_dims=DIMS, optimizer="adam", lr=0.05)
    update = by_line(lesson.walkthrough(settings), lesson.LINE_UPDATE, layer=1)
    step, grad = panel(update, "step taken"), panel(update, "dW[1]")
    assert_allclose(np.abs(step)[np.abs(grad) > 1e-6], 0.05, rtol=1e-3)


def test_the_walkthrough_is_plain_training(walk):
    """The last update's "after" equals training the same network on the same batches."""
    settings, steps = walk
    X, y = lesson.walk_data(settings.seed)
    net = MLP(NetConfig(DIMS, batch_norm=True, seed=settings.seed))
    opt = optimizers.make("gd", lr=settings.lr)
    batches = data.minibatches(X.shape[1], settings.batch_size, seed=settings.seed)
    for _ in range(settings.n_batches):
        idx = batches.next_indices()
        _, grads = net.loss_and_grads(X[:, idx], y[idx])
        opt.step(net.params, grads)
    last = [s for s in steps if s.line == lesson.LINE_UPDATE and s.t == settings.n_batches]
    assert_allclose(panel(last[0], "W[1] after"), net.params["W1"], atol=1e-12)
    assert_allclose(panel(last[1], "γ[2] after"), net.params["gamma2"], atol=1e-12)


@pytest.mark.parametrize("name", ["gd", "momentum", "rmsprop", "adam"])
def test_every_optimizer_walks(name):
    steps = lesson.walkthrough(lesson.WalkSettings(layer_dims=DIMS, optimizer=name))
    assert all(np.isfinite(a).all() for s in steps for row in s.panels for _, a in row)
    assert f"({name}," in by_line(steps, lesson.LINE_UPDATE, layer=1).title


def test_without_batch_norm_the_statistics_lines_are_skipped():
    steps = lesson.walkthrough(lesson.WalkSettings(layer_dims=DIMS, batch_norm=False))
    assert not any(s.line in (lesson.LINE_STATS, lesson.LINE_ZT) for s in steps)
    assert "b[1]" in {
        name for row in by_line(steps, lesson.LINE_Z, layer=1).panels for name, _ in row
    }


def test_loop_lines_show_b_only_when_kept():
    assert "+ b[l]" not in lesson.loop_lines(True, True)[lesson.LINE_Z]
    assert "+ b[l]" in lesson.loop_lines(True, False)[lesson.LINE_Z]
    assert "+ b[l]" in lesson.loop_lines(False, True)[lesson.LINE_Z]
    assert "adam" in lesson.loop_lines(optimizer="adam")[lesson.LINE_UPDATE]


def test_next_batch_jumps_to_the_next_t(walk):
    _, steps = walk
    i = lesson.first_step_of_batch(steps, 3)
    assert steps[i].t == 2 and steps[i - 1].t == 1
    assert lesson.first_step_of_batch(steps, len(steps) - 2) == len(steps) - 1


# --- the page's presets: each claim measured through the core ---------------------------------

PRESETS = page_presets("pages/in_a_network.py")
PAGE_DIMS = (2, 3, 3, 2)  # the page's defaults: 2 hidden layers of 3 units


def test_preset_the_lectures_network_is_batch_norm_without_b_and_adam():
    assert PRESETS["The lecture's network"] == {}
    s = lesson.WalkSettings()
    assert (s.layer_dims, s.batch_norm, s.eliminate_bias, s.optimizer) == (
        PAGE_DIMS,
        True,
        True,
        "adam",
    )
    layers = lesson.architecture(PAGE_DIMS, True, True)
    assert all(
        layer.counts["b"] == 0 and layer.counts["gamma"] == layer.n
        for layer in layers
        if not layer.output
    )


def test_preset_keep_b_costs_one_number_per_hidden_unit_and_does_nothing():
    assert PRESETS["Keep the bias b"] == {"nobias": "0"}
    kept = lesson.n_params(lesson.architecture(PAGE_DIMS, True, False))
    dropped = lesson.n_params(lesson.architecture(PAGE_DIMS, True, True))
    assert kept - dropped == sum(PAGE_DIMS[1:-1])  # one number per hidden unit
    steps = lesson.walkthrough(lesson.WalkSettings(eliminate_bias=False))
    for l in (1, 2):  # its gradient is zero to rounding, so Adam barely moves it
        update = by_line(steps, lesson.LINE_UPDATE, t=3, layer=l)
        assert np.abs(panel(update, f"db[{l}]")).max() < 1e-12
        assert np.abs(panel(update, "step taken")[0]).max() > 1e-3  # W moves ...
    b_steps = [
        r
        for r in by_line(steps, lesson.LINE_UPDATE, t=3, layer=1).panels
        if r[0][0] == "b[1] before"
    ]
    assert np.abs(b_steps[0][2][1]).max() < 1e-8  # ... b does not
    kept_out = lesson.walkthrough(lesson.WalkSettings(eliminate_bias=False))[-1]
    dropped_out = lesson.walkthrough(lesson.WalkSettings())[-1]
    assert_allclose(panel(kept_out, "W[3] after"), panel(dropped_out, "W[3] after"), atol=1e-7)


def test_preset_plain_gradient_descent_steps_by_alpha_dp():
    assert PRESETS["Plain gradient descent"] == {"opt": "gd"}
    s = lesson.WalkSettings(optimizer="gd")
    update = by_line(lesson.walkthrough(s), lesson.LINE_UPDATE, t=2, layer=1)
    for row in update.panels:
        (_, grad), (_, step) = row[1], row[2]
        assert_allclose(step, s.lr * grad, atol=1e-12)


def test_preset_without_batch_norm_has_no_statistics_and_no_gamma_beta():
    assert PRESETS["Without batch norm"] == {"bn": "0"}
    steps = lesson.walkthrough(lesson.WalkSettings(batch_norm=False))
    assert not [s for s in steps if s.line in (lesson.LINE_STATS, lesson.LINE_ZT)]
    names = {name for s in steps for row in s.panels for name, _ in row}
    assert not any(n.startswith(("γ", "β", "dγ", "dβ", "μ", "σ")) for n in names)
    assert all(
        layer.counts["gamma"] == layer.counts["beta"] == 0
        for layer in lesson.architecture(PAGE_DIMS, False, True)
    )


# --- batch norm before or after g ----------------------------------------------------------


def _skew(A):
    C = A - A.mean(axis=1, keepdims=True)
    return (C**3).mean(axis=1) / np.maximum((C**2).mean(axis=1), 1e-30) ** 1.5


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_before_g_normalizes_z_and_after_g_normalizes_a(activation):
    X, W, b = lesson.placement_layer(1.0)
    Z = W @ X + b
    before, after = lesson.placements(activation, 1.0)
    assert not before.after and after.after
    # before: g gets Z normalized per unit; the next layer gets g of that
    z_norm = (Z - Z.mean(axis=1, keepdims=True)) / np.sqrt(Z.var(axis=1, keepdims=True) + 1e-5)
    assert_allclose(before.g_input, z_norm, atol=1e-12)
    assert_allclose(before.next_input, lesson.activation_forward(z_norm, activation))
    # after: g gets Z itself; the next layer gets g(Z) normalized per unit
    A = lesson.activation_forward(Z, activation)
    a_norm = (A - A.mean(axis=1, keepdims=True)) / np.sqrt(A.var(axis=1, keepdims=True) + 1e-5)
    assert_allclose(after.g_input, Z)
    assert_allclose(after.next_input, a_norm, atol=1e-12)
    assert_allclose(after.unit_means, 0, atol=1e-12)
    alive = A.var(axis=1) > 1e-3
    assert_allclose(after.unit_stds[alive], 1, atol=1e-2)
    # a shift and a scale: the shape (skewness) g gave each unit reaches the next layer as is
    assert_allclose(_skew(after.next_input)[alive], _skew(A)[alive], rtol=1e-6, atol=1e-9)


def test_relu_before_g_is_lopsided_after_g_centred_but_a_dead_unit_stays_silent():
    before, after = lesson.placements("relu", 1.0)
    assert before.unit_means.min() > 0.35 and before.flat_share == pytest.approx(0.5, abs=0.02)
    assert before.silent_units == 0
    assert after.silent_units == 1  # all its z <= 0: g(z) = 0 for every example


def test_before_g_ignores_the_weight_scale_after_g_sigmoid_saturates():
    small, large = lesson.placements("sigmoid", 1.0), lesson.placements("sigmoid", 10.0)
    assert_allclose(small[0].next_input, large[0].next_input, atol=1e-4)  # up to ε
    assert small[0].flat_share == large[0].flat_share == 0
    assert small[1].flat_share < 0.05 and large[1].flat_share > 0.75
