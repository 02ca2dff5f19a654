"""The Training Lab's live charts in a real headless Chromium: while playing, the loss chart is
drawn in more frames than the server sent ticks (the steps are played back, not dropped in
bursts) and the steps being played are painted over it, every step from 1 to N ends up in its
trace, Pause stops it, and a preset starts it over. The charts live in the page itself (no
iframe), with an accessible name each.
"""

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, screenshot

LOSS = '[data-chart-id="loss"]'

# The loss chart's state, read from the page: counts kept by the component, and the steps of
# each network's "each mini-batch" trace as the plot holds them.
_STATE_JS = """() => {
    const stats = (window.bnlabLive || { charts: {} }).charts.loss;
    const plot = document.querySelector('[data-chart-id="loss"] .js-plotly-plot');
    const strong = [...document.querySelectorAll('[data-testid="stMain"] strong')]
        .find(e => /^Step \\d+$/.test(e.textContent.trim()));
    if (!stats || !plot || !plot.data || !strong) return null;
    return {
        ticks: stats.ticks, frames: stats.frames,
        run: plot.closest('.bnlab-live').parentElement.dataset.run,
        step: Number(strong.textContent.trim().slice(5)),
        steps: plot.data.filter(t => t.name === 'each mini-batch').map(t => Array.from(t.x)),
    };
}"""


# True when the loss chart's canvas (the steps played since Plotly's last redraw) has painted
# pixels inside the plot area.
_PAINTED_JS = """() => {
    const canvas = document.querySelector('[data-chart-id="loss"] canvas');
    const plot = document.querySelector('[data-chart-id="loss"] .js-plotly-plot');
    if (!canvas || !canvas.width || !plot._fullLayout) return false;
    const { l, t, w, h } = plot._fullLayout._size;
    const r = canvas.width / plot._fullLayout.width;
    const pixels = canvas.getContext("2d").getImageData(l * r, t * r, w * r, h * r).data;
    for (let k = 3; k < pixels.length; k += 4) if (pixels[k] > 0) return true;
    return false;
}"""


def state(page):
    return page.evaluate(_STATE_JS)


def wait_until(page, condition_js, arg=None, timeout=60_000):
    page.wait_for_function(condition_js, arg=arg, timeout=timeout, polling=100)


def test_live_loss_chart_plays_every_step_pauses_and_resets(page, app_url):
    page.goto(f"{app_url}/training_lab")
    loss = page.locator(LOSS)
    expect(loss.locator(".js-plotly-plot")).to_be_visible(timeout=60_000)
    expect(loss).to_have_attribute("aria-label", re.compile("^Loss against the training step"))
    assert page.locator(f"iframe >> {LOSS}").count() == 0

    page.get_by_role("button", name="▶ Play").click()
    expect(page.get_by_role("button", name="⏸ Pause")).to_be_visible(timeout=30_000)
    wait_until(page, "() => (window.bnlabLive?.charts.loss?.ticks || 0) >= 6")
    playing = state(page)
    assert playing["frames"] > playing["ticks"], playing
    # the steps being played are painted over the figure, in the chart's plot area
    wait_until(page, _PAINTED_JS, timeout=30_000)
    assert_no_exception(page)
    screenshot(page, "live_charts_playing")

    # Pause: the Play button is back, and the chart ends on the step the counter shows
    page.get_by_role("button", name="⏸ Pause").click()
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=30_000)
    wait_until(
        page,
        f"""() => {{
        const s = ({_STATE_JS})();
        return s && s.steps.length > 0 && s.steps.every(x => x.at(-1) === s.step);
    }}""",
    )
    paused = state(page)
    n = paused["step"]
    assert n >= 20
    for steps in paused["steps"]:  # both networks: every step 1..N once, in order
        assert steps == list(range(1, n + 1))
    # ... and nothing moves any more
    with pytest.raises(PlaywrightError, match="Timeout"):
        wait_until(
            page,
            """([frames, step]) => {
            const stats = window.bnlabLive.charts.loss;
            const strong = [...document.querySelectorAll('[data-testid="stMain"] strong')]
                .find(e => /^Step \\d+$/.test(e.textContent.trim()));
            return stats.frames !== frames || Number(strong.textContent.trim().slice(5)) !== step;
        }""",
            arg=[paused["frames"], n],
            timeout=2_000,
        )

    # A preset is a new run: the charts start over, empty
    page.get_by_role("button", name="🎲 Batch size 2").click()
    wait_until(
        page,
        f"""(run) => {{
        const s = ({_STATE_JS})();
        return s && s.run !== run && s.step === 0 && s.steps.every(x => x.length === 0);
    }}""",
        arg=paused["run"],
    )
    page.get_by_role("button", name="Step", exact=True).click()
    wait_until(
        page,
        f"""() => {{
        const s = ({_STATE_JS})();
        return s && s.step === 1 && s.steps.every(x => x.length === 1 && x[0] === 1);
    }}""",
    )
    assert_no_exception(page)
