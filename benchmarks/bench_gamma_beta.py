"""How fast the Training Lab's "Edit γ and β" panel answers a slider, in a real headless
Chromium. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_gamma_beta.py [--moves 20] [--epochs 3] [--query ""]

It starts `streamlit run app.py` on a free loopback port, opens the Training Lab, trains a few
epochs (the default spiral, 3 x 16 ReLU units, batch norm and its twin) and pauses there. Then,
`--moves` times, it drags the γ slider of unit 1 of hidden layer 1 sideways (alternately right
and left) with the mouse and measures, in the page, the time from the mouse button's release
(the moment Streamlit sends the slider's value) to the first animation frame in which the
panel's "Train loss" number differs: the server's rerun of the panel (a fragment), the message
and React's redraw. The panel's three charts may draw a little later; the time until the last of
them is redrawn is printed too, and when the server's first and last message of its answer
arrived (the rest is the browser drawing). Goal: the number within 300 ms of the release.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_browser import CHROMIUM, CHROMIUM_ARGS, start_server

GOAL_MS = 300
# Every websocket message's arrival time in the page: when the server's answer came in, apart
# from the time the browser then takes to draw it.
MESSAGES_JS = """(() => {
    const Base = window.WebSocket;
    window.__gbMessages = [];
    window.WebSocket = class extends Base {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', () => window.__gbMessages.push(performance.now()));
        }
    };
})()"""
# At each release: the text of the panel's train loss then, and the first frame after it in
# which the text differs (and in which every chart of the panel has been redrawn since).
WATCH_JS = """() => {
    const panel = () => [...document.querySelectorAll('[data-testid="stExpander"]')]
        .find(e => e.innerText.includes('Edit γ and β'));
    const loss = () => {
        const m = [...(panel()?.querySelectorAll('[data-testid="stMetric"]') || [])]
            .find(e => e.innerText.includes('Train loss'));
        return m ? m.querySelector('[data-testid="stMetricValue"]').innerText : null;
    };
    const w = window.__gb = { up: null, number: null, charts: null, before: null };
    const redrawn = new Set();
    const watchCharts = () => (panel()?.querySelectorAll('.js-plotly-plot') || [])
        .forEach(el => { if (!el.__gbHooked && el.on) {
            el.__gbHooked = true; el.on('plotly_afterplot', () => redrawn.add(el)); } });
    const poll = () => {
        const now = performance.now();
        watchCharts();
        if (w.number === null && loss() !== w.before) w.number = now;
        const plots = panel()?.querySelectorAll('.js-plotly-plot') || [];
        if (w.charts === null && plots.length && [...plots].every(el => redrawn.has(el)))
            w.charts = now;
        if (w.number === null || w.charts === null) requestAnimationFrame(poll);
    };
    document.addEventListener('pointerup', () => {
        w.up = performance.now(); w.before = loss(); w.number = null; w.charts = null;
        redrawn.clear(); watchCharts(); requestAnimationFrame(poll);
    }, true);
}"""


def train_and_pause(page, base, epochs, query):
    page.goto(f"{base}/training_lab{'?' + query if query else ''}")
    page.get_by_role("button", name="Epoch", exact=True).wait_for(timeout=60_000)
    for _ in range(epochs):
        page.get_by_role("button", name="Epoch", exact=True).click()
        page.wait_for_timeout(1500)
    page.get_by_role("button", name="▶ Play").wait_for(timeout=60_000)
    slider = gamma_slider(page)
    slider.wait_for(timeout=60_000)
    page.wait_for_timeout(2000)  # the panel's charts drawn
    return slider


def gamma_slider(page):
    return (
        page.locator('[data-testid="stExpander"]')
        .filter(has_text="Edit γ and β")
        .locator('[data-testid="stSlider"]')
        .filter(has_text="γ (scale)")
        .get_by_role("slider")
    )


def one_move(page, slider, dx):
    """Drag the thumb dx pixels; returns ms from the release to the new number, to the charts
    redrawn, to the server's first and last message (None: not seen)."""
    thumb = slider.locator("xpath=../..")  # the visible thumb around the hidden input
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=6)
    page.mouse.up()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        w = page.evaluate("() => window.__gb")
        if w["number"] is not None and w["charts"] is not None:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)  # the run's last messages
    w = page.evaluate("() => window.__gb")
    arrived = [t - w["up"] for t in page.evaluate("() => window.__gbMessages") if t > w["up"]]
    return {
        "number": None if w["number"] is None else w["number"] - w["up"],
        "charts": None if w["charts"] is None else w["charts"] - w["up"],
        "first message": arrived[0] if arrived else None,
        "last message": arrived[-1] if arrived else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--moves", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--query", default="")
    args = parser.parse_args()
    print(
        f"γ slider → updated loss in headless Chromium; {os.cpu_count()} cores; load average "
        f"before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    proc, base = start_server(live=True)
    times, missed = {}, 0
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.add_init_script(MESSAGES_JS)
            slider = train_and_pause(page, base, args.epochs, args.query)
            page.evaluate(WATCH_JS)
            for i in range(args.moves):
                measured = one_move(page, slider, 40 if i % 2 == 0 else -40)
                if measured["number"] is None:
                    missed += 1
                    continue
                for name, value in measured.items():
                    if value is not None:
                        times.setdefault(name, []).append(value)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    def line(name, values):
        if not values:
            return f"{name:34s} no measurement"
        values = sorted(values)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        return (
            f"{name:34s} median {statistics.median(values):6.0f} ms   p90 {p90:6.0f} ms   "
            f"max {values[-1]:6.0f} ms   (n = {len(values)})"
        )

    numbers = times.get("number", [])
    print(line("release → server's first message", times.get("first message")))
    print(line("release → server's last message", times.get("last message")))
    print(line("release → new train loss shown", numbers))
    print(line("release → panel's charts redrawn", times.get("charts")))
    if missed:
        print(f"{missed} move(s) showed no new number within 10 s (the value did not change?)")
    print(f"new loss within {GOAL_MS} ms: {sum(v <= GOAL_MS for v in numbers)} of {len(numbers)}")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
