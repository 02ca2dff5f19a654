"""Page "Under the hood" through streamlit's AppTest: the staged backward walk-through follows
its controls, the gradient-check table covers every parameter, presets load, nothing raises."""

import inspect
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bn_core import batchnorm
from bn_core.lessons import under_the_hood as uh
from bn_viz import under_the_hood as viz
from tests.apptest import assert_clean, run_page
from tests.plotly_spec import decode, specs

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/under_the_hood.py"
# Most tests run the page script on its own: clicks and reruns then reach the page directly.
# (Through app.py, bn_app.ui reruns the first run of every AppTest run to route deep links.)


def charts(at):
    figures = specs(at)
    assert len(figures) == 2  # the dZ paths, then the relative errors
    return figures


def table(at):
    """The gradient-check table as {column: list}."""
    frames = [df.value for df in at.dataframe]
    assert len(frames) == 1
    return frames[0].to_dict(orient="list")


def rows(at):
    t = table(at)
    return {name: {k: v[i] for k, v in t.items()} for i, name in enumerate(t["parameter"])}


def latex_of(at, name):
    """The st.latex body that shows the array `name` (typeset as \\texttt{name} = ...)."""
    tag = r"\texttt{" + name.replace("_", r"\_") + "} ="
    matches = [x.value for x in at.latex if tag in x.value]
    assert len(matches) == 1, name
    return matches[0]


def open_page(query=None):
    return run_page(PAGE, query)


@pytest.fixture
def at():
    return open_page()


def test_page_opens_with_every_stage_and_a_passing_check(at):
    assert_clean(at)
    assert at.title[0].value.endswith("Under the hood")
    for name in ("dbeta", "dgamma", "dZ_norm", "dvar", "dmu", "dZ"):
        latex_of(at, name)
    assert len(at.code) == len(uh.code_pieces()) + 1
    metrics = {m.label: float(m.value) for m in at.metric}
    assert metrics["staged dZ vs compact form"] < 1e-12
    assert metrics["largest |Σᵢ dz⁽ⁱ⁾|"] < 1e-12
    assert any("Try this" in i.body for i in at.info)


def test_the_code_on_screen_is_the_code_the_network_runs(at):
    """The page's code blocks are backward_steps' own source: its body piece by piece, then the
    whole function; and the network's backward calls that function (tests/test_network.py)."""
    shown = [c.value for c in at.code]
    source = inspect.getsource(batchnorm.backward_steps)
    assert shown[-1] == source.rstrip("\n")  # st.code drops the final newline
    body = textwrap.dedent(source.split('"""')[2].split("\n", 1)[1]).strip("\n")
    assert "\n\n".join(shown[:-1]) == body
    assert batchnorm.backward_unchecked.__code__.co_names[:1] == ("backward_steps",)


def test_the_numbers_on_screen_are_the_staged_functions(at):
    ex = uh.example_batch(1, 6, 0)  # the page's defaults
    steps = batchnorm.backward_steps(ex.dZ_tilde, ex.cache)
    for name in steps._fields:
        assert viz.stage_latex(name, getattr(steps, name)) in latex_of(at, name)


def test_gradient_check_defaults_every_parameter_passes(at):
    r = rows(at)
    assert list(r) == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3", "b3"]
    for name, row in r.items():
        assert row["relative error"] < 1e-6, name
        assert row["check"] == "✅ pass"
    assert not at.warning
    errors = decode(charts(at)[1]["data"][0]["y"])
    assert errors.size == 8 and np.all(errors < 1e-6)


def test_m_and_units_reshape_the_walkthrough(at):
    assert latex_of(at, "dZ").count("&") == 5  # one row of m = 6
    at.slider(key="under_the_hood.m").set_value(8).run()
    at.slider(key="under_the_hood.n").set_value(3).run()
    assert_clean(at)
    dz = latex_of(at, "dZ")
    assert dz.count(r"\\") == 2 and dz.count("&") == 3 * 7  # 3 rows of m = 8
    paths = charts(at)[0]
    assert [t["name"] for t in paths["data"]] == [
        "direct",
        "through σ²",
        "through μ",
        "dZ (their sum)",
    ]
    total = decode(paths["data"][3]["y"])
    assert total.size == 8 and abs(total.sum()) < 1e-5  # float32 on the wire
    parts = sum(decode(t["y"]).astype(float) for t in paths["data"][:3])
    assert np.allclose(parts, total, atol=1e-5)
    assert dict(at.query_params) == {"m": "8", "n": "3"}


