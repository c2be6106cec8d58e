"""A point is checked once, at its door, and carries its WGS-84 form from there on."""

from __future__ import annotations

import pytest

from grids.crs import to_wgs84, wgs84_to_gcj02
from grids.points import MISSING, NOT_A_NUMBER, OUT_OF_RANGE, UNKNOWN_CRS, CheckedPoint, PointError


def test_a_gcj02_point_keeps_what_was_given_and_its_wgs84_form():
    lon, lat = wgs84_to_gcj02(106.71, 26.57)
    point = CheckedPoint.make(str(lon), lat, "gcj02")

    assert (point.lon, point.lat, point.crs) == (lon, lat, "gcj02")
    assert (point.wgs84_lon, point.wgs84_lat) == to_wgs84(lon, lat, "gcj02")
    assert point.geometry.srid == 4326 and point.geometry.coords == (point.wgs84_lon, point.wgs84_lat)


def test_a_wgs84_point_is_its_own_wgs84_form():
    point = CheckedPoint.make(106.71, 26.57)
    assert (point.wgs84_lon, point.wgs84_lat) == (106.71, 26.57)


@pytest.mark.parametrize(
    ("lon", "lat", "crs", "problems"),
    [
        (True, 26.5, "wgs84", {"lon": NOT_A_NUMBER}),
        (181, -91, "wgs84", {"lon": OUT_OF_RANGE, "lat": OUT_OF_RANGE}),
        (106.7, None, "wgs84", {"lat": MISSING}),
        ("1_0", None, "mars", {"lon": NOT_A_NUMBER, "crs": UNKNOWN_CRS}),  # the missing one waits
    ],
)
def test_every_field_at_fault_is_named(lon, lat, crs, problems):
    with pytest.raises(PointError) as refused:
        CheckedPoint.make(lon, lat, crs)
    assert refused.value.problems == problems


def test_a_door_words_and_names_the_refusal_its_own_way():
    with pytest.raises(PointError) as refused:
        CheckedPoint.make("east", 26.5)
    assert refused.value.messages({NOT_A_NUMBER: "WGS-84 degrees"}, names={"lon": "long"}) == {
        "long": ["WGS-84 degrees"]
    }
