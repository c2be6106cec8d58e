"""The demo's unit plan on geographies of other sizes (each test builds its own)."""

import pytest

from partners import demo
from partners.tests.factories import build_geography

pytestmark = pytest.mark.django_db


def test_the_unit_plan_is_510_for_geographies_of_other_sizes(db):
    build_geography(streets=8, communities=2)
    geo = demo.read_geography()
    rows = demo.plan_units(geo)
    assert len(rows) == 510
    codes = {row["code"] for row in rows}
    for street in geo.all_streets:
        assert {f"{street.code}-jiedao", f"{street.code}-zhifa"} <= codes


def test_even_the_smallest_full_city_gets_510_units_with_every_street_covered(db):
    build_geography(streets=1, communities=1)
    geo = demo.read_geography()
    rows = demo.plan_units(geo)
    assert len(rows) == 510
    assert len({(row["area"].code, row["department"]) for row in rows}) == 510
    for street in geo.all_streets:
        assert {f"{street.code}-jiedao", f"{street.code}-zhifa"} <= {row["code"] for row in rows}


def test_a_geography_too_small_for_510_units_is_refused_with_a_reason(db):
    build_geography(districts=1, streets=1, communities=1)
    with pytest.raises(demo.DemoGeographyError, match="少于 510"):
        demo.plan_units(demo.read_geography())


def test_a_geography_with_too_many_streets_is_refused_with_a_reason(db):
    build_geography(districts=10, streets=26, communities=1)
    with pytest.raises(demo.DemoGeographyError, match="超过 510"):
        demo.plan_units(demo.read_geography())


def test_a_missing_geography_is_refused_with_a_reason(db):
    with pytest.raises(demo.DemoGeographyError, match="地理数据"):
        demo.load(seed=2026)
