"""The Training Lab's "Edit γ and β" panel through AppTest: each button sets the values it
names, undoing batch norm gives Z back, switching a unit off zeroes its Z̃, the eval loss
answers γ, the link and the settings file carry the edit, Play does what the panel says, and
the panel explains itself under layer norm and without normalization."""

import json

import numpy as np
import pytest

from bn_core import gamma_beta as gb
from tests.apptest import downloaded
from tests.rendered import plain
from tests.test_page_training_lab import SLUG, clean, click, open_lab, trainer

GAMMA, BETA = f"{SLUG}.gb_gamma", f"{SLUG}.gb_beta"


def trained_lab(query=None, epochs=3):
    """A paused lab after a few epochs (so γ, β and the running averages have moved)."""
    at = open_lab(query)
    for _ in range(epochs):
        click(at, "lab.epoch")
        while at.session_state.get("lab.epoch_target"):
            clean(at.run())
    return at


@pytest.fixture(scope="module")
def lab_at():
    return trained_lab()


def sliders(at):
    return at.slider(key=GAMMA).value, at.slider(key=BETA).value


def chosen(at):
    """(layer 1-based, unit 0-based) the panel shows."""
    return (
        int(at.selectbox(key=f"{SLUG}.gb_layer").value),
        int(at.selectbox(key=f"{SLUG}.gb_unit").value) - 1,
    )


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def edit_outcome(at):
    layer, unit = chosen(at)
    t = trainer(at)
    return gb.outcome(t.net, t.split, gb.UnitEdit(layer, unit, *sliders(at)))


def test_each_button_sets_the_values_it_names(lab_at):
    at = lab_at
    net = trainer(at).net
    at.selectbox(key=f"{SLUG}.gb_layer").set_value("2")
    at.selectbox(key=f"{SLUG}.gb_unit").set_value("4")
    clean(at.run())
    assert chosen(at) == (2, 3)
    learned = (net.params["gamma2"][3, 0], net.params["beta2"][3, 0])
    assert sliders(at) == learned  # a new unit starts from its learned values
    click(at, "lab.gb.off")
    assert sliders(at) == (0.0, 0.0)
    click(at, "lab.gb.undo")
    assert sliders(at) == (
        np.sqrt(net.running_var[2][3, 0] + net.config.eps),
        net.running_mu[2][3, 0],
    )
    click(at, "lab.gb.learned")
    assert sliders(at) == learned


def test_undo_batch_norm_gives_back_z_and_switch_off_zeroes_z_tilde(lab_at):
    at = lab_at
    click(at, "lab.gb.undo")
    out = edit_outcome(at)
    np.testing.assert_allclose(out.Z_tilde, out.Z, rtol=0, atol=1e-9)
    click(at, "lab.gb.off")
    assert np.all(edit_outcome(at).Z_tilde == 0)
    click(at, "lab.gb.learned")


def test_the_eval_loss_answers_gamma_and_the_network_stays_as_it_was(lab_at):
    at = lab_at
    before = trainer(at).net.params.flat.copy()
    shown = metric(at, "Train loss"), metric(at, "Test loss")
    gamma = at.slider(key=GAMMA)
    gamma.set_value(gamma.max)
    clean(at.run())
    out = edit_outcome(at)
    assert (metric(at, "Train loss"), metric(at, "Test loss")) != shown
    assert metric(at, "Train loss") == f"{out.train[0]:.4f}"
    assert metric(at, "Test accuracy") == f"{out.test[1]:.1%}"
    np.testing.assert_array_equal(trainer(at).net.params.flat, before)
    assert at.query_params["gb_gamma"] == repr(float(gamma.max))
    loss_chart = next(c for c in at.get("plotly_chart") if "lab.gb.loss" in c.proto.id)
    names = {t.get("name") for t in json.loads(loss_chart.proto.spec)["data"]}
    assert {"your γ, β (train, test)", "learned γ, β (train, test)"} <= names  # markers
    click(at, "lab.gb.learned")
    assert "gb_gamma" not in at.query_params  # the learned values are the default


