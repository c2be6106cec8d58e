"""The organisations directory API: who may list it, its rows and filters."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from rest_framework.test import APIClient

from partners.models import Capability, Department, Partner
from partners.serializers import OrganizationFilterSerializer
from partners.tests.factories import partner, unit, user

pytestmark = pytest.mark.django_db
URL = "/api/v1/organizations/"


@pytest.fixture
def api(areas):
    client = APIClient()
    client.force_authenticate(user("agent"))
    return client


@pytest.fixture
def directory(areas):
    """Units at three levels in 云岩区 and 南明区, and partners whose service areas differ."""
    units = {
        "city": unit(areas["520100"], Department.CHENGGUAN),
        "yunyan": unit(areas["520103"], Department.CHENGGUAN),
        "nanming": unit(areas["520102"], Department.CHENGGUAN),
        "street": unit(areas["520103001"], Department.ZHIFA),
        "community": unit(areas["520103001001"], Department.SHEQU),
    }
    street = areas["520103001"].geom
    partners = {
        # Serves only street 520103001.
        "street": partner(areas["520103"], code="P1", capabilities=["elderly_care"], service_area=street),
        # Serves all of 南明区.
        "nanming": partner(areas["520102"], code="P2", capabilities=["legal_aid"], kind=Partner.Kind.VOLUNTEER_TEAM),
    }
    return units, partners


def codes(response) -> list[str]:
    return [row["code"] for row in response.json()["results"]]


def test_anonymous_visitors_cannot_list_organisations(areas):
    assert APIClient().get(URL).status_code in (401, 403)


def test_the_list_holds_units_then_partners_paginated(api, directory):
    response = api.get(URL, {"limit": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 7
    assert len(body["results"]) == 3 and body["next"]
    everything = api.get(URL, {"limit": 100}).json()["results"]
    assert [row["kind"] for row in everything] == ["unit"] * 5 + ["partner"] * 2
    page_two = api.get(URL, {"limit": 3, "offset": 3}).json()["results"]
    assert [row["code"] for row in page_two] == [row["code"] for row in everything[3:6]]


def test_a_unit_row_says_what_a_user_needs(api, directory):
    units, _ = directory
    row = next(r for r in api.get(URL, {"kind": "unit"}).json()["results"] if r["code"] == units["street"].code)
    assert row["type"] == "zhifa" and row["type_label"] == "综合执法队"
    assert row["level"] == "street"
    assert row["area"] == {"code": "520103001", "name": units["street"].area.name}
    assert row["capabilities"] == [] and row["capacity"] is None


def test_a_partner_row_has_capabilities_capacity_and_office(api, directory):
    _, partners = directory
    row = api.get(URL, {"kind": "partner", "type": "volunteer_team"}).json()["results"][0]
    assert row["code"] == partners["nanming"].code
    assert row["capabilities"] == ["legal_aid"] and row["capacity"] == 5
    assert row["level"] is None and len(row["location"]) == 2
    assert row["area"]["code"] == "520102"


def test_units_filtered_by_level_and_department(api, directory):
    units, _ = directory
    response = api.get(URL, {"kind": "unit", "level": "district", "type": "chengguan"})
    assert set(codes(response)) == {units["yunyan"].code, units["nanming"].code}
    # A level alone implies units.
    assert set(codes(api.get(URL, {"level": "street"}))) == {units["street"].code, units["community"].code}


def test_units_in_an_area_are_those_whose_territory_is_that_area_or_inside_it(api, directory):
    units, _ = directory
    response = api.get(URL, {"kind": "unit", "area": "520103"})
    assert set(codes(response)) == {units["yunyan"].code, units["street"].code, units["community"].code}
    assert set(codes(api.get(URL, {"kind": "unit", "area": "520103001001"}))) == {units["community"].code}
    assert len(codes(api.get(URL, {"kind": "unit", "area": "520100"}))) == 5


def test_partners_in_an_area_are_those_whose_service_area_meets_it(api, directory):
    _, partners = directory
    assert codes(api.get(URL, {"kind": "partner", "area": "520103001"})) == [partners["street"].code]
    assert codes(api.get(URL, {"kind": "partner", "area": "520103002"})) == []
    assert codes(api.get(URL, {"kind": "partner", "area": "520102"})) == [partners["nanming"].code]


def test_partners_filtered_by_capability_or_kind(api, directory):
    _, partners = directory
    assert codes(api.get(URL, {"type": "elderly_care"})) == [partners["street"].code]
    assert codes(api.get(URL, {"kind": "partner", "type": "legal_aid"})) == [partners["nanming"].code]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"kind": "robot"}, "kind"),
        ({"level": "province"}, "level"),
        ({"type": "nonsense"}, "type"),
        ({"area": "999999"}, "area"),
        ({"kind": "partner", "level": "city"}, "level"),
        ({"kind": "unit", "type": "elderly_care"}, "type"),
        ({"kind": "partner", "type": "chengguan"}, "type"),
        ({"level": "city", "type": "volunteer_team"}, "type"),
        ({"active": "perhaps"}, "active"),
    ],
)
def test_bad_filters_get_400_with_the_field_named(api, directory, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()


def test_the_list_does_not_query_per_row(api, areas):
    for i, code in enumerate(["520102", "520103", "520111", "520112"]):
        unit(areas[code], Department.CHENGGUAN, parent=None)
        partner(areas[code], code=f"P{i}", capabilities=[Capability.LEGAL_AID])
    with CaptureQueriesContext(connection) as few:
        api.get(URL, {"limit": 2})
    with CaptureQueriesContext(connection) as many:
        api.get(URL, {"limit": 100})
    assert len(many) == len(few) + 1  # the second page of rows comes from the second table


def test_the_schema_documents_the_organisations_endpoint(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"kind", "level", "type", "area", "limit", "offset"} <= parameters


def test_service_areas_are_not_sent_in_the_list(api, areas):
    partner(areas["520103"], code="P1", capabilities=["legal_aid"])
    row = api.get(URL, {"kind": "partner"}).json()["results"][0]
    assert "service_area" not in row


def test_errors_are_in_chinese_by_default_and_have_an_english_translation(api, areas):
    assert api.get(URL, {"area": "999999"}).json()["area"] == ["没有编码为 999999 的区域。"]
    with translation.override("en"):
        filters = OrganizationFilterSerializer(data={"area": "999999", "kind": "partner", "level": "city"})
        assert not filters.is_valid()
        assert filters.errors["area"] == ["There is no area with code 999999."]
