"""The supervision page in a real browser: a supervisor filters, opens a finding, is stopped from
dismissing it without a reason and dismisses it with one; a unit's handler sees only their unit's
finding and adds an explanation. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest

from dispatch.supervision import services
from dispatch.supervision.models import Finding
from dispatch.tests import conftest as cases
from dispatch.tests.supervision import conftest as supervision_world
from tests.browser.chromium import assert_clean, chromium_page, off_the_loop, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

world = cases.world
media = cases.media
planted = supervision_world.planted
WAIT = 20000


@pytest.fixture
def findings(planted):
    plan, now, _counts = planted
    services.supervision_run(now=now)
    return plan


def test_a_supervisor_filters_opens_and_dismisses_a_finding_only_with_a_reason(asgi_server, findings, supervisor):
    finding = Finding.objects.get(rule__code="return_rate")
    with chromium_page(asgi_server, user=supervisor) as page:
        page.goto(asgi_server + "/maps/supervision/")
        rows = page.locator("#findings tbody tr[data-finding]")
        assert rows.count() == 10
        screenshot(page, "supervision-list", full_page=True)
        # Choosing a severity applies at once (no button to press).
        with page.expect_navigation():
            page.select_option("select[name=severity]", "medium")
        assert "severity=medium" in page.url
        severities = page.locator("#findings tbody .severity").all_inner_texts()
        assert severities and set(severities) == {"一般"}

        page.click(f"#findings tr[data-finding='{finding.pk}'] a")
        page.wait_for_selector("#finding-evidence")
        assert page.locator("#finding-evidence tbody tr").count() == len(finding.event_ids)
        # No reason: the page refuses before anything is sent.
        page.click("#finding-act button[value=dismiss]")
        assert page.evaluate("document.getElementById('act-note').validationMessage") != ""
        assert off_the_loop(lambda: Finding.objects.get(pk=finding.pk).status) == "open"

        page.fill("#act-note", "经核实为职责调整期间的正常退单")
        with page.expect_navigation():
            page.click("#finding-act button[value=dismiss]")
        page.wait_for_selector(".supervision-done")
        assert page.inner_text("#finding-status") == "已排除"
        assert "经核实为职责调整期间的正常退单" in page.inner_text("#finding-history")
        screenshot(page, "supervision-finding-dismissed", full_page=True)
        assert_clean(page)
    assert off_the_loop(lambda: Finding.objects.get(pk=finding.pk).status) == "dismissed"


def test_a_units_handler_sees_their_units_finding_and_explains_it(asgi_server, findings):
    unit = findings.planted["signed_idle"][0]
    handler = findings.handlers[unit.pk]
    with chromium_page(asgi_server, user=handler) as page:
        page.goto(asgi_server + "/maps/supervision/")
        rows = page.locator("#findings tbody tr[data-finding]")
        assert rows.count() == 1
        assert page.locator("#run-rules").count() == 0
        assert page.locator(".site-nav a", has_text="监察发现").count() == 1
        with page.expect_navigation():
            rows.first.locator("td:nth-child(2) a").click()
        screenshot(page, "supervision-unit-finding", full_page=True)
        page.wait_for_selector("#finding-explain", timeout=WAIT)
        assert page.locator("#finding-act").count() == 0
        page.fill("#explain-note", "该局当月抽调人员支援防汛，已整改")
        with page.expect_navigation():
            page.click("#finding-explain button[type=submit]")
        assert "该局当月抽调人员支援防汛，已整改" in page.inner_text("#finding-history")
        screenshot(page, "supervision-unit-explained", full_page=True)
        assert_clean(page)
