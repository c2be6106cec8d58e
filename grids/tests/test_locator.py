"""The locator: where a point is, how it agrees with PostGIS, and how it notices changes."""

import io
import math
import threading

import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.core.cache import cache
from django.db import connection

from grids import demo, locator
from grids.crs import distance_m, from_wgs84, from_wgs84_array
from grids.models import Area, Grid
from grids.selectors import locate_in_postgis, locate_many_in_postgis

# The synthetic city: a lattice of CELL° squares starting at (LON0, LAT0), NX × NY cells.
LON0, LAT0, CELL = 106.60, 26.50, 0.01
NX = NY = 8
M_PER_DEG_LAT = 110_800.0  # at 26.5°N, for test expectations only (±0.1 %)


def _multi(geom: shapely.Geometry) -> GEOSGeometry:
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    return GEOSGeometry(geom.wkb_hex, srid=4326)


def build_city(*, nx: int = NX, ny: int = NY, jitter: float = 0.0, seed: int = 7) -> dict[str, shapely.Geometry]:
    """Write a city that the grids partition exactly, and return its grids' polygons by code.

    Cells are quads on a lattice whose inner vertices move by up to `jitter` cells, so shared edges run
    at odd angles. Columns split the city into two districts (520102 | 520103); rows split each
    district into two streets (…001 south | …002 north); columns split each street into two
    communities; each cell is a grid.
    """
    rng = np.random.default_rng(seed)
    xs = LON0 + CELL * np.arange(nx + 1)[:, None] + np.zeros((nx + 1, ny + 1))
    ys = LAT0 + CELL * np.arange(ny + 1)[None, :] + np.zeros((nx + 1, ny + 1))
    if jitter:
        inner = (slice(1, nx), slice(1, ny))
        xs[inner] += rng.uniform(-jitter, jitter, (nx - 1, ny - 1)) * CELL
        ys[inner] += rng.uniform(-jitter, jitter, (nx - 1, ny - 1)) * CELL

    cells: dict[str, shapely.Geometry] = {}
    grid_no: dict[str, int] = {}
    for i in range(nx):
        for j in range(ny):
            district = "520102" if i < nx // 2 else "520103"
            street = district + ("001" if j < ny // 2 else "002")
            community = street + ("001" if (i % (nx // 2)) < nx // 4 else "002")
            grid_no[community] = grid_no.get(community, 0) + 1
            ring = [
                (xs[i, j], ys[i, j]),
                (xs[i + 1, j], ys[i + 1, j]),
                (xs[i + 1, j + 1], ys[i + 1, j + 1]),
                (xs[i, j + 1], ys[i, j + 1]),
            ]
            cells[f"{community}{grid_no[community]:03d}"] = shapely.Polygon(ring)

    def union(prefix: str) -> shapely.Geometry:
        return shapely.union_all([g for code, g in cells.items() if code.startswith(prefix)])

    city = Area.objects.create(code="520100", name="贵阳市", level="city", geom=_multi(union("")))
    parents = {"520100": city}
    names = {"520102": "南明区", "520103": "云岩区"}
    for level, length in (("district", 6), ("street", 9), ("community", 12)):
        for code in sorted({c[:length] for c in cells}):
            parent = parents[code[: {6: 0, 9: 6, 12: 9}[length]] or "520100"]
            name = names.get(code, f"{level}-{code}")
            parents[code] = Area.objects.create(
                code=code, name=name, level=level, parent=parent, geom=_multi(union(code))
            )
    Grid.objects.bulk_create(
        Grid(code=code, name=f"网格{code[-3:]}", community=parents[code[:12]], geom=_multi(geom))
        for code, geom in cells.items()
    )
    locator.invalidate()
    return cells


@pytest.fixture(autouse=True)
def _fresh_locator(settings):
    settings.LOCATOR_CHECK_INTERVAL = 0
    settings.NEAR_BOUNDARY_M = 30.0
    settings.OUTSIDE_TOLERANCE_M = 500.0
    locator.invalidate()
    yield
    locator.invalidate()


@pytest.fixture
def city(db):
    return build_city()


def cell_centre(i: int, j: int) -> tuple[float, float]:
    return LON0 + (i + 0.5) * CELL, LAT0 + (j + 0.5) * CELL


# --- where a point is -----------------------------------------------------------------------------


def test_a_point_inside_a_grid_gets_the_grid_and_its_whole_chain(city):
    lon, lat = cell_centre(0, 0)
    found = locator.locate(lon, lat)
    assert found.grid == "520102001001001"
    assert (found.community, found.street, found.district, found.city) == (
        "520102001001",
        "520102001",
        "520102",
        "520100",
    )
    assert (found.outside, found.near_boundary, found.distance_m) == (False, False, 0.0)
    assert (found.lon, found.lat) == (lon, lat)


def test_the_chain_carries_the_names_of_every_level(city):
    found = locator.locate(*cell_centre(5, 6))
    assert found.names() == {
        "city": "贵阳市",
        "district": "云岩区",
        "street": "street-520103002",
        "community": "community-520103002001",
        "grid": "网格" + found.grid[-3:],
    }


def test_a_point_far_from_every_grid_is_found_nowhere(city):
    assert locator.locate(LON0 - 0.1, LAT0) is None
    assert locator.locate(0.0, 0.0) is None
    assert locator.locate_many([LON0 - 0.1, 0.0], [LAT0, 0.0]) == [None, None]


def test_non_finite_coordinates_are_found_nowhere(city):
    assert locator.locate(math.nan, LAT0) is None
    assert locator.locate_many([math.inf, LON0 + 0.005], [LAT0, math.nan]) == [None, None]


def test_a_point_just_outside_the_city_goes_to_the_nearest_grid_flagged_outside(city):
    # 0.002° of latitude south of the city's southern edge, under the first column: ~222 m away.
    lat = LAT0 - 0.002
    found = locator.locate(LON0 + 0.5 * CELL, lat)
    assert found.grid == "520102001001001"
    assert found.outside is True
    assert found.distance_m == pytest.approx(0.002 * M_PER_DEG_LAT, rel=0.01)
    assert found.lat == lat


def test_a_point_beyond_the_outside_tolerance_is_found_nowhere(city, settings):
    lon, lat = LON0 + 0.5 * CELL, LAT0 - 0.006  # ~665 m south
    assert locator.locate(lon, lat) is None
    settings.OUTSIDE_TOLERANCE_M = 1000.0
    locator.invalidate()
    assert locator.locate(lon, lat).distance_m == pytest.approx(0.006 * M_PER_DEG_LAT, rel=0.01)


def test_an_outside_point_takes_the_grid_nearest_in_metres(city):
    # South-west of the city's corner: 300 m west and 100 m south. In degrees the west offset looks
    # smaller (a degree of longitude is shorter); in metres the corner grid is the only candidate.
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(LAT0))
    lon, lat = LON0 - 300 / m_per_deg_lon, LAT0 - 100 / M_PER_DEG_LAT
    found = locator.locate(lon, lat)
    assert found.grid == "520102001001001"
    assert found.distance_m == pytest.approx(math.hypot(300, 100), rel=0.01)


def test_a_point_near_a_street_line_is_flagged_near_boundary(city):
    # Rows 3 | 4 split each district into its two streets, at LAT0 + 4 cells.
    line = LAT0 + 4 * CELL
    lon = LON0 + 1.5 * CELL
    assert locator.locate(lon, line - 20 / M_PER_DEG_LAT).near_boundary is True
    assert locator.locate(lon, line + 20 / M_PER_DEG_LAT).near_boundary is True
    assert locator.locate(lon, line - 40 / M_PER_DEG_LAT).near_boundary is False


def test_a_point_near_the_district_line_is_flagged_near_boundary(city):
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(LAT0 + 0.015))
    line = LON0 + 4 * CELL
    lat = LAT0 + 1.5 * CELL
    near = locator.locate(line + 25 / m_per_deg_lon, lat)
    far = locator.locate(line + 35 / m_per_deg_lon, lat)
    assert (near.district, near.near_boundary) == ("520103", True)
    assert (far.district, far.near_boundary) == ("520103", False)


def test_a_line_between_grids_or_communities_of_one_street_is_not_a_jurisdiction_boundary(city):
    # Between cells (0,0) and (1,0): two grids of one community; between (1,0) and (2,0): two communities.
    for i in (1, 2):
        found = locator.locate(LON0 + i * CELL + 1e-6, LAT0 + 0.5 * CELL)
        assert found.near_boundary is False


def test_the_outer_edge_of_the_city_is_not_a_boundary_between_jurisdictions(city):
    found = locator.locate(LON0 + 0.5 * CELL, LAT0 + 5 / M_PER_DEG_LAT)
    assert (found.outside, found.near_boundary) == (False, False)


def test_an_outside_point_about_as_close_to_two_streets_is_flagged_near_boundary(city):
    # 100 m west of the city, 10 m north of the line between two streets: 100 m from one, ~100.5 m
    # from the other — either could be responsible.
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(LAT0 + 4 * CELL))
    found = locator.locate(LON0 - 100 / m_per_deg_lon, LAT0 + 4 * CELL + 10 / M_PER_DEG_LAT)
    assert (found.street, found.outside, found.near_boundary) == ("520102002", True, True)
    clear = locator.locate(LON0 - 100 / m_per_deg_lon, LAT0 + 4 * CELL + 150 / M_PER_DEG_LAT)
    assert (clear.street, clear.outside, clear.near_boundary) == ("520102002", True, False)


def test_locate_many_answers_like_locate_in_the_same_order(city):
    rng = np.random.default_rng(3)
    lons = rng.uniform(LON0 - 0.01, LON0 + (NX + 1) * CELL, 500)
    lats = rng.uniform(LAT0 - 0.01, LAT0 + (NY + 1) * CELL, 500)
    assert locator.locate_many(lons, lats) == [locator.locate(x, y) for x, y in zip(lons, lats, strict=True)]


def test_locate_many_of_nothing_is_an_empty_list(city):
    assert locator.locate_many([], []) == []


# --- agreement with PostGIS -----------------------------------------------------------------------


def vertices_and_midpoints(codes) -> tuple[np.ndarray, np.ndarray]:
    """Every stored vertex of the grids, as PostGIS holds them, then the midpoint of every edge.

    Returns (lons, lats) of shape (2, n): row 0 the vertices, row 1 the midpoints of the edges that
    start at them (a midpoint is rounded, so it may sit a hair off its edge, on either side).
    """
    rows = Grid.objects.filter(code__in=list(codes)).values_list("geom", flat=True)
    vertices, midpoints = [], []
    for geom in rows:
        coords = shapely.get_coordinates(shapely.from_wkb(bytes(geom.wkb)))
        vertices.append(coords[:-1])
        midpoints.append((coords[:-1] + coords[1:]) / 2)
    vertices, midpoints = np.concatenate(vertices), np.concatenate(midpoints)
    return np.stack([vertices[:, 0], midpoints[:, 0]]), np.stack([vertices[:, 1], midpoints[:, 1]])


# Nudges off the edges, from a rounding error to a few centimetres: the lattice shortcut
# (LocatorIndex._setup_raster) must send a point a hair from an edge to the tree, never guess.
NUDGES = [(d * sx, d * sy) for d in (1e-12, 1e-9, 3e-7) for sx, sy in ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1))]


