"""Accessibility that Streamlit does not provide, as two tiny inline components.

`watch_page()` mounts page.js once per run (pages call it through bn_app.ui.end_page): it makes
sideways-scrolling formula and code boxes reachable by keyboard, gives every chart that
carries a name and a description in `layout.meta[CHART_TEXT_META]` a figure role named by
them, and takes the chart toolbars' buttons but "Download" out of the Tab order.

`live_status(text, busy)` is a polite live region for a page whose state changes by itself
(the Training Lab while it trains): a screen reader hears `text`, at most once every
`every_s` seconds while `busy`, and at once when it is not (the full state on Pause).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
CHART_TEXT_META = "bnlab_text"  # page.js reads the same key
ANNOUNCE_EVERY_S = 5.0

_page = st.components.v2.component(
    "bnlab_page_watcher",
    js=(HERE / "page.js").read_text(encoding="utf-8"),
    css=(HERE / "page.css").read_text(encoding="utf-8"),
    isolate_styles=False,
)
_status = st.components.v2.component(
    "bnlab_live_status",
    js=(HERE / "live_status.js").read_text(encoding="utf-8"),
    isolate_styles=False,
)  # the page's .bnlab-sr-only applies


def watch_page():
    """Mount the page watcher (it draws nothing)."""
    _page(key="bnlab.page_watcher")


def live_status(text, busy, key="bnlab.live_status", every_s=ANNOUNCE_EVERY_S):
    """Announce `text` (plain words, no markdown) politely: while `busy`, at most once every
    `every_s` seconds (the latest text then); when not busy, at once."""
    _status(key=key, data={"text": str(text), "busy": bool(busy), "every_ms": 1000 * every_s})
