"""The routing API: the category tree and the router's dry run, their answers and their 400s."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from grids.crs import from_wgs84
from routing import catalog
from routing.tests.routing_world import build_world

pytestmark = pytest.mark.django_db

PREVIEW = "/api/v1/route/preview/"


@pytest.fixture
def w():
    world = build_world()
    catalog.rule_create(category=world.categories["BJ0107"], territory_code="520100", unit=world.units["city-gongdian"])
    catalog.rule_create(
        category=world.categories["SJ"], territory_code="520100", department="chengguan", level="district"
    )
    return world


@pytest.fixture
def agent():
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("agent", password="pw-for-tests-only"))
    return client


def test_the_category_tree_is_nested_with_codes_kinds_and_limits(w, agent):
    response = agent.get("/api/v1/categories/")

    assert response.status_code == 200
    roots = {node["code"]: node for node in response.json()}
    assert set(roots) == {"BJ", "SJ", "XQ"}
    utilities = roots["BJ"]["children"][0]
    lamp = next(c for c in utilities["children"] if c["code"] == "BJ0107")
    assert lamp["name"] == "路灯"
    assert lamp["kind"] == "component" and lamp["kind_label"] == "部件"
    assert lamp["principle"] == "owner_first"
    assert lamp["is_leaf"] is True and lamp["children"] == []
    assert {"sign_urgent_minutes", "sign_normal_work_hours", "reply_urgent_hours", "reply_normal_work_days"} <= set(
        lamp
    )
    assert utilities["is_leaf"] is False


def test_a_preview_by_point_shows_the_lead_the_chain_and_why(w, agent):
    response = agent.post(PREVIEW, {"lon": 106.72, "lat": 26.52, "category": "SJ0401"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["lead"]["name"] == "南明区城管局"
    assert body["lead"]["department"] == "chengguan" and body["lead"]["level"] == "district"
    assert body["triage"] is False and body["needs_review"] is False
    assert [link["level"] for link in body["location"]["chain"]] == ["city", "district", "street", "community", "grid"]
    assert body["location"]["grid"] == "520102001001001"
    assert body["explanation"]["principle"] == "territory_first"
    assert body["explanation"]["rules"][0]["outcome"] == "matched"
    assert "南明区城管局" in body["explanation"]["summary"]["zh-hans"]


def test_a_component_and_an_event_at_the_same_point_go_to_different_units(w, agent):
    point = {"lon": 106.72, "lat": 26.52}

    lamp = agent.post(PREVIEW, {**point, "category": "BJ0107"}, format="json").json()
    vending = agent.post(PREVIEW, {**point, "category": "SJ0401"}, format="json").json()

    assert lamp["lead"]["name"] == "贵阳供电局"
    assert vending["lead"]["name"] == "南明区城管局"


def test_a_preview_by_grid_code_and_urgency(w, agent):
    response = agent.post(
        PREVIEW, {"grid": "520103001001002", "category": "SJ0401", "urgency": "urgent"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["lead"]["name"] == "云岩区城管局"
    assert response.json()["urgency"] == "urgent"


def test_a_point_in_gcj02_is_converted_before_locating(w, agent):
    lon, lat = from_wgs84(106.72, 26.52, "gcj02")

    body = agent.post(PREVIEW, {"lon": lon, "lat": lat, "crs": "gcj02", "category": "SJ0401"}, format="json").json()

    assert body["location"]["grid"] == "520102001001001"


def test_an_unroutable_case_previews_as_triage_at_the_district_command_centre(w, agent):
    body = agent.post(PREVIEW, {"lon": 106.72, "lat": 26.52, "category": "XQ0101"}, format="json").json()

    assert body["triage"] is True
    assert body["lead"]["name"] == "南明区综治中心"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"lon": 106.72, "lat": 26.52, "category": "NOPE"}, {"category"}),
        ({"lon": 106.72, "lat": 26.52}, {"category"}),
        ({"category": "SJ0401"}, {"lon", "grid"}),
        ({"lon": 106.72, "category": "SJ0401"}, {"lat"}),
        ({"lon": 500, "lat": 26.52, "category": "SJ0401"}, {"lon"}),
        ({"lon": "east", "lat": 26.52, "category": "SJ0401"}, {"lon"}),
        ({"lon": "NaN", "lat": 26.52, "category": "SJ0401"}, {"lon"}),
        ({"lon": 106.72, "lat": 26.52, "crs": "mars", "category": "SJ0401"}, {"crs"}),
        ({"grid": "520102009009009", "category": "SJ0401"}, {"grid"}),
        ({"grid": "5201", "category": "SJ0401"}, {"grid"}),
        ({"grid": "520102001001001", "lon": 106.72, "lat": 26.52, "category": "SJ0401"}, {"grid"}),
        ({"lon": 116.4, "lat": 39.9, "category": "SJ0401"}, {"lon", "lat"}),
        ({"grid": "520103001001002", "category": "SJ0401", "urgency": "panic"}, {"urgency"}),
    ],
)
def test_bad_input_gets_400_with_field_errors(w, agent, payload, fields):
    response = agent.post(PREVIEW, payload, format="json")

    assert response.status_code == 400
    assert set(response.json()) == fields


def test_only_signed_in_users_may_preview_or_read_the_tree(w):
    anonymous = APIClient()

    assert anonymous.post(PREVIEW, {"grid": "520103001001002", "category": "SJ0401"}, format="json").status_code in (
        401,
        403,
    )
    assert anonymous.get("/api/v1/categories/").status_code in (401, 403)
