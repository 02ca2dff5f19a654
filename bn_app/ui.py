"""Streamlit plumbing shared by every page: controls bound to the URL, presets, presentation mode,
text from users, and unexpected errors.

Every control reads its starting value from the page's query parameters and writes its value
back, so the address bar always reproduces what is on screen. A parameter that is unknown, out
of range or malformed is ignored and named in a small notice. `?present=1` hides the controls a
lesson marks as advanced and sizes text and charts for a projector.

Whatever a user supplies (a link's names and values, a file's name, text from a file, a refusal
quoting them) reaches markdown only through `user_text`, which escapes it and cuts it short.
`guarded` turns an unexpected error into an apology with the page's link, and a log entry.
"""

from __future__ import annotations

import functools
import math
import re
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st
from streamlit.logger import get_logger

import bn_a11y
from bn_viz import describe
from bn_viz import theme as viz_theme

try:  # a Streamlit internal: a fragment's error that Streamlit has already shown
    from streamlit.errors import FragmentHandledException as _ShownByStreamlit
except ImportError:  # pragma: no cover

    class _ShownByStreamlit(Exception):
        pass


LOG = get_logger(__name__)
APP_SCRIPT = Path(__file__).resolve().parents[1] / "app.py"
PRESENT = "present"
GLOBAL_PARAMS = {PRESENT}
STREAMLIT_PARAMS = {"embed", "embed_options"}  # Streamlit's own (any case): never set from code
USER_TEXT_LIMIT = 60  # characters shown at most of a name or value from a link or a file
MESSAGE_LIMIT = 240  # ... and of a refusal's message, which may quote them
MOST_PROBLEMS_NAMED = 5
CHART_LABEL_LIMIT = 60


@dataclass
class _PageState:
    slug: str
    known: set = field(default_factory=lambda: set(GLOBAL_PARAMS))
    ignored: list = field(default_factory=list)
    defaults: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)  # name -> the values a choice control offers
    values: dict = field(default_factory=dict)  # name -> URL text of each control drawn


_STATE_KEY = "_ui.page"


def _state():
    """This session's record of the page being drawn (fragment reruns reuse the last full
    run's)."""
    return st.session_state[_STATE_KEY]


def start_page(slug, title, icon=None):
    """Begin a page: title, presentation styles, and a fresh record of its URL parameters."""
    _route_through_app()
    st.session_state[_STATE_KEY] = _PageState(slug)
    st.html(_A11Y_CSS)  # a constant stylesheet only: it takes no room on the page
    if presenting():
        st.markdown(_PRESENT_CSS, unsafe_allow_html=True)  # a constant stylesheet, no user text
    st.title(f"{icon} {title}" if icon else title)


def _a11y_stylesheet():
    """bn_app/a11y.css, its focus colour from the theme: visible focus on every control,
    reflow at 320 px, reduced motion. A constant stylesheet, no user text."""
    css = (Path(__file__).resolve().parent / "a11y.css").read_text(encoding="utf-8")
    return f"<style>{css.replace('FOCUS_COLOR', viz_theme.FOCUS_COLOR)}</style>"


_A11Y_CSS = _a11y_stylesheet()


def _route_through_app():
    """Make a page run through app.py's router when Streamlit ran it on its own.

    Why: a server starts in Streamlit's old folder-of-pages mode whenever a folder named
    pages/ sits beside the main script, and leaves it only when some run calls st.navigation.
    So the first link a cold server gets to /training_lab (and every AppTest run, which
    starts that way) runs pages/training_lab.py alone: no router, no wide layout, no sidebar
    of lessons. The supported cure, a folder of another name, would break the project's
    layout (pages/ is where a contributor looks for the pages).

    What: leave that mode, run app.py (whose router runs this page as it should) and stop the
    stray run. Not st.rerun(): a rerun would drop the run's widget events, such as the button
    click an AppTest sends. On a real server only a fresh process's first runs come this way.
    """
    try:  # a Streamlit internal: if a later version moves it, links still work from "/"
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        runpy.run_path(str(APP_SCRIPT), run_name="__main__")
        st.stop()


