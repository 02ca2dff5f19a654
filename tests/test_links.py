"""Every page's address reproduces its state, and no query string, however hostile, breaks it.

For each page in the catalog: move every control (each one the page's source binds, some under
a starting link that brings it out), read the URL the page wrote, open that URL fresh (a new
session), and find every control as it was; where the page loads settings files, load its
settings from one and find them again. Then feed it junk query strings:
unknown names, values out of range, malformed or hostile text. No exception, ever.
"""

import ast
import random
from pathlib import Path

from bn_app import ui
from bn_app.catalog import HOME, LESSONS

import pytest
from streamlit.testing.v1 import AppTest

from bn_core import exchange
from bn_core.data import make_dataset
from tests.apptest import assert_clean, downloaded, run_page
from tests.rendered import plain

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60
WIDGET_KINDS = (
    "slider",
    "toggle",
    "selectbox",
    "radio",
    "number_input",
    "select_slider",
    "multiselect",
)
PAGES = [p for p in LESSONS]
SETTINGS_FILE_KEY = "lab.settings_file"  # the uploader of a page that loads settings files


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
    a choice control offers (bn_app.ui records them; the widget itself only has labels)."""
    if getattr(widget.proto, "disabled", False):
        return None
    kind, value = widget.type, widget.value
    if kind == "toggle":
        return not value
    if kind == "multiselect":
        return value[:-1] if len(value) > 1 else options[:2]
    if kind in ("selectbox", "radio", "select_slider"):
        if value not in options:  # a question not answered yet (bn_app.ui.predict)
            return options[0]
        return options[(options.index(value) + 1) % len(options)] if len(options) > 1 else None
    if kind in ("slider", "number_input"):
        step = widget.step or 1
        lo, hi = widget.min, widget.max
        if isinstance(value, tuple):
            return None
        new = value + step if hi is None or value + step <= hi else value - step
        return new if lo is None or new >= lo else None
    return None


# Starting links that bring out the controls a page draws only under some settings (an
# optimizer's betas, the Gaussian init's scale, the unit chooser of some views). Their names
# stay as given; every other control drawn is moved.
SCENARIOS = {
    "training_lab": [
        {},
        {"opt": "adam", "init": "gaussian", "view": "minibatch", "bn": "1"},
        {"opt": "momentum", "view": "gamma_beta"},
    ],
}
CONTROLS = (
    "slider",
    "number",
    "choice",
    "steps",
    "multichoice",
    "toggle",
    "predict",
)  # of bn_app.ui


# Modules of pages/ that draw part of a page (and bind controls of its own).
PAGE_PARTS = {"training_lab": ["bn_app/lab_gamma_beta.py"]}


def control_names(page):
    """Every name a page binds a control to: the second argument of its ui.<control>(...)
    calls, read from its source and from the parts it draws with (PAGE_PARTS)."""
    names = set()
    sources = [page.file, *PAGE_PARTS.get(page.url_path, [])]
    trees = [ast.parse((ROOT / source).read_text()) for source in sources]
    for node in (node for tree in trees for node in ast.walk(tree)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "ui"
            and node.func.attr in CONTROLS
        ):
            name = node.args[1]
            assert isinstance(name, ast.Constant), f"{page.file}: a control named by code"
            names.add(name.value)
            if node.func.attr == "predict":  # a question and its "just show me" switch
                names.add(name.value + ui.SKIP_SUFFIX)
    return names


def move_every_control(at, slug, held):
    """Move every control drawn, except those named in `held`, to another valid value; again
    for the controls the moves bring out, until none is left. Returns the names moved."""
    moved = set(held)
    while True:
        todo = {
            key: w
            for key, w in bound_controls(at, slug).items()
            if key.split(".", 1)[1] not in moved
        }
        if not todo:
            return moved - set(held)
        for key, widget in todo.items():
            name = key.split(".", 1)[1]
            moved.add(name)
            new = other_value(widget, at.session_state[ui._STATE_KEY].options.get(name))
            if new is not None:
                widget.set_value(new)
        at.run()
        assert_clean(at)


def shown_state(at, slug):
    return {key: w.value for key, w in bound_controls(at, slug).items()}


def load_settings_file(page, data):
    """A fresh session of the page that loads the settings file `data` (bytes)."""
    at = open_page(page)
    uploader = next(u for u in at.get("file_uploader") if u.key == SETTINGS_FILE_KEY)
    return uploader.set_value(("run.json", data, "application/json")).run()


@pytest.mark.parametrize("lesson", PAGES, ids=[p.url_path for p in PAGES])
def test_every_control_round_trips_through_the_link_and_the_settings_file(lesson, downloads):
    page, slug = lesson, lesson.url_path
    verified = set()
    for held in SCENARIOS.get(slug, [{}]):
        at = open_page(page, held)
        assert_clean(at)
        moved = move_every_control(at, slug, held)
        query, state = dict(at.query_params), shown_state(at, slug)
        verified |= moved & {key.split(".", 1)[1] for key in state}
        has_file = any(u.key == SETTINGS_FILE_KEY for u in at.get("file_uploader"))
        # what the page's own download gives (read now: the next session replaces the store)
        saved = downloaded(at, "Settings (JSON)") if has_file else None

        again = open_page(page, query)
        assert_clean(again)
        assert shown_state(again, slug) == state, f"the link ?{query} does not reproduce it"
        assert dict(again.query_params) == query

        if has_file:
            loaded = load_settings_file(page, saved)
            assert_clean(loaded)
            assert shown_state(loaded, slug) == state, "the settings file does not reproduce it"
            assert dict(loaded.query_params) == query
    missing = control_names(page) - verified
    assert not missing, f"never moved and checked: {sorted(missing)} (add a scenario)"


def test_home_opens_and_links_every_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert_clean(at)
    links = {link.proto.page for link in at.get("page_link")}
    assert all(any(page.url_path in link for link in links) for page in LESSONS), links
    assert at.title[0].value.endswith(HOME.title)


HOSTILE_VALUES = [
    "",
    "-1",
    "1e309",
    "nan",
    "inf",
    "99999999999999999999",
    "0x10",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "é✓🧪",
    "%00",
    "1,2",
    "[1]",
    '{"a": 1}',
    "0.5",
    "3",
    "adam",
    "x" * 2000,
]


def hostile_queries(page, names, n=3, seed=0):
    rng = random.Random(f"{seed}-{page.url_path}")
    pool = [*names, "present", "unknown", "__proto__", "page", "x" * 300]
    return [
        {rng.choice(pool): rng.choice(HOSTILE_VALUES) for _ in range(rng.randint(1, 8))}
        for _ in range(n)
    ]


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


# --- settings that can't apply yet, and the lab's unit chooser --------------------------------

LAB = next(p for p in LESSONS if p.url_path == "training_lab")


def test_lab_settings_wait_in_the_link_for_the_own_data_file():
    query = {"data": "own", "layers": "6", "lr": "0.1"}
    at = open_page(LAB, query)
    assert_clean(at)
    assert dict(at.query_params) == query  # kept while the file is not there
    assert not at.toast  # and not called "not a setting of this page"
    X, y = make_dataset("moons", n=60, noise=0.1, seed=0)
    uploader = next(u for u in at.get("file_uploader") if u.key == "lab.own_file")
    uploader.set_value(("mine.csv", exchange.points_csv(X, y).encode(), "text/csv")).run()
    assert_clean(at)
    trainer = at.session_state["lab.trainer"]
    assert len(trainer.net.config.layer_dims) - 2 == 6  # applied once it could be
    assert at.select_slider(key="training_lab.lr").value == 0.1
    assert dict(at.query_params) == query


def test_lab_units_shown_come_back_from_a_link_and_a_settings_file():
    settings = {"view": "minibatch", "units_shown": "1,3"}
    text = exchange.settings_json(LAB.url_path, settings).encode()
    for at in (open_page(LAB, settings), load_settings_file(LAB, text)):
        assert_clean(at)
        assert at.multiselect(key="training_lab.units_shown").value == [1, 3]
        assert at.query_params["units_shown"] == "1,3"


def test_lab_refuses_more_units_than_it_shows():
    at = open_page(LAB, {"view": "minibatch", "units_shown": "0,1,2,3,4"})
    assert_clean(at)
    assert at.multiselect(key="training_lab.units_shown").value == [0, 1, 2]
    assert "units_shown" in " ".join(plain(t.proto.body) for t in at.toast)
