"""pages/ holds the app's pages and nothing else.

Until a server's first st.navigation call, Streamlit treats every script in pages/ as a page of
its old folder-of-pages mode; what the pages share lives in bn_app/.
"""

from pathlib import Path

from bn_app.catalog import HOME, LESSONS

ROOT = Path(__file__).resolve().parents[1]


def test_pages_folder_holds_exactly_the_catalogued_pages():
    on_disk = sorted(
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "pages").iterdir()
        if p.name != "__pycache__"
    )
    assert on_disk == sorted(info.file for info in (HOME, *LESSONS))


def test_the_internal_the_deep_link_routing_reads_is_still_there():
    # bn_app.ui._route_through_app leans on this Streamlit internal, and quietly does nothing
    # without it (links would still work from "/"): an upgrade that moves it must show here.
    from streamlit.runtime.pages_manager import PagesManager

    assert hasattr(PagesManager, "uses_pages_directory")
