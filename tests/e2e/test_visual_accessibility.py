"""What a student sees, measured in a real Chromium (WCAG 2.1 AA):

- chart text at 4.5:1 and the marks that carry meaning at 3:1, read from the rendered SVG of
  every chart on every page (tests/e2e/visual.py);
- a Tab walk of the Training Lab reaches every control, and each kind of control changes by
  3:1 or more when it takes keyboard focus (screenshots of it focused and not);
- at 320 px: no sideways scrolling, every slider inside the page, the Lab's charts in one
  column, chart titles inside their charts;
- with prefers-reduced-motion, the live charts draw each tick at once (no gliding line heads).
"""

from bn_app.catalog import HOME, LESSONS

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import rerun, wait_for_app
from tests.e2e.visual import FOCUS_RATIO, chart_contrast_problems, focus_change_contrast

PAGES = [HOME, *LESSONS]
PAGE_TIMEOUT_MS = 60_000

# The page has charts, every one laid out and drawn with something in it (traces, shapes,
# annotations, or a live chart's hint), and Plotly's SVG holding text.
_CHARTS_DRAWN_JS = """() => {
    const boxes = document.querySelectorAll('[data-testid="stPlotlyChart"], .bnlab-live-chart');
    const plots = [...document.querySelectorAll('.js-plotly-plot')];
    return plots.length > 0 && plots.length >= boxes.length && plots.every(el => {
        if (!el._fullLayout || !el.querySelector('svg text')) return false;
        const hint = el.closest('.bnlab-live-chart')?.querySelector('.bnlab-live-hint');
        const hinted = hint && !hint.hidden && hint.textContent.trim() ? 1 : 0;
        return (el.data || []).length + (el._fullLayout.shapes || []).length
            + (el._fullLayout.annotations || []).length + hinted > 0;
    });
}"""
_LIVE_STEP_JS = """(n) => Object.values(window.bnlabLive?.charts || {}).some(c => c.step >= n)
    && document.querySelectorAll('.bnlab-live-chart').length >= 2"""


def _open(page, path, width=1280, height=800):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(path)
    wait_for_app(page, timeout_ms=PAGE_TIMEOUT_MS)


def _train_a_few_steps(page, steps=3):
    for _ in range(steps):
        with rerun(page, timeout_ms=PAGE_TIMEOUT_MS):
            page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_function(_LIVE_STEP_JS, arg=steps, timeout=PAGE_TIMEOUT_MS)


@pytest.mark.parametrize(
    "path",
    [p.url_path for p in PAGES if p.url_path]
    + ["training_lab?view=gradients", "training_lab?view=minibatch"],
)
def test_chart_text_and_marks_meet_their_contrast(page, app_url, path):
    _open(page, f"{app_url}/{path}")
    if path.startswith("training_lab"):
        _train_a_few_steps(page)
    page.wait_for_function(_CHARTS_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling=100)
    texts, marks = chart_contrast_problems(page)
    assert not texts, f"{len(texts)} chart texts under 4.5:1: {texts[:10]}"
    assert not marks, f"{len(marks)} chart marks under 3:1: {marks[:10]}"


# --- keyboard focus ----------------------------------------------------------------------------

