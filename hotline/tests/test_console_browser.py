"""The agents' console in a real browser: an agent takes a call and sees where it went and why.

Served over ASGI (tests/asgi_server.py) so the page's live socket connects; screenshots go to
test-artifacts/. Any console error, uncaught exception or failed request fails the test.
"""

import pytest

from dispatch.models import Case
from hotline.models import Call, Callback
from hotline.tests.conftest import PHONE, WEST, close_case
from tests.browser.chromium import assert_clean, chromium_page, off_the_loop, screenshot

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20000


def open_console(page, base_url: str):
    page.goto(base_url + "/hotline/")
    page.wait_for_function("() => document.body.dataset.mapReady === 'true'", timeout=WAIT)
    page.wait_for_selector("#live-status[data-state='on']", timeout=WAIT)
    page.wait_for_selector("#callback-list[data-loaded='true']", timeout=WAIT)


def test_an_agent_files_a_call_and_sees_the_routing_decision_with_its_explanation(asgi_server, world, agent):
    with chromium_page(asgi_server, user=agent) as page:
        open_console(page, asgi_server)
        page.fill("#caller-phone", PHONE)
        page.fill("#caller-name", "张三")
        page.wait_for_selector("#caller-notice:not([hidden])", timeout=WAIT)
        assert "首次来电" in page.inner_text("#caller-notice")
        page.get_by_label("投诉").check()
        page.fill("#content", "西湖小学门口人行道上有人摆摊卖菜，影响通行")
        chip = page.locator("#category-suggestions .chip[data-category='SJ0401']")
        chip.wait_for(timeout=WAIT)
        chip.click()
        assert page.input_value("#category") == "SJ0401"
        page.fill("#address", "西湖小学")
        page.locator("#place-suggestions [role=option]", has_text="西湖小学").click()
        page.wait_for_selector("#location-chain span", timeout=WAIT)
        assert "西街道" in page.inner_text("#location-chain")
        assert page.input_value("#lon") and page.input_value("#lat")
        page.click("#submit")
        result = page.wait_for_selector("#result:not([hidden])", timeout=WAIT)
        text = result.inner_text()
        case = off_the_loop(lambda: Case.objects.select_related("lead_unit").get())
        assert f"已生成工单 {case.number}" in text
        assert "西街道综合执法队" in text
        # The explanation: the principle and the rule that decided it, as the router recorded them.
        assert "按先属地、后属主" in text
        assert f"规则 #{case.routing['explanation']['matched']} SJ @ 520100" in text and "采用" in text
        assert case.lead_unit.name == "西街道综合执法队"
        page.wait_for_selector(f"#recent-calls li[data-case='{case.pk}']", timeout=WAIT)
        assert "138****5678" in page.inner_text("#recent-calls")
        screenshot(page, "hotline-console-filed", full_page=True)
        assert_clean(page)


def test_a_repeat_caller_is_flagged_and_the_call_joins_the_duplicate_case(asgi_server, world, agent, file_call):
    first = file_call()
    with chromium_page(asgi_server, user=agent) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        open_console(page, asgi_server)
        page.fill("#caller-phone", PHONE)
        page.wait_for_selector("#caller-notice.repeat", timeout=WAIT)
        assert "重复来电" in page.inner_text("#caller-notice")
        assert first.case.number in page.inner_text("#caller-notice")
        # A known caller's name comes back by itself.
        assert page.input_value("#caller-name") == "张三"
        page.fill("#content", "又有人在人行道上摆摊卖菜")
        page.select_option("#category", "SJ0401")
        page.evaluate(f"window.shehuiConsoleMap.fire('click', {{lngLat: {{lng: {WEST[0]}, lat: {WEST[1]}}}}})")
        duplicate = page.locator(f"#duplicate-list li[data-case='{first.case.pk}']")
        duplicate.wait_for(timeout=WAIT)
        screenshot(page, "hotline-console-duplicate", full_page=True)
        duplicate.get_by_role("button", name="并入此工单").click()
        page.wait_for_selector("#result[data-outcome='joined']", timeout=WAIT)
        assert f"已并入工单 {first.case.number}" in page.inner_text("#result")
        outcomes = off_the_loop(lambda: list(Call.objects.order_by("id").values_list("outcome", "case_id")))
        assert outcomes == [("case_opened", first.case.pk), ("joined", first.case.pk)]
        assert off_the_loop(Case.objects.count) == 1
        assert_clean(page)


def test_the_agent_records_a_callback_from_the_queue(asgi_server, world, agent, dispatcher, handler_west, file_call):
    case = close_case(file_call().case, handler=handler_west, dispatcher=dispatcher)
    with chromium_page(asgi_server, user=agent) as page:
        open_console(page, asgi_server)
        item = page.locator(f"#callback-list li[data-case='{case.pk}']")
        assert "138****5678" in item.inner_text()
        assert page.inner_text("#callback-count") == "1"
        item.get_by_role("button", name="基本满意").click()
        page.wait_for_selector("#callback-notice:not([hidden])", timeout=WAIT)
        assert case.number in page.inner_text("#callback-notice")
        assert page.locator(f"#callback-list li[data-case='{case.pk}']").count() == 0
        results = off_the_loop(lambda: list(Callback.objects.values_list("case_id", "result")))
        assert results == [(case.pk, "basically_satisfied")]
        assert_clean(page)
