"""The map page in a real browser: it draws our tiles and names the area under the pointer.

Runs headless Chromium (installed by `scripts/setup.sh --test`) through Playwright against a live
server on this machine; WebGL comes from Chromium's software renderer.
"""

import shutil
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# A point in grid 520102002002004 of the fixture (conftest.py): east street, north community.
LON, LAT = 106.69, 26.64


@pytest.fixture
def page(geography, live_server):
    """A browser tab; asks for the geography first so it is written before Playwright's loop runs."""
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: run scripts/setup.sh --test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        yield page
        browser.close()


def show(page, live_server, path: str, zoom: float):
    page.goto(live_server.url + path)
    page.wait_for_function("document.body.dataset.mapReady === 'true'", timeout=30000)
    page.evaluate(f"window.shehuiMap.jumpTo({{center: [{LON}, {LAT}], zoom: {zoom}}})")
    page.wait_for_function("window.shehuiMap.loaded() && window.shehuiMap.areTilesLoaded()", timeout=30000)


def point_on_page(page) -> tuple[float, float]:
    box = page.locator("#map").bounding_box()
    at = page.evaluate(f"window.shehuiMap.project([{LON}, {LAT}])")
    return box["x"] + at["x"], box["y"] + at["y"]


def test_hovering_a_grid_names_it_and_clicking_describes_it(geography, live_server, page):
    grid = geography.grid_at(LON, LAT)
    show(page, live_server, "/maps/", 14)
    x, y = point_on_page(page)
    page.mouse.move(x, y)
    page.wait_for_selector(".map-hover:not([hidden])")
    assert page.inner_text(".map-hover") == f"{grid.name} · {grid.code}"
    page.mouse.click(x, y)
    popup = page.wait_for_selector(".area-popup")
    assert grid.name in popup.inner_text()
    assert grid.code in popup.inner_text()
    assert "网格" in popup.inner_text()
    assert page.errors == []
    # Everything came from this server: no CDN, no remote tiles, fonts or styles.
    here = urlparse(live_server.url).netloc
    assert [url for url in page.requested if urlparse(url).scheme in ("http", "https")]
    assert [url for url in page.requested if urlparse(url).netloc not in (here, "")] == []
    assert any("/maps/tiles/boundaries/14/" in url for url in page.requested)


def test_at_the_city_view_the_pointer_names_the_district(geography, live_server, page):
    show(page, live_server, "/en/maps/", 10)
    x, y = point_on_page(page)
    page.mouse.move(x, y)
    page.wait_for_selector(".map-hover:not([hidden])")
    # Zoom 10 shows districts and streets; the finer one is named.
    assert page.inner_text(".map-hover") == "南明区第2街道 · 520102002"
    assert page.inner_text(".map-legend").count("from zoom") == 3
