"""First-render time of every page. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_pages.py [--no-browser]

Server side: each page's script run in a fresh Python process through streamlit's AppTest,
cold (imports, empty caches) and then warm (a rerun). In the browser: a fresh server, then
each page opened from its link in headless Chromium, timed until every chart on it is drawn.
Goal: every page's first render under 3 s. First of all, the cold deep link: a fresh server whose
very first request is /training_lab, timed to the page's title and to its first drawn chart.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bn_app.catalog import HOME, LESSONS

GOAL_S = 3.0

_SERVER_SIDE = """
import json, sys, time
start = time.perf_counter()
from streamlit.testing.v1 import AppTest
imported = time.perf_counter()
at = AppTest.from_file(sys.argv[1], default_timeout=120)
t0 = time.perf_counter(); at.run(); cold = time.perf_counter() - t0
t0 = time.perf_counter(); at.run(); warm = time.perf_counter() - t0
print(json.dumps({"cold": cold, "warm": warm, "errors": len(at.exception)}))
"""


def server_side(page_file):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", _SERVER_SIDE, str(ROOT / page_file)],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _browser_tools():
    """Playwright's sync API, bench_browser's server and Chromium, and the e2e suite's
    helpers; or None without them."""
    try:
        from bench_browser import CHROMIUM, CHROMIUM_ARGS, start_server
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    from tests.e2e.helpers import RUN_COUNTER_JS, wait_for_app
    from tests.e2e.test_pages import _DRAWN_JS

    if not Path(CHROMIUM).exists():
        return None
    return SimpleNamespace(
        sync_playwright=sync_playwright,
        args=CHROMIUM_ARGS,
        chromium=CHROMIUM,
        start_server=start_server,
        run_counter=RUN_COUNTER_JS,
        wait_for_app=wait_for_app,
        drawn=_DRAWN_JS,
    )


@contextmanager
def _fresh_server(tools):
    """A cold `streamlit run app.py` (no session has run yet); yields its URL once healthy."""
    server, url = tools.start_server(live=True)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def browser_times(pages, tools):
    """{url_path: seconds until the page's charts are drawn} on a freshly started server."""
    times = {}
    with _fresh_server(tools) as url, tools.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=tools.chromium, args=tools.args)
        for info in pages:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.add_init_script(tools.run_counter)  # what wait_for_app reads
            start = time.perf_counter()
            tab.goto(f"{url}/{info.url_path}")
            tools.wait_for_app(tab, timeout_ms=120_000, quiet_ms=200)
            # every chart drawn with something in it (or, empty by design, its hint)
            tab.wait_for_function(f"() => ({tools.drawn})().every(n => n > 0)", timeout=120_000)
            times[info.url_path] = time.perf_counter() - start - 0.2  # minus quiet spell
            tab.close()
        browser.close()
    return times


_FIRST_CHART_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .some(el => el._fullLayout && (el.data || []).length > 0)"""


def cold_deep_link(tools, url_path="training_lab"):
    """(seconds to the page's title, seconds to its first drawn chart) when the first request a
    freshly started server ever gets is a deep link to the page."""
    with _fresh_server(tools) as url, tools.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=tools.chromium, args=tools.args)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        tab.goto(f"{url}/{url_path}")
        tab.locator("h1").first.wait_for(state="visible", timeout=120_000)
        title = time.perf_counter() - start
        tab.wait_for_function(_FIRST_CHART_JS, timeout=120_000, polling=20)
        chart = time.perf_counter() - start
        browser.close()
    return title, chart


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--cold-links",
        type=int,
        default=3,
        metavar="N",
        help="cold servers to open /training_lab on first (default 3)",
    )
    args = parser.parse_args()
    pages = [HOME, *LESSONS]
    tools = None if args.no_browser else _browser_tools()
    if tools and args.cold_links:
        runs = [cold_deep_link(tools) for _ in range(args.cold_links)]
        titles, charts = zip(*runs, strict=True)
        print(
            f"cold deep link to /training_lab, {len(runs)} fresh servers: title "
            f"{statistics.median(titles):.2f} s, first chart {statistics.median(charts):.2f} s "
            f"(medians; runs: {', '.join(f'{t:.2f}/{c:.2f}' for t, c in runs)})"
        )
    in_browser = browser_times(pages, tools) if tools else {}
    print(f"{'page':<22} {'cold run s':>10} {'rerun s':>8} {'browser s':>10}  goal < {GOAL_S} s")
    for info in pages:
        r = server_side("app.py" if info is HOME else info.file)  # home's links need the router
        shown = in_browser.get(info.url_path)
        worst = max(r["cold"], shown or 0)
        print(
            f"{info.url_path or 'home':<22} {r['cold']:>10.2f} {r['warm']:>8.2f} "
            f"{'' if shown is None else f'{shown:.2f}':>10}  "
            f"{'ok' if worst < GOAL_S else 'SLOW'}{'  errors!' if r['errors'] else ''}"
        )
    if not in_browser:
        print("(browser times need Playwright and Debian's chromium)")


if __name__ == "__main__":
    main()
