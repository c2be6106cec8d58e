"""Tiles over the generated Guiyang demo (grids.demo), not only the rectangles of conftest.py."""

import io

import pytest
from django.db import connection

import grids.demo
from grids.models import Area, Grid
from maps import selectors
from maps.tests.tiles import codes, decode, feature_at, tile_of

pytestmark = pytest.mark.django_db

DISTRICTS = {"520102", "520103", "520111", "520112", "520113", "520115", "520121", "520122", "520123", "520181"}


@pytest.fixture
def demo(db):
    grids.demo.load(grids=300, seed=2026, stdout=io.StringIO())


def inside(model, code: str) -> tuple[float, float]:
    """A point surely inside the area or grid (not on its edge)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM {model._meta.db_table}"
            " WHERE code = %s) s",
            [code],
        )
        return cursor.fetchone()


def test_the_city_view_shows_all_ten_districts(demo):
    # Guiyang (about 1.5° across) fits in the 3 x 3 zoom-8 tiles around its centre.
    seen = set()
    x, y, _, _ = tile_of(106.63, 26.65, 8)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            seen |= codes(decode(selectors.boundary_tile(selectors.BUNDLE, 8, x + dx, y + dy)), "districts")
    assert seen == DISTRICTS


def test_each_level_names_the_demo_area_under_a_point(demo):
    grid = Grid.objects.order_by("code")[Grid.objects.count() // 2]
    lon, lat = inside(Grid, grid.code)
    x, y, fx, fy = tile_of(lon, lat, 15)
    tile = decode(selectors.boundary_tile(selectors.BUNDLE, 15, x, y))
    expected = {
        "grids": grid,
        "communities": Area.objects.get(code=grid.code[:12]),
        "streets": Area.objects.get(code=grid.code[:9]),
        "districts": Area.objects.get(code=grid.code[:6]),
    }
    for layer, area in expected.items():
        feature = feature_at(tile, layer, fx, fy)
        assert feature is not None, layer
        assert feature["properties"] == {"code": area.code, "name": area.name}
