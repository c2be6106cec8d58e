"""The dashboard's charts, early warnings and density layer, and the printable monthly report, in a
real browser (Chromium over the ASGI server, so the live socket works). Screenshots go to
test-artifacts/; any console error or failed request fails the test."""

import datetime as dt
import random

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.tests import conftest as case_world
from dispatch.tests.conftest import WEST_SOUTH, YUNYAN
from maps import alerts
from maps.dashboard import local_zone
from maps.services import alert_sweep
from maps.tests.history import Place, plant
from tests.browser.chromium import assert_clean, chromium_page, off_the_loop, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

world = case_world.world
handler_a = case_world.handler_a
open_case_at = case_world.open_case_at

WAIT = 30000
WEST = Place(106.72, 26.52, "520102001001001")


def chart_series_length(page, element_id: str) -> int:
    return page.evaluate(
        "(id) => { const c = echarts.getInstanceByDom(document.getElementById(id));"
        " return c ? c.getOption().series[0].data.length : 0; }",
        element_id,
    )


@pytest.fixture
def city_history(world, open_case_at, handler_a):
    """Cases of two categories in both districts, one signed so the ranking has a score."""
    signed = open_case_at(WEST_SOUTH, description="人行道摆摊")
    services.case_sign(case_id=signed.id, actor=handler_a, version=signed.version)
    open_case_at(YUNYAN, category="SJ0405", description="门口乱停车")
    open_case_at(WEST_SOUTH, category="XQ0101", description="独居老人需要帮助")


def plant_surge() -> int:
    """Steady weeks of stalls and, today, a burst of missing manhole covers (filed as 路灯) in 西街道."""
    rng = random.Random(4)
    now = timezone.now()
    today = timezone.localdate(timezone=local_zone())
    for day in alerts.baseline_days(today):
        plant(day=day, place=WEST, category="SJ0401", text="人行道上有人摆摊", count=2, rng=rng)
    plant(day=today, place=WEST, category="BJ0107", text="窨井盖不见了", count=9, rng=rng, before=now)
    return len(alert_sweep(now=now).new)


def test_the_dashboard_draws_its_charts_and_a_pushed_alert_highlights_its_area(asgi_server, supervisor, city_history):
    with chromium_page(asgi_server, user=supervisor) as page:
        page.goto(asgi_server + "/maps/")
        page.wait_for_function("() => document.body.dataset.mapReady === 'true'", timeout=WAIT)
        page.wait_for_selector("#live-status[data-state='on']", timeout=WAIT)
        for panel in ("trend", "ranking", "categories", "alerts"):
            page.wait_for_selector(f"#panel-{panel}[data-loaded='true']", timeout=WAIT)
        # Each chart is drawn by ECharts on a canvas of its own, with the data behind it.
        assert chart_series_length(page, "trend-chart") == 30
        # By big class: 占道经营 and 违章停车 are both 街面秩序; 独居老人帮扶 is 社会需求.
        assert chart_series_length(page, "category-chart") == 2
        assert chart_series_length(page, "ranking-chart") >= 1
        for chart in ("trend-chart", "category-chart", "ranking-chart"):
            assert page.locator(f"#{chart} canvas").count() >= 1
        assert "今日暂无预警" in page.inner_text("#alert-list")
        # The trend per category: one line for each category with cases.
        page.select_option("#trend-group", "category")
        page.wait_for_function("() => document.getElementById('trend-chart').dataset.groups === '3'", timeout=WAIT)
        assert chart_series_length(page, "trend-chart") == 30
        # This week's topics: 乱停车 is counted as 违章停车; a topic opens the cases behind it.
        page.wait_for_selector("#panel-hotwords[data-loaded='true']", timeout=WAIT)
        page.click("#hotwords-list li[data-word='违章停车'] button")
        assert page.locator("#hotwords-cases li").count() == 1
        assert "门口乱停车" in page.inner_text("#hotwords-cases")

        assert off_the_loop(plant_surge) >= 1
        page.wait_for_selector("#alert-list li[data-district='520102']", timeout=WAIT)
        assert "西街道" in page.inner_text("#alert-list") and "路灯" in page.inner_text("#alert-list")
        page.wait_for_selector("#map-notice:not([hidden])", timeout=WAIT)
        assert "明显上升" in page.inner_text("#map-notice")
        # The district is highlighted on the map: its alert layer draws the district's polygon.
        page.evaluate("() => window.shehuiMap.jumpTo({center: [106.75, 26.55], zoom: 10.5})")
        page.wait_for_function("() => window.shehuiMap.loaded() && window.shehuiMap.areTilesLoaded()", timeout=WAIT)
        page.wait_for_function(
            "() => window.shehuiMap.queryRenderedFeatures({layers: ['alert-districts-fill']})"
            ".some((f) => f.properties.code === '520102')",
            timeout=WAIT,
        )
        highlighted = page.evaluate(
            "() => [...new Set(window.shehuiMap.queryRenderedFeatures({layers: ['alert-districts-fill']})"
            ".map((f) => f.properties.code))]"
        )
        assert highlighted == ["520102"]

        # The density layer plays the last 30 days through, a week at a time.
        page.check("#toggle-density")
        page.wait_for_function("() => Number(document.body.dataset.densityFeatures) > 0", timeout=WAIT)
        assert page.is_visible("#density-day")
        today = timezone.localdate(timezone=local_zone()).isoformat()
        assert page.get_attribute("#density-day", "data-day") == today
        page.wait_for_function(
            "() => window.shehuiMap.queryRenderedFeatures({layers: ['density-heat']}).length > 0 ||"
            " window.shehuiMap.getLayoutProperty('density-heat', 'visibility') === 'visible'",
            timeout=WAIT,
        )
        screenshot(page, "maps-dashboard-analytics")
        assert_clean(page)


def test_the_monthly_report_draws_its_charts_and_prints_without_the_site_header(asgi_server, supervisor, city_history):
    month = f"{timezone.localdate(timezone=local_zone()):%Y-%m}"
    with chromium_page(asgi_server, user=supervisor, viewport=(1100, 1400)) as page:
        page.goto(f"{asgi_server}/maps/reports/520102/{month}/")
        page.wait_for_function("() => document.body.dataset.chartsReady === 'true'", timeout=WAIT)
        for chart in ("chart-trend", "chart-categories", "chart-units"):
            assert page.get_attribute(f"#{chart}", "data-drawn") == "true"
            # SVG, so the printout is as sharp as the text.
            assert page.locator(f"#{chart} svg").count() == 1
        days = (dt.date.fromisoformat(f"{month}-01").replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        assert chart_series_length(page, "chart-trend") == (days - dt.timedelta(days=1)).day
        assert page.is_visible(".site-header")
        page.emulate_media(media="print")
        assert not page.is_visible(".site-header")
        assert not page.is_visible("#print-report")
        screenshot(page, "maps-monthly-report-print", full_page=True)
        assert_clean(page)
