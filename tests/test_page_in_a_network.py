"""The "fitting batch norm into a network" page through AppTest: the drawing follows the bias
toggle, the stepper walks the loop, the optimizer changes the update, presets load."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from bn_core.lessons import in_a_network as lesson
from tests import apptest
from tests.apptest import assert_clean, run_page
from tests.plotly_spec import decode, specs

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/in_a_network.py"


def page_alone():
    """The page script run on its own (its presets are clicked here)."""
    return run_page(PAGE, timeout=120)


def charts(at):
    return specs(at)


def diagram(at):
    return charts(at)[0]


def diagram_total(at):
    return int(re.match(r"(\d+) learned", diagram(at)["layout"]["title"]["text"]).group(1))


def step_matrices(at):
    """{label: array} of the step figure (labels are the heatmaps' trace names; a repeated
    label, such as "step taken", keeps its first matrix: W's)."""
    matrices = {}
    for trace in charts(at)[1]["data"]:
        matrices.setdefault(trace["name"], decode(trace["z"]))
    return matrices


def marked_line(at):
    lines = at.code[0].value.splitlines()
    return next(i for i, line in enumerate(lines) if line.startswith("▶"))


def button(at, label):
    return next(b for b in at.button if b.label == label)


@pytest.fixture
def at():
    return apptest.open_page(PAGE, timeout=60)


def test_opens_showing_the_network_and_the_first_line(at):
    assert len(charts(at)) == 2
    assert diagram_total(at) == 35  # (2, 3, 3, 2) with b dropped on both hidden layers
    assert marked_line(at) == 1
    assert {"X{t}", "y{t}"} <= set(step_matrices(at))
    assert at.latex, "the formulas are on the page"


def test_keeping_b_redraws_and_adds_one_number_per_hidden_unit(at):
    before = diagram_total(at)
    texts = [a["text"] for a in diagram(at)["layout"]["annotations"]]
    assert not any("+ b[1]" in t for t in texts)
    at.toggle(key="in_a_network.nobias").set_value(False).run()
    assert_clean(at)
    assert diagram_total(at) == before + 3 + 3
    texts = [a["text"] for a in diagram(at)["layout"]["annotations"]]
    assert any("+ b[1]" in t for t in texts) and any("+ b[2]" in t for t in texts)
    at.slider(key="in_a_network.units").set_value(5).run()
    at.toggle(key="in_a_network.nobias").set_value(True).run()
    assert diagram_total(at) == (2 * 5 + 5 * 5 + 5 * 2 + 2) + 4 * 5  # W's, b3, gammas, betas


def test_stepping_moves_the_marker_and_the_numbers(at):
    first = step_matrices(at)
    button(at, "Next line ▶").click().run()
    assert marked_line(at) == 3  # Z[l] = W[l] A[l-1]
    second = step_matrices(at)
    assert "Z[1]" in second and "Z[1]" not in first
    assert np.allclose(second["Z[1]"], second["W[1]"] @ second["A[0]"], atol=1e-4)
    button(at, "Next line ▶").click().run()
    assert marked_line(at) == 4
    button(at, "◀ Back").click().run()
    assert marked_line(at) == 3
    button(at, "Next mini-batch ⏭").click().run()
    assert marked_line(at) == 1
    assert any("mini-batch t = 2 of 3" in c.value for c in at.caption)
    assert_clean(at)


def go_to_update(at):
    button(at, "Next mini-batch ⏭").click().run()
    for _ in range(3):  # back from t = 2 to the last update of t = 1
        button(at, "◀ Back").click().run()
    assert marked_line(at) == 10


def test_the_optimizer_changes_the_update(at):
    at.radio(key="in_a_network.opt").set_value("gd").run()
    go_to_update(at)
    gd = step_matrices(at)
    np.testing.assert_allclose(gd["step taken"], 0.1 * gd["dW[1]"], rtol=1e-4, atol=1e-6)
    steps = {}
    for name in ("momentum", "rmsprop", "adam"):
        at.radio(key="in_a_network.opt").set_value(name).run()
        assert_clean(at)
        assert marked_line(at) == 10  # the stepper stays on the update line
        steps[name] = step_matrices(at)["step taken"]
        assert name in at.code[0].value
    assert not np.allclose(steps["adam"], gd["step taken"])
    assert np.allclose(np.abs(steps["adam"][np.abs(gd["dW[1]"]) > 1e-4]), 0.1, rtol=1e-2)
    assert np.abs(steps["rmsprop"]).max() > 1.0  # no bias correction: about 32 alpha
    assert np.abs(steps["momentum"]).max() < np.abs(gd["step taken"]).max()


def test_presets_load():
    at = page_alone()
    button(at, "Next line ▶").click().run()
    assert marked_line(at) == 3
    button(at, "Without batch norm").click().run()
    assert_clean(at)
    assert at.toggle(key="in_a_network.bn").value is False
    assert at.query_params["bn"] in ("0", ["0"])
    texts = " ".join(a["text"] for a in diagram(at)["layout"]["annotations"])
    assert "BN" not in texts and "γ" not in texts
    assert "no batch norm" in at.code[0].value
    assert marked_line(at) == 1  # a preset restarts the stepper
    button(at, "Plain gradient descent").click().run()
    assert at.radio(key="in_a_network.opt").value == "gd"
    assert at.toggle(key="in_a_network.bn").value is True
    assert marked_line(at) == 1
    assert_clean(at)


def test_the_optimizer_betas_are_not_batch_norms_beta():
    at = page_alone()
    go_to_update(at)
    for name in ("momentum", "rmsprop", "adam"):
        at.radio(key="in_a_network.opt").set_value(name).run()
        assert_clean(at)
        formulas = " ".join(f.value for f in at.latex)
        assert r"\beta v" not in formulas and r"(1-\beta)" not in formulas
        assert r"\beta_1" in formulas or r"\beta_2" in formulas
        captions = " ".join(c.value for c in at.caption)
        assert "not batch norm's β[l]" in captions or "β[l] is not Adam's β" in captions
        assert "P stands for each parameter on the update line" in captions
    assert "As the lecture says, batch norm's β[l] is not Adam's β" in captions


# --- batch norm before or after g ----------------------------------------------------------

SHAPE = "in_a_network.predict_shape"
SHAPE_RIGHT = "No: it only shifts and scales them, so g's shape stays"


def placement_chart(at):
    found = [c for c in at.get("plotly_chart") if "placement" in (c.proto.id or "")]
    return json.loads(found[0].proto.spec) if found else None


def placement_numbers(at):
    """{row label: (before g, after g)} of the comparison table."""
    table = next(d.value for d in at.dataframe if "BN on Z, before g" in d.value.columns)
    return {
        row[""]: (row["BN on Z, before g"], row["BN on A, after g"])
        for row in table.to_dict("records")
    }


def test_before_or_after_g_table_is_the_cores_and_the_chart_waits_for_an_answer(at):
    assert at.radio(key=SHAPE).value is None
    assert placement_chart(at) is None
    assert len(charts(at)) == 2
    before, after = lesson.placements("relu", 1.0)
    numbers = placement_numbers(at)
    assert numbers["g's inputs on a flat part"] == (
        f"{before.flat_share:.0%}",
        f"{after.flat_share:.0%}",
    )
    assert numbers["units that send one constant value"] == ("0", "1")
    assert numbers["next layer: unit means"][1] == "0.00 … 0.00"


def test_answering_reveals_the_two_placements_and_the_toggle_picks_the_filled_one(at):
    at.radio(key=SHAPE).set_value(SHAPE_RIGHT).run()
    assert_clean(at)
    assert any("Right" in s.value for s in at.success)
    names = [t.get("name") for t in placement_chart(at)["data"]]
    assert "BN on Z, before g" in names and "BN on A, after g (the other choice)" in names
    at.toggle(key="in_a_network.after_g").set_value(True).run()
    assert_clean(at)
    names = [t.get("name") for t in placement_chart(at)["data"]]
    assert "BN on A, after g" in names and "BN on Z, before g (the other choice)" in names
    assert at.query_params["after_g"] == "1"
    # what the next layer receives, after g: every unit at mean 0 (pooled mean 0 too)
    after = next(
        t
        for t in placement_chart(at)["data"]
        if t.get("name") == "BN on A, after g" and t.get("xaxis") == "x2"
    )
    assert decode(after["x"]).mean() == pytest.approx(0, abs=1e-6)


def test_a_large_weight_scale_saturates_sigmoid_only_after_g():
    at = run_page(
        PAGE,
        {"act": "sigmoid", "wscale": "10", "after_g": "1", "predict_shape_skip": "1"},
        timeout=120,
    )
    assert_clean(at)
    before, after = lesson.placements("sigmoid", 10.0)
    assert (
        placement_numbers(at)["g's inputs on a flat part"]
        == (f"{before.flat_share:.0%}", f"{after.flat_share:.0%}")
        == ("0%", "79%")
    )
    assert after.flat_share > 0.75
    assert any("The answer" in i.value for i in at.info)
    assert placement_chart(at) is not None