def test_bias_kept_under_batch_norm_has_zero_gradient(at):
    at.toggle(key="under_the_hood.elim").set_value(False).run()
    assert_clean(at)
    r = rows(at)
    for name in ("b1", "b2"):
        assert r[name]["|dP| max"] < 1e-15
        assert r[name]["check"].startswith("✅ zero")
        assert np.isnan(r[name]["relative error"])  # left blank: it would compare two noises
    assert r["b3"]["check"] == "✅ pass"
    assert any("mean subtraction" in s.body and "b1, b2" in s.body for s in at.success)
    # zero gradients are left out of the error chart: their relative error means nothing
    assert "b1" not in list(charts(at)[1]["data"][0]["x"])


def test_without_batch_norm_every_layer_has_b_and_no_gamma(at):
    at.toggle(key="under_the_hood.bn").set_value(False).run()
    assert_clean(at)
    r = rows(at)
    assert list(r) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert any("every layer keeps its b" in c.value for c in at.caption)
    assert all(row["relative error"] < 1e-6 for row in r.values())


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "linear"])
def test_other_activations_pass(at, activation):
    at.selectbox(key="under_the_hood.act").set_value(activation).run()
    assert_clean(at)
    assert all(row["check"].startswith("✅") for row in rows(at).values())


def test_relu_kink_is_explained_not_hidden(at):
    at.toggle(key="under_the_hood.bn").set_value(False).run()
    at.number_input(key="under_the_hood.gseed").set_value(7).run()
    assert_clean(at)
    marks = [row["check"] for row in rows(at).values()]
    assert "⚠️ ReLU kink" in marks
    assert any("kink" in w.body and "not a bug" in w.body for w in at.warning)


def test_a_coarse_h_is_explained(at):
    at.select_slider(key="under_the_hood.h").set_value(1e-3).run()
    assert_clean(at)
    assert max(table(at)["relative error"]) > 1e-6  # truncation error ~ h^2
    assert "❌ fail" in table(at)["check"]
    assert any("h = 1e-5 balances" in w.body and "Set h back" in w.body for w in at.warning)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("One unit, m = 4", {"n": 1, "m": 4}),
        ("Three units, m = 8", {"n": 3, "m": 8}),
    ],
)
def test_walkthrough_presets_load(at, label, expected):
    at.button(key=f"preset.under_the_hood.{label}").click().run()
    assert_clean(at)
    for name, value in expected.items():
        assert at.slider(key=f"under_the_hood.{name}").value == value


def test_bias_and_kink_presets_load(at):
    at.button(key="preset.under_the_hood.Keep b under batch norm").click().run()
    assert_clean(at)
    assert at.toggle(key="under_the_hood.elim").value is False
    assert "b1" in rows(at)
    at.button(key="preset.under_the_hood.A ReLU kink").click().run()
    assert_clean(at)
    assert at.toggle(key="under_the_hood.bn").value is False
    assert at.toggle(key="under_the_hood.elim").value is True  # the preset replaced the link
    assert "⚠️ ReLU kink" in [row["check"] for row in rows(at).values()]


def test_presentation_mode_hides_advanced_controls_and_stacks_the_stages():
    app = open_page({"present": "1"})
    assert_clean(app)
    keys = {w.key for w in app.number_input} | {w.key for w in app.select_slider}
    assert "under_the_hood.seed" not in keys and "under_the_hood.h" not in keys
    assert "under_the_hood.gseed" in keys
    assert len(app.code) == len(uh.code_pieces()) + 1 and len(app.get("plotly_chart")) == 2
