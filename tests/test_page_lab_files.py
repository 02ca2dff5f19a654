"""Training Lab files: the history CSV and settings JSON to download, settings JSON to load,
and the learner's own points. Every refused file says why; none breaks the page."""

import csv
import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bn_core import exchange
from tests.apptest import downloaded
from tests.rendered import plain

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "training_lab.py")


def open_lab(query=None):
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    return at.run()


def uploader(at, key):
    return next(u for u in at.get("file_uploader") if u.key == key)


def errors(at):
    return [plain(e.value) for e in at.error]


def test_settings_json_holds_every_control_and_loads_back(downloads):
    at = open_lab({"lr": "0.1", "layers": "2", "bn": "0"})
    settings = json.loads(downloaded(at, "Settings (JSON)"))  # the file the page gives
    assert settings["app"] == exchange.APP_NAME and settings["page"] == "training_lab"
    assert settings["settings"]["lr"] == "0.1" and settings["settings"]["layers"] == "2"
    assert settings["settings"]["act"] == "relu"  # defaults are in the file too

    fresh = open_lab()
    text = exchange.settings_json("training_lab", {"lr": "0.1", "layers": "2", "bn": "0"})
    uploader(fresh, "lab.settings_file").set_value(
        ("run.json", text.encode(), "application/json")
    ).run()
    assert not fresh.exception
    assert fresh.select_slider(key="training_lab.lr").value == 0.1
    assert fresh.slider(key="training_lab.layers").value == 2
    assert (
        fresh.selectbox(key="training_lab.bn").value == "none"
    )  # an old file's 0: no normalization
    assert any("Settings loaded from run.json" in plain(i.value) for i in fresh.info)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "not valid JSON"),
        (b'{"app": "something else"}', "not a BatchNorm Lab settings file"),
        (exchange.settings_json("step_by_step", {"gamma": "1"}).encode(), "for the page"),
        (b"\x80\x81\x82", "not UTF-8"),
    ],
)
def test_bad_settings_files_are_refused_with_a_reason(content, message):
    at = open_lab()
    uploader(at, "lab.settings_file").set_value(("bad.json", content, "application/json")).run()
    assert not at.exception
    assert any("bad.json can't be loaded" in e and message in e for e in errors(at)), errors(at)


def test_history_csv_is_built_on_click_from_the_recorders(downloads):
    at = open_lab()
    at.button(key="lab.epoch").click().run()
    trainer = at.session_state["lab.trainer"]
    text = downloaded(at, "Recorded history (CSV)").decode()  # built when clicked
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["network"] for r in rows} == {"batch_norm", "plain"}
    losses = [r for r in rows if r["quantity"] == "loss" and r["network"] == "batch_norm"]
    assert max(int(r["step"]) for r in losses) == trainer.step_count > 0
    last = next(r for r in losses if int(r["step"]) == trainer.step_count)
    assert float(last["value"]) == pytest.approx(trainer.runs[0].recorder.train.values[-1, 0])


def points(n=40, labels="ab"):
    X = [(i / n, (i % 7) / 7) for i in range(n)]
    rows = ["x1,x2,label"] + [f"{a},{b},{labels[i % len(labels)]}" for i, (a, b) in enumerate(X)]
    return "\n".join(rows).encode()


def test_own_points_train():
    at = open_lab({"data": "own"})
    assert not at.exception and any("upload a CSV" in i.value for i in at.info)
    uploader(at, "lab.own_file").set_value(("mine.csv", points(), "text/csv")).run()
    assert not at.exception and not errors(at)
    trainer = at.session_state["lab.trainer"]
    assert trainer.split.X_train.shape[0] == 2 and trainer.split.n_classes == 2
    at.button(key="lab.step").click().run()
    assert at.session_state["lab.trainer"].step_count == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"a,b\n1,2\n", "exactly 3 columns"),
        (points().replace(b"0.5,", b"oops,"), "is not a number"),
        (points().replace(b"0.5,", b"nan,"), "NaN or infinite"),
        (points(labels="a"), "at least two classes"),
        (points(6), "too few points"),
        (b"x" * 600_000, "too big"),
    ],
)
def test_bad_point_files_are_refused_with_a_reason(content, message):
    at = open_lab({"data": "own"})
    uploader(at, "lab.own_file").set_value(("mine.csv", content, "text/csv")).run()
    assert not at.exception
    assert any("mine.csv can't be used" in e and message in e for e in errors(at)), errors(at)


def test_a_slow_server_spaces_the_ticks_out_without_an_extra_step():
    """Many students training on one machine: a tick that takes most of its interval makes
    the lab update less often (twice as long each tick, up to every 2 s). The rerun that
    applies the new interval redraws without training, so a tick still trains exactly one
    update's steps. (How the interval comes back once ticks are quick is
    bn_app.lab_options.paced_interval's rule, tested in tests/test_lab_options.py: here a
    tick's measured time would decide it.)"""
    at = open_lab()
    at.session_state["lab.playing"] = True
    at.session_state["lab.tick_seconds"] = 5.0  # as if the last ticks took 5 s each
    for tick, interval in ((1, 1.0), (2, 2.0), (3, 2.0)):  # doubled once a tick, up to 2 s
        at.run()
        assert not at.exception
        assert at.session_state["lab.interval"] == interval
        assert at.session_state["lab.trainer"].step_count == 10 * tick  # no extra steps
