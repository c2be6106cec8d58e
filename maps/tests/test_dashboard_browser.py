"""The supervisor dashboard in a real browser, served over ASGI so its live socket works.

Screenshots go to test-artifacts/. Any console error, uncaught exception or failed request to our
server fails the test.
"""

import pytest

from dispatch.models import Case
from dispatch.tests import conftest as case_world
from dispatch.tests.conftest import EAST, WEST_SOUTH
from tests.browser.chromium import assert_clean, chromium_page, off_the_loop, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

world = case_world.world
open_case_at = case_world.open_case_at

WAIT = 30000


def open_dashboard(page, base_url: str):
    page.goto(base_url + "/maps/")
    page.wait_for_function("() => document.body.dataset.mapReady === 'true'", timeout=WAIT)
    page.wait_for_selector("#live-status[data-state='on']", timeout=WAIT)
    page.wait_for_selector("#panel-summary[data-loaded='true']", timeout=WAIT)
    page.wait_for_selector("#panel-triage[data-loaded='true']", timeout=WAIT)


def drawn_case_numbers(page) -> list[str]:
    return page.evaluate(
        "window.shehuiMap.queryRenderedFeatures({layers: ['case-points']}).map((f) => f.properties.number)"
    )


def test_the_map_draws_boundaries_and_a_case_opened_after_the_page_loaded_appears_live(
    asgi_server, world, supervisor, open_case_at
):
    earlier = open_case_at(WEST_SOUTH)
    with chromium_page(asgi_server, user=supervisor) as page:
        open_dashboard(page, asgi_server)
        # Both cases and the line between the west and east streets are in view.
        page.evaluate("window.shehuiMap.jumpTo({center: [106.735, 26.532], zoom: 14.2})")
        page.wait_for_function("() => window.shehuiMap.loaded() && window.shehuiMap.areTilesLoaded()", timeout=WAIT)
        # The boundaries come from our vector tiles.
        assert any("/maps/tiles/boundaries/" in url for url in page.requested)
        drawn = page.evaluate(
            "window.shehuiMap.queryRenderedFeatures({layers: ['districts-line', 'streets-line', 'grids-line']})"
            ".map((f) => f.sourceLayer)"
        )
        assert {"districts", "streets", "grids"} <= set(drawn)
        # The markers load beside the panels; GeoJSON is drawn a moment after it arrives.
        page.wait_for_function(
            "() => window.shehuiMap.queryRenderedFeatures({layers: ['case-points']}).length > 0", timeout=WAIT
        )
        assert drawn_case_numbers(page) == [earlier.number]
        assert page.inner_text("[data-kpi='open']") == "1"

        case = off_the_loop(open_case_at, (WEST_SOUTH[0] + 0.002, WEST_SOUTH[1] + 0.008), category="SJ0405")

        page.wait_for_function(f"() => window.shehuiDashboard.cases.has({case.id})", timeout=WAIT)
        page.wait_for_selector(f"#live-feed li[data-case='{case.id}']", timeout=WAIT)
        page.wait_for_function(
            f"() => window.shehuiMap.queryRenderedFeatures({{layers: ['case-points']}})"
            f".some((f) => f.properties.number === '{case.number}')",
            timeout=WAIT,
        )
        page.wait_for_selector(f".case-pulse[data-case='{case.id}']", timeout=WAIT)
        page.wait_for_function("() => document.querySelector(\"[data-kpi='open']\").textContent === '2'", timeout=WAIT)
        assert "违章停车" in page.inner_text(f"#live-feed li[data-case='{case.id}']")
        screenshot(page, "maps-dashboard-live-case")
        assert_clean(page)


def test_a_dispatcher_dispatches_a_triage_case_from_the_queue(asgi_server, world, dispatcher, open_case_at):
    waiting = open_case_at(EAST)
    with chromium_page(asgi_server, user=dispatcher) as page:
        open_dashboard(page, asgi_server)
        item = page.locator(f"#triage-list li[data-case='{waiting.id}']")
        assert "没有在用的综合执法队单位" in item.inner_text()
        assert page.inner_text("#triage-count") == "1"
        item.get_by_role("button", name="派单").click()
        item.get_by_role("searchbox").fill("西街道")
        item.get_by_role("option", name="西街道综合执法队").click()
        item.get_by_role("textbox", name="派单说明（可选）").fill("东街道暂无执法队，由西街道代管")
        screenshot(page, "maps-dashboard-dispatch-form")
        item.get_by_role("button", name="确认派单").click()
        page.wait_for_selector("#map-notice:not([hidden])", timeout=WAIT)
        assert "西街道综合执法队" in page.inner_text("#map-notice")
        page.wait_for_function("() => document.getElementById('triage-count').textContent === '0'", timeout=WAIT)
        # The live event of the dispatch reaches the feed and the marker changes colour with its status.
        page.wait_for_selector(f"#live-feed li[data-case='{waiting.id}'][data-kind='dispatched']", timeout=WAIT)
        status, lead = off_the_loop(lambda: Case.objects.values_list("status", "lead_unit__name").get(pk=waiting.pk))
        assert (status, lead) == ("dispatched", "西街道综合执法队")
        assert_clean(page)
