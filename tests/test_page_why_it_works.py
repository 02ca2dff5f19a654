"""The "why it works" page through AppTest: the percentile bands move less with batch norm,
the watched layer and the optimizer change the figures, the sweeps show divergence without
batch norm, presets load."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bn_core.lessons.why_it_works import band_drift
from tests import apptest
from tests.apptest import assert_clean, run_page
from tests.plotly_spec import decode, specs

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/why_it_works.py"


def page_alone():
    """The page script run on its own (its presets are clicked here)."""
    return run_page(PAGE, timeout=120)


def charts(at):
    return specs(at)


def bands(at):
    """{"x1": (n, 3), "x2": (n, 3)}: the 15/50/85th percentiles drawn in each panel (x1:
    without batch norm, x2: with)."""
    panels = {}
    for trace in charts(at)[0]["data"]:
        if trace["name"] in ("15th", "median", "85th"):
            panels.setdefault(trace.get("xaxis", "x"), {})[trace["name"]] = decode(trace["y"])
    return {
        axis: np.stack([p["15th"], p["median"], p["85th"]], axis=1) for axis, p in panels.items()
    }


def sweep(at, index):
    """{trace name: (x, y)} of sweep figure `index` (2: learning rate, 3: initial scale)."""
    return {t["name"]: (decode(t["x"]), decode(t["y"])) for t in charts(at)[index]["data"]}


@pytest.fixture(scope="module")
def at():
    return apptest.open_page(PAGE, timeout=120)


def test_opens_with_four_figures_and_the_formula(at):
    assert len(charts(at)) == 4
    assert at.latex
    assert not at.get("progress"), "the progress bar is gone once the sweeps are done"


def test_the_band_moves_less_with_batch_norm(at):
    drawn = bands(at)
    without_bn, with_bn = drawn["x"], drawn["x2"]
    assert with_bn.shape == without_bn.shape and len(with_bn) >= 50
    assert band_drift(with_bn.astype(float)) < 0.6 * band_drift(without_bn.astype(float))
    titles = [a["text"] for a in charts(at)[0]["layout"]["annotations"]]
    assert titles[0].startswith("Without batch norm") and titles[1].startswith("With batch")


def test_batch_norm_learns_sooner(at):
    acc = {t["name"]: (decode(t["x"]), decode(t["y"])) for t in charts(at)[1]["data"]}
    steps, bn = acc["with batch norm"]
    _, plain = acc["without batch norm"]
    assert bn[steps <= 100].max() > 0.8 > plain[steps <= 100].max()


def test_the_sweeps_show_where_each_network_trains(at):
    lr = sweep(at, 2)
    x, bn = lr["with batch norm"]
    _, plain = lr["without batch norm"]
    assert np.isfinite(bn[x == 3.0]).all() and np.isnan(plain[x == 3.0]).all()
    assert "diverged (without batch norm)" in lr
    x, bn = sweep(at, 3)["with batch norm"]
    _, plain = sweep(at, 3)["without batch norm"]
    assert plain[x == 0.001][0] > 0.6
    assert bn[x == 0.001][0] < 0.3


def test_the_watched_layer_changes_the_bands(at):
    before = bands(at)["x"]
    at.slider(key="why_it_works.layer").set_value(1).run()
    assert_clean(at)
    after = bands(at)
    assert not np.allclose(after["x"], before)
    assert "layer-1" in charts(at)[0]["layout"]["yaxis"]["title"]["text"]
    assert band_drift(after["x2"].astype(float)) < band_drift(after["x"].astype(float))


def test_presets_load():
    at = page_alone()
    before = bands(at)["x"]
    at.slider(key="why_it_works.layer").set_value(2).run()
    at.button(key="preset.why_it_works.Adam").click().run()
    assert_clean(at)
    assert at.selectbox(key="why_it_works.opt").value == "adam"
    assert at.select_slider(key="why_it_works.lr").value == 0.01
    assert at.slider(key="why_it_works.layer").value == 3  # the preset resets the rest
    drawn = bands(at)
    assert not np.allclose(drawn["x"], before)
    assert band_drift(drawn["x2"].astype(float)) < band_drift(drawn["x"].astype(float))


def test_divergence_is_a_warning_not_an_exception():
    app = AppTest.from_file(str(ROOT / PAGE), default_timeout=120)
    app.query_params["opt"] = "rmsprop"
    app.query_params["lr"] = "3"
    app.run()
    assert_clean(app)
    assert len(app.warning) == 2 and "diverged" in app.warning[0].value
    titles = [a["text"] for a in charts(app)[0]["layout"]["annotations"]]
    assert all("diverged" in t for t in titles)


def page_text(at):
    return " ".join(m.value for m in at.markdown) + " " + " ".join(m.value for m in at.latex)


def test_the_text_gives_gamma_squared_as_the_variance(at):
    text = page_text(at)
    assert "variance to γ²" in text and "variance γ²" in text
    assert "mean and variance of every unit's input to β and γ" not in text
    assert r"\text{var}\big(\tilde z^{[l]}\big) \approx \big(\gamma^{[l]}\big)^2" in text


def test_the_reasons_are_credited_and_lesson_one_is_linked(at):
    text = page_text(at)
    assert "The lecture gives three reasons" in text and "similar range" in text
    assert "the paper (Ioffe & Szegedy 2015) rather than the lecture" in text
    # a relative link: from /why_it_works it opens /normalizing_inputs, under any base path
    assert "([lesson 1 · Normalizing inputs](normalizing_inputs))" in text


def test_the_limits_are_named_with_the_core_numbers(at):
    from bn_core.lessons.why_it_works import epsilon_floor

    floor = epsilon_floor()
    text = page_text(at)
    assert "undone at once" not in text and "cannot blow" not in text
    assert f"variance is {floor.var_z_norm[0]:.2f}, not 1" in text
    assert f"is {floor.var_z[0]:.1e}, below ε" in text and floor.var_z[0] < floor.eps
    assert "γ can grow" in text and "The output layer is not normalized" in text
