"""Helpers for the end-to-end tests: wait for Streamlit's script runs, check for exceptions,
take screenshots.

    page.goto(f"{app_url}/training_lab")
    wait_for_app(page)                  # this document's first run has drawn the page
    with rerun(page):                   # an interaction, then the run it caused has finished
        page.get_by_role("button", name="Step", exact=True).click()
    expect(page.get_by_text("Step 1")).to_be_visible()   # and still: wait for what you assert

"The app is idle" is never proof that a page has drawn what a test reads. Streamlit is idle
before its first run has put anything on the page, between a click and the rerun it causes, and
between two runs. So `wait_for_app` only reports idle after it has seen the server answer: a
script run START, or a message from the server, after the navigation or interaction (counters
that the `page` fixture installs before any of the app's code loads); and after a navigation
it also waits for the page's title. Even so, a test waits for the very element, text or state
it asserts on (`expect(...)` or `page.wait_for_function`), and where it compares two states it
waits for each state's own evidence before measuring.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is imported lazily so that a missing install only skips e2e tests
    from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"

# Counts the script runs this document has seen start, and the messages it has had from the
# server. Streamlit 1.67 mirrors its state onto the root element:
#   <div data-testid="stApp" data-test-connection-state="CONNECTED"
#        data-test-script-state="initial | running | notRunning | rerunRequested | ...">
# A MutationObserver on that attribute sees every value it takes (each record's oldValue, then
# the current one), so a run is counted even when it starts and ends between two callbacks.
# But a short run (a fragment's) can start and finish within one of React's batched renders:
# the attribute then never says "running" at all. Its messages still arrive, so the counter
# also counts every message of the page's WebSockets (Streamlit talks over one).
# Installed with `context.add_init_script`, it runs before the app's own scripts in every
# document; `window.__bnlabRuns` and `window.__bnlabMessages` start at 0 on each navigation.
RUN_COUNTER_JS = """(() => {
    if (window.__bnlabRuns !== undefined) return;
    window.__bnlabRuns = 0;
    window.__bnlabMessages = 0;
    const NativeSocket = window.WebSocket;
    window.WebSocket = class extends NativeSocket {
        constructor(...args) {
            super(...args);
            this.addEventListener("message", () => { window.__bnlabMessages += 1; });
        }
    };
    const STATE = "data-test-script-state";
    let last = null;
    const seen = (value) => {
        if (value === "running" && last !== "running") window.__bnlabRuns += 1;
        if (value !== null) last = value;
    };
    const watch = (app) => {
        seen(app.getAttribute(STATE));
        new MutationObserver((records) => {
            for (const r of records) seen(r.oldValue);
            seen(app.getAttribute(STATE));
        }).observe(app, {attributes: true, attributeOldValue: true, attributeFilter: [STATE]});
    };
    // Until the root element exists, watch the document for it; then only its attribute.
    const finder = new MutationObserver(() => {
        const app = document.querySelector('[data-testid="stApp"]');
        if (app) { finder.disconnect(); watch(app); }
    });
    finder.observe(document, {subtree: true, childList: true});
})()"""

# True once the server has answered since the counts `after` ([runs, messages]) were read (a
# run started, or a message came), the app is connected, idle for `quietMs` in a row, and
# (when asked) shows its title. The quiet spell covers a run that asks for another (st.rerun),
# and a message whose run the page has not shown as running yet.
_SETTLED_JS = """([after, quietMs, needTitle]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const settled = app !== null
        && (window.__bnlabRuns > after[0] || window.__bnlabMessages > after[1])
        && app.dataset.testConnectionState === "CONNECTED"
        && ["notRunning", "compilationError"].includes(app.dataset.testScriptState)
        && (!needTitle || document.querySelector('[data-testid="stMain"] h1') !== null);
    const now = performance.now();
    if (!settled) { window.__bnlabSettledSince = undefined; return false; }
    if (window.__bnlabSettledSince === undefined) window.__bnlabSettledSince = now;
    return now - window.__bnlabSettledSince >= quietMs;
}"""


def script_runs(page: Page) -> tuple[int, int]:
    """(script runs this document has seen start, messages it has had from the server); both
    0 before the first."""
    counts = page.evaluate("() => [window.__bnlabRuns, window.__bnlabMessages]")
    if counts[0] is None:
        raise RuntimeError(
            "no run counter on this page: use the e2e `page` fixture, or call "
            "context.add_init_script(RUN_COUNTER_JS) before page.goto"
        )
    return tuple(counts)


def wait_for_app(
    page: Page,
    *,
    after: tuple[int, int] = (0, 0),
    title: bool | None = None,
    timeout_ms: float = 30_000,
    quiet_ms: float = 300,
) -> None:
    """Wait until the server has answered since `after` (script_runs' counts) and the run that
    answer belongs to has finished.

    Right after `page.goto(...)`, call it as is: it waits for this document's first run to
    finish and for the page's title (h1). After an interaction, prefer `with rerun(page): ...`,
    which reads `after` before the interaction for you. It never returns just because the app
    looks idle: it must have seen a run start or a message arrive after `after` (a fragment's
    short run may never show as running). A page whose fragment reruns on a timer
    (`run_every`, while playing) may never settle: wait for the element you expect instead.
    This is not proof that the element a test reads is drawn (a run can end in st.rerun, a
    chart draws after its run): wait for that element itself too.
    """
    need_title = tuple(after) == (0, 0) if title is None else title
    page.evaluate("() => { window.__bnlabSettledSince = undefined; }")
    page.wait_for_function(
        _SETTLED_JS, arg=[list(after), quiet_ms, need_title], timeout=timeout_ms, polling=50
    )


@contextmanager
def rerun(page: Page, **wait_args) -> Iterator[None]:
    """`with rerun(page): <click, key press...>` waits, after the block, for the server's answer
    to it (a run started or a message came after the block began) and for that run to finish
    (keywords go to wait_for_app)."""
    before = script_runs(page)
    yield
    wait_for_app(page, after=before, **wait_args)


def assert_no_exception(page: Page) -> None:
    """Fail if the page shows a Streamlit exception box (st.exception or an uncaught error)."""
    boxes = page.locator('[data-testid="stException"]')
    count = boxes.count()
    assert count == 0, f"{count} exception(s) on the page:\n" + "\n---\n".join(
        boxes.all_inner_texts()
    )


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG of the page to artifacts/screenshots/<name>.png (kept out of git)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
