"""Accessibility helpers that Streamlit does not provide, as a tiny inline component.

`reachable_scroll_boxes()` makes every formula and code block that scrolls sideways reachable
by keyboard (tabindex, role=region, a name): see scroll_boxes.js. Pages call it through
pages.ui.end_page, once per run.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_scroll_boxes = st.components.v2.component(
    "bnlab_scroll_boxes", js=(Path(__file__).resolve().parent / "scroll_boxes.js").read_text(
        encoding="utf-8"))


def reachable_scroll_boxes():
    """Mount the watcher (it draws nothing)."""
    _scroll_boxes(key="bnlab.scroll_boxes")
