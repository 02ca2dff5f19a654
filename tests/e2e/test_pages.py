"""Every page in a real browser: it opens from its own link, shows no exception, and every
chart on it is drawn with data. Screenshots go to artifacts/screenshots/page-<name>.png."""

import re

from bn_app.catalog import HOME, LESSONS

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, rerun, screenshot, wait_for_app

PAGES = [HOME, *LESSONS]
CHART_TIMEOUT_MS = 45_000
WIDGET_TIMEOUT_MS = 30_000

# What each Plotly chart has drawn: traces, or for a diagram, shapes and annotations; -1 while
# Plotly has not finished laying it out. A live chart with nothing to plot yet (the Training
# Lab's histograms before the first step) shows a hint over its axes instead: that counts.
_DRAWN_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
    if (!el._fullLayout) return -1;
    const hint = el.closest('.bnlab-live-chart')?.querySelector('.bnlab-live-hint');
    const hinted = hint && !hint.hidden && hint.textContent.trim() ? 1 : 0;
    return (el.data || []).length + (el._fullLayout.shapes || []).length
           + (el._fullLayout.annotations || []).length + hinted; })"""


@pytest.mark.parametrize("info", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_page_opens_with_every_chart_drawn(page, app_url, info):
    page.goto(f"{app_url}/{info.url_path}")
    wait_for_app(page, timeout_ms=CHART_TIMEOUT_MS)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text().strip()
    # st.plotly_chart elements, and the Training Lab's live charts (one box each; the page's
    # other components, such as bn_a11y's, draw no chart)
    charts = page.locator('[data-testid="stPlotlyChart"], .bnlab-live-chart').count()
    if charts:
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot').length >= {charts}",
            timeout=CHART_TIMEOUT_MS,
        )
        # Wait for what is asserted: every chart drawn with something in it (a live chart
        # may be laid out a moment before its figure arrives).
        try:
            page.wait_for_function(
                f"() => ({_DRAWN_JS})().every(n => n > 0)", timeout=CHART_TIMEOUT_MS
            )
        except PlaywrightTimeoutError:
            pytest.fail(f"empty chart(s) on {info.url_path}: {page.evaluate(_DRAWN_JS)}")
    assert page.get_by_text("Page not found").count() == 0
    screenshot(page, f"page-{info.url_path or 'home'}")


_SLIDERS = '[data-testid="stSlider"], [data-testid="stSelectSlider"]'
_TEXT_SIZE_JS = """() => parseFloat(getComputedStyle(document.querySelector(
    '[data-testid=stMain] [data-testid=stMarkdownContainer] p')).fontSize)"""


def test_presentation_mode_hides_advanced_controls_and_enlarges_text(page, app_url):
    lab = next(p for p in LESSONS if p.url_path == "step_by_step")
    sliders = page.locator(_SLIDERS)
    advanced = sliders.filter(has_text="Mini-batch size m")  # marked advanced on this page
    always = sliders.filter(has_text="γ (scale)")

    page.goto(f"{app_url}/{lab.url_path}?present=0")
    wait_for_app(page, timeout_ms=CHART_TIMEOUT_MS)
    # This state's own evidence: every control is drawn. Streamlit loads a widget's code
    # lazily and shows a skeleton until then; on a busy machine that took over 5 s.
    expect(advanced).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    expect(always).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    normal = sliders.count(), page.evaluate(_TEXT_SIZE_JS)
    assert_no_exception(page)

    page.goto(f"{app_url}/{lab.url_path}?present=1")
    wait_for_app(page, timeout_ms=CHART_TIMEOUT_MS)
    expect(always).to_be_visible(timeout=WIDGET_TIMEOUT_MS)  # the page is drawn ...
    page.wait_for_function(f"() => ({_TEXT_SIZE_JS})() > {normal[1]}")  # ... in projector type
    expect(advanced).to_have_count(0)
    presenting = sliders.count(), page.evaluate(_TEXT_SIZE_JS)
    assert_no_exception(page)
    screenshot(page, "present-step_by_step")
    assert presenting[0] < normal[0], (normal, presenting)  # advanced controls hidden
    assert presenting[1] > normal[1], (normal, presenting)  # larger text for the projector


def test_a_prediction_is_answered_by_keyboard_and_its_answer_announced(page, app_url):
    """Predict, then look (bn_app.ui.predict): a labelled radio group with nothing chosen, a
    choice made with the keyboard alone, the answer given as status text, the chart shown."""
    page.goto(f"{app_url}/step_by_step")
    wait_for_app(page, timeout_ms=CHART_TIMEOUT_MS)
    question = page.get_by_role("radiogroup", name=re.compile("what does a sigmoid do"))
    expect(question).to_be_visible(timeout=WIDGET_TIMEOUT_MS)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(2, timeout=CHART_TIMEOUT_MS)  # the third waits for an answer
    answer = question.get_by_role("radio", name="It flattens most of them: they saturate")
    expect(answer).not_to_be_checked()
    with rerun(page, timeout_ms=CHART_TIMEOUT_MS):
        answer.focus()
        page.keyboard.press("Space")
    expect(answer).to_be_checked()
    expect(page.get_by_role("status").filter(has_text="Not quite")).to_be_visible()
    expect(charts).to_have_count(3, timeout=CHART_TIMEOUT_MS)
    assert_no_exception(page)
