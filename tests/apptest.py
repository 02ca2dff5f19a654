"""Opening pages through streamlit.testing's AppTest, the same way in every page test."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def run_page(path, query=None, timeout=60):
    """A fresh session of the page script at `path` (relative to the repo), opened at ?query
    (a dict of name -> text) and run once."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    return at.run()


def assert_clean(at):
    """No exception element anywhere on the page."""
    assert not at.exception, [e.value for e in at.exception]
