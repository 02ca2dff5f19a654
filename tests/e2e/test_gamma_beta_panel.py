"""The Training Lab's "Edit γ and β" panel in a real headless Chromium: after an epoch, dragging
the γ slider changes the eval-mode loss the panel shows and puts γ into the link and the
settings file; "Switch off" sets γ and β to 0 and the numbers answer again. No exception; a
screenshot of the panel in artifacts/screenshots/.
"""

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, rerun, screenshot, wait_for_app

PANEL_TIMEOUT_MS = 30_000  # a cold page on a busy 2-core machine


def panel(page):
    return page.locator('[data-testid="stExpander"]').filter(has_text="Edit γ and β")


def metric_value(page, label):
    return (
        panel(page)
        .locator('[data-testid="stMetric"]')
        .filter(has_text=label)
        .locator('[data-testid="stMetricValue"]')
    )


def gamma_slider(page):
    return (
        panel(page)
        .locator('[data-testid="stSlider"]')
        .filter(has_text="γ (scale)")
        .get_by_role("slider")
    )


def open_trained_lab(page, app_url):
    """The lab after one epoch, paused, with the panel's numbers drawn. Returns the train
    loss the panel shows."""
    page.goto(f"{app_url}/training_lab")
    wait_for_app(page)
    with rerun(page):
        page.get_by_role("button", name="Epoch", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Step [1-9]\d*$"))).to_be_visible(timeout=PANEL_TIMEOUT_MS)
    expect(page.get_by_role("button", name="▶ Play")).to_be_visible(timeout=PANEL_TIMEOUT_MS)
    loss = metric_value(page, "Train loss")
    expect(loss).to_have_text(re.compile(r"^\d+\.\d{4}$"), timeout=PANEL_TIMEOUT_MS)
    return loss


def drag(page, handle, dx):
    """Press the slider's thumb, move it dx pixels sideways, release it."""
    thumb = handle.locator("xpath=../..")  # the visible thumb around the hidden input
    thumb.scroll_into_view_if_needed()
    box = thumb.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def test_dragging_gamma_changes_the_numbers(page, app_url):
    loss = open_trained_lab(page, app_url)
    expect(gamma_slider(page)).to_have_attribute("aria-valuetext", re.compile(r"^-?\d"))
    before, gamma_before = loss.inner_text(), gamma_slider(page).get_attribute("aria-valuetext")
    with rerun(page):
        drag(page, gamma_slider(page), 90)
    expect(gamma_slider(page)).not_to_have_attribute("aria-valuetext", gamma_before)
    expect(loss).not_to_have_text(before, timeout=PANEL_TIMEOUT_MS)
    page.wait_for_url(re.compile(r"gb_gamma="))
    assert_no_exception(page)
    panel(page).scroll_into_view_if_needed()
    screenshot(page, "training_lab_gamma_beta_dragged")

    # the settings file holds the edit too (the panel reran alone: a fragment)
    gamma = parse_qs(urlparse(page.url).query)["gb_gamma"][0]
    page.get_by_text("Save or load this run").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Settings (JSON)").click()
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert saved["settings"]["gb_gamma"] == gamma

    moved = loss.inner_text()
    with rerun(page):
        panel(page).get_by_role("button", name="Switch off", exact=True).click()
    expect(gamma_slider(page)).to_have_attribute("aria-valuetext", "0.000")
    expect(loss).not_to_have_text(moved, timeout=PANEL_TIMEOUT_MS)
    page.wait_for_url(re.compile(r"gb_gamma=0\.0"))
    assert_no_exception(page)
