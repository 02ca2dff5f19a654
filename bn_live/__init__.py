"""The live chart component: Plotly.js figures that stay mounted in the page while the network
trains, and take in only what is new each tick.

A Streamlit custom component of the v2 kind (st.components.v2: inline in the page, no iframe;
docs/LIVE_CHARTS.md says why and what was measured). Python hands it one message per run,
built by bn_viz.live: for each chart either a whole figure or the points after the last step
the browser has. NumPy arrays travel as base64 float32 (Plotly's own {"dtype", "bdata"} form),
the browser appends them with extendTraces and plays them back at an even pace until the next
tick (live_chart.js). Plotly.js is the copy inside the installed plotly package, served by
this Streamlit server: no CDN, so the app works offline.
"""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import numpy as np
import plotly
import streamlit as st
from streamlit.components import v1 as components_v1

HERE = Path(__file__).resolve().parent
PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
# Registering the package's folder as a (v1) component is the public way to have Streamlit
# serve a file of it: /component/<module>.<name>/<file>, cached by the browser.
components_v1.declare_component("plotly_js", path=str(PLOTLY_DIR))
PLOTLY_URL = f"component/{__name__}.plotly_js/plotly.min.js"

_live_chart = st.components.v2.component(
    "bnlab_live_chart",
    # one module: explore.js (keyboard exploration) defines what live_chart.js calls
    js="\n".join(
        (HERE / name).read_text(encoding="utf-8") for name in ("explore.js", "live_chart.js")
    ),
    css=(HERE / "live_chart.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # Plotly styles its hover labels and mode bar from the page's head
)

_DTYPES = {
    np.dtype(np.float32): "f4",
    np.dtype(np.float64): "f8",
    np.dtype(np.int32): "i4",
    np.dtype(np.uint8): "u1",
    np.dtype(np.int8): "i1",
    np.dtype(np.int16): "i2",
    np.dtype(np.uint16): "u2",
    np.dtype(np.uint32): "u4",
}


def encode(value):
    """A message for the browser, JSON-ready: every NumPy array becomes Plotly's typed-array
    form {"dtype", "bdata" (base64)[, "shape"]}; float64 and int64 go as float32."""
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, np.ndarray):
        if (value.dtype.kind in "fi" and value.dtype not in _DTYPES) or value.dtype == np.float64:
            value = value.astype(np.float32)
        if value.dtype.kind in "OU":
            return value.tolist()
        if value.dtype == np.bool_:
            value = value.astype(np.uint8)
        out = {
            "dtype": _DTYPES[value.dtype],
            "bdata": base64.b64encode(np.ascontiguousarray(value).tobytes()).decode("ascii"),
        }
        if value.ndim > 1:
            out["shape"] = ",".join(str(n) for n in value.shape)
        return out
    if isinstance(value, np.generic):
        return value.item()
    return value


SESSION_KEY = "bn_live.session"


def session_token():
    """A random name for this server session, made on its first run. The browser compares it
    with the one it held: a different one under the same page means the replica that held the
    session is gone and the page reconnected to a new session elsewhere (training restarted)."""
    return st.session_state.setdefault(SESSION_KEY, secrets.token_hex(8))


def live_charts(
    key, run, charts, *, playing, interval_s, present=False, on_gap=None, template=None
):
    """Place the live charts (one component holding them, one under the other in `charts`
    order, or as the page's CSS lays them out).

    key: stable per place on the page; run: changes when training starts over (the charts
    are rebuilt); charts: bn_viz.live.chart_message dicts; playing: whether ticks follow (the
    browser paces its playback on interval_s); present: sized for a projector; on_gap: called
    when the browser finds it missed a tick and asks for the whole figures again; template:
    a Plotly template (JSON) that replaces the figures' own (the dark theme's), or None.
    """
    message = {
        "run": str(run),
        "session": session_token(),
        "playing": bool(playing),
        "interval_ms": 1000 * interval_s,
        "present": bool(present),
        "plotly_url": PLOTLY_URL,
        "charts": charts,
    }
    if template is not None:
        message["template"] = template
    return _live_chart(key=key, data=encode(message), on_gap_change=on_gap or (lambda: None))
