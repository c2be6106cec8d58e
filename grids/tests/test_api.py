"""The geography API as a client sees it: locate one point, a batch, list and fetch areas."""

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from grids import locator
from grids.crs import from_wgs84
from grids.tests.test_locator import CELL, LAT0, LON0, build_city, cell_centre


@pytest.fixture(autouse=True)
def _fresh_locator(settings):
    settings.LOCATOR_CHECK_INTERVAL = 0
    settings.LANGUAGE_CODE = "zh-hans"
    locator.invalidate()
    yield
    locator.invalidate()


@pytest.fixture
def city(db):
    return build_city()


@pytest.fixture
def client():
    return APIClient()


def test_anyone_can_locate_a_point_and_sees_every_level_with_names(client, city):
    lon, lat = cell_centre(0, 0)
    response = client.get("/api/v1/locate/", {"lon": lon, "lat": lat})
    assert response.status_code == 200
    assert response.json() == {
        "grid": {"code": "520102001001001", "name": "网格001"},
        "community": {"code": "520102001001", "name": "community-520102001001"},
        "street": {"code": "520102001", "name": "street-520102001"},
        "district": {"code": "520102", "name": "南明区"},
        "city": {"code": "520100", "name": "贵阳市"},
        "outside": False,
        "near_boundary": False,
        "distance_m": 0.0,
        "point": {"lon": lon, "lat": lat},
    }


def test_a_gcj02_point_is_located_and_reported_in_wgs84(client, city):
    lon, lat = cell_centre(3, 5)
    glon, glat = from_wgs84(lon, lat, "gcj02")
    body = client.get("/api/v1/locate/", {"lon": glon, "lat": glat, "crs": "gcj02"}).json()
    assert body["grid"]["code"] == locator.locate(lon, lat).grid
    assert body["point"]["lon"] == pytest.approx(lon, abs=1e-7)
    assert body["point"]["lat"] == pytest.approx(lat, abs=1e-7)


def test_crs_spellings_from_sdks_are_accepted(client, city):
    glon, glat = from_wgs84(*cell_centre(1, 1), "gcj02")
    assert client.get("/api/v1/locate/", {"lon": glon, "lat": glat, "crs": "GCJ-02"}).status_code == 200


def test_a_blank_crs_means_wgs84(client, city):
    lon, lat = cell_centre(2, 2)
    body = client.get("/api/v1/locate/", {"lon": lon, "lat": lat, "crs": ""}).json()
    assert body["point"] == {"lon": lon, "lat": lat}


def test_a_point_just_outside_the_city_is_located_with_its_distance(client, city):
    body = client.get("/api/v1/locate/", {"lon": LON0 + 0.5 * CELL, "lat": LAT0 - 0.001}).json()
    assert body["outside"] is True
    assert body["distance_m"] == pytest.approx(110.8, rel=0.01)


