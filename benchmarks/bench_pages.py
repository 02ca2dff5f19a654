"""First-render time of every page. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_pages.py [--no-browser]

Server side: each page's script run in a fresh Python process through streamlit's AppTest,
cold (imports, empty caches) and then warm (a rerun). In the browser: a fresh server, then
each page opened from its link in headless Chromium, timed until every chart on it is drawn.
Goal: every page's first render under 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pages.catalog import HOME, LESSONS

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
    out = subprocess.run([sys.executable, "-c", _SERVER_SIDE, str(ROOT / page_file)],
                         check=True, cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def browser_times(pages):
    """{url_path: seconds until the page's charts are drawn} on a freshly started server."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {}
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    from tests.e2e.conftest import CHROMIUM_ARGS, _chromium_path, _free_port, _healthy
    from tests.e2e.helpers import RUN_COUNTER_JS, wait_for_app
    from tests.e2e.test_pages import _DRAWN_JS

    if _chromium_path() is None:
        return {}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                               f"--server.port={port}", "--server.address=127.0.0.1",
                               "--server.headless=true", "--server.fileWatcherType=none"],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times = {}
    try:
        deadline = time.monotonic() + 30
        while not _healthy(url) and time.monotonic() < deadline:
            time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
            for info in pages:
                tab = browser.new_page(viewport={"width": 1400, "height": 900})
                tab.add_init_script(RUN_COUNTER_JS)  # what wait_for_app reads
                start = time.perf_counter()
                tab.goto(f"{url}/{info.url_path}")
                wait_for_app(tab, timeout_ms=120_000, quiet_ms=200)
                # every chart drawn with something in it (or, empty by design, its hint)
                tab.wait_for_function(f"() => ({_DRAWN_JS})().every(n => n > 0)",
                                      timeout=120_000)
                times[info.url_path] = time.perf_counter() - start - 0.2  # minus quiet spell
                tab.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    pages = [HOME, *LESSONS]
    in_browser = {} if args.no_browser else browser_times(pages)
    print(f"{'page':<22} {'cold run s':>10} {'rerun s':>8} {'browser s':>10}  goal < {GOAL_S} s")
    for info in pages:
        r = server_side("app.py" if info is HOME else info.file)  # home's links need the router
        shown = in_browser.get(info.url_path)
        worst = max(r["cold"], shown or 0)
        print(f"{info.url_path or 'home':<22} {r['cold']:>10.2f} {r['warm']:>8.2f} "
              f"{'' if shown is None else f'{shown:.2f}':>10}  "
              f"{'ok' if worst < GOAL_S else 'SLOW'}{'  errors!' if r['errors'] else ''}")
    if not in_browser:
        print("(browser times need Playwright and Debian's chromium)")


if __name__ == "__main__":
    main()
