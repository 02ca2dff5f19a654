"""bn_core.gamma_beta: one hidden unit's γ and β moved by hand on a trained network."""

import numpy as np
import pytest

from bn_core import gamma_beta as gb
from bn_core.lessons import training_lab as lab
from bn_core.training import evaluate, make_split


@pytest.fixture(scope="module")
def trained():
    split = make_split("spiral", n=300, seed=0)
    trainer = lab.make_trainer(lab.LabSettings(n=300), split)
    trainer.step(150)
    return trainer.net, split


def test_learned_and_undo_values_are_the_networks(trained):
    net, _ = trained
    assert gb.learned_values(net, 2, 3) == (net.params["gamma2"][3, 0], net.params["beta2"][3, 0])
    gamma, beta = gb.undo_values(net, 2, 3)
    assert gamma == pytest.approx(np.sqrt(net.running_var[2][3, 0] + net.config.eps))
    assert beta == net.running_mu[2][3, 0]


def test_undo_batch_norm_gives_back_z(trained):
    net, split = trained
    for layer, unit in ((1, 0), (2, 5), (3, 15)):
        out = gb.outcome(net, split, gb.UnitEdit(layer, unit, *gb.undo_values(net, layer, unit)))
        np.testing.assert_allclose(out.Z_tilde, out.Z, rtol=0, atol=1e-9)


def test_switching_a_unit_off_makes_its_z_tilde_zero(trained):
    net, split = trained
    out = gb.outcome(net, split, gb.UnitEdit(2, 4, *gb.SWITCHED_OFF))
    assert np.all(out.Z_tilde == 0) and np.all(out.A == 0)  # relu(0) = 0
    assert np.ptp(out.Z) > 0  # the unit's input still varies; it is just not passed on


def test_an_edit_changes_a_copy_and_the_eval_loss_not_the_network(trained):
    net, split = trained
    before = net.params.flat.copy()
    learned = gb.outcome_of(net, split, 1, 2)
    gamma, beta = gb.learned_values(net, 1, 2)
    moved = gb.outcome(net, split, gb.UnitEdit(1, 2, 3 * gamma, beta))
    np.testing.assert_array_equal(net.params.flat, before)
    assert moved.train[0] != learned.train[0] and moved.test[0] != learned.test[0]
    assert learned.train == evaluate(net, split.X_train, split.y_train)


def test_apply_edit_writes_into_the_network():
    split = make_split("moons", n=100, seed=1)
    net = lab.make_trainer(lab.LabSettings(dataset="moons", n=100), split).net
    gb.apply_edit(net, gb.UnitEdit(1, 0, 2.5, -0.5))
    assert gb.learned_values(net, 1, 0) == (2.5, -0.5)


def test_importance_tries_every_unit_and_ranks_them(trained):
    net, split = trained
    imp = gb.importance(net, split)
    assert imp.base == pytest.approx(evaluate(net, split.X_train, split.y_train)[0])
    assert sorted(imp.loss_off) == [1, 2, 3] and all(
        v.shape == (16,) for v in imp.loss_off.values()
    )
    rise, layer, unit = imp.ranked()[0]
    off = gb.outcome(net, split, gb.UnitEdit(layer, unit, 0.0, 0.0)).train[0]
    assert off - imp.base == pytest.approx(rise)
    assert rise == max(float(v.max()) for v in imp.loss_off.values()) - imp.base
    assert len(imp.ranked()) == 48


def test_saturated_share_counts_the_flat_tails():
    z = np.array([-10.0, -1.0, 0.0, 1.0, 10.0])
    assert gb.saturated_share(z, "sigmoid") == pytest.approx(0.4)
    assert gb.saturated_share(z, "tanh") == pytest.approx(0.4)
    assert gb.saturated_share(z, "relu") == pytest.approx(0.6)  # z <= 0: relu passes nothing


def test_sigmoid_units_saturate_as_gamma_grows():
    split = make_split("circles", n=200, seed=0)
    trainer = lab.make_trainer(
        lab.LabSettings(dataset="circles", n=200, activation="sigmoid"), split
    )
    trainer.step(50)  # running averages that match Z: eval-mode Z_norm has variance ~1
    net = trainer.net
    shares = [gb.outcome(net, split, gb.UnitEdit(1, 0, g, 0.0)).saturated for g in (1, 4, 12)]
    assert shares[0] < 0.05 < shares[1] < shares[2]


@pytest.mark.parametrize(
    ("learned", "undo", "bound"),
    [(1.0, None, 3.0), (1.2, 3.4, 4.1), (0.05, None, 1.0), (-7.3, None, 22.0), (0.5, 9.0, 11.0)],
)
def test_slider_bound_covers_three_times_the_learned_value_and_the_undo_value(learned, undo, bound):
    assert gb.slider_bound(learned, undo) == bound
    assert gb.slider_bound(learned, undo) >= 3 * abs(learned)


def test_layer_norm_has_no_undo_and_no_normalization_has_no_gamma_beta():
    split = make_split("moons", n=100, seed=0)
    ln = lab.make_trainer(
        lab.LabSettings(dataset="moons", n=100, batch_norm=False, layer_norm=True), split
    ).net
    assert gb.undo_values(ln, 1, 0) is None
    out = gb.outcome(ln, split, gb.UnitEdit(1, 0, 0.0, 0.0))
    assert np.all(out.Z_tilde == 0)
    plain = lab.make_trainer(lab.LabSettings(dataset="moons", n=100, batch_norm=False), split).net
    with pytest.raises(ValueError, match="no γ and β"):
        gb.learned_values(plain, 1, 0)
    with pytest.raises(ValueError, match="outside"):
        gb.learned_values(ln, 1, 99)
