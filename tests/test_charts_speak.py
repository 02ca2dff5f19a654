"""Charts that speak, through AppTest: every chart of every page carries an accessible name and a
description with its numbers (read in the browser by bn_a11y), and offers its numbers as
tables under a collapsed expander; the Training Lab's live charts are described, show their
tables when paused, and its status goes to a polite live region (bn_a11y.live_status), paced
while training."""

import json
from pathlib import Path

from bn_app.catalog import LESSONS

import pytest
from streamlit.testing.v1 import AppTest

import bn_a11y
from bn_viz import describe
from tests.live_spec import messages

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
LAB = "pages/training_lab.py"
NUMBERS = "🔢 The numbers"

LESSON_PAGES = [p for p in LESSONS if p.file != LAB]


def open_page(file, query=None):
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    at.switch_page(file)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def chart_texts(at):
    """(name, description) that each st.plotly_chart of the page carries in layout.meta."""
    out = []
    for chart in at.get("plotly_chart"):
        meta = (json.loads(chart.proto.spec).get("layout") or {}).get("meta") or {}
        text = meta.get(bn_a11y.CHART_TEXT_META) or {}
        out.append((text.get("name"), text.get("description")))
    return out


def numbers_expanders(at):
    return [e for e in at.expander if e.label.startswith(NUMBERS)]


def status(at):
    """The data the page sent to its live status region this run: {text, busy, every_ms}."""
    (element,) = [
        e for e in at.get("bidi_component") if e.proto.component_name.endswith("bnlab_live_status")
    ]
    return json.loads(element.proto.json)


@pytest.mark.parametrize("info", LESSON_PAGES, ids=[p.url_path for p in LESSON_PAGES])
def test_every_lesson_chart_has_a_name_a_description_and_its_numbers(info):
    at = open_page(info.file)
    texts = chart_texts(at)
    assert texts, "every lesson has a chart"
    for name, description in texts:
        assert name and name != "Chart", texts
        assert description and description != "Nothing drawn yet.", (name, description)
    expanders = numbers_expanders(at)
    assert len(expanders) == len(texts)
    for expander in expanders:
        assert expander.label.startswith(f"{NUMBERS}: ")
        assert expander.caption[0].value  # the description, shown to everyone who opens it
        for table in expander.table:
            assert len(table.value) <= describe.TABLE_ROWS


@pytest.mark.parametrize(
    "file, query",
    [
        ("pages/step_by_step.py", {"predict_linear_skip": "1"}),
        ("pages/in_a_network.py", {"predict_shape_skip": "1"}),
        ("pages/test_time.py", {"predict_same_skip": "1"}),
    ],
)
def test_a_chart_revealed_by_a_prediction_speaks_too(file, query):
    at = open_page(file, query)
    texts = chart_texts(at)
    assert len(numbers_expanders(at)) == len(texts)
    for name, description in texts:
        assert name and name != "Chart", texts
        assert description and description != "Nothing drawn yet.", (name, description)
    assert any("|z̃| < 1" in d or "flat part" in d or "Test accuracy" in d for _, d in texts)


def test_a_chart_description_follows_the_chart():
    """A control changes the chart: its description follows."""
    at = open_page("pages/step_by_step.py", {"gamma": "1", "beta": "0"})
    before = chart_texts(at)[0][1]
    at = open_page("pages/step_by_step.py", {"gamma": "2", "beta": "1"})
    after = chart_texts(at)[0][1]
    assert before != after
    assert "mean 1" in after  # Z̃ = 2 Z_norm + 1 has mean β = 1


# --- the Training Lab -------------------------------------------------------------------------


def lab_descriptions(at):
    """{chart id: description} of the live charts whose message carried one this run."""
    return {
        chart["id"]: chart["description"]
        for message in messages(at)
        for chart in message["charts"]
        if chart.get("description")
    }


def test_the_lab_status_region_says_what_to_do_before_training():
    at = open_page(LAB)
    said = status(at)
    assert said["text"].startswith("Not trained yet") and not said["busy"]
    assert said["every_ms"] == 1000 * bn_a11y.ANNOUNCE_EVERY_S


def test_paused_the_lab_describes_every_chart_and_shows_its_numbers():
    at = open_page(LAB)
    for _ in range(3):
        at.button(key="lab.step").click().run()
    trainer = at.session_state["lab.trainer"]
    said = status(at)
    assert said["text"].startswith("Paused at step 3,") and not said["busy"]
    for run in trainer.runs:
        assert f"test loss {run.recorder.test.values[-1, 0]:.3f}" in said["text"]
        assert f"last mini-batch loss {run.recorder.train.values[-1, 0]:.3f}" in said["text"]
    described = lab_descriptions(at)
    assert {"loss", "accuracy", "data"} <= set(described)
    assert len(described) == 4  # and the view's chart
    assert "Latest test numbers" in described["data"]
    # the four live charts' numbers (and those of the γ, β panel's charts, shown when paused)
    labels = [e.label for e in numbers_expanders(at)]
    assert len(labels) == 4 + len(at.get("plotly_chart"))
    assert labels[0].endswith("Loss against the training step\\, for each network")
    assert all(e.table for e in numbers_expanders(at)[:2])  # loss and accuracy: tables


def test_while_playing_the_status_is_paced_and_the_numbers_wait_for_pause():
    at = open_page(LAB)
    at.button(key="lab.play").click().run()
    said = status(at)
    assert said["busy"] and said["text"].startswith("Step ")
    assert not numbers_expanders(at)  # tables are for a paused chart
    for _ in range(3):  # ticks (in AppTest each run is whole, so each carries descriptions)
        at.run()
        step = at.session_state["lab.trainer"].step_count
        assert f" at {step} " in lab_descriptions(at)["loss"]  # up to date
    at.button(key="lab.play").click().run()  # the same button, now Pause
    assert status(at)["text"].startswith("Paused at step ")
    assert len(lab_descriptions(at)) == 4
