"""Reading the Training Lab's live charts back from what a page sent (AppTest): the messages of
the live chart component (bn_live), and the figures in them, in page order."""

import json

import numpy as np

from tests.plotly_spec import decode


def messages(at):
    """Each live chart component's message, in page order."""
    return [json.loads(element.proto.json) for element in at.get("bidi_component")]


def figures(at):
    """The figure each live chart holds after this run, in page order (charts whose message
    holds a whole figure, as every full page run sends)."""
    out = []
    for message in messages(at):
        for chart in message["charts"]:
            assert "figure" in chart, f"{chart['id']}: no whole figure in a full run"
            out.append(chart["figure"])
    return out


def n_points(fig, name=None):
    """How many finite points the figure's traces (those called `name`, or all) hold."""
    return sum(int(np.isfinite(decode(t["y"]).astype(float)).sum()) for t in fig["data"]
               if "y" in t and name in (None, t.get("name")))
