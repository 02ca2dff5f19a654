"""The "Batch norm, step by step" page through AppTest: b cancels, gamma/beta move Z_tilde, the
identity gives Z back, saturation and the common mistake are reported."""

import json
from pathlib import Path

import numpy as np
import pytest

from bn_core.lessons import step_by_step as lesson
from tests import apptest
from tests.apptest import assert_clean
from tests.plotly_spec import decode

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/step_by_step.py"
SLUG = "step_by_step"


def open_page(**params):
    return apptest.open_page(PAGE, params, timeout=30)


def stage(at, name):
    """The x data of the histogram trace `name` in the stages figure (the first chart)."""
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    return decode(next(t for t in fig["data"] if t.get("name") == name)["x"]).astype(float)


def trace_names(at, index):
    return [t.get("name") for t in json.loads(at.get("plotly_chart")[index].proto.spec)["data"]]


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def slider(at, name):
    return at.slider(key=f"{SLUG}.{name}")


def test_opens_showing_every_stage():
    at = open_page()
    assert len(at.get("plotly_chart")) == 2
    assert {"Z", "Z_norm", "Z̃"} <= set(trace_names(at, 0))
    z_norm = stage(at, "Z_norm")
    assert z_norm.mean() == pytest.approx(0, abs=1e-5)
    assert z_norm.var() == pytest.approx(1, abs=1e-4)
    assert float(metric(at, "σ²")) > 2
    assert any("Try this" in i.value for i in at.info)
    assert len(at.get("latex")) >= 4
    assert len(at.dataframe) == 2


def test_moving_b_moves_z_but_not_z_norm_or_z_tilde():
    at = open_page()
    before = {name: stage(at, name) for name in ("Z", "Z_norm", "Z̃")}
    slider(at, "b").set_value(-3.0).run()
    assert_clean(at)
    after = {name: stage(at, name) for name in ("Z", "Z_norm", "Z̃")}
    np.testing.assert_allclose(after["Z"] - before["Z"], -4.0, atol=1e-5)
    np.testing.assert_allclose(after["Z_norm"], before["Z_norm"], atol=1e-6)
    np.testing.assert_allclose(after["Z̃"], before["Z̃"], atol=1e-6)


def test_gamma_and_beta_set_the_spread_and_centre_of_z_tilde():
    at = open_page()
    slider(at, "gamma").set_value(2.5).run()
    slider(at, "beta").set_value(-1.5).run()
    assert_clean(at)
    z_tilde = stage(at, "Z̃")
    assert z_tilde.std() == pytest.approx(2.5, rel=1e-3)
    assert z_tilde.mean() == pytest.approx(-1.5, abs=1e-5)
    np.testing.assert_allclose(stage(at, "Z_norm"), (z_tilde + 1.5) / 2.5, atol=1e-5)


def check_identity(at):
    np.testing.assert_allclose(stage(at, "Z̃"), stage(at, "Z"), atol=1e-6)
    assert float(metric(at, "max |Z̃ − Z|")) < 1e-12
    assert any("Identity" in s.value for s in at.success)


def test_identity_button_gives_z_back():
    at = open_page()
    assert float(metric(at, "max |Z̃ − Z|")) > 1
    at.button(key=f"{SLUG}.identity_button").click().run()
    assert_clean(at)
    check_identity(at)
    mu = float(metric(at, "μ"))
    assert slider(at, "beta").value == pytest.approx(mu, abs=1e-4)


def test_identity_button_follows_b_eps_and_unit():
    at = open_page(b=4.5, eps=1, unit=3)
    at.button(key=f"{SLUG}.identity_button").click().run()
    assert_clean(at)
    check_identity(at)


def test_identity_preset():
    at = open_page()
    next(b for b in at.button if b.label == "Identity").click().run()
    assert_clean(at)
    check_identity(at)


def test_saturated_sigmoid_is_reported():
    at = open_page()
    next(b for b in at.button if b.label == "Saturation").click().run()
    assert_clean(at)
    assert at.radio(key=f"{SLUG}.act").value == "sigmoid"
    assert "saturated / dead" in trace_names(at, 1)
    assert any("saturated" in w.value for w in at.warning)


def test_dead_relu_is_reported():
    at = open_page()
    next(b for b in at.button if b.label == "Dead ReLU").click().run()
    assert_clean(at)
    assert any("Dead ReLU" in e.value and "100%" in e.value for e in at.error)
    assert "slope alive" in trace_names(at, 1)  # the trace is there, empty


