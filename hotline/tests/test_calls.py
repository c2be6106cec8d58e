"""Taking a call: POST /api/v1/calls/ turns it into a case (or answers it) and says where it went and why."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from dispatch.models import Assignment, Case, CaseEvent
from grids.crs import from_wgs84
from hotline import services
from hotline.models import Call, Caller
from hotline.tests.conftest import EAST, NORTH, PHONE, WEST

URL = "/api/v1/calls/"


def body(**kw):
    data = {
        "caller_phone": "138 1234 5678",
        "caller_name": "张三",
        "request_type": "complaint",
        "content": "西湖小学门口有人摆摊卖菜，影响学生通行",
        "category": "SJ0401",
        "lon": WEST[0],
        "lat": WEST[1],
    }
    data.update(kw)
    return {k: v for k, v in data.items() if v is not None}


def test_a_complaint_becomes_a_case_routed_to_the_streets_team_with_the_reason(world, agent, api):
    response = api(agent).post(URL, body(), format="json")

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["outcome"] == "case_opened"
    assert out["case"]["status"] == "dispatched"
    assert out["case"]["lead_unit"]["name"] == "西街道综合执法队"
    assert out["case"]["grid"] == "520102001001001"
    assert "西街道综合执法队" in out["case"]["why"]
    assert out["case"]["routing"]["explanation"]["matched"] is not None
    assert out["case"]["number"] in out["message"]
    case = Case.objects.get(pk=out["case"]["id"])
    assert case.source == "hotline"
    assert case.reporter == agent
    call = Call.objects.get(pk=out["call"]["id"])
    assert call.case == case
    assert call.caller.phone == PHONE  # spaces dropped: one caller whatever the agent typed


def test_a_consultation_answered_on_the_call_is_closed_without_a_case(world, agent, api):
    response = api(agent).post(
        URL,
        body(
            request_type="consult",
            content="请问社保卡丢了在哪里补办？",
            category=None,
            lon=None,
            lat=None,
            answered=True,
            answer="携带身份证到就近的社保经办网点或银行网点补办。",
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["outcome"] == "answered"
    assert response.json()["case"] is None
    assert Case.objects.count() == 0
    assert Call.objects.get().answer.startswith("携带身份证")


def test_only_a_consultation_may_be_answered_on_the_call(world, agent, api):
    response = api(agent).post(URL, body(answered=True, answer="已告知"), format="json")

    assert response.status_code == 400
    assert "answered" in response.json()
    assert Call.objects.count() == 0


def test_an_answered_consultation_needs_the_answer_recorded(world, agent, api):
    response = api(agent).post(URL, body(request_type="consult", answered=True), format="json")

    assert response.status_code == 400
    assert "answer" in response.json()


def test_an_address_naming_a_landmark_is_placed_there_and_routed(world, agent, api):
    response = api(agent).post(URL, body(lon=None, lat=None, address="南明区西湖小学旁边的路口"), format="json")

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["geocode"]["found"] is True
    assert out["geocode"]["match"]["name"] == "西湖小学"
    assert "西湖小学" in out["geocode"]["message"]
    assert out["case"]["status"] == "dispatched"
    assert out["case"]["lead_unit"]["name"] == "西街道综合执法队"
    call = Call.objects.get()
    assert (round(call.point.x, 6), round(call.point.y, 6)) == (106.72, 26.53)


def test_an_address_naming_only_a_community_is_placed_inside_it(world, agent, api):
    response = api(agent).post(URL, body(lon=None, lat=None, address="北门社区3栋楼下"), format="json")

    out = response.json()
    assert out["geocode"]["precision"] == "community"
    assert out["case"]["lead_unit"]["name"] == "北街道综合执法队"


def test_an_address_that_cannot_be_placed_goes_to_triage_and_is_not_lost(world, agent, api):
    response = api(agent).post(URL, body(lon=None, lat=None, address="一个没人知道的地方"), format="json")

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["geocode"]["found"] is False
    assert out["case"]["status"] == "triage"
    assert out["case"]["triage"] is True
    assert out["case"]["lead_unit"]["name"] == "贵阳市综治中心"
    assert "待分拨" in out["case"]["why"]
    assert Case.objects.get().address == "一个没人知道的地方"


def test_an_address_naming_only_a_district_goes_to_triage_with_the_district_noted(world, agent, api):
    response = api(agent).post(URL, body(lon=None, lat=None, address="云岩区某条小路上"), format="json")

    out = response.json()
    assert out["case"]["status"] == "triage"
    assert out["geocode"]["reason"] == "too_coarse"
    assert out["geocode"]["match"]["name"] == "云岩区"
    assert Call.objects.get().geocode["match"]["code"] == "520103"


def test_a_point_from_a_gcj02_map_is_converted_before_it_is_located(world, agent, api):
    lon, lat = from_wgs84(NORTH[0], NORTH[1], "gcj02")
    response = api(agent).post(URL, body(lon=lon, lat=lat, crs="gcj02"), format="json")

    out = response.json()
    assert out["case"]["grid"] == "520103001001001"
    call = Call.objects.get()
    assert abs(call.point.x - NORTH[0]) < 1e-5 and abs(call.point.y - NORTH[1]) < 1e-5


def test_a_help_request_for_an_old_person_goes_to_the_street(world, agent, api):
    response = api(agent).post(
        URL,
        body(
            request_type="help", content="我家隔壁的独居老人好几天没出门了", category="XQ0101", lon=EAST[0], lat=EAST[1]
        ),
        format="json",
    )

    assert response.json()["case"]["lead_unit"]["name"] == "东街道综合执法队"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"caller_phone": "abc"}, "caller_phone"),
        ({"caller_phone": ""}, "caller_phone"),
        ({"request_type": "chat"}, "request_type"),
        ({"content": ""}, "content"),
        ({"category": None}, "category"),
        ({"category": "NOPE"}, "category"),
        ({"category": "SJ04"}, "category"),  # a group, not a leaf
        ({"lon": None}, "lon"),
        ({"lat": 95}, "lat"),
        ({"lon": None, "lat": None}, "address"),
        ({"crs": "epsg3857"}, "crs"),
        ({"urgency": "very"}, "urgency"),
        ({"join_case": "x"}, "join_case"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world, agent, api, change, field):
    response = api(agent).post(URL, _with(change), format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Case.objects.count() == 0
    assert Call.objects.count() == 0


def _with(change: dict) -> dict:
    data = body()
    for key, value in change.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def test_only_agents_take_calls(world, handler_west, grid_worker, dispatcher, api):
    for person in (handler_west, grid_worker, dispatcher):
        response = api(person).post(URL, body(), format="json")
        assert response.status_code == 403, person.username
    assert api().post(URL, body(), format="json").status_code in (401, 403)
    assert Case.objects.count() == 0


def test_a_retry_with_the_same_idempotency_key_files_nothing_twice(world, agent, api):
    client = api(agent)
    first = client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="call-1")
    again = client.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="call-1")

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["case"]["id"] == first.json()["case"]["id"]
    assert Case.objects.count() == 1
    assert Call.objects.count() == 1


def test_the_agent_is_told_how_often_the_number_called_before(world, agent, api):
    client = api(agent)
    assert client.post(URL, body(), format="json").json()["previous_calls"] == 0
    assert client.post(URL, body(caller_phone="13812345678"), format="json").json()["previous_calls"] == 1
    assert Caller.objects.count() == 1


def test_the_case_is_opened_once_with_one_lead_assignment_and_its_events(world, agent, api):
    out = api(agent).post(URL, body(), format="json").json()

    case = Case.objects.get(pk=out["case"]["id"])
    assert Assignment.objects.filter(case=case, role="lead").count() == 1
    assert list(case.events.values_list("kind", flat=True)) == [CaseEvent.Kind.OPENED, CaseEvent.Kind.DISPATCHED]


def test_refusals_are_available_in_english(world, agent):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.call_file(agent=agent, caller_phone=PHONE, request_type="complaint", content=" ", category="SJ0401")

    assert refused.value.message_dict["content"] == ["Record what the caller said."]
    assert refused.value.message_dict["address"] == ["Give an address or pick a point on the map."]