def end_page(partial=False):
    """Name, once, any URL parameter this page did not understand; make the page's scrolling
    formula and code boxes reachable by keyboard and its charts named (bn_a11y).

    partial: the page stops before drawing all its controls (it waits for an upload, say).
    The parameters it has not read yet stay in the link, unnamed, to apply once it can.
    """
    page = _state()
    unknown = [] if partial else sorted(set(st.query_params) - page.known)
    problems = [f"{_param_name(name)} (not a setting of this page)" for name in unknown]
    problems += page.ignored
    for name in unknown:
        del st.query_params[name]
    if len(problems) > MOST_PROBLEMS_NAMED:
        more = len(problems) - MOST_PROBLEMS_NAMED + 1
        problems = [*problems[: MOST_PROBLEMS_NAMED - 1], f"{more} more"]
    if problems:
        st.toast("Ignored from the link: " + "; ".join(problems), icon="ℹ️", duration="long")
    bn_a11y.watch_page()


# --- text from users --------------------------------------------------------------------------

# Every ASCII punctuation mark: CommonMark lets a backslash escape each one, which turns off
# links, images, code spans, emphasis, HTML, $math$ and Streamlit's :color[...] directives.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# The renderer links bare URLs and e-mail addresses even when escaped ("https\://a.b"): an
# invisible word joiner before these marks breaks "http:", "www." and "a@b" apart.
_AUTOLINK_MARKS = re.compile(r"(\\[.:@])")
_WORD_JOINER = "\u2060"


def user_text(text, limit=USER_TEXT_LIMIT):
    """Text that came from a user (a link, a file, a file's name, an error message quoting
    them), ready to be put into markdown: on one line, at most `limit` characters (an
    ellipsis marks the cut), with nothing in it that markdown would turn into a link, an
    image, code, HTML or math."""
    text = str(text)
    long = len(text) > 4 * limit  # cut before the work: a file's text may be huge
    text = "".join(
        c if c.isprintable() else " " if c.isspace() else "\ufffd" for c in text[: 4 * limit]
    )
    text = re.sub(" {2,}", " ", text)
    if long or len(text) > limit:
        text = text[: limit - 1] + "…"
    return _AUTOLINK_MARKS.sub(_WORD_JOINER + r"\1", _MARKDOWN_PUNCTUATION.sub(r"\\\1", text))


def _param_name(name):
    return f"**{user_text(name)}**" if name.strip() else "*(no name)*"


# --- unexpected errors ------------------------------------------------------------------------

APOLOGY = (
    "Sorry, something went wrong on this page. It has been noted in the server's log. "
    "[Open the page's link]({link}) to start it again, or send that link to your "
    "teacher."
)


def guarded(run):
    """`run` (a page, or a fragment's function) with its unexpected errors turned into a short
    apology with the page's link on screen, and the whole story in the server's log: users
    never see a stack trace. st.rerun, st.stop and st.switch_page pass through (they are not
    Exceptions)."""

    @functools.wraps(run)
    def guarded_run(*args, **kwargs):
        try:
            return run(*args, **kwargs)
        except _ShownByStreamlit:
            raise
        except Exception:
            link = page_link()
            page = st.session_state.get(_STATE_KEY)
            LOG.exception("Unexpected error on the page %s, link %s", page and page.slug, link)
            st.error(APOLOGY.format(link=link), icon="😿")
            return None

    return guarded_run


def page_link():
    """This page's address relative to itself: its settings as a query string (percent-encoded,
    so it is safe inside a markdown link)."""
    return "?" + urlencode({name: st.query_params[name] for name in st.query_params})


def presenting():
    """Presentation mode: `?present=1` in the address."""
    return st.query_params.get(PRESENT, "0").lower() in ("1", "true", "yes", "on")


# --- controls bound to the URL ---------------------------------------------------------------


def _widget_key(name):
    return f"{_state().slug}.{name}"


def _kept_key(name):
    return f"_kept.{_state().slug}.{name}"


def _initial(name, default, parse):
    """The value a control starts from: the URL's if valid, else the one kept from earlier in
    this session (Streamlit drops widget state when the page is left), else the default."""
    raw = st.query_params.get(name)
    if raw is not None:
        try:
            return parse(raw)
        except (ValueError, TypeError) as err:
            _state().ignored.append(f"{_param_name(name)} = {user_text(raw)} ({user_text(err)})")
    return st.session_state.get(_kept_key(name), default)


def _bind(name, default, parse, show, render, advanced=False):
    """Render one control (or, when hidden in presentation mode, just resolve its value) and
    write its value to the URL. `show` turns a value into its URL text."""
    _state().known.add(name)
    _state().defaults[name] = default
    key = _widget_key(name)
    if key not in st.session_state:
        st.session_state[key] = _initial(name, default, parse)
    if advanced and presenting():
        value = st.session_state[key]
    else:
        value = render(key)
    st.session_state[_kept_key(name)] = value
    _state().values[name] = show(value)
    _write_param(name, value, default, show)
    return value


