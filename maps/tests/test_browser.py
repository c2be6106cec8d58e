"""The map in a real browser: it draws our tiles and names the area under the pointer.

Runs headless Chromium (installed by `scripts/setup.sh --test`) through Playwright against the
ASGI test server (tests/asgi_server.py); WebGL comes from Chromium's software renderer.
"""

from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model

from tests.browser.chromium import assert_clean, chromium_page

pytestmark = pytest.mark.django_db(transaction=True)

# A point in grid 520102002002004 of the fixture (conftest.py): east street, north community.
LON, LAT = 106.69, 26.64


@pytest.fixture
def page(geography, asgi_server):
    """A supervisor's tab; the geography is written before Playwright's loop runs."""
    boss = get_user_model().objects.create_superuser("boss", password=None)
    with chromium_page(asgi_server, user=boss, viewport=(1200, 800)) as page:
        yield page


def show(page, base_url: str, path: str, zoom: float):
    page.goto(base_url + path)
    page.wait_for_function("() => document.body.dataset.mapReady === 'true'", timeout=30000)
    page.evaluate(f"window.shehuiMap.jumpTo({{center: [{LON}, {LAT}], zoom: {zoom}}})")
    page.wait_for_function("() => window.shehuiMap.loaded() && window.shehuiMap.areTilesLoaded()", timeout=30000)


def point_on_page(page) -> tuple[float, float]:
    box = page.locator("#map").bounding_box()
    at = page.evaluate(f"window.shehuiMap.project([{LON}, {LAT}])")
    return box["x"] + at["x"], box["y"] + at["y"]


def test_hovering_a_grid_names_it_and_clicking_describes_it(geography, asgi_server, page):
    grid = geography.grid_at(LON, LAT)
    show(page, asgi_server, "/maps/", 14)
    x, y = point_on_page(page)
    page.mouse.move(x, y)
    page.wait_for_selector(".map-hover:not([hidden])")
    assert page.inner_text(".map-hover") == f"{grid.name} · {grid.code}"
    page.mouse.click(x, y)
    popup = page.wait_for_selector(".area-popup")
    assert grid.name in popup.inner_text()
    assert grid.code in popup.inner_text()
    assert "网格" in popup.inner_text()
    assert_clean(page)
    # Everything came from this server: no CDN, no remote tiles, fonts or styles.
    here = urlparse(asgi_server).netloc
    assert [url for url in page.requested if urlparse(url).scheme in ("http", "https")]
    assert [url for url in page.requested if urlparse(url).netloc not in (here, "")] == []
    assert any("/maps/tiles/boundaries/14/" in url for url in page.requested)


def test_at_the_city_view_the_pointer_names_the_district(geography, asgi_server, page):
    show(page, asgi_server, "/en/maps/", 10)
    x, y = point_on_page(page)
    page.mouse.move(x, y)
    page.wait_for_selector(".map-hover:not([hidden])")
    # Zoom 10 shows districts and streets; the finer one is named.
    assert page.inner_text(".map-hover") == "南明区第2街道 · 520102002"
    assert page.inner_text(".map-legend").count("from zoom") == 3
    assert_clean(page)