def assert_agreement(random_lons, random_lats, edge_lons, edge_lats) -> list:
    """Locator (bulk and one by one) and PostGIS give the same grid for every point.

    Returns PostGIS's answers for the random points, then the vertices, then the midpoints.
    """
    step = max(1, edge_lons.shape[1] // 3_000)  # keeps the PostGIS side of the demo-city test short
    nudged_lons = np.concatenate([edge_lons[0, ::step] + dx for dx, _ in NUDGES])
    nudged_lats = np.concatenate([edge_lats[0, ::step] + dy for _, dy in NUDGES])
    lons = np.concatenate([random_lons, edge_lons.ravel(), nudged_lons])
    lats = np.concatenate([random_lats, edge_lats.ravel(), nudged_lats])
    expected = locate_many_in_postgis(lons, lats)
    found = [loc.grid if loc and not loc.outside else None for loc in locator.locate_many(lons, lats)]
    disagreements = [(x, y, e, f) for x, y, e, f in zip(lons, lats, expected, found, strict=True) if e != f]
    assert disagreements == []
    one_by_one = [locator.locate(x, y) for x, y in zip(lons[::13], lats[::13], strict=True)]
    assert [loc.grid if loc and not loc.outside else None for loc in one_by_one] == expected[::13]
    return expected


def test_the_locator_agrees_with_postgis_everywhere_including_shared_edges_and_vertices(db):
    polygons = build_city(nx=16, ny=16, jitter=0.35, seed=11)
    edge_lons, edge_lats = vertices_and_midpoints(polygons)
    rng = np.random.default_rng(5)
    count = 10_000
    lons = rng.uniform(LON0 - 0.003, LON0 + 16 * CELL + 0.003, count)
    lats = rng.uniform(LAT0 - 0.003, LAT0 + 16 * CELL + 0.003, count)
    expected = assert_agreement(lons, lats, edge_lons, edge_lats)
    vertices = expected[count : count + edge_lons.shape[1]]
    assert len(vertices) == 4 * 256
    assert None not in vertices


def test_the_locator_agrees_with_postgis_on_the_demo_city_including_every_stored_vertex(db):
    demo.load(grids=600, seed=2026, stdout=io.StringIO())
    locator.invalidate()
    edge_lons, edge_lats = vertices_and_midpoints(Grid.objects.values_list("code", flat=True))
    minx, miny, maxx, maxy = shapely.total_bounds(locator.current_index().geoms)
    rng = np.random.default_rng(2026)
    count = 10_000
    expected = assert_agreement(rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count), edge_lons, edge_lats)
    assert sum(e is not None for e in expected[:count]) > count / 3
    vertices = expected[count : count + edge_lons.shape[1]]
    assert len(vertices) > 10_000
    assert None not in vertices


