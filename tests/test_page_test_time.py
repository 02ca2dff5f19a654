"""Page "Mini-batches and test time" through streamlit's AppTest: charts react to the controls,
presets load, the batch-of-one refusal is a warning, never an exception."""

import json
from pathlib import Path

import numpy as np
import pytest

from bn_core.lessons import test_time as tt
from tests.apptest import assert_clean, run_page
from tests.plotly_spec import decode, specs

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
PAGE = "pages/test_time.py"
# Most tests run the page script on its own: clicks and reruns then reach the page directly.
# (Through app.py, bn_app.ui reruns the first run of every AppTest run to route deep links.)
JUMPS, SPREAD, RUNNING, TRAIN_EVAL, ALONE = range(5)  # the order the page draws its charts


def charts(at):
    """The page's figures as dicts, in the order the page draws them."""
    figures = specs(at)
    assert len(figures) == 5
    return figures


def trace(fig, name_start):
    matches = [t for t in fig["data"] if t.get("name", "").startswith(name_start)]
    assert matches, [t.get("name") for t in fig["data"]]
    return matches[0]


def running_line(fig):
    """The running average of mu: the first line trace named 'running average'."""
    return decode(trace(fig, "running average")["y"])


def open_page(query=None):
    return run_page(PAGE, query)


@pytest.fixture
def at():
    return open_page()


def test_page_opens_showing_every_experiment(at):
    assert_clean(at)
    figs = charts(at)
    assert at.title[0].value.endswith("Mini-batches and test time")
    dots = decode(trace(figs[JUMPS], "one mini-batch")["y"])
    assert dots.size == 200 and np.ptp(dots) > 0
    assert len(at.latex) >= 6
    # the batch of one is refused with the core's own message, shown as a warning
    warnings = [w.body for w in at.warning]
    assert any("ValueError" in w and "at least 2 examples" in w for w in warnings)
    assert not at.error
    assert any("Try this" in i.body for i in at.info)


def test_bigger_batch_size_gives_smaller_jumps(at):
    spread = decode(trace(charts(at)[SPREAD], "std of μ")["y"])
    assert np.all(np.diff(spread) < 0)
    assert spread[0] > 4 * spread[-1]  # from m = 2 to m = 256: roughly sqrt(128) ≈ 11x
    small = decode(
        trace(
            charts(at.select_slider(key="test_time.m").set_value(4).run())[JUMPS], "one mini-batch"
        )["y"]
    )
    big = decode(
        trace(
            charts(at.select_slider(key="test_time.m").set_value(256).run())[JUMPS],
            "one mini-batch",
        )["y"]
    )
    assert_clean(at)
    assert small.std() > 4 * big.std()
    assert at.query_params["m"] == "256"
    ring = trace(charts(at)[SPREAD], "m = 256")
    assert decode(ring["x"]).tolist() == [256]


def test_beta_changes_the_running_average(at):
    before = running_line(charts(at)[RUNNING])
    assert before[0] == 0.0 and before.size == 201
    at.select_slider(key="test_time.beta").set_value(0.99).run()
    assert_clean(at)
    after = running_line(charts(at)[RUNNING])
    assert after[0] == 0.0
    # a longer memory leaves the start more slowly: after 10 steps it has moved less
    assert abs(after[10]) < abs(before[10])
    assert "0.99" in trace(charts(at)[RUNNING], "running average")["name"]


def test_steps_control_sets_the_curve_length(at):
    at.select_slider(key="test_time.t").set_value(1000).run()
    assert running_line(charts(at)[RUNNING]).size == 1001


def test_train_mode_spread_shrinks_with_batch_size_eval_is_one_value(at):
    def train_values(app):
        fig = charts(app)[TRAIN_EVAL]
        train = decode(trace(fig, "training mode")["x"])
        evals = [decode(t["x"]) for t in fig["data"] if t["name"].startswith("eval mode")]
        return train, evals

    train_small, evals = train_values(at.select_slider(key="test_time.m").set_value(4).run())
    assert train_small.size == 100 and evals[0].size == 1
    train_big, evals_big = train_values(at.select_slider(key="test_time.m").set_value(256).run())
    assert train_small.std() > 2 * train_big.std()
    assert evals[0][0] == pytest.approx(evals_big[0][0])  # eval mode ignores the batch size


def test_example_slider_moves_eval_bars_not_the_training_bars(at):
    fig = charts(at)[ALONE]
    train = decode(trace(fig, "training mode")["y"])
    assert np.ptp(train) == 0  # every example maps to beta
    evals = decode(trace(fig, "eval mode")["y"])
    at.slider(key="test_time.ex").set_value(30).run()
    assert_clean(at)
    fig2 = charts(at)[ALONE]
    assert np.array_equal(decode(trace(fig2, "training mode")["y"]), train)
    assert not np.allclose(decode(trace(fig2, "eval mode")["y"]), evals)


