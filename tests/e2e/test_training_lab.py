"""The Training Lab in a real headless Chromium: Play trains live (the loss chart changes several
times within 10 s), Pause stops it, turning normalization off resets training, the
learning-rate slider applies without a reset. No exception anywhere; screenshots in
artifacts/screenshots/.
"""

import itertools
import re
import time

from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, rerun, screenshot, wait_for_app

# A fingerprint of the loss chart (the first Plotly chart of the page): the last step the live
# chart shows (while playing, new steps are painted over the figure before Plotly redraws it
# with them), then each trace's y, read from the plot's `data`, where float32 arrays may
# arrive as {dtype, bdata} (base64). It changes whenever the chart shows new points.
_LOSS_CHART_JS = """() => {
    const plots = document.querySelectorAll('[data-testid="stMain"] .js-plotly-plot');
    if (plots.length === 0 || !plots[0].data) return null;
    const shown = (window.bnlabLive?.charts.loss || {}).step;
    return shown + '/' + plots[0].data.map(t => {
        const y = t.y;
        if (y && y.bdata) return y.bdata.length + ':' + y.bdata.slice(-12);
        return y ? y.length + ':' + y[y.length - 1] : '-';
    }).join('|');
}"""

# Plotly.js draws a chart after the script run that sent it has ended; on a cold page of a busy
# 2-core machine that was measured at up to 11 s, so chart waits get more than expect's 5 s.
CHART_TIMEOUT_MS = 30_000
LIVE_PLOTS = '[data-testid="stMain"] .bnlab-live-chart .js-plotly-plot'

_STEP_JS = """() => {
    const strong = [...document.querySelectorAll('[data-testid="stMain"] strong')]
        .find(e => /^Step \\d+$/.test(e.textContent.trim()));
    return strong ? Number(strong.textContent.trim().slice(5)) : null;
}"""


# True when every trace of the loss chart that is drawn per step ends at the step counter's step.
_LOSS_AT_STEP_JS = (
    """() => {
    const step = ("""
    + _STEP_JS
    + """)();
    const plot = document.querySelector('[data-testid="stMain"] .js-plotly-plot');
    if (step === null || !plot || !plot.data) return false;
    const lines = plot.data.filter(t => t.name === 'each mini-batch');
    return lines.length > 0 && lines.every(t => t.x.length > 0 && t.x[t.x.length - 1] === step);
}"""
)


def loss_chart(page):
    return page.evaluate(_LOSS_CHART_JS)


def step_count(page):
    return page.evaluate(_STEP_JS)


def learning_rate_slider(page):
    return (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text="Learning rate")
        .get_by_role("slider")
    )


def open_lab(page, app_url):
    page.goto(f"{app_url}/training_lab")
    wait_for_app(page)
    expect(page.locator("h1").first).to_contain_text("Training Lab")
    # loss, accuracy, data, view; the live charts draw once Plotly.js has loaded (the γ, β
    # panel's own charts are ordinary ones)
    expect(page.locator(LIVE_PLOTS)).to_have_count(4, timeout=CHART_TIMEOUT_MS)
    expect(page.get_by_text(re.compile(r"^Step 0$"))).to_be_visible()