def test_most_points_skip_the_tree_and_get_the_same_answer_as_through_it(db):
    build_city(nx=16, ny=16, jitter=0.35, seed=11)
    index = locator.current_index()
    rng = np.random.default_rng(8)
    lons = rng.uniform(LON0, LON0 + 16 * CELL, 20_000)
    lats = rng.uniform(LAT0, LAT0 + 16 * CELL, 20_000)
    x0, y0, inv, nx, _ = index._raster
    cells = index._owner[((lats - y0) * inv).astype(int) * nx + ((lons - x0) * inv).astype(int)]
    assert (cells >= 0).mean() > 0.7

    grids, near = index._query_tree(lons, lats)
    found = index.locate_many(lons, lats)
    assert [loc.grid if loc else None for loc in found] == [index.codes[g] if g >= 0 else None for g in grids]
    assert [loc.near_boundary if loc else False for loc in found] == near.tolist()


def test_single_point_locate_agrees_with_the_single_point_postgis_query_on_vertices(db):
    polygons = build_city(nx=6, ny=6, jitter=0.3, seed=2)
    lons, lats = vertices_and_midpoints(polygons)
    for lon, lat in zip(lons.ravel(), lats.ravel(), strict=True):
        assert locator.locate(lon, lat).grid == locate_in_postgis(lon, lat)


