"""Opening pages through streamlit.testing's AppTest, the same way in every page test, and
reading what a page's download button would give the browser."""

from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as _app_test

ROOT = Path(__file__).resolve().parents[1]


def run_page(path, query=None, timeout=60):
    """A fresh session of the page script at `path` (relative to the repo), opened at ?query
    (a dict of name -> text) and run once."""
    at = AppTest.from_file(str(ROOT / path), default_timeout=timeout)
    for name, value in (query or {}).items():
        at.query_params[name] = value
    return at.run()


def open_page(path, query=None, timeout=60):
    """A fresh session opened through app.py's router (as a browser opens a page: the page's
    own address, with ?query, a dict of name -> text), run once and free of exceptions."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(path)
    for name, value in (query or {}).items():
        at.query_params[name] = str(value)
    at.run()
    assert_clean(at)
    return at


def assert_clean(at):
    """No exception element anywhere on the page."""
    assert not at.exception, [e.value for e in at.exception]


class _RecordedMediaFiles(MediaFileManager):
    """AppTest's media file manager (one per run), remembered so that a test can fetch what a
    download button serves."""

    latest = None

    def __init__(self, storage):
        super().__init__(storage)
        _RecordedMediaFiles.latest = self


@pytest.fixture
def downloads(monkeypatch):
    """Use before opening a page: then `downloaded(at, label)` reads its download buttons."""
    monkeypatch.setattr(_app_test, "MediaFileManager", _RecordedMediaFiles)


def downloaded(at, label):
    """The bytes the download button labelled `label` gives the browser after the latest run:
    a file stored with the page, or what a deferred button's callable makes when clicked
    (the same call Streamlit's server makes)."""
    button = next(d for d in at.get("download_button") if d.proto.label == label)
    media = _RecordedMediaFiles.latest
    assert media is not None, "open the page with the `downloads` fixture"
    url = (
        media.execute_deferred(button.proto.deferred_file_id)
        if button.proto.deferred_file_id
        else button.proto.url
    )
    return media._storage.get_file(url.rsplit("/", 1)[-1]).content
