"""End-to-end test setup: a real Streamlit server and Debian's headless Chromium.

Every test in this folder is marked `e2e` (deselect them with `-m "not e2e"`). Without
Chromium or Playwright they are skipped, except under CI (env CI set), where they fail.

Fixtures: `app_url` (session: base URL of a fresh `streamlit run app.py` on a free loopback
port); pytest-playwright's `page`, `context` and `browser`, configured here to launch
/usr/bin/chromium (never `playwright install`), with a script-run counter in every page (see
`wait_for_app` in tests/e2e/helpers.py, and wait for what you assert on).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import RUN_COUNTER_JS

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
# The script the server runs. Tests of the fixture itself point it elsewhere (monkeypatch it
# before the session's first e2e test, or set BNLAB_E2E_APP).
APP_SCRIPT = Path(os.environ.get("BNLAB_E2E_APP", REPO_ROOT / "app.py"))
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 900}
# Playwright's expect(...) waits 5 s by default. On a busy 2-core machine Streamlit's lazily
# loaded widget code and Plotly's drawing were measured taking longer than that after a run
# had ended, so every expect in these tests waits up to 20 s (it returns once the condition
# holds). Set by a session fixture of this folder, so that only the e2e tests are affected.
EXPECT_TIMEOUT_MS = 20_000
STARTUP_TIMEOUT_S = 30.0


def _chromium_path() -> str | None:
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


def _missing_requirement() -> str | None:
    """Why the e2e tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright not installed: run the tests with `python3 dev.py test`"
    if _chromium_path() is None:
        return (
            "headless Chromium not found: install Debian's chromium "
            "(sudo apt-get install chromium) to run the end-to-end tests"
        )
    return None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session", autouse=True)
def _patient_expect(_require_browser) -> None:
    from playwright.sync_api import expect  # after the check: skipped when it is missing

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees every collected item, not only this folder's: mark ours.
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session", autouse=True)
def _require_browser() -> None:
    """Skip (or, under CI, fail) every e2e test before anything is launched."""
    missing = _missing_requirement()
    if missing is None:
        return
    if _in_ci():
        pytest.fail(
            f"{missing}. CI must have Debian's chromium; .ci/run installs it.", pytrace=False
        )
    pytest.skip(missing)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    return {**browser_type_launch_args, "executable_path": _chromium_path(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture
def context(context):
    """pytest-playwright's browser context, with the script-run counter that wait_for_app reads
    installed in every document before the app's own code."""
    context.add_init_script(RUN_COUNTER_JS)
    return context


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Start `streamlit run app.py` on a free loopback port; yield its base URL."""
    if not APP_SCRIPT.exists():
        pytest.fail(f"no app to test: {APP_SCRIPT} does not exist", pytrace=False)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP_SCRIPT),
        f"--server.port={port}", "--server.address=127.0.0.1", "--server.headless=true",
    ]  # fmt: skip
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    # The server's output goes to a file, not a pipe: a full pipe would block the server.
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not _healthy(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    exited = server.poll() is not None
                    state = f"exited with code {server.returncode}" if exited else "timed out"
                    pytest.fail(
                        f"Streamlit server {state} before {url} was healthy:\n{output}",
                        pytrace=False,
                    )
                time.sleep(0.1)
            yield url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