def _write_param(name, value, default, show):
    text = show(value)
    if value == default:
        if name in st.query_params:
            del st.query_params[name]
    elif st.query_params.get(name) != text:
        st.query_params[name] = text


def settings():
    """{name: URL text} of every control drawn so far in this run: the page's settings, in
    full (the URL leaves out the defaults)."""
    return dict(_state().values)


def settings_later(make):
    """A function returning make(settings()) when called later, outside the script run (a
    download's deferred data): it reads this page's record, which a fragment's rerun keeps
    up to date, so controls moved inside a fragment are in it too."""
    page = _state()
    return lambda: make(dict(page.values))


def held(name):
    """A control's current value before it is drawn in this run (widget state, else the value
    kept from earlier in the session), or None."""
    return st.session_state.get(_widget_key(name), st.session_state.get(_kept_key(name)))


def hide(*names):
    """Controls that these settings do not show (a Gaussian scale when the init is He, say):
    their values leave the address, which reproduces what is on screen, and they are not
    reported as unknown."""
    _state().known.update(names)
    for name in names:
        if name in st.query_params:
            del st.query_params[name]


def renamed(old, new, offset=0):
    """Keep an older link working after a setting was renamed: `old` leaves the address and,
    unless `new` is already there, its value moves to `new`, an integer shifted by `offset`
    (1 for a 0-based index now shown 1-based); other text moves as it is, for the control to
    refuse. Call before the control is drawn."""
    raw = st.query_params.get(old)
    if raw is None:
        return
    del st.query_params[old]
    if new in st.query_params:
        return
    try:
        st.query_params[new] = str(int(raw) + offset)
    except ValueError:
        st.query_params[new] = raw


def set_value(name, value):
    """Change a control's value from code (before it is drawn in this run)."""
    st.session_state[_widget_key(name)] = value


def slider(label, name, min_value, max_value, default, step=None, advanced=False, **kwargs):
    """An int or float slider (the type of `default` decides)."""
    is_int = isinstance(default, int) and not isinstance(default, bool)
    parse = _int_in(min_value, max_value) if is_int else _float_in(min_value, max_value)
    return _bind(
        name,
        default,
        parse,
        _show_number,
        lambda key: st.slider(label, min_value, max_value, step=step, key=key, **kwargs),
        advanced,
    )


def number(label, name, min_value, max_value, default, step=1, advanced=False, **kwargs):
    """A number input (int when `default` is an int)."""
    is_int = isinstance(default, int) and not isinstance(default, bool)
    parse = _int_in(min_value, max_value) if is_int else _float_in(min_value, max_value)
    return _bind(
        name,
        default,
        parse,
        _show_number,
        lambda key: st.number_input(label, min_value, max_value, step=step, key=key, **kwargs),
        advanced,
    )


def choice(label, name, options, default, radio=False, advanced=False, aliases=None, **kwargs):
    """A selectbox (or horizontal radio) over string options. aliases: {text: option} that a
    link or settings file may also hold (an older spelling: "1" for a switch that became a
    choice, say); matched without regard to case or surrounding spaces, and written back as
    the option."""
    options = list(options)
    _state().options[name] = options
    widget = st.radio if radio else st.selectbox
    extra = {"horizontal": True} if radio else {}
    return _bind(
        name,
        default,
        _one_of(options, aliases),
        str,
        lambda key: widget(label, options, key=key, **extra, **kwargs),
        advanced,
    )


def steps(label, name, options, default, advanced=False, **kwargs):
    """A select_slider over numeric options (a log-scale learning rate, say). A URL value
    inside the range snaps to the nearest option."""
    options = list(options)
    _state().options[name] = options
    return _bind(
        name,
        default,
        _nearest_of(options),
        _show_number,
        lambda key: st.select_slider(label, options, key=key, **kwargs),
        advanced,
    )


def multichoice(label, name, options, default, advanced=False, **kwargs):
    """A multiselect over options; the URL holds the chosen ones joined by commas."""
    options = list(options)
    _state().options[name] = options
    parse = _subset_of(options, kwargs.get("max_selections"))
    return _bind(
        name,
        list(default),
        parse,
        lambda v: ",".join(map(str, v)),
        lambda key: st.multiselect(label, options, key=key, **kwargs),
        advanced,
    )


def toggle(label, name, default, advanced=False, **kwargs):
    """An on/off switch; the URL holds 1 or 0."""
    return _bind(
        name,
        default,
        _parse_bool,
        lambda v: "1" if v else "0",
        lambda key: st.toggle(label, key=key, **kwargs),
        advanced,
    )


