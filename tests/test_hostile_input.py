"""Hostile links, uploads and settings files put none of their own markdown on screen.

A shared link, an uploaded file's name, a CSV's labels and column names, a settings file's keys
and values all reach the page's text (in "Ignored from the link" notices and in refusals).
Every page is opened with them, and every element's text (toasts included) is read the way
Streamlit's renderer reads it: a link, an image, HTML or math coming from them fails the test.
"""

import json

from bn_app import ui
from bn_app.catalog import HOME, LESSONS

import pytest

from bn_core import exchange
from tests.apptest import assert_clean, run_page
from tests.rendered import plain, rendered, shown_texts

PAGES = [HOME, *LESSONS]
LAB = "pages/training_lab.py"
TIMEOUT = 60
# The issue's example: close the notice's code span, then an image and a link from elsewhere.
PHISH = (
    "x`![logo](https://phish.example/logo.png)"
    "[Session expired - log in again](https://phish.example/login)"
)
# ... and the other ways markdown could carry someone else's words.
EXTRAS = (
    "https://phish.example/a www.phish.example me@phish.example "
    "<img src=https://phish.example/b.png> $\\text{PWNED}$ :red[PWNED]"
)
HOSTILE = PHISH + " " + EXTRAS
MARKERS = ("phish", "PWNED")


def assert_shown_as_text(at):
    """Fail on any element text that renders a link, image, HTML or math carrying the hostile
    input (naming the first few, shortened)."""
    bad = []
    for text in shown_texts(at):
        hits = [
            f"{kind} {src[:60]}"
            for kind, src in rendered(text)
            if any(marker in src for marker in MARKERS)
        ]
        if hits:
            bad.append(f"{text[:120]!r} renders {hits[:4]}")
    assert not bad, "\n".join(bad[:5])


def script(page):
    """The file AppTest opens for a page: the home page only runs through the router."""
    return "app.py" if page is HOME else page.file


def bound_names(at, slug):
    """Names of the URL-bound controls the last run drew (their keys are "<slug>.<name>")."""
    prefix = f"{slug or 'home'}."
    return sorted(
        k.split(".", 1)[1] for k in at.session_state if isinstance(k, str) and k.startswith(prefix)
    )


def texts_with(at, needle):
    return [t for t in shown_texts(at) if needle in t]


@pytest.mark.parametrize("page", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_hostile_link_names_and_values_render_as_text(page):
    names = bound_names(run_page(script(page), timeout=TIMEOUT), page.url_path)
    query = {name: HOSTILE for name in names} | {PHISH: "1", EXTRAS: HOSTILE}
    at = run_page(script(page), query, TIMEOUT)
    assert_clean(at)
    assert at.toast, "the hostile link was not reported"
    assert_shown_as_text(at)


def test_the_issues_example_link_on_step_by_step():
    at = run_page("pages/step_by_step.py", {"act": PHISH}, TIMEOUT)
    notice = " ".join(t.proto.body for t in at.toast)
    assert "act" in notice and "Session expired" in notice, notice
    assert_shown_as_text(at)


def test_a_nameless_parameter_is_named_so():
    at = run_page("pages/step_by_step.py", {"": "1", " ": "2"}, TIMEOUT)
    notice = " ".join(plain(t.proto.body) for t in at.toast)
    assert "(no name) (not a setting of this page)" in notice, notice


def test_long_link_values_are_cut_short_with_an_ellipsis():
    at = run_page("pages/step_by_step.py", {"act": "x" * 5000, "y" * 5000: "1"}, TIMEOUT)
    notice = " ".join(t.proto.body for t in at.toast)
    assert "…" in notice and len(notice) < 600, notice[:1000]


# --- the Training Lab's files ---------------------------------------------------------------


def upload(at, key, name, content):
    uploader = next(u for u in at.get("file_uploader") if u.key == key)
    return uploader.set_value((name, content, "text/csv")).run()


def points(labels, n=40):
    rows = ["x1,x2,label"] + [f"{i / n},{(i % 7) / 7},{labels[i % len(labels)]}" for i in range(n)]
    return "\n".join(rows).encode()


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        (PHISH + ".csv", b"a,b\n1,2\n"),  # the file's name
        ("labels.csv", points(["a", "b"]).replace(b",a\n", b"," + PHISH.encode() + b"\n", 1)),
        ("columns.csv", f"x1,x2,{PHISH},{EXTRAS}\n1,2,3,4\n".encode()),  # column names
    ],
    ids=["file-name", "label", "column-names"],
)
def test_hostile_point_files_render_as_text(file_name, content):
    at = run_page(LAB, {"data": "own"}, TIMEOUT)
    at = upload(at, "lab.own_file", file_name, content)
    assert_clean(at)
    assert at.error, "the file was not refused"
    assert_shown_as_text(at)


def test_a_refusal_quoting_a_huge_label_is_cut_short():
    huge = "z" * 131_000
    at = run_page(LAB, {"data": "own"}, TIMEOUT)
    at = upload(
        at,
        "lab.own_file",
        "huge.csv",
        points(["a", "b"]).replace(b",a\n", f",{huge}\n".encode(), 1),
    )
    assert_clean(at)
    assert at.error and all(len(e.value) < 1000 for e in at.error), [len(e.value) for e in at.error]


def settings_file(settings, page="training_lab"):
    return json.dumps(
        {
            "app": exchange.APP_NAME,
            "version": exchange.SETTINGS_VERSION,
            "page": page,
            "settings": settings,
        }
    ).encode()


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        (PHISH + ".json", settings_file({"lr": "0.1"})),  # the file's name
        ("keys.json", settings_file({PHISH: "1", EXTRAS: "2"})),  # settings keys
        ("values.json", settings_file({"lr": PHISH, "act": EXTRAS})),  # settings values
        ("page.json", settings_file({"lr": "0.1"}, page=PHISH)),  # its page
        ("nested.json", settings_file({PHISH: {"a": 1}})),  # a key, refused
    ],
    ids=["file-name", "keys", "values", "page", "refused-key"],
)
def test_hostile_settings_files_render_as_text(file_name, content):
    at = run_page(LAB, timeout=TIMEOUT)
    at = upload(at, "lab.settings_file", file_name, content)
    assert_clean(at)
    assert_shown_as_text(at)


# --- the escaping itself ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "lr=0.1",
        "mine (2).csv",
        "a_b*c* #1 <x> & $5 :red[x] 1. ~y~",
        "back\\slash `tick` [a](b) ![c](d)",
        "é✓🧪 héllo",
    ],
)
def test_user_text_reads_as_typed(text):
    assert plain(ui.user_text(text)) == text
    assert rendered(ui.user_text(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        PHISH,
        EXTRAS,
        HOSTILE,
        "https://a.example",
        "WWW.a.example",
        "a@b.example",
        "<a href='x'>y</a>",
        "$$x$$",
        "```\ncode\n```",
    ],
)
def test_user_text_renders_nothing_but_text(text):
    shown = ui.user_text(text, limit=1000)
    assert rendered(shown) == []
    assert rendered(f"Ignored: **{shown}** ({shown})") == []


def test_user_text_is_one_short_line():
    assert plain(ui.user_text("a\nb\r\n\tc\u2028d  e")) == "a b c d e"
    assert plain(ui.user_text("# heading")) == "# heading"
    cut = plain(ui.user_text("x" * 131_000))
    assert len(cut) == ui.USER_TEXT_LIMIT and cut.endswith("…")
    assert plain(ui.user_text("\u202eevil\x00")) == "\ufffdevil\ufffd"
