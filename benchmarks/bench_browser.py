"""What the browser does while the Training Lab plays: frames on screen, animation frames, main
thread load, and training speed, in a real headless Chromium. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_browser.py [--paths live,classic] [--play 10]
        [--width 1400 --height 1000] [--query "present=1"]

For each drawing path (live: the live chart component; classic: whole st.plotly_chart figures
every tick, the page run with BNLAB_LIVE_CHARTS=0) it starts `streamlit run app.py` on a free
loopback port, opens the default Training Lab in Debian's Chromium (/usr/bin/chromium) and
measures three phases: 5 s idle, `--play` s after pressing Play, 3 s after Pause (counted from
when the Play button is back, i.e. once the Pause has been processed):

- screen frames/s: CDP Page.startScreencast sends a frame only when the picture changed; the
  status widget ("Running...") and every CSS animation and transition are hidden first, and
  every frame is acknowledged (Page.screencastFrameAck) so that none is held back;
- rAF/s: requestAnimationFrame callbacks per second (60 when the main thread is free);
- long-task share: the share of wall time in tasks over 50 ms (PerformanceObserver "longtask");
- steps/s: from the step counter ("Step N") at the start and end of the phase;
- Plotly share (live path): the share of wall time in the component's Plotly calls.

The after-Pause phase starts once the live charts have drawn what they were sent; the time from
the click to that moment is printed too.

Goals while playing: >= 24 screen frames/s, >= 40 rAF/s, long-task share <= 25%, >= 20
steps/s, and no screen frame after Pause. The machine's load average is printed: other
processes on a shared machine slow everything down.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
QUIET_CSS = """
[data-testid="stStatusWidget"], [data-testid="stDecoration"] { visibility: hidden !important; }
*, *::before, *::after { animation: none !important; transition: none !important;
                         caret-color: transparent !important; }
"""
COUNTERS_JS = """() => {
    if (window.__bench) return;
    const b = window.__bench = { raf: 0, long: 0 };
    const tick = () => { b.raf += 1; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    new PerformanceObserver(list => {
        for (const e of list.getEntries()) b.long += e.duration;
    }).observe({ type: "longtask" });
}"""
READ_JS = """() => {
    const strong = [...document.querySelectorAll('[data-testid="stMain"] strong')]
        .find(e => /^Step \\d+$/.test(e.textContent.trim()));
    const charts = Object.values((window.bnlabLive || { charts: {} }).charts);
    return { raf: window.__bench.raf, long: window.__bench.long, now: performance.now(),
             step: strong ? Number(strong.textContent.trim().slice(5)) : null,
             plotly: charts.reduce((ms, c) => ms + c.ms, 0) };
}"""
# The live charts have drawn everything they were sent (the classic path has no such flag).
STILL_JS = "() => !window.bnlabLive || window.bnlabLive.busy === 0"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(live):
    port = free_port()
    env = {**os.environ, "BNLAB_LIVE_CHARTS": "1" if live else "0",
           "STREAMLIT_SERVER_HEADLESS": "true", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                             "--server.port", str(port), "--server.address", "127.0.0.1"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{base}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc, base
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not come up")


class Screencast:
    """Counts the frames Chromium's screencast sends (one per change of the picture)."""

    def __init__(self, page):
        self.frames = 0
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Page.screencastFrame", self._frame)
        self.cdp.send("Page.startScreencast", {"format": "jpeg", "quality": 10,
                                               "everyNthFrame": 1})

    def _frame(self, event):
        self.frames += 1
        self.cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})


def measure(page, cast, seconds):
    """Figures of the next `seconds`: screen frames/s, rAF/s, long-task share, steps/s."""
    frames0, start = cast.frames, page.evaluate(READ_JS)
    page.wait_for_timeout(1000 * seconds)
    frames1, end = cast.frames, page.evaluate(READ_JS)
    wall = (end["now"] - start["now"]) / 1000
    steps = (end["step"] or 0) - (start["step"] or 0)
    return {"screen frames/s": (frames1 - frames0) / wall,
            "rAF/s": (end["raf"] - start["raf"]) / wall,
            "long-task share": (end["long"] - start["long"]) / 1000 / wall,
            "steps/s": steps / wall, "frames": frames1 - frames0,
            "Plotly share": (end["plotly"] - start["plotly"]) / 1000 / wall}


def run_path(browser, live, args):
    proc, base = start_server(live)
    try:
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        query = f"?{args.query}" if args.query else ""
        page.goto(f"{base}/training_lab{query}")
        page.get_by_role("button", name="▶ Play").wait_for(timeout=90_000)
        charts = ".bnlab-live-chart .js-plotly-plot" if live else ".js-plotly-plot"
        page.locator(charts).nth(3 if live else 2).wait_for(timeout=90_000)
        page.add_style_tag(content=QUIET_CSS)
        page.evaluate(COUNTERS_JS)
        page.wait_for_function(STILL_JS, timeout=60_000)
        page.wait_for_timeout(1000)
        cast = Screencast(page)
        page.wait_for_timeout(500)
        phases = {"idle": measure(page, cast, 5)}
        page.get_by_role("button", name="▶ Play").click()
        phases["playing"] = measure(page, cast, args.play)
        clicked = time.monotonic()
        page.get_by_role("button", name="⏸ Pause").click()
        page.get_by_role("button", name="▶ Play").wait_for(timeout=30_000)
        page.wait_for_function(STILL_JS, timeout=30_000, polling=20)
        still = time.monotonic() - clicked
        phases["after Pause"] = measure(page, cast, 3)
        phases["after Pause"]["still after s"] = still
        page.close()
        return phases
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--paths", default="live,classic")
    parser.add_argument("--play", type=float, default=10)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--query", default="")
    args = parser.parse_args()
    print(f"Training Lab in headless Chromium, {args.width}x{args.height}"
          f"{', ?' + args.query if args.query else ''}; {os.cpu_count()} cores; load average "
          f"before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in args.paths.split(","):
            results[path] = run_path(browser, path == "live", args)
        browser.close()
    names = ["screen frames/s", "rAF/s", "long-task share", "steps/s", "Plotly share"]
    print(f"{'path':9s}{'phase':13s}" + "".join(f"{n:>17s}" for n in names))
    for path, phases in results.items():
        for phase, figures in phases.items():
            cells = "".join(f"{figures[n]:>16.0%} " if n.endswith("share")
                            else f"{figures[n]:>16.1f} " for n in names)
            print(f"{path:9s}{phase:13s}{cells}")
        still = phases["after Pause"]["still after s"]
        print(f"{path:9s}charts still {still:.2f} s after the Pause click (the Play button back"
              + (", every queued step drawn)" if path == "live" else ")"))
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("goals while playing: >= 24 screen frames/s, >= 40 rAF/s, long-task share <= 25%, "
          ">= 20 steps/s; after Pause: 0 screen frames")


if __name__ == "__main__":
    main()
