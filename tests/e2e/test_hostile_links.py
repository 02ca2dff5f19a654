"""Hostile input in a real browser: the "Ignored from the link" notice and the refusal of an
uploaded file show their text, escaped, and nothing of it becomes a link or an image.
Screenshots: artifacts/screenshots/hostile-link-step_by_step.png and
hostile-file-name-training_lab.png."""

from urllib.parse import quote

from playwright.sync_api import expect

from tests.e2e.helpers import assert_no_exception, screenshot

# The example: a value that closes the notice's code span with a backtick, then an
# image from elsewhere and a bare address (which the browser links even when escaped); and a
# parameter name that is a link. Each fits in the 60 characters the notice shows.
VALUE = "x`![logo](https://phish.example/logo.png) www.phish.example"
NAME = "[Session expired - log in again](https://phish.example/in)"
TIMEOUT_MS = 45_000
WORD_JOINER = "\u2060"


def test_phishing_link_shows_only_escaped_text(page, app_url):
    page.goto(f"{app_url}/step_by_step?act={quote(VALUE)}&{quote(NAME)}=1")
    toast = page.locator('[data-testid="stToast"]')
    expect(toast).to_contain_text("Session expired - log in again", timeout=TIMEOUT_MS)
    toast.get_by_text("view more").click()  # the whole notice, for the screenshot
    expect(toast.get_by_text("view less")).to_be_visible()
    shown = toast.inner_text().replace(WORD_JOINER, "")
    assert "Ignored from the link" in shown and VALUE in shown and NAME in shown, shown
    screenshot(page, "hostile-link-step_by_step")
    assert toast.locator("a, img").count() == 0
    assert page.locator('a[href*="phish"], img[src*="phish"]').count() == 0
    assert_no_exception(page)


def test_hostile_file_name_shows_only_escaped_text(page, app_url):
    name = "![x](www.phish.example)[Log in again](www.phish.example).csv"  # 60 characters
    page.goto(f"{app_url}/training_lab?data=own")
    uploader = page.locator('[data-testid="stSidebar"] input[type="file"]')
    expect(uploader).to_be_attached(timeout=TIMEOUT_MS)
    uploader.set_input_files({"name": name, "mimeType": "text/csv", "buffer": b"a,b\n1,2\n"})
    refusal = page.locator('[data-testid="stAlertContentError"]')
    expect(refusal).to_contain_text("can't be used", timeout=TIMEOUT_MS)
    shown = refusal.inner_text().replace(WORD_JOINER, "")
    assert name in shown, shown
    refusal.scroll_into_view_if_needed()
    screenshot(page, "hostile-file-name-training_lab")
    assert page.locator('a[href*="phish"], img[src*="phish"]').count() == 0
    assert_no_exception(page)
