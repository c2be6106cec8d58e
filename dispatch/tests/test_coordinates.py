"""Coordinates are real numbers at every door: JSON numbers, or decimal strings from forms and URLs."""

from __future__ import annotations

import uuid

import pytest

from dispatch.models import Case
from dispatch.tests.conftest import WEST_SOUTH
from grids.crs import parse_coordinate

pytestmark = pytest.mark.django_db

NOT_NUMBERS = [True, False, "1_0", "1e2", "nan", "-inf", "", " ", "106.7.1", "0x1A", "１０６", [106], {"v": 1}]


@pytest.mark.parametrize("value", NOT_NUMBERS, ids=repr)
def test_parse_coordinate_refuses_anything_but_a_real_number(value):
    with pytest.raises(ValueError):
        parse_coordinate(value)


@pytest.mark.parametrize(("value", "number"), [(106, 106.0), (106.71, 106.71), ("106.71", 106.71), ("-.5", -0.5)])
def test_parse_coordinate_takes_json_numbers_and_decimal_strings(value, number):
    assert parse_coordinate(value) == number


def post(client, path, body):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def test_a_case_with_boolean_coordinates_is_refused_not_placed_at_1_0(api, agent):
    reply = post(api(agent), "/api/v1/cases/", {"category": "SJ0401", "description": "摆摊", "lon": True, "lat": False})
    assert reply.status_code == 400
    assert set(reply.json()) >= {"lon", "lat"}
    assert Case.objects.count() == 0


def test_a_case_with_decimal_strings_is_filed(api, agent):
    lon, lat = WEST_SOUTH
    reply = post(
        api(agent), "/api/v1/cases/", {"category": "SJ0401", "description": "摆摊", "lon": str(lon), "lat": str(lat)}
    )
    assert reply.status_code == 201, reply.json()


def test_a_call_with_boolean_coordinates_is_refused(api, agent):
    body = {"caller_phone": "13812345678", "request_type": "complaint", "content": "摆摊", "lon": True, "lat": 26.5}
    reply = post(api(agent), "/api/v1/calls/", body)
    assert reply.status_code == 400
    assert "lon" in reply.json()


@pytest.mark.parametrize("query", ["lon=1_0&lat=26.5", "lon=106.7&lat=2_6", "lon=1e2&lat=26", "lon=true&lat=26"])
def test_locate_reads_no_odd_numerals(api, world, query):
    reply = api().get(f"/api/v1/locate/?{query}")
    assert reply.status_code == 400
    assert set(reply.json()) & {"lon", "lat"}


def test_a_batch_with_a_boolean_point_names_its_index(api, world):
    reply = post(api(), "/api/v1/locate/batch/", {"points": [{"lon": 106.7, "lat": 26.5}, {"lon": True, "lat": 26.5}]})
    assert reply.status_code == 400
    assert "lon" in reply.json()["points"]["1"]


def test_route_preview_refuses_a_boolean_point(api, agent):
    reply = post(api(agent), "/api/v1/route/preview/", {"category": "SJ0401", "lon": False, "lat": 26.5})
    assert reply.status_code == 400
    assert "lon" in reply.json()