def test_unit_and_layer_controls(at):
    at.slider(key="test_time.unit").set_value(3).run()
    at.selectbox(key="test_time.layer").set_value("2").run()
    assert_clean(at)
    assert charts(at)[JUMPS]["layout"]["title"]["text"].startswith("Unit 3 of layer 2")
    # layer 2's statistics carry layer 1's mini-batch: no sigma/sqrt(m) line, a warning instead
    assert "σ/√m" not in [t["name"] for t in charts(at)[SPREAD]["data"]]
    assert any("Layer 2 is different" in w.body for w in at.warning)
    assert dict(at.query_params) == {"unit": "3", "layer": "2"}


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Tiny mini-batches (m = 4)", {"m": 4}),
        ("Big mini-batches (m = 256)", {"m": 256}),
        ("Slow average (β = 0.99)", {"beta": 0.99, "t": 1000}),
        ("Jumpy average (β = 0.5)", {"beta": 0.5, "m": 8}),
    ],
)
def test_presets_load(at, label, expected):
    at.button(key=f"preset.test_time.{label}").click().run()
    assert_clean(at)
    for name, value in expected.items():
        assert at.select_slider(key=f"test_time.{name}").value == value
    assert len(at.get("plotly_chart")) == 5


def test_a_bad_link_is_ignored_not_a_crash():
    app = open_page({"m": "5", "beta": "7"})
    assert_clean(app)
    assert app.select_slider(key="test_time.m").value == 4  # snapped to the nearest option
    assert app.select_slider(key="test_time.beta").value == 0.9  # out of range: default


def test_presentation_mode_hides_advanced_controls():
    app = open_page({"present": "1"})
    assert_clean(app)
    assert not app.selectbox and not app.number_input  # layer and seed are advanced
    assert len(app.get("plotly_chart")) == 5


# --- running averages or the whole training set; the frameworks ------------------------------

SAME = "test_time.predict_same"
SAME_RIGHT = "About the same: within a point or so"


def estimates_chart(at):
    found = [c for c in at.get("plotly_chart") if "estimates" in (c.proto.id or "")]
    return json.loads(found[0].proto.spec) if found else None


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_the_two_estimates_wait_for_a_prediction(at):
    radio = at.radio(key=SAME)
    assert radio.value is None and "which is better" in radio.label
    assert estimates_chart(at) is None
    assert not any("accuracy" in m.label for m in at.metric)
    assert "another option" in " ".join(m.value for m in at.markdown)


def test_answering_shows_both_estimates_and_their_test_numbers_from_the_core(at):
    at.radio(key=SAME).set_value("The whole training set, clearly").run()
    assert_clean(at)
    assert any("Not quite" in i.body for i in at.info)
    c = tt.compare_estimates(0)
    assert metric(at, "accuracy, running") == f"{c.running_accuracy:.1%}"
    assert metric(at, "accuracy, whole set") == f"{c.whole_accuracy:.1%}"
    assert metric(at, "loss, running") == f"{c.running_loss:.4f}"
    assert metric(at, "loss, whole set") == f"{c.whole_loss:.4f}"
    fig = estimates_chart(at)
    units = [t for t in fig["data"] if t.get("name") == "one unit"]
    np.testing.assert_allclose(decode(units[0]["x"]), c.whole_mu[1].ravel(), rtol=1e-6)
    np.testing.assert_allclose(decode(units[0]["y"]), c.running_mu[1].ravel(), rtol=1e-6)
    np.testing.assert_allclose(decode(units[1]["x"]), c.whole_var[1].ravel(), rtol=1e-6)


def test_just_show_me_and_layer_2():
    at = open_page({"predict_same_skip": "1", "layer": "2"})
    assert_clean(at)
    assert any("The answer: About the same" in i.body for i in at.info)
    c = tt.compare_estimates(0)
    units = [t for t in estimates_chart(at)["data"] if t.get("name") == "one unit"]
    np.testing.assert_allclose(decode(units[0]["x"]), c.whole_mu[2].ravel(), rtol=1e-6)


def test_the_frameworks_panel_states_the_conventions_exactly(at):
    text = " ".join(m.value for m in at.markdown)
    for fact in (
        "`momentum = 1 − β`, default 0.1 (β = 0.9)",
        "`momentum = β`, default 0.99",
        "`eps`, default 1e-5",
        "`epsilon`, default 1e-3",
        "`nn.Linear(n_prev, n, bias=False)`",
        "`model.train()` / `model.eval()`",
    ):
        assert fact in text, fact
    code = " ".join(c.value for c in at.code)
    assert "nn.BatchNorm1d(n, eps=1e-5, momentum=0.1)" in code
    assert "running = (1 − momentum) · running + momentum · batch value: momentum = 1 − β" in code
    assert "moving = momentum · moving + (1 − momentum) · batch value: momentum = β" in code
    assert "BatchNormalization(momentum=0.9, epsilon=1e-5)" in code
    assert any("model.eval()" in w.body and "no_grad" in w.body for w in at.warning)
