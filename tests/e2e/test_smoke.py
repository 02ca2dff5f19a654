"""The app starts in a real browser and shows its home page without an exception."""

from tests.e2e.helpers import assert_no_exception, screenshot, wait_for_app


def test_home_page_loads(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    assert_no_exception(page)
    heading = page.locator("h1").first.inner_text() if page.locator("h1").count() else ""
    assert "BatchNorm Lab" in page.title() or "BatchNorm Lab" in heading, (
        f"title {page.title()!r}, first heading {heading!r}"
    )
    screenshot(page, "home")
