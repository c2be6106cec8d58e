"""What the tile selectors draw: the right areas at the right zooms."""

import pytest
from django.contrib.gis.geos import MultiPolygon, Point

from grids.models import Area
from maps import selectors
from maps.tests.tiles import codes, decode, feature_at, tile_of

pytestmark = pytest.mark.django_db

# A point in 南明区第1街道第1社区, its grid number 1 (south-west corner of the fixture).
LON, LAT = 106.61, 26.56


def test_the_grid_drawn_under_a_point_is_the_grid_that_covers_it(geography):
    for z in (13, 14, 16):
        x, y, fx, fy = tile_of(LON, LAT, z)
        tile = decode(selectors.boundary_tile("grids", z, x, y))
        feature = feature_at(tile, "grids", fx, fy)
        expected = geography.grid_at(LON, LAT)
        assert feature is not None, f"nothing drawn at z{z}"
        assert feature["properties"] == {"code": expected.code, "name": expected.name}


def test_every_level_draws_the_area_under_a_point_with_its_code_and_name(geography):
    x, y, fx, fy = tile_of(LON, LAT, 13)
    tile = decode(selectors.boundary_tile(selectors.BUNDLE, 13, x, y))
    assert feature_at(tile, "districts", fx, fy)["properties"] == {"code": "520102", "name": "南明区"}
    assert feature_at(tile, "streets", fx, fy)["properties"]["code"] == "520102001"
    assert feature_at(tile, "communities", fx, fy)["properties"] == {
        "code": "520102001001",
        "name": "南明区第1街道第1社区",
    }
    assert feature_at(tile, "grids", fx, fy)["properties"]["code"] == "520102001001001"


@pytest.mark.parametrize(
    ("z", "layers"),
    [
        (5, {"districts"}),
        (9, {"districts"}),
        (10, {"districts", "streets"}),
        (11, {"districts", "streets"}),
        (12, {"districts", "streets", "communities"}),
        (13, {"districts", "streets", "communities", "grids"}),
        (16, {"districts", "streets", "communities", "grids"}),
    ],
)
def test_the_bundle_carries_each_level_from_its_own_zoom(geography, z, layers):
    x, y, _, _ = tile_of(LON, LAT, z)
    assert set(decode(selectors.boundary_tile(selectors.BUNDLE, z, x, y))) == layers


@pytest.mark.parametrize(("layer", "first_zoom"), [("streets", 10), ("communities", 12), ("grids", 13)])
def test_a_layer_is_empty_below_its_first_zoom(geography, layer, first_zoom):
    x, y, _, _ = tile_of(LON, LAT, first_zoom - 1)
    assert selectors.boundary_tile(layer, first_zoom - 1, x, y) == b""
    x, y, _, _ = tile_of(LON, LAT, first_zoom)
    assert codes(decode(selectors.boundary_tile(layer, first_zoom, x, y)), layer)


def test_districts_are_drawn_at_every_zoom(geography):
    # From z3: below it a 10 km fixture district is smaller than one tile unit (real ones are larger).
    for z in range(3, 17):
        x, y, _, _ = tile_of(LON, LAT, z)
        assert codes(decode(selectors.boundary_tile("districts", z, x, y)), "districts") >= {"520102"}


def test_a_tile_shows_only_the_areas_inside_it(geography):
    # z12 tile around the south-west corner: the fixture's north district (from 26.65) is outside.
    x, y, _, _ = tile_of(LON, LAT, 12)
    tile = decode(selectors.boundary_tile(selectors.BUNDLE, 12, x, y))
    assert codes(tile, "districts") == {"520102"}
    assert all(code.startswith("520102") for code in codes(tile, "communities"))


def test_a_tile_with_nothing_in_it_is_empty(geography):
    x, y, _, _ = tile_of(0.0, 0.0, 10)
    assert selectors.boundary_tile(selectors.BUNDLE, 10, x, y) == b""


def test_low_zooms_are_simplified_to_fewer_points(geography):
    # A detailed boundary (a 2,000-point circle) must not ship all its points to a city-wide view.

    circle = Point(106.65, 26.60, srid=4326).buffer(0.04, quadsegs=500)
    Area.objects.filter(code="520102").update(geom=MultiPolygon(circle, srid=4326))

    def points(z):
        x, y, _, _ = tile_of(106.65, 26.60, z)
        tile = decode(selectors.boundary_tile("districts", z, x, y))
        feature = next(f for f in tile["districts"]["features"] if f["properties"]["code"] == "520102")
        rings = feature["geometry"]["coordinates"]
        rings = rings if feature["geometry"]["type"] == "Polygon" else [r for p in rings for r in p]
        return sum(len(ring) for ring in rings)

    assert points(6) < 50
    assert points(8) < points(12)


def test_the_boundary_version_changes_when_a_grid_changes(geography):
    before = selectors.boundary_version()
    grid = next(iter(geography.grids.values()))
    grid.name = "改名后的网格"
    grid.save()
    assert selectors.boundary_version() != before
