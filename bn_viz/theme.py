"""One template and one colour meaning for every figure in the app, readable by every student.

A network with batch norm is always BN_COLOR, one with layer norm LN_COLOR, one without
normalization PLAIN_COLOR; the stages of a layer (Z, Z_norm, Z_tilde, A) always STAGE_COLORS.
Figures arrive in the page ready to show.

Accessibility (WCAG 2.1 AA), checked by tests/test_theme.py and, on the rendered pages, by
tests/e2e/test_visual_accessibility.py:
- Every colour that marks a series is from Okabe & Ito's palette for colour-vision deficiencies
  (or a neutral grey) and has at least 3:1 contrast against both templates' backgrounds (white,
  and the dark theme's #0e1117), so one series colour serves both.
- Chart text (titles, axis titles, tick labels, annotations) is the template's TEXT colour, at
  least 4.5:1 against its background. Text never takes a series colour: a title that names a
  network puts a coloured swatch (a graphical mark, 3:1) before plain text.
- Series that must be told apart differ by more than colour: train and test by dash
  (TEST_DASH), classes and the two kinds of examples by marker symbol, networks by name in
  the legend and a symbol or a subplot title.
- TEMPLATE is registered with Plotly and is the default; DARK_TEMPLATE is the same with the
  dark theme's colours (for_dark puts a figure in it).
"""

from __future__ import annotations

import copy
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

# --- series colours (Okabe & Ito 2008, "Color Universal Design"), contrast on white / dark ---
BLUE = "#0072B2"  # 5.2 / 3.6
VERMILLION = "#D55E00"  # 3.9 / 4.9
BLUISH_GREEN = "#009E73"  # 3.4 / 5.5
REDDISH_PURPLE = "#B8608F"  # Okabe-Ito's #CC79A7, darkened to 4.1 / 4.6
DARK_ORANGE = "#B07800"  # Okabe-Ito's #E69F00, darkened to 3.8 / 5.0
GREY = "#737373"  # 4.7 / 4.0

BN_COLOR = BLUE  # batch norm on
PLAIN_COLOR = VERMILLION  # the same network without batch norm (without normalization)
LN_COLOR = BLUISH_GREEN  # layer norm
TEST_DASH = "dash"  # test-set curves are dashed, train solid
STAGE_COLORS = {"Z": GREY, "Z_norm": REDDISH_PURPLE, "Z_tilde": BLUISH_GREEN, "A": VERMILLION}
# classes leave out the three network colours; orange and purple first (told apart by every
# colour vision), all 3:1 on both backgrounds
CLASS_COLORS = (
    DARK_ORANGE,
    "#8C6BB1",
    GREY,
    REDDISH_PURPLE,
    "#5E8C00",
    "#A0522D",
    "#1F7A8C",
    "#937860",
    "#7F7F3F",
    "#8A6D3B",
)
# each class also has its own marker symbol: a class is never told by colour alone
CLASS_SYMBOLS = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "triangle-down",
    "pentagon",
    "hexagon",
    "star",
    "cross",
    "x",
)
RUNNING_COLOR = GREY  # running averages used at test time
POPULATION_COLOR = REDDISH_PURPLE  # the population value (the whole training set's), dashed
MISTAKE_COLOR = DARK_ORANGE  # a common mistake, drawn as an outline
ALIVE_COLOR, ALIVE_SYMBOL = BLUISH_GREEN, "circle"  # examples on a slope of the activation
DEAD_COLOR, DEAD_SYMBOL = VERMILLION, "x"  # examples where it is flat (saturated / dead)
NET_SYMBOLS = {"batch": "circle", "layer": "diamond", None: "square"}
# the layers of one network in one colour, told apart by dash (first layer solid)
LAYER_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
SERIES_COLORS = (
    BN_COLOR,
    PLAIN_COLOR,
    LN_COLOR,
    *STAGE_COLORS.values(),
    *CLASS_COLORS,
    RUNNING_COLOR,
    POPULATION_COLOR,
    MISTAKE_COLOR,
    ALIVE_COLOR,
    DEAD_COLOR,
)

# --- the two templates: background, text, lines -----------------------------------------------
LIGHT = {
    "background": "#ffffff",
    "text": "#262730",
    "muted": "#555863",
    "grid": "#e6e6e9",
    "line": "#8a8d96",
    "hover": "#ffffff",
}
DARK = {
    "background": "#0e1117",
    "text": "#f0f1f4",
    "muted": "#c2c5cc",
    "grid": "#2a2e37",
    "line": "#80848e",
    "hover": "#262730",
}
MUTED_TEXT = LIGHT["muted"]  # secondary chart text (light theme; for_dark swaps it)
INK = LIGHT["text"]  # black-ish marks: a start, a minimum, a sum (for_dark swaps it)
DIAGRAM_TEXT = "#262730"  # text on the pale boxes of a diagram, in either theme
DIAGRAM_LINE = "#6c6f78"  # box outlines and arrows of a diagram (4.9:1 on white)
DIAGRAM_FILLS = {"a": "#fdecea", "z": "#eeeeee", "zt": "#e6f4e6", "out": "#e8eef8"}
CONTOUR_COLORS = [[0.0, "#f7fbff"], [1.0, "#c6dbef"]]  # a loss surface's levels: background
CONTOUR_LINE = "#6b8fb5"
DROPOUT_COLOR = REDDISH_PURPLE  # simulated dropout noise
PASS_COLOR, FAIL_COLOR, FAIL_PATTERN = BN_COLOR, VERMILLION, "x"  # a check's bars
# keyboard focus rings on the page's controls (bn_app/a11y.css): 5.2:1 on white, 3.6:1 on dark
FOCUS_COLOR = BLUE
TITLE_SIZE = 15  # px, a chart title
TEMPLATE = "bnlab"
DARK_TEMPLATE = "bnlab_dark"


