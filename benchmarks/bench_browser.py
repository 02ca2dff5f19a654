"""What the browser does while the Training Lab plays: frames on screen, animation frames, main
thread load, and training speed, in a real headless Chromium. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_browser.py [--paths live,classic] [--play 10]
        [--width 1400 --height 1000] [--query "present=1"] [--save-frames DIR]

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

Then (live path), while it plays, the learning rate goes down a notch: the time from the key
press until the loss chart shows a step trained at the new rate (goal: 1 s).

The after-Pause phase starts once the Pause's run has ended and the live charts have drawn
what they were sent, for 0.3 s in a row; the time from the click until then is printed too.

Goals while playing: >= 24 screen frames/s, >= 40 rAF/s, long-task share <= 25%, >= 20
steps/s, and no screen frame after Pause. The machine's load average is printed: other
processes on a shared machine slow everything down.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # the browser the e2e suite drives

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
# The page's run has ended and the live charts have applied and drawn every message they were
# sent (the classic path has no such counts), for STILL_MS in a row and STILL_MS after a chart
# last drew: the last messages of a run reach the components a moment after the run ends.
STILL_MS = 300
STILL_JS = """(quietMs) => {
    const live = window.bnlabLive;
    const still = (!live || (live.busy === 0 && !live.queued))
        && document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState
           === "notRunning";
    const now = performance.now();
    if (!still) { window.__stillSince = undefined; return false; }
    if (window.__stillSince === undefined) window.__stillSince = now;
    const since = Math.max(window.__stillSince, (live && live.drawnAt) || 0);
    return now - since >= quietMs;
}"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(live):
    port = free_port()
    env = {
        **os.environ,
        "BNLAB_LIVE_CHARTS": "1" if live else "0",
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
    """The frames Chromium's screencast sends (one per change of the picture), by the wall-clock
    time each was drawn (its metadata), so that a frame delivered late counts where it
    belongs."""

    def __init__(self, page, keep=False):
        self.drawn_at = []
        self.keep = [] if keep else None  # (time, JPEG as base64) of every frame
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Page.screencastFrame", self._frame)
        self.cdp.send("Page.startScreencast", {"format": "jpeg", "quality": 10, "everyNthFrame": 1})

    def _frame(self, event):
        self.drawn_at.append(event["metadata"].get("timestamp", time.time()))
        if self.keep is not None:
            self.keep.append((self.drawn_at[-1], event["data"]))
        self.cdp.send("Page.screencastFrameAck", {"sessionId": event["sessionId"]})

    def frames_between(self, start, end):
        return sum(start <= t < end for t in self.drawn_at)

    def save(self, folder, start, end, name):
        """Write the frames drawn in [start, end) and the one before them as JPEG files."""
        kept = self.keep or []
        before = [f for f in kept if f[0] < start][-1:]
        for k, (at, data) in enumerate(before + [f for f in kept if start <= f[0] < end]):
            path = Path(folder) / f"{name}-{k}-{at - start:+.3f}s.jpg"
            path.write_bytes(base64.b64decode(data))


def measure(page, cast, seconds):
    """Figures of the next `seconds`: screen frames/s, rAF/s, long-task share, steps/s."""
    start_wall, start = time.time(), page.evaluate(READ_JS)
    page.wait_for_timeout(1000 * seconds)
    end_wall, end = time.time(), page.evaluate(READ_JS)
    page.wait_for_timeout(300)  # frames drawn before end_wall may still be on their way
    frames = cast.frames_between(start_wall, end_wall)
    wall = (end["now"] - start["now"]) / 1000
    steps = (end["step"] or 0) - (start["step"] or 0)
    return {
        "screen frames/s": frames / wall,
        "rAF/s": (end["raf"] - start["raf"]) / wall,
        "long-task share": (end["long"] - start["long"]) / 1000 / wall,
        "steps/s": steps / wall,
        "frames": frames,
        "Plotly share": (end["plotly"] - start["plotly"]) / 1000 / wall,
    }


STEPS_PER_UPDATE = 10  # the Training Lab's default
# The last step the live loss chart shows (painted or in the figure), and the step counter.
SHOWN_JS = """() => {
    const strong = [...document.querySelectorAll('[data-testid="stMain"] strong')]
        .find(e => /^Step \\d+$/.test(e.textContent.trim()));
    return [(window.bnlabLive.charts.loss || {}).step,
            strong ? Number(strong.textContent.trim().slice(5)) : null];
}"""


def learning_rate_change(page):
    """Seconds from a key press on the learning-rate slider, while playing, until the loss chart
    shows a step trained at the new rate. At the press the step counter shows S; the one run
    that may be under way then (runs of a session never overlap) trains at most
    STEPS_PER_UPDATE more at the old rate, so any step after S + STEPS_PER_UPDATE was trained
    at the new one."""
    slider = (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text="Learning rate")
        .get_by_role("slider")
    )
    slider.focus()
    start = time.monotonic()
    counter = page.evaluate(SHOWN_JS)[1]
    slider.press("ArrowLeft")
    page.wait_for_function(
        f"(n) => ({SHOWN_JS})()[0] > n", arg=counter + STEPS_PER_UPDATE, timeout=30_000, polling=20
    )
    return time.monotonic() - start


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
        page.wait_for_function(STILL_JS, arg=STILL_MS, timeout=60_000)
        page.wait_for_timeout(1000)
        cast = Screencast(page, keep=bool(args.save_frames))
        page.wait_for_timeout(500)
        phases = {"idle": measure(page, cast, 5)}
        page.get_by_role("button", name="▶ Play").click()
        phases["playing"] = measure(page, cast, args.play)
        if live:
            lr_shown = learning_rate_change(page)
        clicked = time.monotonic()
        page.get_by_role("button", name="⏸ Pause").click()
        page.get_by_role("button", name="▶ Play").wait_for(timeout=30_000)
        page.wait_for_function(STILL_JS, arg=STILL_MS, timeout=30_000, polling=20)
        still = time.monotonic() - clicked - STILL_MS / 1000
        pause_start = time.time()
        phases["after Pause"] = measure(page, cast, 3)
        if args.save_frames:
            Path(args.save_frames).mkdir(parents=True, exist_ok=True)
            cast.save(
                args.save_frames,
                pause_start,
                pause_start + 3,
                f"{'live' if live else 'classic'}-after-pause",
            )
        phases["after Pause"]["still after s"] = still
        if live:
            phases["playing"]["lr shown after s"] = lr_shown
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
    parser.add_argument(
        "--save-frames",
        default="",
        help="a folder for the screen frames drawn after Pause (and the one "
        "before), to see what still changes",
    )
    args = parser.parse_args()
    print(
        f"Training Lab in headless Chromium, {args.width}x{args.height}"
        f"{', ?' + args.query if args.query else ''}; {os.cpu_count()} cores; load average "
        f"before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
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
            cells = "".join(
                f"{figures[n]:>16.0%} " if n.endswith("share") else f"{figures[n]:>16.1f} "
                for n in names
            )
            print(f"{path:9s}{phase:13s}{cells}")
        if "lr shown after s" in phases["playing"]:
            print(
                f"{path:9s}a learning-rate change while playing shown in the loss chart "
                f"{phases['playing']['lr shown after s']:.2f} s after the key press"
            )
        still = phases["after Pause"]["still after s"]
        print(
            f"{path:9s}charts still {still:.2f} s after the Pause click (its run ended"
            + (", every queued step drawn)" if path == "live" else ")")
        )
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        "goals while playing: >= 24 screen frames/s, >= 40 rAF/s, long-task share <= 25%, "
        ">= 20 steps/s; after Pause: 0 screen frames"
    )


if __name__ == "__main__":
    main()
