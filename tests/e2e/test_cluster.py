"""A replica dies mid-lecture: two replicas behind HAProxy (deploy/haproxy.cfg, tests/cluster.py),
a student's Lab playing on one of them; that replica is killed. The browser reconnects through
the balancer to the other replica, which starts a new session from the page's link: the same
scenario, training back at step 0, and the page says so. No traceback, no blank page, no
stuck spinner.

Marked `haproxy`: skipped where Debian's haproxy is not installed (.ci/run installs it).
"""

from __future__ import annotations

import pytest

from tests.cluster import LocalCluster, haproxy_path
from tests.e2e.helpers import assert_no_exception, screenshot, wait_for_app

pytestmark = pytest.mark.haproxy

# A scenario given by its link: a student opened what the teacher shared.
LINK = "/training_lab?data=moons&opt=momentum&lr=0.3"
WHO_SERVES = "() => fetch('/_stcore/health').then((r) => r.headers.get('x-served-by'))"
LOSS_STEP = "() => (window.bnlabLive?.charts.loss || {}).step ?? -1"
SETTLED = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null && app.dataset.testConnectionState === "CONNECTED"
        && app.dataset.testScriptState === "notRunning";
}"""


@pytest.fixture
def cluster():
    if haproxy_path() is None:
        pytest.skip("haproxy not installed (Debian: apt-get install haproxy)")
    with LocalCluster(replicas=2) as running:
        yield running


def test_a_replica_dies_and_the_page_comes_back_with_its_scenario(cluster, page):
    from playwright.sync_api import expect

    response = page.goto(cluster.url + LINK)
    wait_for_app(page)
    holder = response.headers["x-served-by"]
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"() => ({LOSS_STEP})() >= 20", timeout=30_000)
    # Every request of the session reaches the replica that holds it (the balancer's cookie).
    assert page.evaluate(WHO_SERVES) == holder

    cluster.kill(int(holder.removeprefix("app")) - 1)

    notice = page.locator(".bnlab-live-restarted")
    expect(notice).to_contain_text("training restarted from step 0", timeout=30_000)
    expect(notice).to_contain_text("Your settings came back from the link")
    page.wait_for_function(SETTLED, timeout=30_000)
    other = page.evaluate(WHO_SERVES)
    assert other not in (None, holder)
    # The same scenario: the link is kept, and the controls show its settings.
    assert page.url == cluster.url + LINK
    expect(page.get_by_role("combobox", name="Data set")).to_have_value("moons")
    expect(page.get_by_role("combobox", name="Optimizer")).to_have_value("momentum")
    expect(page.get_by_role("heading", name="Training Lab")).to_be_visible()
    expect(page.get_by_text("Step 0", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="▶ Play")).to_be_enabled()
    # No stuck spinner: neither "Connecting" nor "Running" is shown any more.
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()
    assert_no_exception(page)
    assert "Traceback" not in cluster.log_text(other)
    screenshot(page, "cluster_after_reconnect")

    # Training goes on, on the replica that took the student in, and the notice goes away.
    page.get_by_role("button", name="▶ Play").click()
    page.wait_for_function(f"() => ({LOSS_STEP})() >= 20", timeout=30_000)
    expect(notice).to_be_hidden()
    assert page.evaluate(WHO_SERVES) == other
