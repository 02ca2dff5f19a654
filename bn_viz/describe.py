"""Charts in words and tables: what a student who cannot see a chart reads instead.

Every chart of the app gets a short accessible name, a description with its current key
numbers, and its numbers as small tables (WCAG 2.1: 1.1.1 text alternatives; 1.3.1 the
information of a picture available as text). All three are read from the figure itself, so
they can never disagree with what is drawn.

A figure is a plotly go.Figure or a plain dict {"data": [trace dicts], "layout": {...}} (the
live charts' form). Traces are read as Plotly holds them: x and y arrays (or x0/dx), a name, a
legendgroup, the axes they sit on. Pure: no Streamlit.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass

import numpy as np

MOST_SERIES_NAMED = 10  # a description names at most this many series; the tables hold all
TABLE_ROWS = 40  # rows of a table, spread evenly over the points (the last one always in)
HIST_TABLE_BINS = 12
_TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ChartText:
    """A chart's accessible name (a few words) and description (what it shows, its numbers)."""

    name: str
    description: str


@dataclass(frozen=True)
class Table:
    """Some of a chart's numbers as a table: a caption, and columns in order, each a list of
    cells of equal length (floats, strings, or None where a series has no value)."""

    caption: str
    columns: dict


# --- reading a figure ------------------------------------------------------------------------


def plain(text):
    """Figure text as words: HTML tags (<br>, <b>, <sup>) and entities gone, spaces tidied."""
    text = _TAGS.sub(" ", str(text or ""))
    return " ".join(html.unescape(text).split())


def _as_dict(fig):
    """(traces as dicts, layout as a dict) of a go.Figure or a figure dict."""
    if isinstance(fig, dict):
        return list(fig.get("data") or []), dict(fig.get("layout") or {})
    return [t.to_plotly_json() for t in fig.data], fig.layout.to_plotly_json()


def _title_text(title):
    if isinstance(title, dict):
        return plain(title.get("text"))
    return plain(title)


def _axis(layout, name, letter):
    """The layout entry of axis `name` ("x", "x2", "y3"...)."""
    return layout.get(f"{letter}axis{name[1:]}") or {}


def _axis_title(layout, name, letter):
    return _title_text(_axis(layout, name, letter).get("title"))


def _panel_titles(layout):
    """{x axis name: the subplot title above it}, for subplot titles that are paper-positioned
    annotations centred over an x axis domain (make_subplots and lab_layout.Grid both do so)."""
    titles = {}
    notes = [
        a
        for a in layout.get("annotations") or []
        if a.get("xref", "paper") == "paper" and a.get("text") and a.get("x") is not None
    ]
    for key, axis in layout.items():
        if not (key.startswith("xaxis") and isinstance(axis, dict) and axis.get("domain")):
            continue
        centre = sum(axis["domain"]) / 2
        y_axis = _axis(layout, "y" + key[5:], "y")
        top = (y_axis.get("domain") or [0, 1])[1]
        near = [
            a
            for a in notes
            if abs(a["x"] - centre) < 0.02
            and abs((a.get("y") if a.get("y") is not None else top) - top) < 0.08
        ]
        if near:
            titles["x" + key[5:]] = plain(near[0]["text"])
    return titles


def _values(trace, letter):
    """A trace's x or y as an array (from x0/dx, y0/dy when the trace has no x or y), or None."""
    if trace.get(letter) is not None:
        return _array(trace[letter])
    other = trace.get("y" if letter == "x" else "x")
    if trace.get(f"{letter}0") is None or other is None:
        return None
    return trace[f"{letter}0"] + trace.get(f"d{letter}", 1) * np.arange(
        len(_array(other)), dtype=float
    )


def _array(values):
    """Numbers as a float array; text categories (bar labels) stay as an object array."""
    if isinstance(values, dict) and "bdata" in values:  # Plotly's typed-array form
        values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    array = np.asarray(values)
    try:
        return array.astype(float)
    except (TypeError, ValueError):
        return array.astype(object)


def _num(value):
    """A number as a student reads it: 3 significant digits, no needless exponent."""
    value = float(value)
    if not np.isfinite(value):
        return "not a number" if np.isnan(value) else ("∞" if value > 0 else "−∞")
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e5:
        text = f"{value:.3g}"
    else:
        text = f"{value:.2e}"
    return text.replace("-", "−")


@dataclass
class _Series:
    """One trace, read: its name (made unique), panel, kind and numbers."""

    name: str
    panel: str  # the subplot's title, or its axes' titles, or ""
    kind: str  # "line", "points", "histogram", "bars", "grid", "other"
    x: np.ndarray | None
    y: np.ndarray | None
    z: np.ndarray | None
    x_title: str
    y_title: str


def _kind(trace):
    kind = trace.get("type", "scatter")
    if kind in ("scatter", "scattergl"):
        return "line" if "lines" in (trace.get("mode") or "lines") else "points"
    if kind == "histogram":
        return "histogram"
    if kind == "bar":
        return "bars"
    if kind in ("heatmap", "contour", "surface"):
        return "grid"
    return "other"