def _show_number(value):
    """URL text for a number: the shortest text that reads back as exactly the same float."""
    return repr(float(value)) if isinstance(value, float) else str(value)


ON_TEXTS, OFF_TEXTS = ("1", "true", "on", "yes"), ("0", "false", "off", "no")


def switch_aliases(on, off):
    """Aliases for a choice that was once an on/off switch: every text a toggle reads as on
    means the option `on`, every text it reads as off the option `off`."""
    return {**dict.fromkeys(ON_TEXTS, on), **dict.fromkeys(OFF_TEXTS, off)}


def _parse_bool(raw):
    text = raw.strip().lower()
    if text in ON_TEXTS:
        return True
    if text in OFF_TEXTS:
        return False
    raise ValueError("not on/off")


def _float_in(lo, hi):
    def parse(raw):
        try:
            value = float(raw)
        except ValueError:  # float's own message repeats the whole input
            raise ValueError("not a number") from None
        if not math.isfinite(value) or not lo <= value <= hi:
            raise ValueError(f"outside {lo:g}..{hi:g}")
        return value + 0.0  # -0 reads as 0

    return parse


def _int_in(lo, hi):
    def parse(raw):
        try:
            value = int(raw)
        except ValueError:
            raise ValueError("not a whole number") from None
        if not lo <= value <= hi:
            raise ValueError(f"outside {lo}..{hi}")
        return value

    return parse


def _one_of(options, aliases=None):
    aliases = {k.lower(): v for k, v in (aliases or {}).items()}

    def parse(raw):
        if raw in options:
            return raw
        if raw.strip().lower() in aliases:
            return aliases[raw.strip().lower()]
        raise ValueError("not one of " + _listed(options))

    return parse


def _listed(options, most=8):
    """Options for a message, the middle left out when there are many (units 0 to 63, say)."""
    texts = list(map(str, options))
    return ", ".join(texts if len(texts) <= most else [*texts[: most - 1], "…", texts[-1]])


def _subset_of(options, most=None):
    by_text = {str(option): option for option in options}

    def parse(raw):
        chosen = [part for part in raw.split(",") if part]
        unknown = [part for part in chosen if part not in by_text]
        if unknown:
            raise ValueError("not among " + _listed(by_text))
        chosen = [by_text[part] for part in dict.fromkeys(chosen)]
        if most is not None and len(chosen) > most:
            raise ValueError(f"more than {most}")
        return chosen

    return parse


def _nearest_of(options):
    inner = _float_in(min(options), max(options))

    def parse(raw):
        value = inner(raw)
        if min(options) > 0:  # then value > 0 too: nearest on a log scale
            return min(options, key=lambda option: abs(math.log(option / value)))
        return min(options, key=lambda option: abs(option - value))

    return parse


# --- predict, then look ----------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """A question the student answers before the chart that settles it is shown.

    options: the answers offered (constant text of the lesson, never from a user); answer: the
    right one; why: a sentence or two on what the chart shows.
    """

    question: str
    options: tuple
    answer: str
    why: str


SKIP_SUFFIX = "_skip"


def predict(prediction, name, skip_label="Just show me"):
    """Ask `prediction.question` as a radio (no answer chosen at first), with a "just show
    me" switch that skips it; both are bound to the URL under `name` and `name` + "_skip".

    Once answered (or skipped) the answer is given as text, in a status message a screen
    reader announces. Returns True when the chart that settles it may be shown.
    """
    p = prediction
    if p.answer not in p.options:
        raise ValueError(f"the answer {p.answer!r} is not among the options")
    options = list(p.options)
    _state().options[name] = options
    with st.container(border=True):
        st.markdown("**Predict, then look.** Answer first: the chart below appears once you have.")
        chosen = _bind(
            name,
            None,
            _one_of_or_unanswered(options),
            _show_answer,
            lambda key: st.radio(p.question, options, key=key, index=None),
        )
        skip = toggle(
            skip_label,
            name + SKIP_SUFFIX,
            False,
            help="Skip the question and show the chart and the answer now.",
        )
        if chosen is None and not skip:
            st.caption("The chart that settles it appears once you answer.")
            return False
        if chosen == p.answer:
            st.success(f"**Right: {p.answer}.** {p.why}")
        elif chosen is None:
            st.info(f"**The answer: {p.answer}.** {p.why}")
        else:
            st.info(f"**Not quite.** You said “{chosen}”; the answer is: {p.answer}. {p.why}")
    return True


def _show_answer(value):
    return "" if value is None else str(value)


def _one_of_or_unanswered(options):
    """An option, or "" (no answer yet)."""
    inner = _one_of(options)

    def parse(raw):
        return None if raw == "" else inner(raw)

    return parse


# --- presets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preset:
    """A lesson scenario: a label, one line on what it shows, and the URL settings it sets."""

    label: str
    blurb: str
    params: dict


def preset_link(preset, present=None):
    """The preset as a relative link (just its query string)."""
    params = dict(preset.params)
    if present if present is not None else presenting():
        params[PRESENT] = "1"
    return "?" + urlencode(params)


def presets(items, on_apply=None):
    """One button per preset; pressing it loads the preset's settings as a fresh link would."""
    if not items:
        return
    st.caption("Scenarios: one click sets every control; each is also a shareable link.")
    cols = st.columns(len(items))
    for col, preset in zip(cols, items, strict=True):
        tip = f"{preset.blurb}  \nLink: `{preset_link(preset)}`"
        if col.button(
            preset.label, help=tip, key=f"preset.{_state().slug}.{preset.label}", width="stretch"
        ):
            apply_params(preset.params)
            if on_apply:
                on_apply()
            st.rerun()


