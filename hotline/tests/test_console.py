"""The agents' console page (/hotline/): who may open it, and what it hands its scripts.

The console itself calls the hotline API, tested in the other files here; these tests cover the
page, its configuration and the agent's recent calls list. Fixtures: hotline/tests/conftest.py.
"""

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from hotline.tests.conftest import PHONE, PHONE_MASKED

pytestmark = pytest.mark.django_db


def page_config(response) -> dict:
    found = re.search(r'<script id="console-config" type="application/json">(.*?)</script>', response.content.decode())
    return json.loads(found.group(1))


def test_the_console_sends_anonymous_visitors_to_log_in(client, world):
    response = client.get("/hotline/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/hotline/"


@pytest.mark.parametrize("persona", ["supervisor", "dispatcher", "handler_west", "grid_worker", "nobody"])
def test_only_agents_may_open_the_console(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    response = client.get("/hotline/")
    assert response.status_code == 403
    assert "无权使用坐席工作台" in response.content.decode()
    assert client.get("/hotline/recent.json").status_code == 403


def test_an_agent_gets_the_call_form_with_request_types_and_the_category_tree(client, agent):
    client.force_login(agent)
    response = client.get("/hotline/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "受理来电" in html
    for label in ("咨询", "求助", "投诉", "举报", "建议"):
        assert label in html
    assert '<option value="SJ0401">占道经营</option>' in html
    # Only leaves can be chosen: a group is an optgroup, never an option.
    assert '<option value="SJ">' not in html
    config = page_config(response)
    assert config["api"]["calls"] == "/api/v1/calls/"
    assert config["api"]["places"] == "/api/v1/hotline/suggest/places/"
    assert config["api"]["categories"] == "/api/v1/hotline/suggest/categories/"
    assert config["api"]["duplicates"] == "/api/v1/hotline/suggest/duplicates/"
    assert config["api"]["callbacks"] == "/api/v1/hotline/callbacks/"
    assert config["api"]["callback"] == "/api/v1/hotline/callbacks/0/"
    assert config["api"]["mapConfig"] == "/maps/config.json"
    assert config["api"]["live"] == "/ws/live/"
    assert [r["value"] for r in config["callbackResults"]] == ["satisfied", "basically_satisfied", "unsatisfied"]
    assert config["csrfToken"]


def test_the_recent_calls_are_the_agents_own_and_never_show_a_full_number(client, agent, agent2, file_call):
    mine = file_call(content=f"人行道上有人摆摊卖菜，我的电话{PHONE}")
    file_call(agent=agent2, caller_phone="13900001111")
    client.force_login(agent)
    config = page_config(client.get("/hotline/"))
    (row,) = config["recentCalls"]
    assert row["id"] == mine.call.pk
    assert row["caller"] == {"name": "张*", "phone": PHONE_MASKED}
    assert PHONE_MASKED in row["content"]
    assert row["case"]["number"] == mine.case.number
    assert row["outcome"] == "case_opened"
    assert PHONE not in client.get("/hotline/").content.decode()
    refreshed = client.get("/hotline/recent.json")
    assert refreshed["Cache-Control"] == "private, no-store"
    assert refreshed.json()["results"] == config["recentCalls"]


def test_the_console_speaks_english_at_its_english_address(client, agent):
    client.force_login(agent)
    response = client.get("/en/hotline/")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Take a call" in html
    config = page_config(response)
    assert config["text"]["join"] == "Join this case"
    assert config["api"]["mapConfig"] == "/en/maps/config.json"


def test_every_script_the_console_names_and_imports_exists(client, agent):
    client.force_login(agent)
    html = client.get("/hotline/").content.decode()
    names = re.findall(r"(?:src|href)=\"/static/([^\"]+)\"", html)
    assert "hotline/js/console.js" in names
    for name in names:
        assert finders.find(name), f"/static/{name} is missing"
    for module in sorted(Path(finders.find("hotline/js/console.js")).parent.glob("*.js")):
        for imported in re.findall(r'from "(\.[^"]+)"', module.read_text(encoding="utf-8")):
            target = (module.parent / imported).resolve()
            assert target.is_file(), f"{module.name} imports a missing {imported}"