def _series(fig, x_title=None):
    """Every trace with something to say: not a trace of NaN only (a legend entry), nor a line
    drawn not to be hovered (hoverinfo "skip": a band's edge or fill, a faint background)."""
    traces, layout = _as_dict(fig)
    titles = _panel_titles(layout)
    default_x = x_title or ""
    names = [plain(t.get("name")) for t in traces]
    # a name used twice on one panel (a chart's faint and smoothed lines, say) takes its group's
    panels = [(t.get("xaxis", "x"), name) for t, name in zip(traces, names, strict=True)]
    out = []
    for i, (trace, name) in enumerate(zip(traces, names, strict=True)):
        if trace.get("visible") is False or (
            trace.get("hoverinfo") in ("skip", "none") and _kind(trace) in ("line", "grid")
        ):
            continue  # a band's edge or fill, a faint line, a shading: seen, not read
        group = plain(trace.get("legendgroup"))
        if not name:
            name = group or f"series {i + 1}"
        elif panels.count(panels[i]) > 1 and group and group not in name:
            name = f"{group}, {name}"
        xa, ya = trace.get("xaxis", "x"), trace.get("yaxis", "y")
        y_title = _axis_title(layout, ya, "y")
        x_title = _axis_title(layout, xa, "x") or default_x
        kind = _kind(trace)
        z = _array(trace["z"]) if trace.get("z") is not None else None
        x, y = _values(trace, "x"), _values(trace, "y")
        numbers = [a for a in (x, y, z) if a is not None and a.dtype != object]
        if kind != "other" and numbers and not any(np.isfinite(a).any() for a in numbers if a.size):
            continue
        out.append(_Series(name, titles.get(xa, ""), kind, x, y, z, x_title, y_title))
    return out, layout


# --- the accessible name and description -------------------------------------------------------


def _name(layout):
    """The figure's title in words, else its subplot titles, else "y against x"."""
    title = _title_text(layout.get("title"))
    if title:
        return title
    panels = list(dict.fromkeys(_panel_titles(layout).values()))
    if panels:
        return "; ".join(panels[:4]) + ("…" if len(panels) > 4 else "")
    x_title, y_title = _axis_title(layout, "x", "x"), _axis_title(layout, "y", "y")
    if x_title and y_title:
        return f"{y_title} against {x_title}"
    return "Chart"


def _finite(values):
    return values[np.isfinite(values)] if values is not None and values.dtype != object else None


def _say_line(s):
    x, y = s.x, s.y
    keep = np.isfinite(y) & (np.isfinite(x) if x is not None and x.dtype != object else True)
    if not keep.any():
        return f"{s.name}: no values yet"
    y = y[keep]
    x = x[keep] if x is not None else np.arange(y.size, dtype=float)
    where = s.x_title or "x"
    if y.size == 1:
        return f"{s.name}: {_num(y[0])} at {where} {_label(x[0])}"
    return (
        f"{s.name}: from {_num(y[0])} at {where} {_label(x[0])} to {_num(y[-1])} at "
        f"{_label(x[-1])} (lowest {_num(y.min())}, highest {_num(y.max())})"
    )


def _label(value):
    return str(value) if isinstance(value, str) else _num(value)


def _say_points(s):
    n = s.x.size if s.x is not None else (s.y.size if s.y is not None else 0)
    axes = ((s.x, s.x_title or "x"), (s.y, s.y_title or "y"))
    if n == 1:
        return f"{s.name}: at " + ", ".join(
            f"{title} {_label(values[0])}" for values, title in axes if values is not None
        )
    parts = [f"{s.name}: {n} points"]
    for values, title in axes:
        finite = _finite(values)
        if finite is not None and finite.size:
            parts.append(f"{title} from {_num(finite.min())} to {_num(finite.max())}")
    return ", ".join(parts)


def _say_histogram(s):
    values = _finite(s.x if s.x is not None else s.y)
    if values is None or not values.size:
        return f"{s.name}: no values yet"
    return (
        f"{s.name}: {values.size} values, mean {_num(values.mean())}, standard deviation "
        f"{_num(values.std())}, from {_num(values.min())} to {_num(values.max())}"
    )


def _say_bars(s):
    x = s.x if s.x is not None else np.arange(s.y.size, dtype=float)
    if s.y is None or not s.y.size:
        return f"{s.name}: no bars"
    if s.y.size <= 8:
        return f"{s.name}: " + ", ".join(
            f"{_label(a)}: {_num(b)}" for a, b in zip(x, s.y, strict=False)
        )
    top = int(np.nanargmax(s.y))
    return (
        f"{s.name}: {s.y.size} bars over {s.x_title or 'x'} {_label(x[0])} to "
        f"{_label(x[-1])}, the highest ({_num(s.y[top])}) at {_label(x[top])}"
    )