def test_a_shared_vertex_goes_to_the_lowest_code_of_the_grids_meeting_there(city):
    lon, lat = LON0 + 4 * CELL, LAT0 + 4 * CELL  # four streets of two districts meet here
    # Cells (3,3), (3,4), (4,3), (4,4): 520102001002008, 520102002002004, 520103001001004, 520103002001001.
    assert locator.locate(lon, lat).grid == "520102001002008"
    assert locate_in_postgis(lon, lat) == "520102001002008"


# --- coordinate systems ---------------------------------------------------------------------------


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_a_point_given_in_a_chinese_datum_is_located_like_its_wgs84_equivalent(city, crs):
    wgs = [cell_centre(i, j) for i in range(NX) for j in range(NY)]
    converted = [from_wgs84(lon, lat, crs) for lon, lat in wgs]
    for (lon, lat), (clon, clat) in zip(wgs, converted, strict=True):
        found = locator.locate(clon, clat, crs=crs)
        assert found.grid == locator.locate(lon, lat).grid
        # BD-09 → GCJ-02 is itself an approximation, good to a few centimetres.
        assert distance_m(found.lon, found.lat, lon, lat) < 0.2
    clons, clats = from_wgs84_array([p[0] for p in wgs], [p[1] for p in wgs], crs)
    assert [loc.grid for loc in locator.locate_many(clons, clats, crs=crs)] == [locator.locate(*p).grid for p in wgs]


