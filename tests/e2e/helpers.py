"""Helpers for the end-to-end tests: wait for Streamlit, check for exceptions, take screenshots.

Use them as `from tests.e2e.helpers import assert_no_exception, screenshot, wait_for_app`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is imported lazily so that a missing install only skips e2e tests
    from playwright.sync_api import Page

REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = REPO_ROOT / "artifacts" / "screenshots"

# True once the app is connected and its script has been idle for `quiet_ms` in a row.
# Streamlit 1.67 mirrors its state onto the root element:
#   <div data-testid="stApp" data-test-connection-state="CONNECTED"
#        data-test-script-state="initial | running | notRunning | rerunRequested | ...">
# "initial" means the first run has not even started. Requiring a quiet spell rather than a
# single idle sample covers the gap between a click and the rerun it triggers.
_IDLE_JS = """([quietMs]) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const idle = app !== null
        && app.dataset.testConnectionState === "CONNECTED"
        && ["notRunning", "compilationError"].includes(app.dataset.testScriptState);
    const now = performance.now();
    if (!idle) { window.__bnlabIdleSince = undefined; return false; }
    if (window.__bnlabIdleSince === undefined) window.__bnlabIdleSince = now;
    return now - window.__bnlabIdleSince >= quietMs;
}"""


def wait_for_app(page: Page, timeout_ms: float = 30_000, quiet_ms: float = 300) -> None:
    """Wait until Streamlit is connected and has finished running the script.

    Call it after `page.goto(...)` and after each interaction that triggers a rerun. A page
    whose fragment reruns on a timer (`run_every`, while playing) may never look idle:
    pause it first, or wait for the element you expect with `expect(...)` instead.
    """
    page.evaluate("() => { window.__bnlabIdleSince = undefined; }")
    page.wait_for_function(_IDLE_JS, arg=[quiet_ms], timeout=timeout_ms, polling=50)


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
