"""Reading Plotly figures back from what a page sent: the AppTest chart specs and their arrays."""

import base64
import json

import numpy as np

from bn_viz.theme import unwrap


def specs(at):
    """The figures an AppTest run drew, as dicts, in page order; their titles as the figures
    built them (bn_app.ui.chart wraps them for narrow screens: bn_viz.theme.fit_figure)."""
    return [unwrap_titles(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]


def unwrap_titles(fig):
    """A figure (dict) with its title and annotations as built, before bn_viz.theme wrapped
    them for narrow screens (in place; returns it)."""
    layout = fig.get("layout", {})
    if isinstance(layout.get("title"), dict) and "text" in layout["title"]:
        layout["title"]["text"] = unwrap(layout["title"]["text"])
    for note in layout.get("annotations", []):
        note["text"] = unwrap(note.get("text"))
    return fig


def decode(value):
    """A trace array: a plain list, or Plotly 7's base64 {"dtype", "bdata"[, "shape"]}.
    Numbers come back as float (None as NaN); text stays text."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    array = np.asarray(value)
    if array.dtype.kind in "iubf":
        return array.astype(float)
    try:
        return array.astype(float)
    except (TypeError, ValueError):
        return array