def test_common_mistake_overlay_has_variance_one_over_sigma_squared():
    at = open_page()
    at.toggle(key=f"{SLUG}.mistake").set_value(True).run()
    assert_clean(at)
    name = next(n for n in trace_names(at, 0) if "mistake" in n)
    var = float(metric(at, "σ²"))
    assert stage(at, name).var() == pytest.approx(1 / var, rel=1e-3)
    assert any("common mistake" in w.value for w in at.warning)
    assert "(z − μ)/σ²  ✗" in at.dataframe[0].value.columns


def test_large_eps_shrinks_the_variance_of_z_norm():
    at = open_page(eps=10)
    var = float(metric(at, "σ²"))
    assert stage(at, "Z_norm").var() == pytest.approx(var / (var + 10), rel=1e-3)


@pytest.mark.parametrize(
    "params",
    [{"m": 2}, {"act": "tanh", "gamma": 0, "beta": 6}, {"unit": 2, "b": -5}, {"gamma": "oops"}],
)
def test_edge_settings_never_raise(params):
    at = open_page(**params)
    assert len(at.get("plotly_chart")) == 2


@pytest.mark.parametrize("label", ["Identity", "Saturation", "Dead ReLU", "÷ σ² mistake"])
def test_presets_load(label):
    at = open_page()
    next(b for b in at.button if b.label == label).click().run()
    assert_clean(at)
    assert len(at.get("plotly_chart")) == 2


# --- why gamma and beta exist: predict, then look ------------------------------------------

LINEAR = f"{SLUG}.predict_linear"
RIGHT = "Almost nothing curved: it acts nearly like a straight line"
WRONG = "It flattens most of them: they saturate"


def keyed_chart(at, key):
    """The figure of the chart drawn with `key` (as a dict), or None."""
    found = [c for c in at.get("plotly_chart") if c.proto.id and key in c.proto.id]
    return json.loads(found[0].proto.spec) if found else None


def texts(elements):
    return " ".join(e.value for e in elements)


def test_the_linear_part_question_comes_first_with_no_answer_chosen():
    at = open_page()
    radio = at.radio(key=LINEAR)
    assert radio.value is None
    assert radio.label.startswith("With γ = 1 and β = 0, what does a sigmoid do")
    assert RIGHT in radio.options and WRONG in radio.options
    assert len(at.get("plotly_chart")) == 2  # the chart that settles it is not drawn yet
    assert keyed_chart(at, "linear_part") is None
    assert "appears once you answer" in texts(at.caption)
    assert not any("|z̃| < 1" in m.label for m in at.metric)
    assert "predict_linear" not in at.query_params


def test_a_wrong_answer_reveals_the_chart_and_the_share_measured_in_the_core():
    at = open_page()
    at.radio(key=LINEAR).set_value(WRONG).run()
    assert_clean(at)
    assert "Not quite" in texts(at.info) and RIGHT in texts(at.info)
    fig = keyed_chart(at, "linear_part")
    names = {t.get("name") for t in fig["data"]}
    assert {"sigmoid(z̃)", "γ = 1, β = 0 (Z̃ = Z_norm)"} <= names
    assert any(name.startswith("tangent 1/2 + z̃/4") for name in names)
    share = lesson.linear_part(unit=0, m=64).share_plain
    assert metric(at, "|z̃| < 1 with γ = 1, β = 0") == f"{share:.0%}" == "66%"
    assert at.query_params["predict_linear"] == WRONG  # the answer is in the link


def test_the_right_answer_is_confirmed():
    at = open_page()
    at.radio(key=LINEAR).set_value(RIGHT).run()
    assert_clean(at)
    assert "Right" in texts(at.success)
    assert keyed_chart(at, "linear_part") is not None


def test_just_show_me_skips_the_question_and_gamma_beta_leave_the_band():
    at = open_page(predict_linear_skip=1, gamma=3.0, beta=2.0)
    assert at.radio(key=LINEAR).value is None
    assert "The answer" in texts(at.info)
    chosen = lesson.linear_part(gamma=3.0, beta=2.0).share_chosen
    label = "|z̃| < 1 with the sliders' γ = 3, β = 2"
    assert metric(at, label) == f"{chosen:.0%}" == "27%"
    fig = keyed_chart(at, "linear_part")
    diamonds = next(t for t in fig["data"] if t.get("name") == "γ = 3, β = 2")
    assert np.mean(np.abs(decode(diamonds["x"])) < 1) == pytest.approx(chosen)