def test_the_gcj02_offset_matters_here(city):
    # Several hundred metres in Guiyang (east and south): near a grid's east edge, a GCJ-02 point
    # read as WGS-84 lands in the next grid.
    lon, lat = LON0 + 3 * CELL - 0.001, LAT0 + 2.5 * CELL
    glon, glat = from_wgs84(lon, lat, "gcj02")
    assert distance_m(lon, lat, glon, glat) > 300
    assert locator.locate(glon, glat, crs="gcj02").grid != locator.locate(glon, glat).grid


def test_an_unknown_coordinate_system_is_refused(city):
    with pytest.raises(ValueError, match="unknown coordinate system"):
        locator.locate(106.7, 26.5, crs="mercator")
    with pytest.raises(ValueError, match="unknown coordinate system"):
        locator.locate_many([106.7], [26.5], crs="utm")


# --- keeping up with changes ----------------------------------------------------------------------


def test_after_a_grid_changes_and_invalidate_the_locator_sees_the_new_grid(city):
    lon, lat = cell_centre(0, 0)
    assert locator.locate(lon, lat).grid == "520102001001001"
    grid = Grid.objects.get(code="520102001001001")
    grid.code = "520102001001099"
    grid.save()
    locator.invalidate()
    assert locator.locate(lon, lat).grid == "520102001001099"


def test_a_change_published_by_another_process_is_picked_up(city, settings):
    lon, lat = cell_centre(0, 0)
    locator.locate(lon, lat)
    Grid.objects.filter(code="520102001001001").delete()
    # Another process bumps the shared version; this process still holds its index.
    cache.set(locator.VERSION_KEY, "changed-elsewhere", timeout=None)
    found = locator.locate(lon, lat)
    assert found.grid != "520102001001001"
    assert found.outside is True


def test_the_index_is_reused_until_the_check_interval_has_passed(city, settings):
    settings.LOCATOR_CHECK_INTERVAL = 3600
    lon, lat = cell_centre(0, 0)
    first = locator.current_index()
    Grid.objects.filter(code="520102001001001").delete()
    cache.set(locator.VERSION_KEY, "changed-elsewhere", timeout=None)
    assert locator.current_index() is first
    assert locator.locate(lon, lat).grid == "520102001001001"


def test_without_redis_the_locator_falls_back_to_the_tables_and_still_sees_changes(city, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    lon, lat = cell_centre(0, 0)
    assert locator.locate(lon, lat).grid == "520102001001001"
    Grid.objects.filter(code="520102001001001").delete()
    # No invalidate(): a writer that cannot reach Redis is noticed through the table fingerprint.
    assert locator.locate(lon, lat).outside is True


@pytest.mark.django_db(transaction=True)
def test_threads_keep_getting_right_answers_while_the_index_is_rebuilt():
    build_city()
    points = [cell_centre(i, j) for i in range(NX) for j in range(NY)]
    expected = [locator.locate(*p).grid for p in points]
    failures: list = []

    def worker():
        try:
            for _ in range(20):
                found = [locator.locate(*p) for p in points]
                if [loc.grid for loc in found] != expected:
                    failures.append("wrong answer")
        except Exception as exc:  # any error in a thread is a failure of the test
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for _ in range(5):
        locator.invalidate()
        locator.locate(*points[0])
    for thread in threads:
        thread.join()
    assert failures == []
