"""The grid worker's page on a phone-sized browser that loses its network."""

from __future__ import annotations

import pytest

from dispatch import services
from dispatch.models import Case

pytestmark = pytest.mark.django_db(transaction=True)

WEST_SOUTH = (106.72, 26.52)  # grid 520102001001001, the grid worker's grid


def test_a_report_made_offline_waits_and_becomes_exactly_one_case_when_back_online(
    world, grid_worker, handler_a, open_case_at, open_page
):
    # A case in the worker's grid that the unit says is done: it waits for the worker's check.
    done = open_case_at(WEST_SOUTH, description="路边摊占道，已清理")
    done = services.case_sign(case_id=done.pk, actor=handler_a, version=done.version)
    done = services.case_reply(case_id=done.pk, actor=handler_a, version=done.version, note="已清理")
    assert done.status == "verifying"

    page = open_page(
        grid_worker,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": WEST_SOUTH[0], "latitude": WEST_SOUTH[1], "accuracy": 8},
        permissions=["geolocation"],
        # The worker's cache is tried by hand; here the queue alone must carry the report.
        service_workers="block",
    )
    page.goto("/field/")
    page.wait_for_function(
        "() => document.body.dataset.categoriesReady === 'true' && document.body.dataset.live === 'open'"
    )
    page.wait_for_selector(f"#tasks li[data-case='{done.pk}']")

    page.context.set_offline(True)
    page.wait_for_selector("#net-state[data-online=false]")
    description = "井盖旁人行道塌陷一处，已设警示"
    page.select_option("#report-category", "SJ0401")
    page.fill("#report-description", description)
    page.click("#gps-button")
    page.wait_for_function("() => document.body.dataset.located === 'true'")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#queue li[data-state=waiting]")
    assert "等待发送" in page.inner_text("#queue")
    assert not Case.objects.filter(description=description).exists()
    page.shot("field-offline")

    # Back online, the first answer is lost on its way back: the server made the case, the phone
    # saw a network error. The report stays waiting and its retry must not make a second case.
    lost = []

    def lose_first_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.request.headers.get("idempotency-key"))
            route.fetch()
            route.abort("failed")
        else:
            route.continue_()

    page.route("**/api/v1/cases/", lose_first_answer)
    page.context.set_offline(False)
    sent = page.wait_for_selector("#queue li[data-state=sent]", timeout=20000)
    cases = Case.objects.filter(description=description)
    assert cases.count() == 1
    case = cases.get()
    assert case.source == "field"
    assert case.grid_code == "520102001001001"
    assert case.number in sent.inner_text()
    assert lost and lost[0]
    page.wait_for_function("() => document.body.dataset.live === 'open'")
    page.shot("field-sent")

    # Another round of "online" finds nothing left to send.
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(300)
    assert Case.objects.filter(description=description).count() == 1

    # The worker checks the finished case on site and passes it.
    page.click(f"#tasks li[data-case='{done.pk}'] button[data-verify=pass]")
    page.wait_for_selector(f"#tasks li[data-case='{done.pk}']", state="detached")
    assert Case.objects.get(pk=done.pk).status == "closed"

    # The failed first answer is the only console error, and it was made on purpose.
    assert [e for e in page.errors if "ERR_FAILED" not in e] == []


def test_a_503_waits_out_its_retry_after_and_a_4xx_is_shown_to_the_worker(world, grid_worker, open_page):
    # The server's own 503 is drilled against a real database outage in tests/faults; here the
    # answers are given at the network layer, to see what the page does with each.
    page = open_page(
        grid_worker,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": WEST_SOUTH[0], "latitude": WEST_SOUTH[1], "accuracy": 8},
        permissions=["geolocation"],
        service_workers="block",
    )
    page.goto("/field/")
    page.wait_for_function(
        "() => document.body.dataset.categoriesReady === 'true' && document.body.dataset.live === 'open'"
    )
    posts = []
    answers = {
        "数据库中断": [
            {
                "status": 503,
                "headers": {"Retry-After": "1"},
                "body": {"detail": "数据库暂时无法连接", "code": "database_unavailable"},
            }
        ],
        "过大的上报": [{"status": 413, "headers": {}, "body": {"detail": "请求体过大。"}}] * 3,
    }

    def answer(route):
        text = route.request.post_data_buffer.decode("utf-8", "replace")
        which = next((k for k in answers if k in text), None)
        posts.append(which)
        if which and answers[which]:
            given = answers[which].pop(0)
            route.fulfill(status=given["status"], headers=given["headers"], json=given["body"])
        else:
            route.continue_()

    page.route("**/api/v1/cases/", answer)

    def report(description):
        page.select_option("#report-category", "SJ0401")
        page.fill("#report-description", description)
        page.click("#gps-button")
        page.wait_for_function("() => document.body.dataset.located === 'true'")
        page.click("#report-form button[type=submit]")

    report("数据库中断时上报的井盖问题")
    page.wait_for_function("() => document.querySelector('#queue').innerText.includes('服务器暂时不可用')")
    assert page.query_selector("#queue li[data-state=waiting]")
    page.wait_for_selector("#queue li[data-state=sent]", timeout=20000)
    assert Case.objects.filter(description="数据库中断时上报的井盖问题").count() == 1
    assert posts.count("数据库中断") == 2  # the 503, then the retry that the server answered

    report("过大的上报")
    refused = page.wait_for_selector("#queue li[data-state=refused]", timeout=20000)
    assert "请求体过大" in refused.inner_text()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(300)
    assert posts.count("过大的上报") == 1  # shown, not retried
    assert not Case.objects.filter(description="过大的上报").exists()
    page.shot("field-refused")
    assert [e for e in page.errors if "503" not in e and "413" not in e] == []