def apply_params(params):
    """Replace this page's settings with `params` (unknown ones are named later; Streamlit's
    own, such as `embed`, are dropped: Streamlit refuses them), keep presentation mode, and
    forget the controls' current values so they re-read the URL."""
    keep_present = presenting()
    for key in [
        k
        for k in st.session_state
        if str(k).startswith((f"{_state().slug}.", f"_kept.{_state().slug}."))
    ]:
        del st.session_state[key]
    st.query_params.from_dict(
        {
            **{k: str(v) for k, v in params.items() if k.lower() not in STREAMLIT_PARAMS},
            **({PRESENT: "1"} if keep_present else {}),
        }
    )


# --- showing figures -------------------------------------------------------------------------


def columns(spec, per_row=1, **kwargs):
    """st.columns; in presentation mode rows of `per_row` columns, since big type needs room."""
    if not presenting():
        return st.columns(spec, **kwargs)
    n = spec if isinstance(spec, int) else len(spec)
    cells = []
    while len(cells) < n:
        cells += st.columns(per_row, **kwargs) if per_row > 1 else [st.container()]
    return cells[:n]


def dark():
    """Whether the page is in Streamlit's dark theme (as far as the browser has said)."""
    return st.context.theme.type == "dark"


def chart(fig, key=None, name=None, summary=None):
    """Show a Plotly figure full width, with its accessible name and description (read from the
    figure by bn_viz.describe: `name` overrides the title, `summary` leads the description)
    and its numbers as tables under a collapsed expander. It is drawn in the app's own
    accessible template (bn_viz.theme: text 4.5:1, series 3:1; the dark one in the dark
    theme), not Streamlit's chart theme, which greys the chart text to 3.7:1, with its titles
    wrapped to fit a narrow screen. In presentation mode the type is larger."""
    text, tables = describe.read(fig, name, summary)
    fig.update_layout(
        meta={bn_a11y.CHART_TEXT_META: {"name": text.name, "description": text.description}}
    )
    if presenting():
        fig.update_layout(font={"size": 18}, height=(fig.layout.height or 320) + 80)
    viz_theme.fit_figure(fig)  # titles in lines that fit a narrow screen
    if dark():
        viz_theme.for_dark(fig)
    st.plotly_chart(fig, width="stretch", key=key, theme=None, config={"displaylogo": False})
    chart_numbers(text, tables)


def chart_numbers(text, tables):
    """A chart's description and its tables (bn_viz.describe), collapsed under the chart."""
    with st.expander(f"🔢 The numbers: {user_text(text.name, CHART_LABEL_LIMIT)}"):
        st.caption(user_text(text.description, MESSAGE_LIMIT * 4))
        for table in tables:
            st.markdown(f"**{user_text(table.caption, MESSAGE_LIMIT)}**")
            st.table(table.columns)


def num(value):
    """A number of the core as page text writes it: :g, with exponents as the course and the
    frameworks write them (1e-5, not 1e-05)."""
    return f"{value:g}".replace("e-0", "e-").replace("e+0", "e+")


_PRESENT_CSS = """
<style>
  [data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
  [data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
  [data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.35rem; }
  [data-testid="stMain"] .katex { font-size: 1.5em !important; }
</style>
"""
