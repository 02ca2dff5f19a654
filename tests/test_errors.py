"""Unexpected errors: users get a short apology and the page's link, never a stack trace or a
server path; the server's log gets the whole story. Streamlit's own control flow (st.rerun,
st.stop, st.switch_page) is not an error."""

import logging
import tomllib
from pathlib import Path

from bn_app import ui

import pytest
from streamlit.config import ShowErrorDetailsConfigOptions
from streamlit.testing.v1 import AppTest

import bn_viz.live
import bn_viz.step_by_step
from tests.apptest import assert_clean, run_page
from tests.rendered import plain, shown_texts

ROOT = Path(__file__).resolve().parents[1]
SECRET = "/srv/secret/bn_core/internal.py"


def test_streamlit_shows_no_error_details():
    with open(ROOT / ".streamlit" / "config.toml", "rb") as f:
        client = tomllib.load(f).get("client", {})
    assert client.get("showErrorDetails") == ShowErrorDetailsConfigOptions.NONE


@pytest.fixture
def server_log(caplog):
    """The records ui.LOG writes (Streamlit's loggers do not propagate to pytest's)."""
    ui.LOG.addHandler(caplog.handler)
    yield caplog
    ui.LOG.removeHandler(caplog.handler)


def fail(*args, **kwargs):
    raise RuntimeError(f"boom in {SECRET}")


def assert_apology(at, link):
    apologies = [e.value for e in at.error if "Sorry, something went wrong" in e.value]
    assert apologies, [e.value for e in at.error]
    assert f"]({link})" in apologies[0], apologies[0]
    assert not any(SECRET in text or "Traceback" in text for text in shown_texts(at))


def assert_logged(server_log):
    records = [r for r in server_log.records if r.levelno >= logging.ERROR]
    assert records and records[0].exc_info, server_log.records
    assert SECRET in server_log.text and "Traceback" in server_log.text


def through_the_router(page, query):
    """A fresh session that opens `page` from app.py's router, at ?query (a dict)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at.switch_page(page).run()


def test_a_page_that_fails_apologizes_with_its_link_and_logs(monkeypatch, server_log):
    monkeypatch.setattr(bn_viz.step_by_step, "stages_figure", fail)
    at = through_the_router("pages/step_by_step.py", {"act": "tanh", "m": "8"})
    assert_clean(at)  # no exception element: nothing of the stack reaches the page
    assert_apology(at, "?act=tanh&m=8")
    assert_logged(server_log)


def test_a_failing_live_panel_apologizes_and_the_page_goes_on(monkeypatch, server_log):
    monkeypatch.setattr(bn_viz.live, "loss_chart", fail)
    at = run_page("pages/training_lab.py", {"layers": "4"})
    assert_clean(at)
    assert_apology(at, "?layers=4")
    assert any(s.value == "Parameters" for s in at.subheader)  # drawn after the live panel
    assert_logged(server_log)


def _rerun_then_stop():
    from bn_app import ui

    import streamlit as st

    def page():
        st.session_state["runs"] = st.session_state.get("runs", 0) + 1
        if st.session_state["runs"] == 1:
            st.rerun()
        st.markdown("after the rerun")
        st.stop()
        st.markdown("after the stop")

    ui.guarded(page)()


def test_rerun_and_stop_pass_through():
    at = AppTest.from_function(_rerun_then_stop, default_timeout=30).run()
    assert_clean(at)
    assert at.session_state["runs"] == 2
    assert [plain(m.value) for m in at.markdown] == ["after the rerun"]
    assert not at.error


def test_waiting_for_an_upload_stops_without_an_apology():
    at = run_page("pages/training_lab.py", {"data": "own"})
    assert_clean(at)
    assert not at.error