def test_a_point_far_from_the_city_is_not_found_with_a_clear_message(client, city):
    response = client.get("/api/v1/locate/", {"lon": 116.4, "lat": 39.9})
    assert response.status_code == 404
    assert "不在任何网格内" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 26.5}, "lon"),
        ({"lon": 106.6}, "lat"),
        ({"lon": "abc", "lat": 26.5}, "lon"),
        ({"lon": "NaN", "lat": 26.5}, "lon"),
        ({"lon": 106.6, "lat": "inf"}, "lat"),
        ({"lon": 106.6, "lat": "-Infinity"}, "lat"),
        ({"lon": 180.5, "lat": 26.5}, "lon"),
        ({"lon": 106.6, "lat": -90.01}, "lat"),
        ({"lon": 106.6, "lat": 26.5, "crs": "mercator"}, "crs"),
        ({"lon": 106.6, "lat": 26.5, "crs": "EPSG:3857"}, "crs"),
    ],
)
def test_bad_coordinates_or_crs_get_a_400_naming_the_field(client, city, params, field):
    response = client.get("/api/v1/locate/", params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_batch_is_answered_in_order_with_null_where_nothing_is_found(client, city):
    points = [
        {"lon": cell_centre(0, 0)[0], "lat": cell_centre(0, 0)[1]},
        {"lon": 116.4, "lat": 39.9},
        {"lon": cell_centre(7, 7)[0], "lat": cell_centre(7, 7)[1]},
    ]
    response = client.post("/api/v1/locate/batch/", {"points": points}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["found"]) == (3, 2)
    assert body["results"][0]["grid"]["code"] == "520102001001001"
    assert body["results"][1] is None
    assert body["results"][2]["district"] == {"code": "520103", "name": "云岩区"}


def test_a_batch_in_gcj02_matches_single_lookups(client, city):
    wgs = [cell_centre(i, i) for i in range(8)]
    points = [dict(zip(("lon", "lat"), from_wgs84(lon, lat, "gcj02"), strict=True)) for lon, lat in wgs]
    body = client.post("/api/v1/locate/batch/", {"points": points, "crs": "gcj02"}, format="json").json()
    assert [r["grid"]["code"] for r in body["results"]] == [locator.locate(*p).grid for p in wgs]


def test_an_empty_batch_gets_empty_results(client, city):
    body = client.post("/api/v1/locate/batch/", {"points": []}, format="json").json()
    assert body == {"count": 0, "found": 0, "results": []}


def test_a_full_batch_is_accepted_and_one_point_more_is_refused(client, city, settings):
    settings.LOCATE_BATCH_MAX = 300
    points = [{"lon": LON0 + 0.0003 * i, "lat": LAT0 + 0.0002 * i} for i in range(300)]
    assert client.post("/api/v1/locate/batch/", {"points": points}, format="json").status_code == 200
    response = client.post("/api/v1/locate/batch/", {"points": [*points, points[0]]}, format="json")
    assert response.status_code == 400
    assert "300" in response.json()["points"][0]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"points"}),
        ({"points": "106.6,26.5"}, {"points"}),
        ({"points": {"lon": 106.6, "lat": 26.5}}, {"points"}),
        ({"points": [{"lon": 106.6, "lat": 26.5}], "crs": "utm"}, {"crs"}),
    ],
)
def test_a_malformed_batch_gets_a_400_with_field_errors(client, city, body, expected):
    response = client.post("/api/v1/locate/batch/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == expected


def test_bad_points_in_a_batch_are_reported_by_index_and_coordinate(client, city):
    points = [
        {"lon": 106.6, "lat": 26.5},
        {"lon": 106.6},
        [106.6, 26.5],
        {"lon": "NaN", "lat": 26.5},
        {"lon": True, "lat": 26.5},
        {"lon": 106.6, "lat": 95},
        {"lon": None, "lat": 26.5},
    ]
    response = client.post("/api/v1/locate/batch/", {"points": points}, format="json")
    assert response.status_code == 400
    errors = response.json()["points"]
    assert set(errors) == {"1", "2", "3", "4", "5", "6"}
    assert set(errors["1"]) == {"lat"}
    assert set(errors["3"]) == {"lon"}
    assert set(errors["5"]) == {"lat"}


def test_a_batch_that_is_not_json_gets_a_400(client, city):
    response = client.post("/api/v1/locate/batch/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_a_batch_as_a_bare_list_gets_a_400_not_a_500(client, city):
    response = client.post("/api/v1/locate/batch/", [{"lon": 106.6, "lat": 26.5}], format="json")
    assert response.status_code == 400


# --- areas ----------------------------------------------------------------------------------------


def test_the_area_list_filters_by_level_and_parent_without_geometry(client, city):
    body = client.get("/api/v1/areas/", {"level": "district"}).json()
    assert body["count"] == 2
    assert body["results"] == [
        {"code": "520102", "name": "南明区", "level": "district", "parent": "520100"},
        {"code": "520103", "name": "云岩区", "level": "district", "parent": "520100"},
    ]
    streets = client.get("/api/v1/areas/", {"parent": "520103"}).json()
    assert [s["code"] for s in streets["results"]] == ["520103001", "520103002"]


def test_a_communitys_grids_are_listed_under_it(client, city):
    body = client.get("/api/v1/areas/", {"parent": "520102001001"}).json()
    assert body["count"] == 8
    assert body["results"][0] == {
        "code": "520102001001001",
        "name": "网格001",
        "level": "grid",
        "parent": "520102001001",
    }
    assert client.get("/api/v1/areas/", {"level": "grid"}).json()["count"] == 64


def test_the_area_list_is_paginated(client, city):
    body = client.get("/api/v1/areas/", {"level": "grid", "limit": 10, "offset": 60}).json()
    assert body["count"] == 64
    assert len(body["results"]) == 4
    assert body["next"] is None


@pytest.mark.parametrize("params", [{"level": "province"}, {"parent": "52"}, {"parent": "abcdef"}])
def test_bad_area_filters_get_a_400(client, city, params):
    response = client.get("/api/v1/areas/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_an_area_is_a_geojson_feature_with_its_boundary(client, city):
    response = client.get("/api/v1/areas/520102001/")
    assert response.status_code == 200
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "MultiPolygon"
    assert feature["properties"] == {
        "code": "520102001",
        "name": "street-520102001",
        "level": "street",
        "parent": "520102",
    }


def test_a_fifteen_digit_code_is_a_grid_feature(client, city):
    feature = client.get("/api/v1/areas/520103002001001/").json()
    assert feature["properties"] == {
        "code": "520103002001001",
        "name": "网格001",
        "level": "grid",
        "parent": "520103002001",
    }
    ring = feature["geometry"]["coordinates"][0][0]
    assert len(ring) == 5


@pytest.mark.parametrize("code", ["520199", "5201", "52010200100100x", "abc", "520102001001001001"])
def test_an_unknown_code_is_a_404_with_a_message(client, city, code):
    response = client.get(f"/api/v1/areas/{code}/")
    assert response.status_code == 404
    assert code in response.json()["detail"]


def test_the_openapi_schema_of_these_endpoints_is_valid_and_free_of_warnings(db):
    # Only this app's routes: another app's schema problems are that app's test to catch.
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include("grids.urls"))])
    schema = generator.get_schema(request=None, public=True)
    validate_schema(schema)
    assert dict(GENERATOR_STATS._warn_cache) == {}
    assert dict(GENERATOR_STATS._error_cache) == {}
    assert set(schema["paths"]) == {
        "/api/v1/locate/",
        "/api/v1/locate/batch/",
        "/api/v1/areas/",
        "/api/v1/areas/{code}/",
    }
    assert "crs" in schema["components"]["schemas"]["LocateBatchInput"]["properties"]
