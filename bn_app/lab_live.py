"""The Training Lab's live charts on the server side: what the browser holds at each place of
the page, what to send it next (a whole figure or only the new steps), and the tick's pace.

Session state keeps, per place ("loss", "accuracy", "data", "view"), the chart the browser
holds, of which run (a new trainer is a new run) and up to which step. A full page run may
have remounted the charts, so it sends whole figures, except after Play, Pause or a change of
pace (`keep_mounted`). docs/LIVE_CHARTS.md tells the whole story.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bn_app import lab_options as opts
from bn_app import ui

import streamlit as st

import bn_live
from bn_viz import live

RUN_KEY, HELD_KEY, WHOLE_KEY = "lab.run", "lab.live_held", "lab.live_whole"
KEEP_KEY = "lab.live_keep"  # a full run that cannot have remounted the charts (Play, Pause)
INTERVAL_KEY, TICK_KEY, REPACED_KEY = "lab.interval", "lab.tick_seconds", "lab.repaced"
MAP_EVERY_S = 1.0  # the decision regions are redrawn about once a second while playing
DESCRIBE_EVERY_S = 2.0  # a live chart's description is brought up to date this often


def new_run():
    """A new trainer: every chart is sent whole again."""
    st.session_state[RUN_KEY] = st.session_state.get(RUN_KEY, 0) + 1


def keep_mounted():
    """The next full run cannot have remounted the charts (Play, Pause, a new pace): they keep
    what they hold and take only the new points."""
    st.session_state[KEEP_KEY] = True


def begin_full_run():
    """At the top of a full page run: whole figures next, unless the charts stay mounted."""
    st.session_state[WHOLE_KEY] = not st.session_state.pop(KEEP_KEY, False)


def take_whole():
    """Whether this tick sends whole figures (a full run, or the browser found a gap)."""
    return st.session_state.pop(WHOLE_KEY, False)


def take_repaced():
    """Whether this run only applies a new interval (it neither steps nor paces)."""
    return st.session_state.pop(REPACED_KEY, False)


def interval():
    """Seconds between two ticks while playing (paced: see `pace`)."""
    return st.session_state.get(INTERVAL_KEY, opts.INTERVAL_S)


def place_view(view, recorders, layer, units, step, whole, busy):
    """The picked view as a live chart; "distributions now" is a snapshot, sent again about
    once a second while new samples come in."""
    version = recorders[0].samples_step  # the histograms change only with new samples
    chart = None
    held = _held("view")
    if (
        view != "distributions"
        or whole
        or not busy
        or held.chart_id != "distributions"
        or (held.version != version and seconds_since("view") >= MAP_EVERY_S)
    ):
        chart = live.view_chart(view, recorders, layer, units)
    place("view", chart, step, whole, busy, version)


@dataclass(frozen=True)
class _Held:
    """What the browser holds at one place of the page: a chart of a run, complete up to a
    step; a snapshot's version; when it was sent."""

    chart_id: str | None = None
    run: int | None = None
    step: int = live.NO_STEP
    version: object = None
    sent_at: float = 0.0
    described_at: float = 0.0


def _held(place):
    return st.session_state.setdefault(HELD_KEY, {}).get(place, _Held())


def seconds_since(place):
    """Seconds since a chart was last sent to this place of the page."""
    return time.monotonic() - _held(place).sent_at


def _send_whole():  # the browser found a gap in the steps it holds
    st.session_state[WHOLE_KEY] = True


def place(place, chart, step, whole, busy, version=None):
    """Place a live chart: the whole figure when the browser does not hold this chart of this
    run yet, else what is new since the step it holds. chart None: nothing new to send (a
    snapshot that has not changed). The chart's description (what a screen reader reads for
    it) goes along with a whole figure, when paused, and every DESCRIBE_EVERY_S while
    playing: it is read when asked for, not announced, so it need not follow every step.
    step: the trainer's step count; whole: send whole figures; busy: the panel ticks."""
    run = st.session_state.get(RUN_KEY, 0)
    held = _held(place)
    text = tables = None
    if chart is None:
        messages = [{"id": held.chart_id, "label": "", "hint": "", "last": held.step}]
    else:
        fresh = whole or (chart.id, run) != (held.chart_id, held.run)
        now = time.monotonic()
        if fresh or not busy or now - held.described_at >= DESCRIBE_EVERY_S:
            text, tables = live.read(chart)
        messages = [
            live.chart_message(
                chart, step, live.NO_STEP if fresh else held.step, text and text.description
            )
        ]
        st.session_state[HELD_KEY][place] = _Held(
            chart.id, run, step, version, now, now if text else held.described_at
        )
    bn_live.live_charts(
        f"lab.live.{place}",
        run,
        messages,
        playing=busy,
        interval_s=interval(),
        present=ui.presenting(),
        on_gap=_send_whole,
        template=live.DARK_TEMPLATE if ui.dark() else None,
    )
    if chart is not None and not busy:  # paused: the chart's numbers, as tables
        ui.chart_numbers(text, tables)


def pace(seconds):
    """Space the ticks out while the server cannot keep up (many students training on one
    machine), and back in when it can. A tick that takes most of its interval makes the
    browser ask for the next one before this one is sent, and Streamlit throws that work
    away; spacing them keeps every session updating, just less often. Called while playing
    (an Epoch keeps its pace: it ends soon)."""
    tick = opts.smoothed_tick(st.session_state.get(TICK_KEY), seconds)
    st.session_state[TICK_KEY] = tick
    current = interval()
    paced = opts.paced_interval(current, tick)
    if paced != current:
        st.session_state[INTERVAL_KEY] = paced
        st.session_state[KEEP_KEY] = True  # the charts stay mounted through this rerun
        st.session_state[REPACED_KEY] = True  # the rerun redraws; it neither steps nor paces
        st.rerun()  # run_every is read on a full run only