def _template(c):
    """A Plotly template: plotly_white's layout with these colours for text and lines."""
    t = copy.deepcopy(pio.templates["plotly_white"])
    axis = {
        "color": c["text"],
        "tickfont": {"color": c["muted"]},
        "gridcolor": c["grid"],
        "linecolor": c["line"],
        "zerolinecolor": c["line"],
        "title": {"font": {"color": c["text"]}},
        "automargin": True,
    }
    t.layout.update(
        paper_bgcolor=c["background"],
        plot_bgcolor=c["background"],
        font={"color": c["text"]},
        title={"font": {"color": c["text"], "size": TITLE_SIZE}},
        legend={"font": {"color": c["text"]}, "bgcolor": "rgba(0,0,0,0)"},
        xaxis=axis,
        yaxis=axis,
        colorway=list(SERIES_COLORS[:3]) + list(CLASS_COLORS[1:]),
        hoverlabel={"bgcolor": c["hover"], "font": {"color": c["text"]}},
        annotationdefaults={"font": {"color": c["text"]}},
        # no animated changes: a figure changes at once (prefers-reduced-motion and calm)
        transition={"duration": 0},
    )
    return t


pio.templates[TEMPLATE] = _template(LIGHT)
pio.templates[DARK_TEMPLATE] = _template(DARK)
pio.templates.default = TEMPLATE


def template_json(dark=False):
    """The light (or dark) template as plain JSON, for Plotly.js (which knows no template by
    name)."""
    return pio.templates[DARK_TEMPLATE if dark else TEMPLATE].to_plotly_json()


NET_COLORS = {"batch": BN_COLOR, "layer": LN_COLOR, None: PLAIN_COLOR}
NET_LABELS = {
    "batch": "with batch norm",
    "layer": "with layer norm",
    None: "without normalization",
    False: "without batch norm",
}


def _normalization(normalization):
    """ "batch", "layer" or None from a network's normalization: those, "none", or a bool
    (batch norm on or off, as the lessons about batch norm say it)."""
    if normalization is True:
        return "batch"
    if normalization is False or normalization == "none":
        return None
    if normalization not in NET_COLORS:
        raise ValueError(f"unknown normalization {normalization!r}")
    return normalization


def net_color(normalization):
    """The colour of a network by its normalization: "batch", "layer", None or "none" (True
    and False: batch norm on and off)."""
    return NET_COLORS[_normalization(normalization)]


def net_symbol(normalization):
    """The marker symbol of a network by its normalization (its second channel)."""
    return NET_SYMBOLS[_normalization(normalization)]


def net_marker(normalization):
    """Markers for a network's main line: its symbol, a few along the line (a second channel
    beside colour; the legend shows it too)."""
    return {"symbol": net_symbol(normalization), "size": 8, "maxdisplayed": 8}


def net_label(normalization):
    """A network's name by its normalization: "with batch norm", "with layer norm", "without
    normalization". False (batch norm off, in the lessons that only compare batch norm with
    nothing) reads "without batch norm"."""
    if normalization is False:
        return NET_LABELS[False]
    return NET_LABELS[_normalization(normalization)]


def swatch(color):
    """A coloured square to put before a title's plain text (HTML for Plotly's text): the
    colour is a mark (3:1), the words stay in the template's text colour (4.5:1)."""
    return f"<span style='color:{color}'>■</span>"


def net_title(normalization):
    """A subplot title naming a network: its swatch and its name in bold."""
    return f"{swatch(net_color(normalization))} <b>{net_label(normalization)}</b>"


# --- titles that fit a narrow screen (WCAG 1.4.10 reflow: 320 px, 200% zoom) ------------------
# Plotly never wraps text: a long title is cut at the figure's edge and subplot titles run into
# each other. fit_titles breaks them into lines as the chart is shown (bn_app.ui.chart, and the
# live charts' messages), with SOFT_BREAK, which unwrap turns back into a space.
TITLE_CHARS = 34  # a chart title's line at most: at TITLE_SIZE it fits a chart 288 px wide
SUBPLOT_TITLE_CHARS = 30  # a subplot title's line
SOFT_BREAK = " <br>"  # a line break fit_titles added (the figures' own are a bare "<br>")
TITLE_LINE_PX = 18  # the height each extra line of title takes
_BREAKABLE = re.compile(r" (?![^<]*>)")  # a space outside an HTML tag


