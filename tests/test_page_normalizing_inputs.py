"""The "Normalizing inputs" page through AppTest: controls move the figures as they should."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests import apptest
from tests.plotly_spec import decode

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "pages/normalizing_inputs.py"
SLUG = "normalizing_inputs"


def open_page(**params):
    return apptest.open_page(PAGE, params, timeout=30)


def figures(at):
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def bowls(at):
    return figures(at)[0]


def traces(fig, name):
    return [t for t in fig["data"] if t.get("name") == name]


def contour_extent_ratio(contour):
    """Long side over short side of the bounding box of a low sublevel set of the bowl."""
    x, y, z = decode(contour["x"]), decode(contour["y"]), decode(contour["z"])
    level = contour["contours"]["start"] + 3  # three decades below J(w0) - J* plus one
    inside = z <= level
    cols, rows = np.nonzero(inside.T)  # z[j, i] belongs to (x[i], y[j])
    dx, dy = np.ptp(x[cols]), np.ptp(y[rows])
    return max(dx, dy) / min(dx, dy)


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_opens_showing_the_effect():
    at = open_page()
    figs = figures(at)
    assert len(figs) == 4  # bowls, loss curves, data, the slips
    raw_steps, norm_steps = (
        int(metric(at, "Steps, raw features")),
        int(metric(at, "Steps, normalized")),
    )
    assert raw_steps > 10 * norm_steps
    assert len(at.success) == 1
    assert any("Try this" in i.value for i in at.info)
    assert len(at.get("latex")) >= 3  # mu, sigma^2, x := (x - mu) / sigma


def test_normalized_contours_are_rounder():
    fig = bowls(open_page())
    raw, norm = traces(fig, "loss contours")
    assert contour_extent_ratio(raw) > 4
    assert contour_extent_ratio(norm) < 1.5


def test_path_lengths_follow_the_step_counts():
    fig = bowls(open_page())
    raw, norm = traces(fig, "GD path")
    assert len(decode(raw["x"])) > 10 * len(decode(norm["x"]))


def test_larger_ratio_means_more_steps_and_a_longer_valley():
    at = open_page()
    steps10 = int(metric(at, "Steps, raw features"))
    ratio10 = contour_extent_ratio(traces(bowls(at), "loss contours")[0])
    at.select_slider(key=f"{SLUG}.ratio").set_value(50).run()
    assert len(at.exception) == 0
    assert int(metric(at, "Steps, raw features")) > 5 * steps10
    assert contour_extent_ratio(traces(bowls(at), "loss contours")[0]) > 2 * ratio10
    assert at.query_params["ratio"] in ("50", ["50"])


def test_same_learning_rate_can_diverge_on_raw_features():
    at = open_page()
    at.toggle(key=f"{SLUG}.best").set_value(False).run()
    at.select_slider(key=f"{SLUG}.lr").set_value(0.02).run()
    assert len(at.exception) == 0
    assert metric(at, "Steps, raw features") == "diverged"
    assert metric(at, "Steps, normalized").isdigit()
    assert any("diverges" in e.value for e in at.error)
    raw_path = decode(traces(bowls(at), "GD path")[0]["x"])
    assert np.isfinite(raw_path).all()


def test_alpha_slider_is_disabled_while_each_gets_its_best():
    at = open_page()
    assert at.select_slider(key=f"{SLUG}.lr").disabled
    at.toggle(key=f"{SLUG}.best").set_value(False).run()
    assert not at.select_slider(key=f"{SLUG}.lr").disabled


def test_data_table_shows_training_mu_and_variance():
    at = open_page()
    frame = at.dataframe[0].value
    assert list(frame.columns) == ["feature 1", "feature 2"]
    assert frame.loc["training σ²", "feature 2"] > 20 * frame.loc["training σ²", "feature 1"]
    assert frame.loc["after: training variance"].to_numpy() == pytest.approx([1, 1], abs=1e-6)


@pytest.mark.parametrize(
    "label", ["Stretched ×20", "Equal scales", "Same α, diverges", "Same tiny α"]
)
def test_presets_load(label):
    at = open_page()
    next(b for b in at.button if b.label == label).click().run()
    assert len(at.exception) == 0
    assert len(figures(at)) == 4


def test_tiny_shared_alpha_makes_normalizing_no_faster():
    at = open_page()
    next(b for b in at.button if b.label == "Same tiny α").click().run()
    assert at.select_slider(key=f"{SLUG}.lr").value == 0.01
    raw, norm = int(metric(at, "Steps, raw features")), int(metric(at, "Steps, normalized"))
    assert norm >= raw
    assert len(at.warning) == 1


def test_url_settings_apply_and_bad_ones_are_ignored():
    at = open_page(ratio=1)
    assert at.select_slider(key=f"{SLUG}.ratio").value == 1
    at = open_page(ratio="abc", lr="-3")
    assert at.select_slider(key=f"{SLUG}.ratio").value == 10
    assert len(at.toast) == 1


def slips(at):
    return figures(at)[3]


@pytest.mark.parametrize("uncentred, by_variance", [(True, False), (False, True), (True, True)])
def test_the_slips_are_toggles_beside_the_formulas(uncentred, by_variance):
    from bn_core.lessons import normalizing_inputs as lesson

    at = open_page()
    assert slips(at)["data"][0]["name"].startswith("right")
    assert len(traces(slips(at), "μ (train)")) == 1  # only the right normalization
    at.toggle(key=f"{SLUG}.slip_var").set_value(uncentred)
    at.toggle(key=f"{SLUG}.slip_div").set_value(by_variance)
    at.run()
    assert len(at.exception) == 0
    fig = slips(at)
    slipped = next(t for t in fig["data"] if t["name"].startswith("with the slips"))
    expected = lesson.compare_slips(lesson.make_regression(10), uncentred, by_variance)
    np.testing.assert_allclose(decode(slipped["x"]), expected.slipped[0], rtol=1e-5)
    np.testing.assert_allclose(decode(slipped["y"]), expected.slipped[1], rtol=1e-5)
    text = " ".join(m.value for m in at.markdown)
    assert f"**{expected.slipped_stats[1][0]:.3g}** (feature 1)" in text
    assert ("on uncentred x is σ² + μ²" in text) == uncentred
    assert ("leaves variance 1/σ²" in text) == by_variance
    assert at.query_params["slip_var" if uncentred else "slip_div"] in ("1", ["1"])


def test_the_formulas_divide_by_the_standard_deviation():
    at = open_page()
    formulas = " ".join(x.value for x in at.latex)
    assert r"\sqrt{\sigma^2 + \varepsilon}" in formulas
    assert r"\left(x^{(i)} - \mu\right)^2" in formulas
    labels = [t.label for t in at.toggle]
    assert "Slip: Σx²/m" in labels and "Slip: ÷ σ²" in labels
