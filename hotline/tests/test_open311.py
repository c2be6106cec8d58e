"""Open311 GeoReport v2 conformance: every endpoint, in JSON and XML, and every error the spec names.

Spec: http://wiki.open311.org/GeoReport_v2 — errors are a list of {code, description} (XML
<errors><error>), with HTTP 400 for bad requests, 403 for a bad api_key and 404 for what is not there.

One module, though long: it is the conformance list of one public interface, endpoint by endpoint,
as a client implementer would read it.
"""

from __future__ import annotations

import datetime as dt
import json
from xml.etree import ElementTree as ET

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from dispatch import services as dispatch_services
from dispatch.models import Case
from hotline import demo, services
from hotline.models import Open311Request
from hotline.open311 import selectors
from hotline.tests.conftest import WEST
from tests.personas import fresh, person

BASE = "/open311/v2/"


@pytest.fixture
def questions(world):
    services.service_attributes_sync(rows=demo.ATTRIBUTES)


@pytest.fixture
def http():
    return Client()


def xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml"), response["Content-Type"]
    return ET.fromstring(response.content)  # noqa: S314 - our own answer, in a test


def errors_of(response, fmt: str = "json") -> list[tuple[int, str]]:
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        return [(int(e.findtext("code")), e.findtext("description")) for e in root.findall("error")]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert isinstance(body, list) and all(set(e) == {"code", "description"} for e in body), body
    return [(e["code"], e["description"]) for e in body]


def post(http, client, fmt="json", key=None, **fields):
    data = {"api_key": client.key if key is None else key, "service_code": "SJ0401", "lat": WEST[1], "long": WEST[0]}
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    return http.post(f"{BASE}requests.{fmt}", data)


# --- discovery ------------------------------------------------------------------------------------


def test_discovery_names_the_endpoint_its_spec_and_formats(world, http):
    body = http.get(f"{BASE}discovery.json").json()

    assert body["contact"] and body["key_service"] and body["changeset"]
    endpoint = body["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


def test_discovery_in_xml(world, http):
    root = xml(http.get(f"{BASE}discovery.xml"))

    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]


# --- services ---------------------------------------------------------------------------------------


def test_services_are_the_leaf_categories_with_the_specs_fields(world, questions, http):
    services_list = http.get(f"{BASE}services.json").json()

    by_code = {s["service_code"]: s for s in services_list}
    assert "SJ04" not in by_code and "BJ" not in by_code  # groups are not services
    lamp = by_code["BJ0107"]
    assert set(lamp) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert (lamp["service_name"], lamp["group"], lamp["type"], lamp["metadata"]) == (
        "路灯",
        "公用设施",
        "realtime",
        False,
    )
    assert "路灯不亮" in lamp["keywords"].split(", ")
    assert by_code["BJ0104"]["metadata"] is True


def test_services_in_xml(world, questions, http):
    root = xml(http.get(f"{BASE}services.xml"))

    assert root.tag == "services"
    lamp = next(s for s in root.findall("service") if s.findtext("service_code") == "BJ0107")
    assert lamp.findtext("service_name") == "路灯"
    assert lamp.findtext("metadata") == "false"
    assert lamp.findtext("type") == "realtime"


def test_a_service_definition_lists_its_questions(world, questions, http):
    body = http.get(f"{BASE}services/XQ0101.json").json()

    assert body["service_code"] == "XQ0101"
    needs = next(a for a in body["attributes"] if a["code"] == "needs")
    assert needs == {
        "variable": True,
        "code": "needs",
        "datatype": "multivaluelist",
        "required": True,
        "datatype_description": None,
        "order": 2,
        "description": "需要哪些帮助？",
        "values": [
            {"key": "meals", "name": "助餐"},
            {"key": "medical", "name": "就医"},
            {"key": "company", "name": "陪伴"},
            {"key": "cleaning", "name": "清洁"},
        ],
    }
    assert [a["order"] for a in body["attributes"]] == [1, 2]