def wrap(text, width=TITLE_CHARS):
    """Plotly text broken into lines of at most about `width` visible characters, at spaces
    outside HTML tags (SOFT_BREAK); its own line breaks kept."""
    if not text:
        return text
    parts = []
    for part in str(text).split("<br>"):
        lines, line, length = [], [], 0
        for word in _BREAKABLE.split(part):
            visible = len(re.sub(r"<[^>]*>", "", word))
            if line and length + 1 + visible > width:
                lines.append(" ".join(line))
                line, length = [], 0
            line.append(word)
            length += visible + (1 if length else 0)
        lines.append(" ".join(line))
        parts.append(SOFT_BREAK.join(lines))
    return "<br>".join(parts)


def unwrap(text):
    """The text as the figure built it, before wrap."""
    return text.replace(SOFT_BREAK, " ") if isinstance(text, str) else text


def _subplot_title(note):
    return (
        note.get("xref") == "paper"
        and note.get("yref") == "paper"
        and note.get("showarrow") is False
        and note.get("yanchor") == "bottom"
        and note.get("xanchor", "center") == "center"
        and "textangle" not in note
    )


def fit_titles(layout):
    """A figure's layout (a dict, as Plotly's JSON) with its title and subplot titles wrapped
    for a narrow screen and the top margin grown by the title's extra lines (in place; returns
    it)."""
    title = layout.get("title")
    text = title.get("text") if isinstance(title, dict) else title
    if text:
        wrapped = wrap(text)
        extra = wrapped.count(SOFT_BREAK)
        layout["title"] = {**(title if isinstance(title, dict) else {}), "text": wrapped}
        if extra:
            margin = dict(layout.get("margin") or {})
            margin["t"] = margin.get("t", 60) + TITLE_LINE_PX * extra
            layout["margin"] = margin
    notes = layout.get("annotations") or []
    layout["annotations"] = [
        {**n, "text": wrap(n["text"], SUBPLOT_TITLE_CHARS)}
        if _subplot_title(n) and n.get("text")
        else n
        for n in notes
    ]
    if not notes:
        layout.pop("annotations")
    top = _top_row_extra_lines(layout.get("annotations") or [])
    if top:
        margin = dict(layout.get("margin") or {})
        margin["t"] = margin.get("t", 60) + TITLE_LINE_PX * top
        layout["margin"] = margin
    return layout


def _top_row_extra_lines(notes):
    """The most lines wrap added to a subplot title of the top row (it grows upwards, into
    the top margin)."""
    return max(
        [
            n["text"].count(SOFT_BREAK)
            for n in notes
            if _subplot_title(n) and n.get("text") and n.get("y", 0) >= 0.99
        ]
        or [0]
    )


def fit_figure(fig):
    """fit_titles for a go.Figure (in place; returns it)."""
    text = fig.layout.title.text
    if text:
        wrapped = wrap(text)
        fig.layout.title.text = wrapped
        extra = wrapped.count(SOFT_BREAK)
        if extra:
            fig.layout.margin.t = (fig.layout.margin.t or 60) + TITLE_LINE_PX * extra
    for note in fig.layout.annotations:
        if note.text and _subplot_title(note.to_plotly_json()):
            note.text = wrap(note.text, SUBPLOT_TITLE_CHARS)
    top = _top_row_extra_lines([n.to_plotly_json() for n in fig.layout.annotations])
    if top:
        fig.layout.margin.t = (fig.layout.margin.t or 60) + TITLE_LINE_PX * top
    return fig


def f32(values):
    """float32 for Plotly: it ships such arrays as compact base64 (half the bytes of float64)."""
    return np.asarray(values, dtype=np.float32)


def finish(fig, title=None, height=320, **layout):
    """Common layout: template, title, tight margins, legend on top."""
    fig.update_layout(
        template=TEMPLATE,
        title=title,
        height=height,
        margin={"l": 50, "r": 20, "t": 60 if title else 30, "b": 40},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        **layout,
    )
    return fig


_DARK_SWAP = {MUTED_TEXT: DARK["muted"], INK: DARK["text"]}


def for_dark(fig):
    """The figure in the dark template, INK and MUTED_TEXT swapped for the dark theme's text
    colours (in place; returns it). Series colours serve both templates."""
    fig.update_layout(template=DARK_TEMPLATE)
    for old, new in _DARK_SWAP.items():
        fig.update_annotations(font_color=new, selector={"font": {"color": old}})
        fig.update_annotations(arrowcolor=new, selector={"arrowcolor": old})
        fig.update_shapes(line_color=new, selector={"line": {"color": old}})
        fig.update_traces(marker_color=new, selector={"marker": {"color": old}})
        fig.update_traces(line_color=new, selector={"line": {"color": old}})
    return fig


def empty_figure(message, height=240):
    """A figure that says why it has nothing to show yet (never an empty frame)."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font={"size": 14}
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return finish(fig, height=height)