def test_play_pause_batch_norm_and_learning_rate(page, app_url):
    open_lab(page, app_url)
    assert_no_exception(page)
    assert step_count(page) == 0
    screenshot(page, "training_lab_start")

    # Play: the loss chart changes several times within 10 s
    page.get_by_role("button", name="▶ Play").click()
    expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible(timeout=10_000)
    seen, start = [loss_chart(page)], time.monotonic()
    while time.monotonic() - start < 10 and len(set(seen)) < 6:
        page.wait_for_timeout(200)
        seen.append(loss_chart(page))
    changes = sum(a != b for a, b in itertools.pairwise(seen))
    assert changes >= 3, f"the loss chart changed {changes} times in 10 s: {seen}"
    assert_no_exception(page)

    # While it plays, a control still answers: the learning rate goes down a notch
    lr = learning_rate_slider(page)
    lr.focus()
    lr.press("ArrowLeft")
    expect(lr).to_have_attribute("aria-valuetext", "0.003", timeout=5_000)
    page.wait_for_url(re.compile(r"lr=0\.003"), timeout=5_000)
    playing_step = step_count(page)
    deadline = time.monotonic() + 10  # ticks may be spaced out on a busy machine
    while step_count(page) <= playing_step and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert step_count(page) > playing_step  # still training, not reset
    page.set_viewport_size({"width": 1280, "height": 720})  # a classroom projector
    page.wait_for_timeout(800)
    screenshot(page, "training_lab_playing_1280x720")
    page.set_viewport_size({"width": 1400, "height": 900})

    # Pause: it stops changing
    with rerun(page):
        page.get_by_role("button", name="⏸ Pause").click()
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=10_000)
    # The live chart plays its queued steps out after the run: wait until it shows the last one
    page.wait_for_function(_LOSS_AT_STEP_JS, timeout=CHART_TIMEOUT_MS)
    paused_chart, paused_step = loss_chart(page), step_count(page)
    assert paused_step > 0
    page.wait_for_timeout(2000)
    assert loss_chart(page) == paused_chart and step_count(page) == paused_step
    screenshot(page, "training_lab_paused")

    # Normalization none: training starts over, and the page says why
    normalization = page.get_by_role("combobox", name="Normalization")
    normalization.focus()
    normalization.press("ArrowDown")  # opens the list (a click on its text field does not)
    none = page.get_by_role("option", name="none", exact=True)
    expect(none).to_be_visible()
    with rerun(page):
        none.click()
    expect(page.get_by_text("Training reset: batch norm on → off")).to_be_visible()
    page.wait_for_url(re.compile(r"bn=none"))
    expect(page.get_by_text(re.compile(r"^Step 0$"))).to_be_visible()
    assert_no_exception(page)
    screenshot(page, "training_lab_batch_norm_off")

    # Two steps, then a higher learning rate: it applies without a reset
    for n in (1, 2):
        with rerun(page):
            page.get_by_role("button", name="Step", exact=True).click()
        expect(page.get_by_text(re.compile(rf"^Step {n}$"))).to_be_visible()
    slider = learning_rate_slider(page)
    for _ in range(2):  # 0.003 -> 0.01 -> 0.03
        with rerun(page):
            slider.focus()
            slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", "0.03")
    page.wait_for_url(re.compile(r"lr=0\.03"))
    assert step_count(page) == 2
    expect(page.get_by_text("Training reset")).to_have_count(0)
    assert_no_exception(page)
    screenshot(page, "training_lab_learning_rate")


def test_every_view_and_a_preset_render_without_an_exception(page, app_url):
    open_lab(page, app_url)
    with rerun(page):
        page.get_by_role("button", name="Epoch", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Step [1-9]\d*$"))).to_be_visible()
    # each view, and the id its live chart's id starts with
    for view, chart in (
        ("Distributions over time", "over_time"),
        ("Mini-batch μ and σ", "minibatch"),
        ("γ and β", "gamma_beta"),
        ("Gradients", "gradients"),
        ("Distributions now", "distributions"),
    ):
        with rerun(page):
            page.get_by_text(view, exact=True).click()
        expect(page.get_by_role("radio", name=view, exact=True)).to_be_checked()
        expect(page.locator(f'[data-chart-id^="{chart}"] .js-plotly-plot')).to_be_visible(
            timeout=CHART_TIMEOUT_MS
        )
        expect(page.locator(LIVE_PLOTS)).to_have_count(4, timeout=CHART_TIMEOUT_MS)
        assert_no_exception(page)
    with rerun(page):
        page.get_by_role("button", name="🎲 Batch size 2").click()
    page.wait_for_url(re.compile(r"batch=2"))
    expect(page.get_by_text(re.compile(r"^Step 0$"))).to_be_visible()
    with rerun(page):
        page.get_by_role("button", name="Epoch", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Step [1-9]\d*$"))).to_be_visible()
    assert_no_exception(page)
    page.set_viewport_size({"width": 1400, "height": 1700})  # the page scrolls inside Streamlit
    page.wait_for_timeout(1000)
    screenshot(page, "training_lab_batch_size_2")


def test_a_view_picked_while_playing_shows_its_units(page, app_url):
    open_lab(page, app_url)
    page.get_by_role("button", name="▶ Play").click()
    expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible()
    # a few ticks in, so that the view's controls are created during the ticks
    page.wait_for_function(f"() => ({_STEP_JS})() >= 20", timeout=CHART_TIMEOUT_MS)
    page.get_by_text("Mini-batch μ and σ", exact=True).click()
    expect(page.get_by_role("radio", name="Mini-batch μ and σ", exact=True)).to_be_checked()
    units = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Units")
    expect(units).to_contain_text("unit 1")  # it came back empty when created during a tick
    expect(units).to_contain_text("unit 3")
    assert "units_shown=&" not in page.url + "&"
    page.get_by_role("button", name="⏸ Pause").click()
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible()
    assert_no_exception(page)
