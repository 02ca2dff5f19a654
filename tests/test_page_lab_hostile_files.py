"""Odd and hostile files uploaded to the Training Lab: an old Mac CSV loads, a settings file
naming Streamlit's own parameters loads the rest, and settings files drawn by Hypothesis never
break the page."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.apptest import assert_clean, run_page
from tests.test_fuzz_links import LAB, LAB_NAMES, RESERVED, raw_values

SETTINGS_FILE, OWN_FILE = "lab.settings_file", "lab.own_file"


def uploader(at, key):
    return next(u for u in at.get("file_uploader") if u.key == key)


def settings_file(values):
    return json.dumps(
        {"app": "batchnorm-lab", "version": 1, "page": "training_lab", "settings": values}
    ).encode()


def test_a_csv_with_cr_only_line_endings_trains():
    """Classic Mac Excel's CR-only lines once showed a _csv.Error stack trace."""
    rows = ["x1,x2,label"] + [f"{i / 40},{i % 7 / 7},{'ab'[i % 2]}" for i in range(40)]
    at = run_page(LAB, {"data": "own"})
    uploader(at, OWN_FILE).set_value(("mac.csv", "\r".join(rows).encode(), "text/csv")).run()
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["lab.trainer"].split.n_classes == 2


def test_settings_naming_streamlits_own_parameters_load_the_rest():
    """Streamlit refuses to set embed/embed_options from code: loading them was an exception."""
    at = run_page(LAB)
    data = settings_file({"embed": "true", "EMBED_OPTIONS": "show_toolbar", "layers": "3"})
    uploader(at, SETTINGS_FILE).set_value(("embed.json", data, "application/json")).run()
    assert_clean(at)
    assert at.slider(key="training_lab.layers").value == 3


_session = {}


def lab_with_settings_uploader():
    """The session the last example left, if it still shows the settings uploader (a file that
    chose "your own points" hides it until they are uploaded), else a fresh one."""
    at = _session.get("lab")
    if at is None or not any(u.key == SETTINGS_FILE for u in at.get("file_uploader")):
        at = _session["lab"] = run_page(LAB)
    return at


@settings(max_examples=8, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(LAB_NAMES) | st.sampled_from(RESERVED) | st.text(max_size=8),
        raw_values,
        max_size=8,
    )
)
def test_the_lab_survives_any_settings_file_in_a_row(values):
    """One session loads one drawn settings file after another (each is a new file)."""
    at = lab_with_settings_uploader()
    uploader(at, SETTINGS_FILE).set_value(
        ("drawn.json", settings_file(values), "application/json")
    ).run()
    assert_clean(at)
    assert at.title