def test_switch_off_the_unit_that_matters_most(lab_at):
    at = lab_at
    click(at, "lab.gb.most")
    t = trainer(at)
    rise, layer, unit = gb.importance(t.net, t.split).ranked()[0]
    assert chosen(at) == (layer, unit) and sliders(at) == (0.0, 0.0)
    note = " ".join(plain(i.value) for i in at.info)
    assert f"unit {unit + 1} of hidden layer {layer}" in note and f"{rise:+.3f}" in note
    assert float(metric(at, "Train loss")) == pytest.approx(
        gb.importance(t.net, t.split).base + rise, abs=1e-4
    )
    click(at, "lab.gb.learned")


def test_the_edit_rides_in_the_link_and_the_settings_file(downloads):
    query = {
        "gb_layer": "2",
        "gb_unit": "3",
        "gb_gamma": "0.25",
        "gb_beta": "-0.5",
        "gb_resume": "edited",
    }
    at = open_lab(query)
    assert chosen(at) == (2, 2) and sliders(at) == (0.25, -0.5)
    assert at.radio(key=f"{SLUG}.gb_resume").value == "edited"
    assert dict(at.query_params) == query
    at.slider(key=GAMMA).set_value(0.5)
    clean(at.run())
    saved = downloaded(at, "Settings (JSON)")  # what the page's download gives the browser
    settings = json.loads(saved)["settings"]
    assert settings["gb_gamma"] == "0.5" and settings["gb_resume"] == "edited"
    loaded = open_lab()
    uploader = next(u for u in loaded.get("file_uploader") if u.key == "lab.settings_file")
    clean(uploader.set_value(("run.json", saved, "application/json")).run())
    assert chosen(loaded) == (2, 2) and sliders(loaded) == (0.5, -0.5)


def test_play_goes_back_to_the_learned_values_unless_told_to_train_on_from_the_edit():
    at = trained_lab(epochs=1)
    net = trainer(at).net
    learned = float(net.params["gamma1"][0, 0])
    at.slider(key=GAMMA).set_value(0.0)
    clean(at.run())
    assert "your edit is dropped" in " ".join(c.value for c in at.caption)
    click(at, "lab.step")
    assert trainer(at).net.params["gamma1"][0, 0] == pytest.approx(learned, abs=0.05)
    assert sliders(at)[0] == trainer(at).net.params["gamma1"][0, 0]  # the new learned value

    at.radio(key=f"{SLUG}.gb_resume").set_value("edited")
    at.slider(key=GAMMA).set_value(0.0)
    clean(at.run())
    assert "train on from there" in " ".join(c.value for c in at.caption)
    click(at, "lab.step")
    assert abs(trainer(at).net.params["gamma1"][0, 0]) < 0.05  # one step from γ = 0
    assert "Training went on from your γ = 0" in " ".join(i.value for i in at.info)


def test_the_panel_hides_while_playing_and_returns_on_pause():
    at = open_lab({"gb_gamma": "0.5"})
    click(at, "lab.play")
    assert not [s for s in at.slider if s.key == GAMMA]
    assert "gb_gamma" not in at.query_params
    assert not any("not a setting" in plain(t.proto.body) for t in at.toast)
    click(at, "lab.play")  # pause
    assert [s for s in at.slider if s.key == GAMMA]


def test_layer_norm_edits_without_undo_and_no_normalization_explains():
    at = open_lab({"bn": "layer"})
    assert at.button(key="lab.gb.undo").proto.disabled
    assert "no single γ, β gives Z back" in " ".join(c.value for c in at.caption)
    click(at, "lab.gb.off")
    assert np.all(edit_outcome(at).Z_tilde == 0)

    plain_at = open_lab({"bn": "none"})
    assert not [s for s in plain_at.slider if s.key == GAMMA]
    assert "has no γ and β" in " ".join(i.value for i in plain_at.info)


def test_sigmoid_shows_the_share_in_the_saturated_tails():
    at = trained_lab({"act": "sigmoid", "data": "circles"}, epochs=5)
    text = " ".join(m.value for m in at.markdown)
    assert "saturated tails" in text
    at.slider(key=GAMMA).set_value(at.slider(key=GAMMA).max)
    clean(at.run())
    share = edit_outcome(at).saturated
    assert share > 0.2 and f"**{share:.0%}** of this unit's inputs" in " ".join(
        m.value for m in at.markdown
    )