def _say_grid(s):
    z = _finite(s.z)
    if z is None or not z.size:
        return f"{s.name}: an empty grid"
    rows, cols = np.shape(s.z) if np.ndim(s.z) == 2 else (1, np.size(s.z))
    return f"{s.name}: a {rows} by {cols} grid of values from {_num(z.min())} to {_num(z.max())}"


_SAY = {
    "line": _say_line,
    "points": _say_points,
    "histogram": _say_histogram,
    "bars": _say_bars,
    "grid": _say_grid,
}


def describe_series(s):
    """One sentence about one series: where a line starts and ends, a histogram's spread."""
    say = _SAY.get(s.kind)
    return say(s) if say else f"{s.name}"


def chart_text(fig, name=None, summary=None, x_title=None):
    """ChartText of a figure: `name` (else the title, subplot titles or axes) and a
    description: `summary` first (a sentence the page knows best, e.g. the loss after the last
    step), then each series, panel by panel, at most MOST_SERIES_NAMED of them. x_title: what
    an untitled x axis counts (the live charts' "step")."""
    series, layout = _series(fig, x_title)
    return _text(series, layout, name, summary)


def _text(series, layout, name, summary):
    parts = [summary] if summary else []
    panel = None
    for s in series[:MOST_SERIES_NAMED]:
        said = describe_series(s)
        if s.panel and s.panel != panel:
            said = f"{s.panel}: {said}"
            panel = s.panel
        parts.append(said)
    if len(series) > MOST_SERIES_NAMED:
        parts.append(f"and {len(series) - MOST_SERIES_NAMED} more series, in the tables")
    if not series and not summary:
        parts.append("Nothing drawn yet")
    return ChartText(name or _name(layout), ". ".join(p.rstrip(".") for p in parts) + ".")


def read(fig, name=None, summary=None, x_title=None):
    """(chart_text, chart_tables) of a figure, reading it once."""
    series, layout = _series(fig, x_title)
    return _text(series, layout, name, summary), _tables(series)


# --- tables ---------------------------------------------------------------------------------


def _spread(n, most=TABLE_ROWS):
    """Indices of at most `most` rows spread evenly over n, the first and last included."""
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(int))


def _cell(value):
    if isinstance(value, str):
        return value
    value = float(value)
    return float(f"{value:.4g}") if np.isfinite(value) else None


def _shown(n, rows):
    return "" if rows == n else f" ({rows} of {n} rows, evenly spread)"


def _line_tables(series):
    """Lines and point clouds: one table per panel and shared x, a column per series."""
    groups = {}
    for s in series:
        x = s.x if s.x is not None else np.arange(s.y.size, dtype=float)
        key = (s.panel, s.x_title, x.size, x.tobytes() if x.dtype != object else tuple(x))
        groups.setdefault(key, []).append(s)
    tables = []
    for (panel, x_title, _, _), members in groups.items():
        first = members[0]
        x = first.x if first.x is not None else np.arange(first.y.size, dtype=float)
        rows = _spread(x.size)
        columns = {x_title or "x": [_cell(v) for v in x[rows]]}
        for s in members:
            column = s.name if s.name not in columns else f"{s.name} ({s.y_title})"
            columns[column] = [_cell(v) for v in s.y[rows]]
        what = ", ".join(s.name for s in members[:3]) + ("…" if len(members) > 3 else "")
        caption = f"{panel}: {what}" if panel else what
        tables.append(Table(caption + _shown(x.size, rows.size), columns))
    return tables


def _histogram_tables(series):
    """Histograms: one table per panel, shared bins, a column of counts per series."""
    groups = {}
    for s in series:
        groups.setdefault(s.panel, []).append(s)
    tables = []
    for panel, members in groups.items():
        samples = [_finite(s.x if s.x is not None else s.y) for s in members]
        both = np.concatenate([v for v in samples if v is not None] or [np.zeros(0)])
        if not both.size:
            continue
        lo, hi = float(both.min()), float(both.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1, HIST_TABLE_BINS + 1)
        columns = {"from": [_cell(v) for v in edges[:-1]], "to": [_cell(v) for v in edges[1:]]}
        for s, v in zip(members, samples, strict=True):
            columns[f"{s.name} (count)"] = [int(c) for c in np.histogram(v, edges)[0]]
        caption = (
            f"{panel}: how many values fall in each bin"
            if panel
            else ("How many values fall in each bin")
        )
        tables.append(Table(caption, columns))
    return tables


def chart_tables(fig, x_title=None):
    """The figure's numbers as Tables: lines, points and bars by panel and shared x (at most
    TABLE_ROWS rows each), histograms as counts in HIST_TABLE_BINS shared bins. Grids (the
    shaded decision regions) are left to the description: thousands of cells read as noise."""
    return _tables(_series(fig, x_title)[0])


def _tables(series):
    lines = [
        s for s in series if s.kind in ("line", "points", "bars") and s.y is not None and s.y.size
    ]
    hists = [s for s in series if s.kind == "histogram"]
    return _line_tables(lines) + _histogram_tables(hists)