def test_a_service_definition_in_xml(world, questions, http):
    root = xml(http.get(f"{BASE}services/BJ0104.xml"))

    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "BJ0104"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("code") == "injured"
    assert attribute.findtext("required") == "true"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["yes", "no"]


def test_a_service_without_questions_has_an_empty_definition(world, http):
    assert http.get(f"{BASE}services/BJ0107.json").json() == {"service_code": "BJ0107", "attributes": []}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", ["NOPE", "SJ04"])
def test_an_unknown_service_or_a_group_is_a_404(world, http, fmt, code):
    response = http.get(f"{BASE}services/{code}.{fmt}")

    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


# --- POST requests ---------------------------------------------------------------------------------


def test_a_request_with_a_point_becomes_a_routed_case(world, open311_client, http):
    response = post(http, open311_client, description="人行道上有人摆摊", email="citizen@example.com")

    assert response.status_code == 201, response.content
    (answer,) = response.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    case = Case.objects.get(number=answer["service_request_id"])
    assert (case.source, case.status, case.category.code) == ("open311", "dispatched", "SJ0401")
    assert case.lead_unit == world.units["520102001-zhifa"]
    assert case.reporter == open311_client.user
    assert answer["service_notice"].startswith("已受理") and case.number in answer["service_notice"]
    stored = Open311Request.objects.get(case=case)
    assert (stored.email, stored.token, stored.client) == ("citizen@example.com", answer["token"], open311_client)


def test_a_request_filed_in_xml_is_answered_in_xml(world, open311_client, http):
    response = post(http, open311_client, fmt="xml", account_id="u-42")

    assert response.status_code == 201
    root = xml(response)
    assert root.tag == "service_requests"
    request = root.find("request")
    assert Case.objects.filter(number=request.findtext("service_request_id")).exists()
    assert request.findtext("account_id") == "u-42"


def test_an_address_string_is_placed_with_the_gazetteer(world, open311_client, http):
    response = post(http, open311_client, lat=None, long=None, address_string="云岩区北门农贸市场门口")

    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.grid_code == "520103001001001"
    assert case.address == "云岩区北门农贸市场门口"


def test_an_address_that_cannot_be_placed_still_makes_a_case_in_triage(world, open311_client, http):
    response = post(http, open311_client, lat=None, long=None, address_string="一个地图上没有的地方")

    assert response.status_code == 201
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).status == "triage"


def test_an_address_id_is_one_of_our_places(world, open311_client, http):
    response = post(http, open311_client, lat=None, long=None, address_id="T-BEIMEN-MARKET")

    assert response.status_code == 201
    assert Case.objects.get(number=response.json()[0]["service_request_id"]).grid_code == "520103001001001"


