"""The case API as programs and pages use it: tokens, visibility through every door, HTTP refusals."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dispatch.models import Case
from dispatch.tests.conftest import EAST, WEST_SOUTH, YUNYAN, upload

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"


def report(client, **body):
    body = {"category": "SJ0401", "description": "人行道上有人摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]} | body
    return client.post(CASES, body, format="json")


def action(client, case_id: int, **body):
    return client.post(f"{CASES}{case_id}/actions/", body, format="json")


# --- auth ------------------------------------------------------------------------------------------


def test_a_username_and_password_get_a_token_that_opens_the_api(api, world):
    get_user_model().objects.create_user(username="lin", password="correct horse battery staple")

    response = api().post("/api/v1/auth/token/", {"username": "lin", "password": "correct horse battery staple"})

    assert response.status_code == 200
    token = response.json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(CASES).status_code == 200


def test_a_wrong_password_gets_a_field_error(api, world):
    get_user_model().objects.create_user(username="lin", password="correct horse battery staple")
    response = api().post("/api/v1/auth/token/", {"username": "lin", "password": "nope"})
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_anonymous_requests_are_refused(api, world):
    assert api().get(CASES).status_code == 401
    assert report(api()).status_code == 401


# --- create ----------------------------------------------------------------------------------------


def test_an_agent_reports_and_sees_where_it_went_and_why(api, world, agent):
    response = report(api(agent), address="南明区西街道 8 号", urgency="normal")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "dispatched"
    assert body["source"] == "hotline"
    assert body["version"] == 2
    assert body["lead_unit"] == {"id": world.unit_a.id, "name": "西街道综合执法队"}
    assert body["grid_code"] == "520102001001001"
    assert body["routing"]["lead"]["id"] == world.unit_a.id
    assert [e["kind"] for e in body["timeline"]] == ["opened", "dispatched"]
    assert body["sign_due"] and body["reply_due"]


def test_the_answer_to_a_report_is_the_cases_detail_as_stored(api, world, agent, grid_worker, media):
    # The 201 body is built from what was written, not read back: it must be what a GET shows.
    client = api(agent)
    created = report(client, address="南明区西街道 8 号")
    assert created.status_code == 201
    assert created.json() == client.get(f"{CASES}{created.json()['id']}/").json()

    # With a collaborating unit and a partner; triage (no rule for the category); a self-resolved
    # field report with a photo.
    helped = report(client, category="XQ0101", description="独居老人需要帮助")
    assert helped.status_code == 201 and len(helped.json()["assignments"]) == 3, helped.json()
    assert helped.json() == client.get(f"{CASES}{helped.json()['id']}/").json()
    triaged = report(client, category="BJ0107")
    assert triaged.status_code == 201 and triaged.json()["status"] == "triage"
    assert triaged.json() == client.get(f"{CASES}{triaged.json()['id']}/").json()
    field = api(grid_worker)
    fixed = field.post(
        CASES,
        {"category": "SJ0401", "description": "已劝离", "lon": str(WEST_SOUTH[0]), "lat": str(WEST_SOUTH[1]),
         "self_resolved": "true", "photos": [upload("a.jpg")]},
        format="multipart",
    )  # fmt: skip
    assert fixed.status_code == 201, fixed.json()
    assert fixed.json()["status"] == "closed"
    assert fixed.json() == field.get(f"{CASES}{fixed.json()['id']}/").json()


@pytest.mark.django_db(transaction=True)
def test_a_case_report_costs_a_fixed_handful_of_statements(api, world, agent, writers_clear_every):
    # The writer's own clearing of published outbox rows (one statement now and then) stays away.
    writers_clear_every(3600)
    client = api(agent)
    report(client)  # warm: routing tables, locator; clears, and starts the clock
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            CASES,
            {"category": "SJ0401", "description": "人行道上有人摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="count-1",
        )
    assert response.status_code == 201
    # Token + roles, the key, the case, its assignments, its events, the key's answer (besides BEGIN
    # and COMMIT). Nothing after the commit: published events' outbox rows are cleared in bulk later.
    statements = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(statements) == 6, [s[:60] for s in statements]


def test_a_grid_worker_reports_from_the_field_with_photos(api, world, grid_worker, media):
    client = api(grid_worker)
    response = client.post(
        CASES,
        {
            "category": "SJ0401",
            "description": "占道摆摊",
            "lon": str(WEST_SOUTH[0]),
            "lat": str(WEST_SOUTH[1]),
            "crs": "wgs84",
            "photos": [upload("a.jpg"), upload("b.png")],
        },
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "field"
    assert len(body["attachments"]) == 2
    photo = client.get(body["attachments"][0]["url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"


def test_a_handler_may_not_report(api, world, handler_a):
    response = report(api(handler_a))
    assert response.status_code == 403


def test_a_role_reports_only_through_its_own_channel(api, world, agent):
    response = report(api(agent), source="field")
    assert response.status_code == 400
    assert "source" in response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "NOPE"}, "category"),
        ({"description": ""}, "description"),
        ({"lon": 200}, "lon"),
        ({"lat": None}, "lat"),
        ({"crs": "mars"}, "crs"),
        ({"lon": None, "lat": None, "address": ""}, "address"),
        ({"urgency": "whenever"}, "urgency"),
        ({"lon": "east"}, "lon"),
    ],
)
def test_bad_input_gets_field_errors(api, world, agent, body, field):
    response = report(api(agent), **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Case.objects.exists()


# --- list and detail -------------------------------------------------------------------------------


def test_a_unit_cannot_see_another_units_case(api, world, agent, handler_a, handler_b):
    case_a = report(api(agent)).json()["id"]
    case_b = report(api(agent), lon=YUNYAN[0], lat=YUNYAN[1]).json()["id"]

    listed = [c["id"] for c in api(handler_a).get(CASES).json()["results"]]
    assert listed == [case_a]
    assert api(handler_a).get(f"{CASES}{case_b}/").status_code == 404
    assert action(api(handler_a), case_b, action="sign", version=2).status_code == 404
    assert [c["id"] for c in api(handler_b).get(CASES).json()["results"]] == [case_b]


def test_each_role_lists_what_it_may_see(
    api, world, agent, grid_worker, dispatcher, dispatcher_yunyan, supervisor, handler_a
):
    west = report(api(agent)).json()["id"]
    east = report(api(agent), lon=EAST[0], lat=EAST[1]).json()["id"]
    north = report(api(agent), lon=YUNYAN[0], lat=YUNYAN[1]).json()["id"]

    def ids(user):
        return sorted(c["id"] for c in api(user).get(CASES).json()["results"])

    assert ids(supervisor) == sorted([west, east, north])
    assert ids(dispatcher) == sorted([west, east])  # 南明区, the triage case included
    assert ids(dispatcher_yunyan) == [north]
    assert ids(grid_worker) == [west]
    assert ids(agent) == sorted([west, east, north])  # every hotline case, for callbacks
    assert ids(handler_a) == [west]


def test_the_list_filters(api, world, agent, supervisor):
    west = report(api(agent)).json()["id"]
    east = report(api(agent), lon=EAST[0], lat=EAST[1]).json()["id"]
    north = report(api(agent), lon=YUNYAN[0], lat=YUNYAN[1], category="SJ0405").json()["id"]
    client = api(supervisor)

    def ids(query):
        response = client.get(CASES + query)
        assert response.status_code == 200, response.json()
        return sorted(c["id"] for c in response.json()["results"])

    assert ids("?status=triage") == [east]
    assert ids("?status=triage,dispatched") == sorted([west, east, north])
    assert ids("?district=520103") == [north]
    assert ids("?grid=520102001001001") == [west]
    assert ids("?category=SJ0405") == [north]
    assert ids("?category=SJ04") == sorted([west, east, north])
    assert ids(f"?unit={world.unit_a.id}") == [west]
    assert ids("?overdue=true") == []
    assert ids("?since=2000-01-01T00:00:00Z") == sorted([west, east, north])
    assert client.get(CASES + "?status=lost").status_code == 400
    assert client.get(CASES + "?since=yesterday").status_code == 400


def test_the_list_is_paginated_and_costs_the_same_queries_for_many_cases(api, world, agent, supervisor):
    client = api(supervisor)
    report(api(agent))
    with CaptureQueriesContext(connection) as one:
        assert client.get(CASES).status_code == 200
    for _ in range(5):
        report(api(agent), category="XQ0101", description="独居老人")
    with CaptureQueriesContext(connection) as six:
        page = client.get(CASES + "?limit=4").json()

    assert page["count"] == 6 and len(page["results"]) == 4 and page["next"]
    assert len(six.captured_queries) == len(one.captured_queries)


def test_the_detail_shows_the_timeline_and_assignments(api, world, agent, handler_a):
    case_id = report(api(agent), category="XQ0101", description="独居老人，电话 13812345678").json()["id"]

    body = api(handler_a).get(f"{CASES}{case_id}/").json()

    assert body["description"] == "独居老人，电话 138****5678"
    assert {a["role"] for a in body["assignments"]} == {"lead", "collaborator"}
    assert [e["seq"] for e in body["timeline"]] == sorted(e["seq"] for e in body["timeline"])
    assert body["timeline"][0]["actor"] == "agent"


# --- actions -------------------------------------------------------------------------------------


def test_a_case_is_worked_to_closure_through_the_api(api, world, agent, handler_a, grid_worker):
    case = report(api(agent)).json()

    case = action(api(handler_a), case["id"], action="sign", version=case["version"]).json()
    assert case["status"] == "signed"
    case = action(api(handler_a), case["id"], action="reply", version=case["version"], note="已清理").json()
    assert case["status"] == "verifying"
    case = action(api(grid_worker), case["id"], action="verify", version=case["version"], passed=True).json()
    assert case["status"] == "closed"
    case = action(api(agent), case["id"], action="revisit", version=case["version"], satisfied=True).json()
    assert case["status"] == "revisited"
    assert [e["kind"] for e in case["timeline"]] == [
        "opened",
        "dispatched",
        "signed",
        "replied",
        "verifying",
        "verified",
        "revisited",
    ]


def test_a_stale_version_gets_409_and_nothing_changes(api, world, agent, handler_a):
    case = report(api(agent)).json()

    response = action(api(handler_a), case["id"], action="sign", version=case["version"] - 1)

    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    assert response.json()["current_version"] == case["version"]
    assert Case.objects.get(pk=case["id"]).status == "dispatched"


def test_a_wrong_state_gets_409(api, world, agent, handler_a):
    case = report(api(agent)).json()
    response = action(api(handler_a), case["id"], action="reply", version=case["version"], note="已处理")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_a_wrong_role_gets_403(api, world, agent, dispatcher):
    case = report(api(agent)).json()
    response = action(api(dispatcher), case["id"], action="sign", version=case["version"])
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "fly"}, "action"),
        ({"action": "sign", "version": "x"}, "version"),
        ({"action": "dispatch"}, "unit"),
        ({"action": "merge"}, "into"),
        ({"action": "verify"}, "passed"),
        ({"action": "revisit"}, "satisfied"),
        ({"action": "request_extension"}, "until"),
        ({"action": "return"}, "note"),
    ],
)
def test_bad_actions_get_field_errors(api, world, agent, handler_a, dispatcher, body, field):
    case = report(api(agent)).json()
    who = dispatcher if body["action"] in ("dispatch", "merge", "verify") else handler_a
    response = action(api(who), case["id"], **({"version": case["version"]} | body))
    assert response.status_code == 400, response.json()
    assert field in response.json()


def test_a_handler_who_returns_a_case_gets_the_outcome_though_it_is_no_longer_theirs(api, world, agent, handler_a):
    case = report(api(agent)).json()

    response = action(api(handler_a), case["id"], action="return", version=case["version"], note="不属于本单位")

    assert response.status_code == 200
    assert response.json()["status"] == "returned"
    assert api(handler_a).get(f"{CASES}{case['id']}/").status_code == 404


def test_evidence_photos_come_with_the_reply(api, world, agent, handler_a, media):
    case = report(api(agent)).json()
    case = action(api(handler_a), case["id"], action="sign", version=case["version"]).json()

    response = api(handler_a).post(
        f"{CASES}{case['id']}/actions/",
        {"action": "reply", "version": case["version"], "note": "已清理", "photos": [upload()]},
        format="multipart",
    )

    assert response.status_code == 200, response.json()
    replied = next(e for e in response.json()["timeline"] if e["kind"] == "replied")
    assert replied["evidence"] == [response.json()["attachments"][0]["id"]]


# --- attachments -----------------------------------------------------------------------------------


def test_photos_are_served_only_to_those_who_may_see_the_case(api, world, grid_worker, handler_a, handler_b, media):
    body = api(grid_worker).post(
        CASES,
        {"category": "SJ0401", "description": "摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1], "photos": [upload()]},
        format="multipart",
    )
    url = body.json()["attachments"][0]["url"]

    assert api(handler_a).get(url).status_code == 200
    assert api(handler_b).get(url).status_code == 404
    assert api().get(url).status_code == 401
    other_case = url.replace(f"/cases/{body.json()['id']}/", f"/cases/{body.json()['id'] + 1}/")
    assert api(handler_a).get(other_case).status_code == 404


def test_the_schema_documents_the_case_endpoints(api, world):
    response = api().get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/cases/", "/api/v1/cases/{case_id}/actions/", "/api/v1/auth/token/"):
        assert path in text


def test_the_whole_projects_schema_is_valid_and_its_component_names_do_not_collide(db):
    # The whole project, not only these routes: a component name clashes with another app's only there.
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    GENERATOR_STATS.reset()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)

    assert dict(GENERATOR_STATS._warn_cache) == {}
    assert dict(GENERATOR_STATS._error_cache) == {}
    case = schema["components"]["schemas"]["CaseDetailOutput"]["properties"]
    assert case["lead_unit"]["allOf"][0]["$ref"] == "#/components/schemas/OrganisationRef"


def test_refusals_are_chinese_by_default_with_english_available(api, world, handler_a):
    from django.utils import translation

    from dispatch import services

    assert api(handler_a).get(f"{CASES}999999/").json()["detail"] == "工单不存在。"
    with translation.override("en"), pytest.raises(services.CaseNotFound) as refused:
        services.case_sign(case_id=999999, actor=handler_a, version=1)
    assert refused.value.message == "No such case."
