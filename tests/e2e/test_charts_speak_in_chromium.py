"""Charts that speak, in a real Chromium, read from the accessibility tree a screen reader uses:
every chart of every page is named and described; chart toolbars leave only Download in the
Tab order, and offer no upload to Plotly's cloud; the Training Lab's status is announced in a
polite live region at a pace a screen reader can follow, with the full state on Pause; and a
paused chart of the Lab can be explored with the arrow keys, each point read out with the value
the chart holds.
"""

import itertools
import re

from bn_app.catalog import HOME, LESSONS

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, screenshot, wait_for_app

PAGES = [HOME, *LESSONS]
PAGE_TIMEOUT_MS = 45_000
ANNOUNCE_EVERY_MS = 5_000  # bn_a11y.ANNOUNCE_EVERY_S
PLAY_S = 20

# Every chart on the page: Streamlit's Plotly charts and the Lab's live charts. For each, the
# accessible name, the text its aria-describedby points at, and whether the SVG is hidden.
_CHARTS_JS = """() => [...document.querySelectorAll(
        '[data-testid="stPlotlyChart"], .bnlab-live-chart')].map(box => ({
    role: box.getAttribute('role'),
    name: box.getAttribute('aria-label') || '',
    description: (box.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
        .map(id => (document.getElementById(id) || {}).textContent || '').join(' '),
    svgHidden: [...box.querySelectorAll('svg.main-svg')]
        .every(svg => svg.getAttribute('aria-hidden') === 'true'),
}))"""

# True once every chart is drawn and named (the page watcher names a chart a frame after
# Plotly has drawn it): at least `least` chart boxes, and as many as there are Plotly plots on
# the page (under load a page's later charts were drawn after its first one was named).
_CHARTS_NAMED_JS = """(least) => {
    const boxes = [...document.querySelectorAll(
        '[data-testid="stPlotlyChart"], .bnlab-live-chart')];
    const plots = document.querySelectorAll('.js-plotly-plot').length;
    return boxes.length >= Math.max(least, plots) && boxes.every(b => b.querySelector(
        'svg.main-svg') && b.getAttribute('aria-label') && b.getAttribute('aria-describedby'));
}"""

_TAB_STOPS_IN_TOOLBARS_JS = """() => [...document.querySelectorAll('.modebar-btn')]
    .filter(b => b.getAttribute('tabindex') !== '-1').map(b => b.getAttribute('data-title'))"""


def expected_charts(info):
    return 0 if info is HOME else 3 if info.url_path == "training_lab" else 1


@pytest.mark.parametrize("info", PAGES, ids=[p.url_path or "home" for p in PAGES])
def test_every_chart_is_named_and_described(page, app_url, info):
    page.goto(f"{app_url}/{info.url_path}")
    wait_for_app(page, timeout_ms=PAGE_TIMEOUT_MS)
    least = expected_charts(info)
    page.wait_for_function(_CHARTS_NAMED_JS, arg=least, timeout=PAGE_TIMEOUT_MS, polling=100)
    charts = page.evaluate(_CHARTS_JS)
    assert len(charts) >= least
    for chart in charts:
        assert chart["role"] in ("figure", "application"), chart
        assert chart["name"] and chart["name"] != "Chart", chart
        assert len(chart["description"]) > 20, chart
        assert chart["svgHidden"], chart
    toolbar_stops = page.evaluate(_TAB_STOPS_IN_TOOLBARS_JS)
    assert set(toolbar_stops) <= {"Download plot as a PNG"}, toolbar_stops
    assert len(toolbar_stops) <= len(charts)  # one Tab stop per chart at most
    # and no button that would upload a chart to Plotly's cloud (plotly.js 4's "Share chart")
    assert not page.locator('.modebar-btn[data-title^="Share"]').count()
    assert_no_exception(page)


def live_region_text(page):
    """The live region's text as the accessibility tree gives it to a screen reader."""
    snapshot = page.locator(".bnlab-live-status").aria_snapshot()
    match = re.search(r'status(?: "[^"]*")?: (.*)', snapshot) or re.search(
        r"- text: (.*)", snapshot
    )
    return match.group(1).strip().strip('"') if match else snapshot.strip()


