"""Every page under axe-core (WCAG 2.0/2.1, levels A and AA) in a real Chromium: no serious or
critical violation.

axe-core comes bundled in axe-playwright-python (no Node, no CDN). One exemption, WCAG's own:
text of an inactive control (a disabled widget's faded label) need not meet the contrast
ratio (WCAG 2.1, 1.4.3), but axe cannot always tell that a Streamlit widget is disabled.
"""

import re

from bn_app.catalog import HOME, LESSONS

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import wait_for_app

PAGES = [HOME, *LESSONS]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PAGE_TIMEOUT_MS = 45_000

# True once the page's fonts have loaded (a formula's width changes when KaTeX's fonts arrive),
# its charts are drawn, and, for `quietMs` in a row (charts drawn late can still move the
# layout), every formula and code box that scrolls has been made reachable by keyboard (the
# page's watcher does it a frame after a box is drawn or changes size).
_SCROLL_BOXES_READY_JS = """(quietMs) => {
    const ready = document.fonts.status === 'loaded'
        // every chart drawn: a chart drawn late can narrow a column and make a box scroll
        && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
            .every(c => c.querySelector('svg.main-svg'))
        && [...document.querySelectorAll('.katex-display, pre')]
            .filter(e => e.scrollWidth > e.clientWidth || e.scrollHeight > e.clientHeight)
            .every(e => e.getAttribute('tabindex') === '0');
    const now = performance.now();
    if (!ready) { window.__bnlabBoxesSince = undefined; return false; }
    if (window.__bnlabBoxesSince === undefined) window.__bnlabBoxesSince = now;
    return now - window.__bnlabBoxesSince >= quietMs;
}"""
QUIET_MS = 500
# Resolves two animation frames after the fonts are ready: the watcher has seen every change.
_FONTS_SETTLED_JS = """async () => {
    await document.fonts.ready;
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""

# Whether the element that `selector` finds belongs to a disabled widget.
_IN_DISABLED_WIDGET_JS = """(selector) => {
    const el = document.querySelector(selector);
    const widget = el && el.closest('[data-testid="stSlider"], [data-testid="stCheckbox"], '
        + '[data-testid="stRadio"], [data-testid="stSelectbox"], [data-testid="stNumberInput"]');
    return !!widget && !!widget.querySelector('[aria-disabled="true"], [disabled]');
}"""


def serious_violations(page, results):
    """[(rule, impact, target, message)] of the serious and critical violations, less the
    contrast of disabled widgets' labels."""
    found = []
    for rule in results["violations"]:
        if rule["impact"] not in ("serious", "critical"):
            continue
        for node in rule["nodes"]:
            target = node["target"][0] if node["target"] else ""
            if (
                rule["id"] == "color-contrast"
                and isinstance(target, str)
                and page.evaluate(_IN_DISABLED_WIDGET_JS, target)
            ):
                continue
            message = (node.get("any") or node.get("all") or [{}])[0].get("message", "")
            found.append((rule["id"], rule["impact"], target, message))
    return found


@pytest.mark.parametrize("info", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_no_serious_axe_violation(page, app_url, info):
    assert_axe_finds_nothing_serious(page, f"{app_url}/{info.url_path}")


# Each "predict, then look" question answered (or skipped) from its link: the checked radio,
# the answer as status text and the chart it reveals are checked too.
ANSWERED = {
    "step_by_step": "predict_linear=It+flattens+most+of+them%3A+they+saturate",
    "in_a_network": "predict_shape=No%3A+it+only+shifts+and+scales+them%2C+so+g%27s+shape+stays",
    "test_time": "predict_same_skip=1",
}


@pytest.mark.parametrize("slug", ANSWERED)
def test_no_serious_axe_violation_with_the_prediction_answered(page, app_url, slug):
    assert_axe_finds_nothing_serious(
        page, f"{app_url}/{slug}?{ANSWERED[slug]}", expect_text=("Not quite", "Right", "The answer")
    )


def assert_axe_finds_nothing_serious(page, url, expect_text=()):
    """Open `url`, wait for it (and for one of `expect_text`, when given), run axe."""
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(url)
    wait_for_app(page, timeout_ms=PAGE_TIMEOUT_MS)
    if expect_text:
        status = page.get_by_role("status").filter(
            has_text=re.compile("|".join(map(re.escape, expect_text)))
        )
        expect(status.first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    page.evaluate(_FONTS_SETTLED_JS)
    page.wait_for_function(
        _SCROLL_BOXES_READY_JS, arg=QUIET_MS, timeout=PAGE_TIMEOUT_MS, polling=50
    )
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}})
    found = serious_violations(page, results.response)
    assert not found, "\n".join(" | ".join(map(str, v)) for v in found)
