"""The demo geography: real districts, and generated units that exactly partition their parents.

Areas are measured in UTM zone 48N (EPSG:32648), which covers Guiyang. Checks run in PostGIS with
self-joins over the GiST index (``a.geom && b.geom``), as a user of the database would see the data.
"""

import io
import re

import pytest
import shapely
from django.db import connection

from grids import demo
from grids.models import Area, Grid

GRIDS = 600
SEED = 2026
TOLERANCE = 1e-4  # 0.01 % of the parent's area

DISTRICTS = {
    "520102": "南明区",
    "520103": "云岩区",
    "520111": "花溪区",
    "520112": "乌当区",
    "520113": "白云区",
    "520115": "观山湖区",
    "520121": "开阳县",
    "520122": "息烽县",
    "520123": "修文县",
    "520181": "清镇市",
}

pytestmark = pytest.mark.django_db


def _clear() -> None:
    Grid.objects.all().delete()
    for level in ("community", "street", "district", "city"):
        Area.objects.filter(level=level).delete()


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The demo loaded once for the module (committed), and removed afterwards."""
    with django_db_blocker.unblock():
        _clear()
        out = io.StringIO()
        geography = demo.load(grids=GRIDS, seed=SEED, stdout=out)
        yield geography, out.getvalue()
        _clear()


def rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def test_the_city_and_its_ten_real_districts_are_loaded(loaded):
    city = Area.objects.get(level="city")
    assert (city.code, city.name, city.parent) == ("520100", "贵阳市", None)
    districts = {a.code: a for a in Area.objects.filter(level="district")}
    assert {code: a.name for code, a in districts.items()} == DISTRICTS
    assert all(a.parent_id == city.id for a in districts.values())
    # The published total is 8,050 km²; the GCJ-02 → WGS-84 shift must not change the size.
    (km2,) = rows("SELECT ST_Area(ST_Transform(geom, 32648)) / 1e6 FROM grids_area WHERE code = '520100'")[0]
    assert km2 == pytest.approx(8050, rel=0.002)


def test_the_loader_reports_progress_for_each_district(loaded):
    _, output = loaded
    for name in DISTRICTS.values():
        assert re.search(rf"{name} \d{{6}}：\d+ 个街道/乡镇，\d+ 个社区/村，\d+ 个网格", output)
    assert "600/600（100%）" in output


@pytest.mark.parametrize(
    ("parent_level", "children_sql"),
    [
        ("city", "SELECT parent_id, geom FROM grids_area WHERE level = 'district'"),
        ("district", "SELECT parent_id, geom FROM grids_area WHERE level = 'street'"),
        ("street", "SELECT parent_id, geom FROM grids_area WHERE level = 'community'"),
        ("community", "SELECT community_id AS parent_id, geom FROM grids_grid"),
    ],
)
def test_children_cover_their_parent_exactly(loaded, parent_level, children_sql):
    found = rows(
        f"""
        SELECT p.code,
               ST_Area(ST_Transform(ST_SymDifference(p.geom, u.geom), 32648)) / ST_Area(ST_Transform(p.geom, 32648))
        FROM (SELECT parent_id, ST_Union(geom) AS geom FROM ({children_sql}) c GROUP BY parent_id) u
        JOIN grids_area p ON p.id = u.parent_id
        WHERE p.level = %s
        """,
        [parent_level],
    )
    expected = Area.objects.filter(level=parent_level).count()
    assert len(found) == expected, "every parent has children"
    worst = max(found, key=lambda row: row[1])
    assert worst[1] < TOLERANCE, f"{worst[0]}: children differ from it by {worst[1]:.2e} of its area"


@pytest.mark.parametrize(
    ("table", "level"),
    [("grids_grid", None), ("grids_area", "community"), ("grids_area", "street"), ("grids_area", "district")],
)
def test_no_two_units_of_a_level_overlap(loaded, table, level):
    where = "a.level = %s AND b.level = %s AND" if level else ""
    (pairs, worst, total), *_ = rows(
        f"""
        SELECT count(*),
               coalesce(max(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 32648))
                            / least(ST_Area(ST_Transform(a.geom, 32648)), ST_Area(ST_Transform(b.geom, 32648)))), 0),
               coalesce(sum(ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), 32648))), 0)
        FROM {table} a JOIN {table} b ON a.id < b.id AND a.geom && b.geom
        WHERE {where} ST_Intersects(a.geom, b.geom)
        """,
        [level, level] if level else [],
    )
    assert pairs > 0, "neighbours touch"
    # Neighbours share edges; what is left is rounding along long straight edges (square metres at most).
    assert worst < 1e-5
    assert total < 100


def test_every_generated_unit_is_one_valid_polygon(loaded):
    bad = rows(
        """
        SELECT code FROM grids_area WHERE level IN ('street', 'community')
            AND (NOT ST_IsValid(geom) OR ST_NumGeometries(geom) <> 1 OR ST_Area(geom) = 0)
        UNION ALL
        SELECT code FROM grids_grid WHERE NOT ST_IsValid(geom) OR ST_NumGeometries(geom) <> 1 OR ST_Area(geom) = 0
        """
    )
    assert bad == []


def test_codes_follow_the_national_pattern_and_carry_the_chain(loaded):
    streets = list(Area.objects.filter(level="street").select_related("parent"))
    communities = list(Area.objects.filter(level="community").select_related("parent"))
    grids = list(Grid.objects.select_related("community"))
    assert len(grids) == GRIDS
    for street in streets:
        assert re.fullmatch(r"\d{9}", street.code)
        assert street.code[:6] == street.parent.code
        number = int(street.code[6:])
        kind = street.name[-2:] if street.name.endswith("街道") else street.name[-1]
        assert kind in ("街道", "镇", "乡")
        assert {"街道": 1 <= number <= 99, "镇": 100 <= number <= 199, "乡": 200 <= number <= 399}[kind], street
    for community in communities:
        assert re.fullmatch(r"\d{12}", community.code)
        assert community.code[:9] == community.parent.code
        number = int(community.code[9:])
        assert (
            community.name[-2:] == "社区" and 1 <= number <= 199 or community.name[-1] == "村" and 200 <= number <= 399
        )
    for grid in grids:
        assert re.fullmatch(r"\d{15}", grid.code)
        assert grid.code[:12] == grid.community.code
        assert grid.name == f"{grid.community.name}第{int(grid.code[12:])}网格"
    assert any(s.name.endswith("镇") for s in streets) and any(c.name.endswith("村") for c in communities)


def test_urban_districts_have_denser_grids_than_the_counties(loaded):
    density = dict(
        rows(
            """
            SELECT d.code, count(g.id) / (ST_Area(ST_Transform(d.geom, 32648)) / 1e6)
            FROM grids_area d JOIN grids_grid g ON substr(g.code, 1, 6) = d.code
            WHERE d.level = 'district' GROUP BY d.id
            """
        )
    )
    urban = [density[c] for c in ("520102", "520103", "520113", "520115")]
    counties = [density[c] for c in ("520121", "520122", "520123", "520181")]
    assert min(urban) > 3 * max(counties)


def test_the_database_holds_exactly_the_generated_shapes(loaded):
    geography, _ = loaded
    stored = dict(rows("SELECT code, ST_AsBinary(geom) FROM grids_grid"))
    assert len(stored) == len(geography.grids)
    for grid in geography.grids:
        assert shapely.from_wkb(bytes(stored[grid.code])).equals_exact(grid.geom, tolerance=0)


def test_loading_again_with_the_same_arguments_changes_nothing(loaded, django_db_blocker):
    before = rows(
        "SELECT count(*), max(updated_at) FROM grids_grid UNION ALL SELECT count(*), max(updated_at) FROM grids_area"
    )
    out = io.StringIO()
    with django_db_blocker.unblock():
        demo.load(grids=GRIDS, seed=SEED, stdout=out)
    assert "新建 0，更新 0" in out.getvalue()
    after = rows(
        "SELECT count(*), max(updated_at) FROM grids_grid UNION ALL SELECT count(*), max(updated_at) FROM grids_area"
    )
    assert after == before


def test_the_same_seed_generates_the_same_geography_and_another_seed_does_not():
    def fingerprint(geography):
        return [(r.code, r.name, shapely.to_wkb(r.geom)) for r in [*geography.areas, *geography.grids]]

    first = fingerprint(demo.generate(grids=200, seed=7))
    assert fingerprint(demo.generate(grids=200, seed=7)) == first
    assert fingerprint(demo.generate(grids=200, seed=8)) != first


def test_the_generator_gives_about_the_requested_number_of_grids_and_partitions_without_a_database():
    geography = demo.generate(grids=300, seed=11)
    assert len(geography.grids) == 300
    by_community: dict[str, list] = {}
    for grid in geography.grids:
        by_community.setdefault(grid.community_code, []).append(grid.geom)
    for community in geography.communities:
        union = shapely.union_all(by_community[community.code])
        assert shapely.symmetric_difference(union, community.geom).area < 1e-9 * community.geom.area


def test_too_few_grids_for_ten_districts_is_refused():
    with pytest.raises(ValueError, match="at least 30 grids"):
        demo.generate(grids=5, seed=1)


def test_loading_with_other_settings_replaces_the_old_partition(loaded, django_db_blocker):
    with django_db_blocker.unblock():
        demo.load(grids=400, seed=99, stdout=io.StringIO())
        try:
            assert Grid.objects.count() == 400
            (overlapping,) = rows(
                """
                SELECT count(*) FROM grids_grid a JOIN grids_grid b ON a.id < b.id AND a.geom && b.geom
                WHERE ST_Area(ST_Intersection(a.geom, b.geom)) > 1e-12
                """
            )[0]
            assert overlapping == 0
        finally:
            demo.load(grids=GRIDS, seed=SEED, stdout=io.StringIO())
