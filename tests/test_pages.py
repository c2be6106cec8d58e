# The case tests' fixtures are imported by name, and tests take them as arguments of the same name.
# ruff: noqa: F811
"""The pages of handlers and grid workers through Django's test client (dispatch/views.py).

The world and the personas are the case tests' own (dispatch/tests/conftest.py): a small Nanming and
Yunyan, unit A (西街道综合执法队) and unit B (北街道综合执法队), and a grid worker in grid A.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dispatch import services
from dispatch.models import Assignment
from dispatch.tests.conftest import (  # noqa: F401 - fixtures
    WEST_SOUTH,
    YUNYAN,
    handler_a,
    handler_b,
    open_case_at,
    world,
)
from grids.models import Grid, GridWorker
from partners.models import Membership
from tests.personas import GRID_A

pytestmark = pytest.mark.django_db


def page(client, user, path: str):
    client.force_login(user)
    return client.get(path)


def config_of(response, element_id: str) -> dict:
    html = response.content.decode()
    opening = f'<script id="{element_id}" type="application/json">'
    start = html.index(opening) + len(opening)
    return json.loads(html[start : html.index("</script>", start)])


# --- login and landing ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/inbox/", "/field/", "/cases/1/", "/inbox/sla/?ids=1"])
def test_every_page_asks_a_visitor_to_log_in_first(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_an_english_visitor_is_sent_to_the_english_login(client):
    response = client.get("/en/inbox/")
    assert response["Location"].startswith("/en/accounts/login/")
    login = client.get(response["Location"])
    assert login.status_code == 200
    assert "Log in" in login.content.decode()


def test_a_handler_logs_in_with_a_password_and_lands_in_the_inbox(client, handler_a):
    handler_a.set_password("demo12345")
    handler_a.save()
    page = client.get("/accounts/login/")
    assert "登录" in page.content.decode()
    response = client.post("/accounts/login/", {"username": "handler_a", "password": "demo12345"}, follow=True)
    assert response.redirect_chain[-1][0] == "/inbox/"
    assert "西街道综合执法队" in response.content.decode()


def test_a_wrong_password_is_refused_on_the_login_page(client, handler_a):
    handler_a.set_password("demo12345")
    handler_a.save()
    response = client.post("/accounts/login/", {"username": "handler_a", "password": "wrong"})
    assert response.status_code == 200
    assert "field-error" in response.content.decode() or "alert-error" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("persona", "landing"),
    [
        ("handler_a", "/inbox/"),
        ("grid_worker", "/field/"),
        ("agent", "/hotline/"),
        ("dispatcher", "/maps/"),
        ("supervisor", "/maps/"),
    ],
)
def test_each_role_lands_on_its_own_page(client, request, persona, landing):
    user = request.getfixturevalue(persona)
    response = page(client, user, "/")
    assert response.status_code == 302
    assert response["Location"] == landing


def test_an_english_user_lands_on_the_english_page(client, handler_a):
    response = page(client, handler_a, "/en/")
    assert response["Location"] == "/en/inbox/"


def test_a_superuser_without_memberships_lands_on_the_map(client, world):
    admin = get_user_model().objects.create_superuser("root", password=None)
    assert page(client, admin, "/")["Location"] == "/maps/"


def test_a_user_without_any_role_is_told_whom_to_ask(client, world):
    nobody = get_user_model().objects.create_user("nobody", password=None)
    response = page(client, nobody, "/")
    assert response.status_code == 403
    assert "管理员" in response.content.decode()


def test_logout_ends_the_session_and_returns_to_the_login(client, handler_a):
    client.force_login(handler_a)
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert client.get("/inbox/").status_code == 302


# --- the role menu --------------------------------------------------------------------------------


@pytest.fixture
def handler_and_grid_worker(world, handler_a):
    GridWorker.objects.create(user=handler_a, grid=Grid.objects.get(code=GRID_A))
    return handler_a


def test_a_person_with_two_roles_gets_a_menu_of_both(client, handler_and_grid_worker):
    html = page(client, handler_and_grid_worker, "/inbox/").content.decode()
    assert 'name="role"' in html
    assert '<option value="handler" selected>处置人员</option>' in html
    assert '<option value="grid_worker">网格员</option>' in html
    # Both work areas are in the navigation.
    assert 'href="/inbox/"' in html
    assert 'href="/field/"' in html


def test_switching_role_moves_the_landing_to_that_roles_page(client, handler_and_grid_worker):
    client.force_login(handler_and_grid_worker)
    assert client.get("/")["Location"] == "/inbox/"
    response = client.post("/role/", {"role": "grid_worker"})
    assert response["Location"] == "/field/"
    assert client.get("/")["Location"] == "/field/"
    assert '<option value="grid_worker" selected>' in client.get("/field/").content.decode()


def test_a_role_one_does_not_hold_cannot_be_chosen(client, handler_a):
    client.force_login(handler_a)
    assert client.post("/role/", {"role": "supervisor"}).status_code == 400
    assert client.get("/")["Location"] == "/inbox/"


def test_a_person_with_one_role_sees_its_name_and_no_menu(client, grid_worker):
    html = page(client, grid_worker, "/field/").content.decode()
    assert 'name="role"' not in html
    assert '<span class="role-name">网格员</span>' in html


def nav_links(response) -> list[str]:
    html = response.content.decode()
    nav = html[html.index('class="site-nav"') : html.index("</nav>")]
    return re.findall(r'href="([^"]+)"', nav)


def test_the_header_offers_only_the_pages_a_role_may_open(client, handler_a, agent, dispatcher):
    # A unit's handlers read the supervision findings about their unit, and download their own figures.
    assert nav_links(page(client, handler_a, "/inbox/")) == ["/inbox/", "/maps/supervision/", "/maps/reports/"]
    assert nav_links(page(client, agent, "/hotline/")) == ["/hotline/"]
    assert nav_links(page(client, dispatcher, "/maps/")) == ["/maps/", "/inbox/", "/maps/reports/"]


# --- inbox ----------------------------------------------------------------------------------------


def test_the_inbox_names_the_unit_and_tells_its_script_where_the_api_and_socket_are(client, handler_a):
    response = page(client, handler_a, "/inbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "西街道综合执法队" in html
    config = config_of(response, "inbox-config")
    assert config["api"] == "/api/v1/cases/"
    assert config["ws"] == "/ws/live/"
    assert "closed" not in config["openStatuses"] and "dispatched" in config["openStatuses"]
    # The page sets the CSRF cookie its script sends with every action.
    assert "csrftoken" in response.cookies


def test_a_grid_worker_without_a_unit_is_refused_the_inbox(client, grid_worker):
    response = page(client, grid_worker, "/inbox/")
    assert response.status_code == 403
    assert "/field/" in response.content.decode()


def test_the_inbox_speaks_english_under_en(client, handler_a):
    html = page(client, handler_a, "/en/inbox/").content.decode()
    assert "Inbox" in html
    assert "Overdue only" in html


def test_sla_colours_follow_the_deadline(client, handler_a, open_case_at):
    green = open_case_at(WEST_SOUTH, description="绿色")
    yellow = open_case_at(WEST_SOUTH, urgency="urgent", description="黄色")
    red = open_case_at(WEST_SOUTH, description="红色")
    now = timezone.now()
    # Urgent: 30 minutes to sign, yellow in the last 20 % (6 minutes); one minute is left.
    Assignment.objects.filter(case=yellow, role="lead").update(sign_due=now + dt.timedelta(minutes=1))
    Assignment.objects.filter(case=red, role="lead").update(sign_due=now - dt.timedelta(minutes=1))
    response = page(client, handler_a, f"/inbox/sla/?ids={green.pk},{yellow.pk},{red.pk}")
    cases = response.json()["cases"]
    levels = {int(k): v["level"] for k, v in cases.items()}
    assert levels == {green.pk: "green", yellow.pk: "yellow", red.pk: "red"}
    assert cases[str(green.pk)]["stage"] == "sign"


def test_sla_moves_to_the_reply_deadline_once_signed(client, handler_a, open_case_at):
    case = open_case_at(WEST_SOUTH)
    services.case_sign(case_id=case.pk, actor=handler_a, version=case.version)
    lead = Assignment.objects.get(case=case, role="lead")
    answer = page(client, handler_a, f"/inbox/sla/?ids={case.pk}").json()["cases"][str(case.pk)]
    assert answer["stage"] == "reply"
    assert dt.datetime.fromisoformat(answer["due"]) == lead.reply_due


def test_sla_tells_nothing_about_another_units_case(client, handler_b, open_case_at):
    case = open_case_at(WEST_SOUTH)
    assert page(client, handler_b, f"/inbox/sla/?ids={case.pk}").json()["cases"] == {}


@pytest.mark.parametrize("ids", ["abc", "1,,x", ",".join(["1"] * 201)])
def test_sla_refuses_malformed_ids_with_a_field_error(client, handler_a, ids):
    response = page(client, handler_a, f"/inbox/sla/?ids={ids}")
    assert response.status_code == 400
    assert "ids" in response.json()


# --- case page ------------------------------------------------------------------------------------


def actions_on(response) -> set[str]:
    html = response.content.decode()
    return {chunk.split('"', 1)[0] for chunk in html.split('data-action="')[1:]}


def test_a_unit_handler_cannot_open_another_units_case_page(client, handler_b, open_case_at):
    case = open_case_at(WEST_SOUTH)
    assert page(client, handler_b, f"/cases/{case.pk}/").status_code == 404
    assert client.get(f"/cases/{case.pk}/?part=body").status_code == 404


def test_the_lead_handler_may_sign_or_return_a_new_case(client, handler_a, open_case_at):
    case = open_case_at(WEST_SOUTH)
    response = page(client, handler_a, f"/cases/{case.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert case.number in html
    assert "人行道上有人摆摊" in html
    assert actions_on(response) == {"sign", "return"}
    # Why it went there: the rule that matched, from the stored explanation.
    assert 'data-outcome="matched"' in html
    config = config_of(response, "case-config")
    assert config["action"] == f"/api/v1/cases/{case.pk}/actions/"
    assert config["point"] == list(WEST_SOUTH)
    assert config["tiles"] == "/maps/tiles/boundaries/{z}/{x}/{y}.mvt"


def test_after_signing_the_handler_may_reply_ask_for_time_or_return(client, handler_a, open_case_at):
    case = open_case_at(WEST_SOUTH)
    services.case_sign(case_id=case.pk, actor=handler_a, version=case.version)
    response = page(client, handler_a, f"/cases/{case.pk}/?part=body")
    assert actions_on(response) == {"reply", "request_extension", "return"}
    html = response.content.decode()
    # Only the body: this part replaces itself when the case changes.
    assert "<html" not in html
    assert 'data-version="2"' in html or f'data-version="{case.version + 1}"' in html
    assert "已签收" in html


def test_the_districts_dispatcher_may_redispatch_merge_urge_but_not_sign(client, dispatcher, open_case_at):
    case = open_case_at(WEST_SOUTH)
    response = page(client, dispatcher, f"/cases/{case.pk}/")
    assert actions_on(response) == {"dispatch", "merge", "urge"}
    # The unit list offers units whose territory holds the case.
    assert "西街道综合执法队" in response.content.decode()


def test_a_triage_case_can_be_dispatched_or_rejected(client, dispatcher, open_case_at):
    case = open_case_at(WEST_SOUTH, category="BJ0107")  # no rule for street lamps: triage
    assert case.status == "triage"
    assert actions_on(page(client, dispatcher, f"/cases/{case.pk}/")) == {"dispatch", "merge", "urge", "reject"}


def test_the_grid_worker_verifies_a_replied_case_in_their_grid(client, grid_worker, handler_a, open_case_at):
    case = open_case_at(WEST_SOUTH)
    case = services.case_sign(case_id=case.pk, actor=handler_a, version=case.version)
    case = services.case_reply(case_id=case.pk, actor=handler_a, version=case.version, note="已清理")
    assert case.status == "verifying"
    response = page(client, grid_worker, f"/cases/{case.pk}/")
    assert actions_on(response) == {"verify"}
    html = response.content.decode()
    assert "已清理" in html


def test_an_agent_sees_the_case_they_filed_without_any_action(client, agent, open_case_at):
    case = open_case_at(YUNYAN)
    response = page(client, agent, f"/cases/{case.pk}/")
    assert response.status_code == 200
    assert actions_on(response) == set()


def test_a_phone_number_in_the_description_is_masked_on_the_page(client, handler_a, open_case_at):
    case = open_case_at(WEST_SOUTH, description="摊主电话13812345678，占道严重")
    html = page(client, handler_a, f"/cases/{case.pk}/").content.decode()
    assert "13812345678" not in html
    assert "138****5678" in html


# --- field page -----------------------------------------------------------------------------------


def test_the_field_page_knows_the_workers_grids_and_where_to_send(client, grid_worker):
    response = page(client, grid_worker, "/field/")
    assert response.status_code == 200
    config = config_of(response, "field-config")
    assert config["grids"] == [GRID_A]
    assert config["user"] == "gridworker"
    assert config["api"] == "/api/v1/cases/"
    html = response.content.decode()
    assert 'capture="environment"' in html
    assert 'name="self_resolved"' in html


def test_a_handler_without_grids_is_refused_the_field_page(client, handler_a):
    assert page(client, handler_a, "/field/").status_code == 403


def test_the_field_pages_service_worker_keeps_the_page_shell(client, grid_worker):
    response = page(client, grid_worker, "/field/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert '"/field/"' in body
    assert "/static/dispatch/field.js" in body
    # It never answers for the API: reports wait in the page's own queue.
    assert "/api/" not in body


def test_a_member_of_no_unit_in_memberships_only_as_partner_reaches_the_inbox(client, world):
    user = get_user_model().objects.create_user("helper", password=None)
    Membership.objects.create(user=user, partner=world.partner, role="handler")
    response = page(client, user, "/")
    assert response["Location"] == "/inbox/"
    assert "南明区暖心助老服务社" in client.get("/inbox/").content.decode()
