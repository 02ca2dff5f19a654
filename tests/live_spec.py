"""Reading the Training Lab's live charts back from what a page sent (AppTest): the messages of
the live chart component (bn_live), and the figures they build, in page order, as the browser
would hold them (a whole figure, then the points appended to it)."""

import copy
import json
import weakref

import numpy as np

from tests.plotly_spec import decode, unwrap_titles

_HELD = weakref.WeakKeyDictionary()  # AppTest -> {(place, chart id): figure}


def messages(at):
    """Each live chart component's message, in page order (other components, such as the
    page's scroll-box watcher, are left out)."""
    return [
        json.loads(element.proto.json)
        for element in at.get("bidi_component")
        if element.proto.component_name.endswith("bnlab_live_chart")
    ]


def figures(at):
    """The figure each live chart holds after this run, in page order: a whole figure as sent,
    or the figure the chart held with this run's new points appended (the arrays of extended
    traces come back as NumPy arrays)."""
    held = _HELD.setdefault(at, {})
    sent = messages(at)
    if held.get("_last_run") == sent:  # this run was read already: apply it once
        return held["_last_figures"]
    out = []
    for place, message in enumerate(sent):
        for chart in message["charts"]:
            key = (place, chart["id"])
            if "figure" in chart:
                held[key] = unwrap_titles(copy.deepcopy(chart["figure"]))
            elif "extend" in chart:
                assert key in held, f"{chart['id']}: new points for a chart never sent whole"
                for trace, x, y in zip(
                    held[key]["data"], chart["extend"]["x"], chart["extend"]["y"], strict=True
                ):
                    trace["x"] = np.concatenate([decode(trace["x"]), decode(x)])
                    trace["y"] = np.concatenate([decode(trace["y"]), decode(y)])
            out.append(held[key])
    held["_last_run"], held["_last_figures"] = sent, out
    return out


def n_points(fig, name=None):
    """How many finite points the figure's traces (those called `name`, or all) hold."""
    return sum(
        int(np.isfinite(decode(t["y"]).astype(float)).sum())
        for t in fig["data"]
        if "y" in t and name in (None, t.get("name"))
    )