def test_answers_to_the_services_questions_are_checked_and_kept(world, questions, open311_client, http):
    response = http.post(
        f"{BASE}requests.json",
        {
            "api_key": open311_client.key,
            "service_code": "XQ0101",
            "lat": WEST[1],
            "long": WEST[0],
            "attribute[age]": "82",
            "attribute[needs][]": ["meals", "medical"],
        },
    )

    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert case.open311.attributes == {"age": "82", "needs": ["meals", "medical"]}
    assert "需要哪些帮助？：助餐、就医" in case.description


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": "NOPE"}, "service_code"),
        ({"service_code": "SJ04"}, "service_code"),
        ({"lat": None, "long": None}, "lat"),
        ({"long": None}, "long"),
        ({"lat": "north"}, "lat"),
        ({"long": "200"}, "long"),
        ({"address_id": "NO-SUCH-PLACE", "lat": None, "long": None}, "address_id"),
        ({"email": "not-an-email"}, "email"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"phone": "call me"}, "phone"),
        ({"service_code": "BJ0104"}, "attribute[injured]"),
        ({"service_code": "BJ0104", "attribute[injured]": "maybe"}, "attribute[injured]"),
        ({"attribute[color]": "red"}, "attribute[color]"),
        ({"service_code": "XQ0101", "attribute[needs]": "meals", "attribute[age]": "old"}, "attribute[age]"),
        ({"description": "很" * 4001}, "description"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_bad_request_is_a_400_naming_the_field(world, questions, open311_client, http, fields, named, fmt):
    response = post(http, open311_client, fmt=fmt, **fields)

    assert response.status_code == 400
    errors = errors_of(response, fmt)
    assert all(code == 400 for code, _ in errors)
    assert any(description.startswith(f"{named}:") for _, description in errors), errors
    assert Case.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_missing_wrong_or_revoked_api_key_is_a_403(world, open311_client, http, fmt):
    for key in ("", "not-the-key"):
        response = post(http, open311_client, fmt=fmt, key=key)
        assert response.status_code == 403
        assert errors_of(response, fmt)[0][0] == 403
    services.open311_client_revoke(client_id=open311_client.pk)
    response = post(http, open311_client, fmt=fmt)
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_a_retry_with_the_same_idempotency_key_returns_the_first_request(world, open311_client, http):
    first = http.post(
        f"{BASE}requests.json",
        {"api_key": open311_client.key, "service_code": "SJ0401", "lat": WEST[1], "long": WEST[0]},
        HTTP_IDEMPOTENCY_KEY="req-1",
    )
    again = http.post(
        f"{BASE}requests.json",
        {"api_key": open311_client.key, "service_code": "SJ0401", "lat": WEST[1], "long": WEST[0]},
        HTTP_IDEMPOTENCY_KEY="req-1",
    )

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Case.objects.count() == 1


def test_the_same_idempotency_key_for_another_request_is_refused_in_the_specs_shape(world, open311_client, http):
    data = {"api_key": open311_client.key, "service_code": "SJ0401", "lat": WEST[1], "long": WEST[0]}
    http.post(f"{BASE}requests.json", data, HTTP_IDEMPOTENCY_KEY="req-1")

    response = http.post(f"{BASE}requests.json", {**data, "description": "另一件事"}, HTTP_IDEMPOTENCY_KEY="req-1")

    assert response.status_code == 422
    assert errors_of(response)[0][0] == 422
    assert Case.objects.count() == 1


def test_a_json_body_is_refused_because_the_spec_posts_forms(world, open311_client, http):
    response = http.post(
        f"{BASE}requests.json",
        json.dumps({"api_key": open311_client.key, "service_code": "SJ0401", "lat": WEST[1], "long": WEST[0]}),
        content_type="application/json",
    )

    assert response.status_code == 415
    assert errors_of(response)[0][0] == 415
    assert Case.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_another_jurisdiction_is_a_404_and_ours_is_accepted(world, open311_client, http, fmt):
    wrong = post(http, open311_client, fmt=fmt, jurisdiction_id="sf.gov")
    assert wrong.status_code == 404
    assert errors_of(wrong, fmt)[0][0] == 404
    assert post(http, open311_client, fmt=fmt, jurisdiction_id="520100").status_code == 201
    assert http.get(f"{BASE}services.{fmt}", {"jurisdiction_id": "sf.gov"}).status_code == 404


# --- GET requests ------------------------------------------------------------------------------------


def _file(http, client, **fields) -> str:
    response = post(http, client, **fields)
    assert response.status_code == 201, response.content
    return response.json()[0]["service_request_id"]


def test_a_request_reads_back_with_status_agency_and_dates(world, open311_client, http):
    number = _file(http, open311_client, description="摆摊占道", media_url="https://img.example.com/1.jpg")

    (item,) = http.get(f"{BASE}requests/{number}.json").json()

    assert item["service_request_id"] == number
    assert (item["status"], item["service_code"], item["service_name"]) == ("open", "SJ0401", "占道经营")
    assert item["agency_responsible"] == "西街道综合执法队"
    assert item["status_notes"].startswith("已派单")
    assert item["description"] == "摆摊占道"
    assert item["media_url"] == "https://img.example.com/1.jpg"
    assert (item["lat"], item["long"]) == (WEST[1], WEST[0])
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        moment = dt.datetime.fromisoformat(item[name])
        assert moment.utcoffset() == dt.timedelta(hours=8), name
    case = Case.objects.get(number=number)
    due = case.assignments.get(role="lead").reply_due
    assert dt.datetime.fromisoformat(item["expected_datetime"]) == due.replace(microsecond=0)


def test_a_request_reads_back_in_xml(world, open311_client, http):
    number = _file(http, open311_client)

    root = xml(http.get(f"{BASE}requests/{number}.xml"))

    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.findtext("service_request_id") == number
    assert request.findtext("status") == "open"
    assert request.findtext("zipcode") == ""


def test_a_rejected_request_reads_as_closed_with_the_reason_in_the_notes(world, open311_client, http):
    triage = _file(http, open311_client, lat=None, long=None, address_string="不知何处")
    triaged = Case.objects.get(number=triage)
    city_dispatcher = person("city_dispatcher", unit=world.units["city-zongzhi"], role="dispatcher")
    dispatch_services.case_reject(case_id=triaged.pk, actor=city_dispatcher, version=triaged.version, note="非本市事项")

    (item,) = http.get(f"{BASE}requests/{triage}.json").json()

    assert item["status"] == "closed"
    assert item["status_notes"] == "不予受理：非本市事项"


def test_a_merged_request_names_the_case_it_joined(world, open311_client, http, dispatcher):
    first = _file(http, open311_client)
    second = _file(http, open311_client)
    case = Case.objects.get(number=second)
    dispatch_services.case_merge(
        case_id=case.pk, actor=fresh(dispatcher), version=case.version, into=Case.objects.get(number=first).pk
    )

    (item,) = http.get(f"{BASE}requests/{second}.json").json()

    assert (item["status"], item["status_notes"]) == ("closed", f"已并单：{first}")


def test_cases_from_the_hotline_are_listed_without_the_callers_words(world, file_call, http):
    filed = file_call(content="我家在西湖社区5栋，楼下有人摆摊，电话13812345678")

    (item,) = http.get(f"{BASE}requests/{filed.case.number}.json").json()

    assert item["description"] == "占道经营"
    assert item["address"] == "南明区西街道西湖社区"
    assert "5栋" not in json.dumps(item, ensure_ascii=False)


def test_an_unknown_request_is_a_404(world, http):
    for fmt in ("json", "xml"):
        response = http.get(f"{BASE}requests/2000010100001.{fmt}")
        assert response.status_code == 404
        assert errors_of(response, fmt)[0][0] == 404


def test_the_list_defaults_to_the_last_90_days_newest_first(world, open311_client, http):
    old = _file(http, open311_client)
    older = timezone.now() - dt.timedelta(days=91)
    Case.objects.filter(number=old).update(created_at=older)
    a = _file(http, open311_client)
    b = _file(http, open311_client)

    numbers = [item["service_request_id"] for item in http.get(f"{BASE}requests.json").json()]

    assert numbers == [b, a]


def test_a_list_of_ids_overrides_every_other_filter(world, open311_client, http):
    old = _file(http, open311_client)
    Case.objects.filter(number=old).update(created_at=timezone.now() - dt.timedelta(days=200))
    new = _file(http, open311_client)

    response = http.get(f"{BASE}requests.json", {"service_request_id": f"{old},{new}", "status": "closed"})

    assert sorted(item["service_request_id"] for item in response.json()) == sorted([old, new])


def test_the_list_filters_by_service_status_and_dates(world, open311_client, http, dispatcher):
    vending = _file(http, open311_client, service_code="SJ0401")
    lamp = _file(http, open311_client, service_code="BJ0107")
    merged = _file(http, open311_client, service_code="SJ0401")
    case = Case.objects.get(number=merged)
    dispatch_services.case_merge(
        case_id=case.pk, actor=fresh(dispatcher), version=case.version, into=Case.objects.get(number=vending).pk
    )
    Case.objects.filter(number=lamp).update(created_at=timezone.now() - dt.timedelta(days=30))

    def ids(**params) -> set[str]:
        response = http.get(f"{BASE}requests.json", params)
        assert response.status_code == 200, response.content
        return {item["service_request_id"] for item in response.json()}

    assert ids(service_code="BJ0107") == {lamp}
    assert ids(service_code="SJ0401,BJ0107") == {vending, lamp, merged}
    assert ids(status="open") == {vending, lamp}
    assert ids(status="closed") == {merged}
    assert ids(status="open,closed") == {vending, lamp, merged}
    today = timezone.localdate()
    assert ids(start_date=(today - dt.timedelta(days=2)).isoformat()) == {vending, merged}
    week_ago = timezone.localtime() - dt.timedelta(days=7)
    assert ids(end_date=week_ago.isoformat()) == {lamp}
    assert ids(start_date=(today - dt.timedelta(days=89)).isoformat(), end_date=today.isoformat()) == {
        vending,
        lamp,
        merged,
    }


def test_the_list_is_capped_at_1000_requests(world, open311_client, http, monkeypatch):
    monkeypatch.setattr(selectors, "MAX_REQUESTS", 2)
    for _ in range(3):
        _file(http, open311_client)

    assert len(http.get(f"{BASE}requests.json").json()) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"},  # > 90 days
        {"start_date": "2026-06-01T00:00:00+08:00", "end_date": "2026-05-01T00:00:00+08:00"},  # backwards
        {"start_date": "last tuesday"},
        {"end_date": "2026-13-45"},
        {"status": "pending"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_bad_list_query_is_a_400(world, http, params, fmt):
    response = http.get(f"{BASE}requests.{fmt}", params)

    assert response.status_code == 400
    assert errors_of(response, fmt)[0][0] == 400


def test_the_list_in_xml(world, open311_client, http):
    number = _file(http, open311_client)

    root = xml(http.get(f"{BASE}requests.xml"))

    assert [r.findtext("service_request_id") for r in root.findall("request")] == [number]


# --- tokens -------------------------------------------------------------------------------------------


def test_a_token_leads_to_its_request(world, open311_client, http):
    answer = post(http, open311_client).json()[0]

    assert http.get(f"{BASE}tokens/{answer['token']}.json").json() == [
        {"service_request_id": answer["service_request_id"], "token": answer["token"]}
    ]
    root = xml(http.get(f"{BASE}tokens/{answer['token']}.xml"))
    assert root.find("request").findtext("service_request_id") == answer["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_token_is_a_404(world, http, fmt):
    response = http.get(f"{BASE}tokens/nope.{fmt}")

    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


# --- never HTML ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "fmt"), [("nothing-here.json", "json"), ("services/a/b.xml", "xml"), ("", "json")])
def test_an_unknown_path_is_a_404_in_the_specs_shape(world, http, path, fmt):
    response = http.get(BASE + path)

    assert response.status_code == 404
    assert errors_of(response, fmt)[0][0] == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_wrong_method_is_a_405_in_the_specs_shape(world, http, fmt):
    response = http.put(f"{BASE}services.{fmt}")

    assert response.status_code == 405
    assert errors_of(response, fmt)[0][0] == 405


def test_requests_are_cases_like_any_other_visible_to_the_unit(world, open311_client, http, handler_west, api):
    number = _file(http, open311_client)
    case = Case.objects.get(number=number)

    assert api(handler_west).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    assert list(case.events.values_list("kind", flat=True)) == ["opened", "dispatched"]


@pytest.mark.parametrize("bad", ["1_0", "1e2", "nan", "inf", "１０６.７", "0x10", "106,7"])
def test_a_coordinate_is_a_plain_decimal_or_the_request_is_refused(world, open311_client, http, bad):
    response = post(http, open311_client, long=bad)

    assert response.status_code == 400
    assert any("long" in description for _, description in errors_of(response))
    assert Case.objects.count() == 0


@override_settings(API_WRITE_RATE="2/min")
def test_a_client_posting_too_fast_gets_a_spec_error_429_with_retry_after(world, open311_client, http):
    assert [post(http, open311_client).status_code for _ in range(2)] == [201, 201]
    third = post(http, open311_client)

    assert third.status_code == 429 and int(third["Retry-After"]) >= 1
    assert errors_of(third)[0][0] == 429
    assert Case.objects.count() == 2
