"""Every page's address reproduces its state, and no query string, however hostile, breaks it.

For each page in the catalog: move its controls, read the URL the page wrote, open that URL
fresh (a new session), and find every control as it was. Then feed it junk query strings:
unknown names, values out of range, malformed or hostile text. No exception, ever.
"""

import random
from pathlib import Path

from pages import ui
from pages.catalog import HOME, LESSONS

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import assert_clean, run_page
from tests.rendered import plain

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60
WIDGET_KINDS = ("slider", "toggle", "selectbox", "radio", "number_input", "select_slider",
                "multiselect")
PAGES = [p for p in LESSONS]


def open_page(page, query=None):
    """A fresh session of `page` opened at ?query (a dict), run once."""
    return run_page(page.file, query, TIMEOUT)


def bound_controls(at, slug):
    """{key: widget} of the page's URL-bound controls (their keys are "<slug>.<name>") drawn
    in the last run."""
    found = {}
    for kind in WIDGET_KINDS:
        for widget in at.get(kind):
            if widget.key and widget.key.startswith(f"{slug}.") and widget.key in at.session_state:
                found[widget.key] = widget
    return found


def other_value(widget, options):
    """A valid value for the widget other than its current one, or None. options: the values
    a choice control offers (pages.ui records them; the widget itself only has labels)."""
    if getattr(widget.proto, "disabled", False):
        return None
    kind, value = widget.type, widget.value
    if kind == "toggle":
        return not value
    if kind == "multiselect":
        return value[:-1] if len(value) > 1 else options[:2]
    if kind in ("selectbox", "radio", "select_slider"):
        return options[(options.index(value) + 1) % len(options)] if len(options) > 1 else None
    if kind in ("slider", "number_input"):
        step = widget.step or 1
        lo, hi = widget.min, widget.max
        if isinstance(value, tuple):
            return None
        new = value + step if hi is None or value + step <= hi else value - step
        return new if lo is None or new >= lo else None
    return None




@pytest.mark.parametrize("lesson", PAGES, ids=[p.url_path for p in PAGES])
def test_link_round_trip(lesson):
    page = lesson
    at = open_page(page)
    assert_clean(at)
    changed = {}
    for key in list(bound_controls(at, page.url_path)):
        widget = bound_controls(at, page.url_path).get(key)  # as drawn by the last run
        if widget is None:
            continue  # an earlier change hid it (an optimizer's betas, say)
        new = other_value(widget, at.session_state[ui._STATE_KEY].options.get(
            key.split(".", 1)[1]))
        if new is None:
            continue
        widget.set_value(new)
        at.run()
        assert_clean(at)
        changed[key] = new
    assert changed, "the page has no URL-bound control to move"
    query = dict(at.query_params)
    state = {key: w.value for key, w in bound_controls(at, page.url_path).items()}

    again = open_page(page, query)
    assert_clean(again)
    reopened = {key: w.value for key, w in bound_controls(again, page.url_path).items()}
    assert reopened == state
    assert dict(again.query_params) == query


def test_home_opens_and_links_every_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert_clean(at)
    links = {link.proto.page for link in at.get("page_link")}
    assert all(any(page.url_path in link for link in links) for page in LESSONS), links
    assert at.title[0].value.endswith(HOME.title)


HOSTILE_VALUES = ["", "-1", "1e309", "nan", "inf", "99999999999999999999", "0x10", "true",
                  "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "é✓🧪",
                  "%00", "1,2", "[1]", "{\"a\": 1}", "0.5", "3", "adam", "x" * 2000]


def hostile_queries(page, names, n=3, seed=0):
    rng = random.Random(f"{seed}-{page.url_path}")
    pool = [*names, "present", "unknown", "__proto__", "page", "x" * 300]
    return [{rng.choice(pool): rng.choice(HOSTILE_VALUES) for _ in range(rng.randint(1, 8))}
            for _ in range(n)]


@pytest.mark.parametrize("lesson", PAGES, ids=[p.url_path for p in PAGES])
def test_hostile_query_strings_raise_nothing(lesson):
    page = lesson
    at = open_page(page)
    names = [key.split(".", 1)[1] for key in bound_controls(at, page.url_path)]
    all_bad = {name: "<b>garbage</b>" for name in names}
    for query in [all_bad, *hostile_queries(page, names)]:
        at = open_page(page, query)
        assert_clean(at)
        assert at.title, f"{page.url_path} rendered no title for ?{query}"
    at = open_page(page, {**all_bad, "nonsense": "1"})
    notice = " ".join(plain(t.proto.body) for t in at.toast)
    assert "Ignored from the link" in notice and "nonsense (not a setting" in notice, notice
    assert any(f"{name} = <b>garbage</b>" in notice for name in names), notice