def test_the_lab_status_is_announced_at_a_pace_a_screen_reader_can_follow(page, app_url):
    page.goto(f"{app_url}/training_lab")
    region = page.locator(".bnlab-live-status")
    expect(region).to_have_text(re.compile("^Not trained yet"), timeout=PAGE_TIMEOUT_MS)
    expect(region).to_have_attribute("aria-live", "polite")
    page.get_by_role("button", name="▶ Play").click()
    expect(region).to_have_text(re.compile(r"^Step \d+, epoch"), timeout=30_000)
    heard = []  # (seconds since Play, text): each change of the region, as the tree says
    started = page.evaluate("performance.now()")
    while page.evaluate("performance.now()") - started < PLAY_S * 1000:
        text = live_region_text(page)
        if not heard or heard[-1][1] != text:
            heard.append(((page.evaluate("performance.now()") - started) / 1000, text))
        page.wait_for_timeout(200)
    page.get_by_role("button", name="⏸ Pause").click()
    expect(region).to_have_text(re.compile(r"^Paused at step \d+"), timeout=30_000)
    heard.append(((page.evaluate("performance.now()") - started) / 1000, live_region_text(page)))
    print("\n".join(f"{t:5.1f} s  {text}" for t, text in heard))  # the transcript

    announced = page.evaluate("window.bnlabAnnounced")
    playing = [a for a in announced if a["text"].startswith("Step ")]
    assert len(playing) >= 3  # it keeps talking while training...
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(playing)]
    assert min(gaps) >= ANNOUNCE_EVERY_MS - 50, gaps  # ...at most once every 5 s
    final = heard[-1][1]
    step = int(re.match(r"Paused at step (\d+)", final).group(1))
    expect(page.get_by_text(f"Step {step}", exact=True)).to_be_visible()  # what the page shows
    assert final.count("test loss") == 2 and final.count("last mini-batch loss") == 2
    assert_no_exception(page)


# The loss chart's point the keys are on: its trace's x and y at the hovered point, read back
# from Plotly, to compare with what was read out.
_LOSS_POINTS_JS = """(name) => {
    const plot = document.querySelector('[data-chart-id="loss"] .js-plotly-plot');
    const trace = plot.data.find(t => t.name === name);
    return { x: Array.from(trace.x), y: Array.from(trace.y) };
}"""


def readout(page):
    return page.locator('[data-chart-id="loss"] .bnlab-live-readout')


def spoken_number(text):
    return float(text.replace("minus ", "-"))


def test_a_paused_chart_is_explored_by_keyboard(page, app_url):
    page.goto(f"{app_url}/training_lab")
    loss = page.locator('[data-chart-id="loss"]')
    expect(loss.locator(".js-plotly-plot")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    for _ in range(3):
        page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_timeout(300)
    expect(page.get_by_text("Step 3", exact=True)).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Epoch", exact=True).focus()
    for _ in range(40):  # Tab from the buttons reaches the chart (no trap on the way)
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.chartId") == "loss":
            break
    assert page.evaluate("document.activeElement.dataset.chartId") == "loss"
    expect(loss).to_have_attribute("role", "application")
    expect(loss).to_have_attribute("aria-roledescription", "chart")

    page.keyboard.press("End")
    expect(readout(page)).to_have_text(
        re.compile(
            r"^with batch norm: loss \(log\) [\d.e+-]+ at step 3, last point\. Line 1 of \d+\.$"
        )
    )
    page.keyboard.press("ArrowLeft")
    expect(readout(page)).to_have_text(re.compile(r"at step 2\.$"))
    value = spoken_number(re.search(r"loss \(log\) (\S+) at", readout(page).inner_text())[1])
    points = page.evaluate(_LOSS_POINTS_JS, "with batch norm")
    assert points["x"][1] == 2 and value == pytest.approx(points["y"][1], rel=5e-3)
    page.keyboard.press("ArrowDown")
    expect(readout(page)).to_have_text(re.compile(r"Line 2 of \d+\.$"))
    page.keyboard.press("ArrowUp")  # back to line 1, at the step nearest
    expect(readout(page)).to_have_text(re.compile(r"^with batch norm: .* Line 1 of \d+\.$"))
    page.keyboard.press("Home")
    expect(readout(page)).to_have_text(re.compile(r"at step 1, first point\.$"))
    screenshot(page, "lab-chart-explored")
    page.keyboard.press("Tab")  # and Tab moves on
    assert page.evaluate("document.activeElement.dataset.chartId") != "loss"
    assert_no_exception(page)