# The focused element: its kind of control, a stable id (tagged on first sight), and the box
# its focus ring would be drawn around (the visible part of a control whose input is hidden).
_FOCUSED_JS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    if (!el.dataset.bnlabTab || el.dataset.bnlabTab === 'control') {
        window.__bnlabTabIds = (window.__bnlabTabIds || 0) + 1;
        el.dataset.bnlabTab = String(window.__bnlabTabIds);
    }
    const type = el.getAttribute('type'), role = el.getAttribute('role');
    const kind = el.closest('[data-testid="stSidebarNavLink"]') ? 'page link'
        : role === 'switch' ? 'toggle' : type === 'checkbox' ? 'checkbox'
        : type === 'radio' ? 'radio' : role === 'slider' || type === 'range' ? 'slider'
        : role === 'combobox' ? 'select box' : el.tagName === 'SUMMARY' ? 'expander'
        : type === 'number' ? 'number input'
        : el.closest('.modebar') ? 'chart toolbar'
        : el.tagName === 'BUTTON' ? 'button' : el.tagName === 'A' ? 'link'
        : role === 'region' ? 'scroll box' : el.tagName.toLowerCase();
    const box = type === 'range' ? el.parentElement.parentElement  // the slider's thumb
        : el.closest('label, [role="group"], [data-testid="stNumberInputContainer"]') || el;
    const r = box.getBoundingClientRect();
    const scroller = document.querySelector('[data-testid="stMain"]');
    return {id: el.dataset.bnlabTab, kind, name: (el.getAttribute('aria-label')
            || el.textContent || '').trim().slice(0, 40),
            rect: [r.x, r.y, r.width, r.height],
            scroll: [scroller ? scroller.scrollTop : 0, window.scrollY]};
}"""
# The controls a keyboard user must reach in the page's main area and sidebar: shown (not in
# a closed expander), enabled, not a chart's toolbar button (those are its own concern).
_CONTROLS_JS = """() => [...document.querySelectorAll(
        '[data-testid="stMain"] :is(button, input, summary, [role="slider"], a[href]), '
        + '[data-testid="stSidebar"] a[href]')]
    .filter(el => !el.disabled && !el.closest('.modebar, [data-testid="stElementToolbar"]')
        && el.getAttribute('tabindex') !== '-1'
        && !el.closest('details:not([open]) > :not(summary)')  // in a closed expander
        && el.checkVisibility({visibilityProperty: true}))
    .map(el => { if (!el.dataset.bnlabTab) el.dataset.bnlabTab = 'control';
                 return el.dataset.bnlabTab; }).length"""
KINDS_TO_CHECK = (
    "button",
    "toggle",
    "radio",
    "slider",
    "select box",
    "page link",
    "number input",
    "expander",
)
PAD = 8  # px around the control: a ring 2px off and 3px wide falls inside


def _clip(page, rect):
    x, y, w, h = rect
    view = page.viewport_size
    x0, y0 = max(0, x - PAD), max(0, y - PAD)
    x1, y1 = min(view["width"], x + w + PAD), min(view["height"], y + h + PAD)
    return {"x": x0, "y": y0, "width": max(1, x1 - x0), "height": max(1, y1 - y0)}


def test_tab_walk_of_the_lab_reaches_every_control_with_a_visible_focus(page, app_url):
    _open(page, f"{app_url}/training_lab", height=900)
    page.wait_for_function(_CHARTS_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling=100)
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible()
    # Every kind of control the walk must reach, drawn: Streamlit loads a widget's code lazily
    # and shows a placeholder until then (on a busy machine the view's radio came seconds after
    # the charts, and the walk went past its placeholder).
    for role in ("radio", "switch", "slider", "combobox"):
        expect(page.get_by_role(role).first).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.locator("h1").first.click()  # start the walk at the top of the page
    reached, seen_first, contrasts = {}, None, {}
    for _ in range(250):
        page.keyboard.press("Tab")
        now = page.evaluate(_FOCUSED_JS)
        if now is None:
            continue
        if now["id"] == seen_first:
            break  # round the page once
        seen_first = seen_first or now["id"]
        reached[now["id"]] = now
        if now["kind"] in KINDS_TO_CHECK and now["kind"] not in contrasts and now["rect"][2]:
            clip = _clip(page, now["rect"])
            focused = page.screenshot(clip=clip)
            page.keyboard.press("Shift+Tab")  # the control unfocused, the walk still by keys
            back = page.evaluate(_FOCUSED_JS)
            unfocused = page.screenshot(clip=clip)
            page.keyboard.press("Tab")
            if back and back["scroll"] == now["scroll"]:  # the same place on screen
                contrasts[now["kind"]] = focus_change_contrast(unfocused, focused)
    wanted = page.evaluate(_CONTROLS_JS)
    untagged = page.evaluate("""() => [...document.querySelectorAll('[data-bnlab-tab="control"]')]
        .map(el => (el.getAttribute('aria-label') || el.textContent || el.tagName).trim()
        .slice(0, 40))""")
    assert wanted > 20 and not untagged, f"not reached by Tab: {untagged}"
    kinds = {r["kind"] for r in reached.values()}
    assert {"button", "toggle", "radio", "slider", "select box", "page link"} <= kinds, kinds
    weak = {k: round(v, 2) for k, v in contrasts.items() if v < FOCUS_RATIO}
    assert not weak and len(contrasts) >= 6, f"focus change per kind: {contrasts}"


# --- reflow at 320 px --------------------------------------------------------------------------

_REFLOW_JS = """() => {
    const width = document.documentElement.clientWidth;
    const sideways = [...document.querySelectorAll(
        'html, [data-testid="stMain"], [data-testid="stAppViewContainer"]')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).length;
    const outside = [...document.querySelectorAll('[data-testid="stSlider"] [role="slider"]')]
        .map(t => t.getBoundingClientRect())
        .filter(r => r.left < 0 || r.right > width + 0.5).length;
    const charts = [...document.querySelectorAll('.js-plotly-plot')]
        .map(p => p.getBoundingClientRect()).filter(r => r.width > 0);
    // charts side by side share a band of the page's height; stacked ones do not (a chart in
    // a bordered box sits further right, yet alone in its row)
    const columns = Math.max(0, ...charts.map(a => charts.filter(
        b => Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 10).length));
    const cutTitles = [...document.querySelectorAll('.js-plotly-plot')].filter(p => {
        const t = p.querySelector('.gtitle');
        if (!t) return false;
        const r = t.getBoundingClientRect(), box = p.getBoundingClientRect();
        return r.left < box.left - 1 || r.right > box.right + 1;
    }).length;
    return {sideways, outside, columns, cutTitles, charts: charts.length};
}"""


@pytest.mark.parametrize("path", ["training_lab", "step_by_step", "in_a_network", "why_it_works"])
def test_at_320_px_nothing_scrolls_sideways_and_charts_stack(page, app_url, path):
    _open(page, f"{app_url}/{path}", width=320, height=800)
    if path == "training_lab":
        _train_a_few_steps(page, 1)
    page.wait_for_function(_CHARTS_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling=100)
    found = page.evaluate(_REFLOW_JS)
    assert found["charts"] > 0
    assert found["sideways"] == 0 and found["outside"] == 0, found
    assert found["columns"] == 1 and found["cutTitles"] == 0, found


# --- reduced motion ----------------------------------------------------------------------------


def test_with_reduced_motion_the_live_charts_draw_each_tick_at_once(page, app_url):
    page.emulate_media(reduced_motion="reduce")
    _open(page, f"{app_url}/training_lab")
    assert page.evaluate("() => matchMedia('(prefers-reduced-motion: reduce)').matches")
    page.wait_for_function(_CHARTS_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling=100)
    page.get_by_role("button", name="▶ Play").click()
    # several ticks played (each a step or more), then Pause
    page.wait_for_function(
        "() => (window.bnlabLive?.charts.loss?.ticks || 0) >= 4", timeout=PAGE_TIMEOUT_MS
    )
    with rerun(page, timeout_ms=PAGE_TIMEOUT_MS):
        page.get_by_role("button", name="⏸ Pause").click()
    stats = page.evaluate("() => window.bnlabLive.charts")
    assert stats["loss"]["frames"] > 0 and stats["loss"]["step"] >= 4
    assert all(c["glides"] == 0 for c in stats.values()), stats
