"""Every page opens through app.py's router, as a browser opens it, with no exception and with
what it is for on screen: its title, and its charts (Plotly figures, or the Training Lab's
live charts)."""

from bn_app.catalog import LESSONS

import pytest

from tests import apptest
from tests.live_spec import messages


@pytest.mark.parametrize("info", LESSONS, ids=[p.url_path for p in LESSONS])
def test_every_page_opens_through_the_router(info):
    at = apptest.open_page(info.file)
    assert at.title[0].value.startswith(info.icon)  # the page's own heading
    assert at.get("plotly_chart") or messages(at)
