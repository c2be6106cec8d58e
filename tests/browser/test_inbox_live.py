"""A handler's inbox and case page in a real browser, kept current by /ws/live/."""

from __future__ import annotations

import pytest

from dispatch.models import Case

pytestmark = pytest.mark.django_db(transaction=True)

WEST_SOUTH = (106.72, 26.52)  # grid 520102001001001: unit A (西街道综合执法队) leads 事件 there


def test_a_filed_case_appears_live_in_the_inbox_and_the_signature_reaches_the_agents_page(
    world, handler_a, agent, open_page, api_post
):
    handler_a.set_password("demo12345")
    handler_a.save()

    # The handler logs in through the form and lands in the inbox.
    inbox = open_page()
    inbox.goto("/accounts/login/")
    inbox.fill("input[name=username]", "handler_a")
    inbox.fill("input[name=password]", "demo12345")
    inbox.shot("login")
    inbox.click("button[type=submit]")
    inbox.wait_for_url("**/inbox/")
    inbox.wait_for_function(
        "() => document.body.dataset.live === 'open' && document.body.dataset.inboxReady === 'true'"
    )
    assert inbox.locator("#inbox-rows tr[data-case]").count() == 0

    # An agent files a case through the API.
    status, case = api_post(
        "/api/v1/cases/",
        {"category": "SJ0401", "description": "菜场门口占道经营，行人绕行", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]},
        token=agent.token,
        key="inbox-live-1",
    )
    assert status == 201, case
    assert case["lead_unit"]["name"] == "西街道综合执法队"

    # It appears without a reload, marked new and counted.
    row = inbox.wait_for_selector(f"#inbox-rows tr[data-case='{case['id']}']", timeout=2000)
    assert "is-new" in row.get_attribute("class")
    assert inbox.inner_text("#inbox-new") == "1"
    assert inbox.title().startswith("(1)")
    inbox.wait_for_selector(f"tr[data-case='{case['id']}'] .sla[data-level=green]")
    assert "签收剩余" in inbox.inner_text(f"tr[data-case='{case['id']}'] .sla")
    inbox.shot("inbox")

    # The socket drops; a case filed meanwhile is replayed when it reconnects from the last seq.
    sockets = []
    inbox.on("websocket", lambda ws: sockets.append(ws.url))
    last_seq = inbox.evaluate("window.inboxLive.lastSeq")
    inbox.evaluate("window.inboxLive.drop()")
    status, second = api_post(
        "/api/v1/cases/",
        {"category": "SJ0401", "description": "夜市摊位占用盲道", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]},
        token=agent.token,
        key="inbox-live-2",
    )
    assert status == 201, second
    inbox.wait_for_selector(f"#inbox-rows tr[data-case='{second['id']}']", timeout=5000)
    assert sockets == [f"{inbox.url.split('/inbox/')[0].replace('http', 'ws')}/ws/live/?after_seq={last_seq}"]
    assert inbox.inner_text("#inbox-new") == "2"

    # The agent watches the case page.
    watcher = open_page(agent)
    watcher.goto(f"/cases/{case['id']}/")
    watcher.wait_for_function("() => document.body.dataset.live === 'open'")
    assert watcher.get_attribute("#case-status", "data-status") == "dispatched"
    assert watcher.locator("form[data-action]").count() == 0

    # The handler opens the case and signs.
    inbox.click(f"tr[data-case='{case['id']}'] a")
    inbox.wait_for_url(f"**/cases/{case['id']}/")
    inbox.wait_for_function("() => document.body.dataset.live === 'open'")
    inbox.click("form[data-action=sign] button[type=submit]")
    inbox.wait_for_selector("#case-status[data-status=signed]")
    assert "操作成功" in inbox.inner_text("#case-message")

    # The agent's page follows without a reload.
    watcher.wait_for_selector("#case-status[data-status=signed]", timeout=5000)
    assert watcher.locator("#case-timeline li[data-kind=signed]").count() == 1
    watcher.shot("case-agent")
    assert Case.objects.get(pk=case["id"]).status == "signed"

    # A reply sent against a version someone else has moved on is refused and the page reloads.
    inbox.fill("form[data-action=reply] textarea[name=note]", "已劝离摊贩")
    inbox.evaluate("document.querySelector('.case-body').dataset.version = '1'")
    inbox.click("form[data-action=reply] button[type=submit]")
    inbox.wait_for_function("() => document.querySelector('.case-body').dataset.version !== '1'")
    assert "已被他人更改" in inbox.inner_text("#case-message")
    assert inbox.get_attribute(".case-body", "data-version") == str(Case.objects.get(pk=case["id"]).version)
    assert Case.objects.get(pk=case["id"]).status == "signed"
    # What the handler typed survives the reload.
    assert inbox.input_value("form[data-action=reply] textarea[name=note]") == "已劝离摊贩"
    inbox.shot("case-handler")

    # The one error is the browser's own note on the 409 provoked above.
    assert [e for e in inbox.errors if "status of 409" not in e] == []
    assert watcher.errors == []


def test_the_inbox_speaks_the_pages_language_whatever_the_browser_prefers(world, handler_a, agent, open_page, api_post):
    status, case = api_post(
        "/api/v1/cases/",
        {"category": "SJ0401", "description": "早市摊位占道", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]},
        token=agent.token,
        key="inbox-language-1",
    )
    assert status == 201, case
    row = f"#inbox-rows tr[data-case='{case['id']}'] .status"

    # A browser set to English, on the Chinese page: the list comes from the API in Chinese too.
    chinese = open_page(handler_a, locale="en-US")
    chinese.goto("/inbox/")
    assert chinese.wait_for_selector(row).inner_text() == "已派单"

    # The English page asks the API for English, whatever the browser says.
    english = open_page(handler_a, locale="zh-CN")
    english.goto("/en/inbox/")
    assert english.wait_for_selector(row).inner_text() == "dispatched"
