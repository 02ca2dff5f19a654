"""The "slight regularizer" page through AppTest: a bigger mini-batch narrows the noise, the
dropout comparison follows p, the gap experiment draws both networks, presets load."""

from pathlib import Path

import numpy as np
import pytest

from tests import apptest
from tests.apptest import assert_clean, run_page
from tests.plotly_spec import decode, specs

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/regularization.py"


def page_alone():
    """The page script run on its own (its presets are clicked here)."""
    return run_page(PAGE, timeout=120)


def charts(at):
    return specs(at)


def histograms(at):
    """{"batch norm": values, "dropout": values} of the histogram figure."""
    return {t["name"].split(",")[0]: decode(t["x"]) for t in charts(at)[0]["data"]}


def curve(at):
    """(m, std) of the batch-norm noise curve."""
    trace = next(t for t in charts(at)[1]["data"] if t["name"] == "batch norm")
    return decode(trace["x"]), decode(trace["y"])


def dropout_lines(at):
    return {
        t["name"]: decode(t["y"])[0]
        for t in charts(at)[1]["data"]
        if t["name"].startswith("dropout")
    }


@pytest.fixture(scope="module")
def at():
    return apptest.open_page(PAGE, timeout=120)


def test_opens_with_the_noise_and_the_gap(at):
    assert len(charts(at)) == 3
    assert len(at.latex) >= 2
    assert len(at.metric) == 4
    m, std = curve(at)
    assert list(m) == [2, 4, 8, 16, 32, 64, 128, 256]
    assert np.all(np.diff(std) < 0), "bigger mini-batch, less noise"
    assert std[-1] < std[3] / 3


def test_a_bigger_batch_narrows_the_histogram(at):
    at.select_slider(key="regularization.m").set_value(4).run()
    small = histograms(at)["batch norm"].std()
    at.select_slider(key="regularization.m").set_value(128).run()
    assert_clean(at)
    large = histograms(at)["batch norm"].std()
    assert large < small / 3
    ringed = next(t for t in charts(at)[1]["data"] if t["name"] == "m = 128")
    assert decode(ringed["x"])[0] == 128


def test_dropout_noise_follows_p(at):
    at.select_slider(key="regularization.p").set_value(0.5).run()
    spread_half = histograms(at)["dropout"].std()
    at.select_slider(key="regularization.p").set_value(0.95).run()
    assert_clean(at)
    assert histograms(at)["dropout"].std() < spread_half / 2
    lines = dropout_lines(at)
    assert lines["dropout p = 0.5"] > lines["dropout p = 0.8"] > lines["dropout p = 0.95"]
    _, std = curve(at)
    assert std[5] < lines["dropout p = 0.8"]  # m = 64: batch norm's noise is the slighter


def test_the_gap_experiment_draws_both_networks(at):
    names = {t["name"] for t in charts(at)[2]["data"]}
    assert names == {
        "with batch norm, train",
        "with batch norm, test",
        "without batch norm, train",
        "without batch norm, test",
    }
    before = [m.value for m in at.metric]
    at.select_slider(key="regularization.gm").set_value(150).run()
    assert_clean(at)
    assert [m.value for m in at.metric] != before
    assert any("test set's own noise" in md.value for md in at.markdown)


def test_presets_load():
    at = page_alone()
    assert_clean(at)
    at.button(key="preset.regularization.Tiny mini-batches").click().run()
    assert_clean(at)
    assert at.select_slider(key="regularization.m").value == 4
    assert at.select_slider(key="regularization.gm").value == 4
    at.button(key="preset.regularization.Strong dropout").click().run()
    assert at.select_slider(key="regularization.p").value == 0.5
    assert at.select_slider(key="regularization.m").value == 16
    assert_clean(at)


def test_the_whole_set_preset_says_what_it_sets(at):
    tip = at.button(key="preset.regularization.The whole set as one batch").help
    assert "m = 150" in tip and "no mini-batch noise there" in tip
    assert "m = 256 of the 1,347 training digits" in tip and "not none" in tip
    assert "No mini-batch noise at all" not in tip


def test_units_and_examples_are_shown_from_1():
    at = page_alone()
    unit = at.slider(key="regularization.unit_no")
    example = at.slider(key="regularization.example_no")
    assert (unit.min, unit.max, unit.value) == (1, 32, 1)
    assert (example.min, example.max, example.value) == (1, 20, 1)
    assert "unit_no" not in at.query_params  # the default stays out of the link


@pytest.mark.parametrize(
    "query, unit, example",
    [
        ({"unit_no": "6", "example_no": "3"}, 6, 3),
        ({"unit": "5", "ex": "2"}, 6, 3),  # an older link's 0-based values: the same unit, example
        ({"unit": "0"}, 1, 1),
    ],
)
def test_links_old_and_new_open_the_same_unit(query, unit, example):
    from bn_core.lessons.regularization import noise_study

    at = run_page(PAGE, query, timeout=120)
    assert_clean(at)
    assert at.slider(key="regularization.unit_no").value == unit
    assert at.slider(key="regularization.example_no").value == example
    assert "unit" not in at.query_params and "ex" not in at.query_params
    assert not at.toast  # nothing reported as ignored
    expected = noise_study(16, 0.8, unit - 1, example - 1)  # the core's 0-based indices
    assert np.allclose(histograms(at)["batch norm"], expected.bn_values, atol=1e-6)
