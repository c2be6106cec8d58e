"""The locator: a point → its grid and the grid's chain (community, street, district, city).

PostGIS is the source of truth (`grids.selectors.locate_in_postgis`); this module keeps an in-process
copy of every grid polygon in a Shapely STRtree so that one lookup costs microseconds, not a round
trip. Both follow the same rules, so they agree on every point:

- a point belongs to a grid that *covers* it (ST_Covers / `covered_by`: the boundary counts);
- a point on a shared edge or vertex is covered by several grids and goes to the one with the
  lowest code (byte order, as `ORDER BY code COLLATE "C"`).

Flags:

- ``outside``: the point is in no grid but within ``settings.OUTSIDE_TOLERANCE_M`` of one (GPS drift
  at the city edge): it is placed in the nearest grid (ties → lowest code) with ``distance_m`` set.
  Farther away, the locator returns ``None``.
- ``near_boundary``: the point lies within ``settings.NEAR_BOUNDARY_M`` of a *different street* —
  another street of the same district or any street of a neighbouring district. Streets partition
  districts, so this is "close to a jurisdiction line". The city's outer edge has no street on the
  other side and does not count (``outside`` covers that case). For a point outside the city the
  test is relative: another street is at most ``NEAR_BOUNDARY_M`` farther away than its own, i.e.
  the point is about as close to either jurisdiction (inside, its own street is 0 m away, so both
  readings agree).

Distances are metres on a transverse Mercator projection centred on the grids (scale error below
0.02 % across a city the size of Guiyang).

The index is built lazily from PostGIS and rebuilt when the grids change in any process: writers call
`invalidate()` (or `invalidate_on_commit()`), which bumps a version in Redis; every lookup compares
that version at most every ``settings.LOCATOR_CHECK_INTERVAL`` seconds. If Redis cannot be reached,
the version falls back to a fingerprint of the tables (row count and latest ``updated_at``), so a
Redis outage slows the check down but never breaks locating.

One module, though long: the index, its lattice shortcut, the boundary flags and the freshness check
answer one question together and are tested together against PostGIS (grids/tests/test_locator.py).
"""

from __future__ import annotations

import gc
import logging
import math
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from pyproj import Transformer

from grids.crs import to_wgs84, to_wgs84_array
from grids.models import Area, Grid
from grids.points import CheckedPoint

logger = logging.getLogger(__name__)

VERSION_KEY = "grids:locator:version"
LEVELS = ("city", "district", "street", "community", "grid")

# Lower bounds of metres per degree, for turning a distance in metres into a search radius in
# degrees that is never too small (a latitude degree is 110,574 m at the equator and grows poleward).
_M_PER_DEG_LAT_MIN = 110_574.0
_M_PER_DEG_LON_EQUATOR = 111_320.0
# The lookup lattice (see LocatorIndex._setup_raster): cells per grid, and a cap that bounds its
# memory (2 bytes a cell below 16,384 grids, else 4) for very large cities. On the demo city 1,024
# cells per grid answer ~84 % of points without the tree, in 10 MB.
_CELLS_PER_GRID = 1024
_MAX_CELLS = 8_000_000


@dataclass(frozen=True)
class Location:
    """Where a point is: codes of its grid and of each level above, WGS-84 coordinates and flags."""

    grid: str
    community: str
    street: str
    district: str
    city: str
    outside: bool = False
    near_boundary: bool = False
    distance_m: float = 0.0
    lon: float = 0.0
    lat: float = 0.0

    def codes(self) -> dict[str, str]:
        return {
            "city": self.city,
            "district": self.district,
            "street": self.street,
            "community": self.community,
            "grid": self.grid,
        }

    def chain(self) -> list[tuple[str, str, str]]:
        """(level, code, name) from the city down to the grid, names from the locator's cache.

        A name is "" when the code is no longer known (the grids changed since this Location was made).
        """
        names = _locator.names()
        return [(level, code, names.get(code, "")) for level, code in self.codes().items()]

    def names(self) -> dict[str, str]:
        return {level: name for level, _, name in self.chain()}


_new = object.__new__
_set = object.__setattr__


def _location(
    chain: tuple[str, str, str, str, str], outside: bool, near: bool, distance: float, lon: float, lat: float
):
    # A frozen dataclass's __init__ sets each field through object.__setattr__ (~3 µs for ten fields);
    # bulk locating builds hundreds of thousands of them, so it fills the instance dict in one go.
    obj = _new(Location)
    _set(
        obj,
        "__dict__",
        {
            "grid": chain[0],
            "community": chain[1],
            "street": chain[2],
            "district": chain[3],
            "city": chain[4],
            "outside": outside,
            "near_boundary": near,
            "distance_m": distance,
            "lon": lon,
            "lat": lat,
        },
    )
    return obj


class LocatorIndex:
    """An immutable snapshot of the grids, ready to answer point queries.

    Built from arrays so the benchmark can index a generated city without a database; the live
    locator builds it from PostGIS with `LocatorIndex.from_db()`. Read-only attributes other code
    may use: `codes` (sorted, so bisect works), `chains` ((grid, community, street, district, city)
    per code), `geoms` (WGS-84 polygons per code), `names()` (code → name for grids and areas).
    """

    def __init__(
        self,
        *,
        codes: Sequence[str],
        geoms: Sequence,
        names: dict[str, str] | None = None,
        city_of_district: dict[str, str] | None = None,
        streets: dict[str, object] | None = None,
        near_m: float | None = None,
        outside_m: float | None = None,
    ) -> None:
        started = time.perf_counter()
        self.near_m = float(settings.NEAR_BOUNDARY_M if near_m is None else near_m)
        self.outside_m = float(settings.OUTSIDE_TOLERANCE_M if outside_m is None else outside_m)
        order = sorted(range(len(codes)), key=codes.__getitem__)
        self.codes: list[str] = [codes[i] for i in order]
        self.geoms = np.array([geoms[i] for i in order], dtype=object)
        self._names: dict[str, str] = dict(names or {})
        city_of_district = city_of_district or {}
        # Codes carry the chain: district code[:6], street [:9], community [:12]; a county's city is
        # its first four digits + "00" unless the area table says otherwise.
        self.chains: list[tuple[str, str, str, str, str]] = [
            (c, c[:12], c[:9], c[:6], city_of_district.get(c[:6], c[:4] + "00")) for c in self.codes
        ]
        shapely.prepare(self.geoms)
        self.tree = shapely.STRtree(self.geoms)
        self._setup_projection()
        self._setup_near_zones(streets or {})
        self._setup_raster()
        # Plain lists for the one-point path, where indexing numpy arrays costs more than the lookup.
        self._near_state_list = self.near_state.tolist()
        self._street_of_list = self.street_of.tolist()
        self.build_seconds = time.perf_counter() - started

    # --- building ---------------------------------------------------------------------------------

    @classmethod
    def from_db(cls) -> LocatorIndex:
        """Read every grid (and the areas' names and street outlines) from PostGIS."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT code, name, ST_AsBinary(geom) FROM {Grid._meta.db_table}")
            grid_rows = cursor.fetchall()
            cursor.execute(
                f"SELECT a.code, a.name, a.level, p.code, CASE WHEN a.level = %s THEN ST_AsBinary(a.geom) END "
                f"FROM {Area._meta.db_table} a LEFT JOIN {Area._meta.db_table} p ON p.id = a.parent_id",
                [Area.Level.STREET],
            )
            area_rows = cursor.fetchall()
        names = {code: name for code, name, _ in grid_rows}
        names.update({code: name for code, name, *_ in area_rows})
        city_of_district = {
            code: parent for code, _, level, parent, _ in area_rows if level == Area.Level.DISTRICT and parent
        }
        streets = {code: shapely.from_wkb(bytes(wkb)) for code, _, level, _, wkb in area_rows if wkb is not None}
        return cls(
            codes=[code for code, _, _ in grid_rows],
            geoms=shapely.from_wkb([bytes(wkb) for _, _, wkb in grid_rows]) if grid_rows else [],
            names=names,
            city_of_district=city_of_district,
            streets=streets,
        )

    def _setup_projection(self) -> None:
        if len(self.geoms):
            minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        else:
            minx, miny, maxx, maxy = 0.0, 0.0, 0.0, 0.0
        proj = (
            f"+proj=tmerc +lat_0={(miny + maxy) / 2:.6f} +lon_0={(minx + maxx) / 2:.6f} "
            "+k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
        )
        self._to_m = Transformer.from_crs("EPSG:4326", proj, always_xy=True)
        self._from_m = Transformer.from_crs(proj, "EPSG:4326", always_xy=True)
        self.geoms_m = self._project(self.geoms)

    def _project(self, geoms, inverse: bool = False):
        transformer = self._from_m if inverse else self._to_m

        def apply(coords: np.ndarray) -> np.ndarray:
            x, y = transformer.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geoms, apply)

    def _setup_near_zones(self, street_outlines: dict[str, object]) -> None:
        """Per street, the part of it within `near_m` of another street; per grid, whether it meets it.

        `near_state[g]` is 0 (the grid is nowhere near another street), 2 (all of it is) or 1 (points
        in it need a test against `zones[street_of[g]]`). Streets with no outline in the area table
        are taken as the union of their grids.
        """
        street_codes = sorted({c[:9] for c in self.codes})
        street_index = {code: i for i, code in enumerate(street_codes)}
        self.street_of = np.array([street_index[c[:9]] for c in self.codes], dtype=np.int64)
        self.near_state = np.zeros(len(self.codes), dtype=np.int8)
        self.zones = np.full(len(street_codes), None, dtype=object)
        if not street_codes or self.near_m <= 0:
            return

        outlines_m = []
        for i, code in enumerate(street_codes):
            if code in street_outlines:
                outlines_m.append(self._project(street_outlines[code]))
            else:
                outlines_m.append(shapely.union_all(self.geoms_m[self.street_of == i]))
        outlines_m = np.array(outlines_m, dtype=object)
        boundaries_m = shapely.boundary(outlines_m)
        street_tree = shapely.STRtree(outlines_m)
        d = self.near_m
        for s, outline in enumerate(outlines_m):
            neighbours = street_tree.query(outline, predicate="dwithin", distance=d)
            neighbours = neighbours[neighbours != s]
            if not neighbours.size:
                continue
            minx, miny, maxx, maxy = outline.bounds
            # Only the neighbours' edges that can be within d of this street matter; clipping them to
            # the street's box keeps the buffers small.
            edges = shapely.clip_by_rect(boundaries_m[neighbours], minx - d, miny - d, maxx + d, maxy + d)
            zone_m = shapely.intersection(outline, shapely.buffer(shapely.union_all(edges), d, quad_segs=16))
            if zone_m.is_empty:
                continue
            members = np.flatnonzero(self.street_of == s)
            shapely.prepare(zone_m)
            touches = shapely.intersects(zone_m, self.geoms_m[members])
            inside = shapely.covers(zone_m, self.geoms_m[members])
            self.near_state[members[touches]] = 1
            self.near_state[members[inside]] = 2
            zone = self._project(zone_m, inverse=True)
            shapely.prepare(zone)
            self.zones[s] = zone

    def _setup_raster(self) -> None:
        """A lattice of cells over the grids' extent; each cell no boundary touches has one answer.

        Every grid edge and every near-zone edge is sampled at most one cell apart, and each sample
        marks the cells within half a cell (plus 1e-9°) of it, so every boundary point falls in a
        marked cell by the same floor((x − x0) / size) that places query points. Two points of an
        unmarked cell are joined by a segment that stays in the cell and crosses no boundary: they
        are covered by the same grids and lie on the same side of every near zone. The cell's answer
        is taken at its centre — `_owner` holds grid index × 2 + near flag, or -1 (marked, or in no
        grid) — and points there skip the tree. Exact, not a heuristic: the agreement tests hold
        for both paths.
        """
        self._owner = None
        n = len(self.codes)
        if not n:
            return
        minx, miny, maxx, maxy = shapely.total_bounds(self.geoms)
        size = math.sqrt(max((maxx - minx) * (maxy - miny), 1e-12) / min(_MAX_CELLS, _CELLS_PER_GRID * n))
        nx, ny = int((maxx - minx) / size) + 1, int((maxy - miny) / size) + 1
        x0, y0, inv = minx, miny, 1.0 / size

        zones = [z for z in self.zones if z is not None]
        lines = shapely.boundary(np.concatenate([self.geoms, np.array(zones, dtype=object)]))
        samples = shapely.get_coordinates(shapely.segmentize(lines, size))
        reach = size / 2 + 1e-9
        marked = np.zeros((ny, nx), dtype=bool)
        lo_i = np.floor((samples[:, 0] - reach - x0) * inv).astype(np.int64)
        hi_i = np.floor((samples[:, 0] + reach - x0) * inv).astype(np.int64)
        lo_j = np.floor((samples[:, 1] - reach - y0) * inv).astype(np.int64)
        hi_j = np.floor((samples[:, 1] + reach - y0) * inv).astype(np.int64)
        for di in range(3):
            for dj in range(3):
                i, j = lo_i + di, lo_j + dj
                keep = (i <= hi_i) & (j <= hi_j) & (i >= 0) & (i < nx) & (j >= 0) & (j < ny)
                marked[j[keep], i[keep]] = True

        owner = np.full((ny, nx), -1, dtype=np.int16 if 2 * n < 2**15 else np.int32)
        bounds = shapely.bounds(self.geoms)
        first_i = np.clip(np.floor((bounds[:, 0] - x0) * inv).astype(np.int64), 0, nx - 1)
        last_i = np.clip(np.floor((bounds[:, 2] - x0) * inv).astype(np.int64), 0, nx - 1)
        first_j = np.clip(np.floor((bounds[:, 1] - y0) * inv).astype(np.int64), 0, ny - 1)
        last_j = np.clip(np.floor((bounds[:, 3] - y0) * inv).astype(np.int64), 0, ny - 1)
        # Highest code first, so where grids overlap the lowest code is written last, as in PostGIS.
        for g in range(n - 1, -1, -1):
            i0, i1, j0, j1 = first_i[g], last_i[g] + 1, first_j[g], last_j[g] + 1
            jj, ii = np.nonzero(~marked[j0:j1, i0:i1])
            if not jj.size:
                continue
            jj += j0
            ii += i0
            xs, ys = x0 + (ii + 0.5) * size, y0 + (jj + 0.5) * size
            inside = shapely.contains_xy(self.geoms[g], xs, ys)
            if not inside.any():
                continue
            jj, ii, xs, ys = jj[inside], ii[inside], xs[inside], ys[inside]
            state = self.near_state[g]
            if state == 1:
                near = shapely.intersects_xy(self.zones[self.street_of[g]], xs, ys)
            else:
                near = np.full(len(jj), state == 2)
            owner[jj, ii] = 2 * g + near
        self._owner = owner.ravel()
        self._raster = (x0, y0, inv, nx, ny)
        self.raster_fast_share = float((owner >= 0).mean())

    # --- querying ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.codes)

    def names(self) -> dict[str, str]:
        return self._names

    def locate(self, lon: float, lat: float) -> Location | None:
        """One WGS-84 point. Non-finite coordinates are found nowhere."""
        if not (math.isfinite(lon) and math.isfinite(lat)):
            return None
        if self._owner is not None:
            x0, y0, inv, nx, ny = self._raster
            fi, fj = (lon - x0) * inv, (lat - y0) * inv
            if 0.0 <= fi < nx and 0.0 <= fj < ny:
                cell = int(self._owner[int(fj) * nx + int(fi)])
                if cell >= 0:
                    return _location(self.chains[cell >> 1], False, bool(cell & 1), 0.0, float(lon), float(lat))
        point = shapely.Point(lon, lat)
        hits = self.tree.query(point, predicate="covered_by")
        if not hits.size:
            return self.locate_many(np.array([lon]), np.array([lat]))[0]
        g = int(hits[0]) if hits.size == 1 else int(hits.min())
        state = self._near_state_list[g]
        # For a point, intersects is covers (interior or boundary), and has the cheaper prepared path.
        near = state == 2 or (state == 1 and bool(shapely.intersects(self.zones[self._street_of_list[g]], point)))
        return _location(self.chains[g], False, near, 0.0, float(lon), float(lat))

    def locate_many(self, lons: np.ndarray, lats: np.ndarray) -> list[Location | None]:
        """WGS-84 arrays of equal length → one Location or None per point, in order."""
        n = len(lons)
        hit = np.full(n, -1, dtype=np.int64)
        near = np.zeros(n, dtype=bool)
        slow = np.arange(n)
        if n and self._owner is not None:
            x0, y0, inv, nx, ny = self._raster
            with np.errstate(invalid="ignore"):
                fi, fj = (lons - x0) * inv, (lats - y0) * inv
                on = np.flatnonzero((fi >= 0) & (fi < nx) & (fj >= 0) & (fj < ny))
            cell = np.full(n, -1, dtype=np.int64)
            cell[on] = self._owner[fj[on].astype(np.int64) * nx + fi[on].astype(np.int64)]
            fast = cell >= 0
            hit[fast] = cell[fast] >> 1
            near[fast] = (cell[fast] & 1).astype(bool)
            slow = np.flatnonzero(~fast)
        if slow.size and len(self.codes):
            hit[slow], near[slow] = self._query_tree(lons[slow], lats[slow])

        chains = self.chains
        # Hundreds of thousands of new objects would trigger the cyclic GC over and over (a quarter
        # of the time); none of them can form a cycle.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            results: list[Location | None] = [
                None if g < 0 else _location(chains[g], False, nb, 0.0, x, y)
                for g, nb, x, y in zip(hit.tolist(), near.tolist(), lons.tolist(), lats.tolist(), strict=True)
            ]
        finally:
            if gc_was_enabled:
                gc.enable()
        missed = np.flatnonzero(hit < 0)
        if missed.size and len(self.codes):
            self._place_outside(missed, lons, lats, results)
        return results

    def _query_tree(self, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Grid index (-1: none) and near flag per point, through the STRtree."""
        n = len(lons)
        points = shapely.points(lons, lats)
        hit = np.full(n, -1, dtype=np.int64)
        near = np.zeros(n, dtype=bool)
        point_i, grid_i = self.tree.query(points, predicate="covered_by")
        hit[point_i] = grid_i
        # Points on shared edges are covered by several grids; the lowest code (index) wins.
        shared = np.bincount(point_i, minlength=n) > 1
        if shared.any():
            ties = shared[point_i]
            lowest = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(lowest, point_i[ties], grid_i[ties])
            hit[shared] = lowest[shared]
        found = hit >= 0
        state = np.zeros(n, dtype=np.int8)
        state[found] = self.near_state[hit[found]]
        near[state == 2] = True
        check = np.flatnonzero(state == 1)
        if check.size:
            near[check] = shapely.covers(self.zones[self.street_of[hit[check]]], points[check])
        return hit, near

    def _place_outside(self, missed: np.ndarray, lons: np.ndarray, lats: np.ndarray, results: list) -> None:
        """Points in no grid: the nearest grid within `outside_m`, with the distance; else None."""
        finite = np.isfinite(lons[missed]) & np.isfinite(lats[missed])
        missed = missed[finite & (np.abs(lats[missed]) < 89.0)]
        if not missed.size:
            return
        reach = self.outside_m + self.near_m
        m_per_deg = np.minimum(_M_PER_DEG_LAT_MIN, _M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lats[missed])))
        radius_deg = reach / m_per_deg * 1.01
        points = shapely.points(lons[missed], lats[missed])
        point_i, grid_i = self.tree.query(points, predicate="dwithin", distance=radius_deg)
        if not point_i.size:
            return
        xs, ys = self._to_m.transform(lons[missed][point_i], lats[missed][point_i])
        distances = shapely.distance(self.geoms_m[grid_i], shapely.points(xs, ys))
        # Nearest first, then lowest code, so ties resolve as they do inside the city.
        order = np.lexsort((grid_i, distances, point_i))
        point_i, grid_i, distances = point_i[order], grid_i[order], distances[order]
        starts = np.flatnonzero(np.r_[True, point_i[1:] != point_i[:-1]])
        ends = np.r_[starts[1:], len(point_i)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            g, distance = int(grid_i[start]), float(distances[start])
            if distance > self.outside_m:
                continue
            street = self.street_of[g]
            others = (self.street_of[grid_i[start:end]] != street) & (distances[start:end] <= distance + self.near_m)
            i = int(missed[point_i[start]])
            results[i] = _location(self.chains[g], True, bool(others.any()), distance, float(lons[i]), float(lats[i]))


class _Locator:
    """The process-wide index and its freshness check; safe to use from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._index: LocatorIndex | None = None
        self._version: object = None
        self._checked_at = -math.inf
        self._warned_redis = False

    def index(self) -> LocatorIndex:
        index = self._index
        if index is not None and time.monotonic() - self._checked_at < settings.LOCATOR_CHECK_INTERVAL:
            return index
        # While one thread rebuilds, the others keep answering from the previous snapshot.
        if not self._lock.acquire(blocking=index is None):
            return index
        try:
            version = self._current_version()
            if self._index is None or version != self._version:
                self._index = LocatorIndex.from_db()
                self._version = version
                logger.info("locator index built: %d grids in %.2f s", len(self._index), self._index.build_seconds)
            self._checked_at = time.monotonic()
            return self._index
        finally:
            self._lock.release()

    def names(self) -> dict[str, str]:
        # Display names may lag one check interval; they never decide where a point goes.
        return (self._index or self.index()).names()

    def forget(self) -> None:
        """Make this process rebuild on its next lookup whatever the shared version says."""
        with self._lock:
            self._version = None
            self._index = None

    def _current_version(self) -> object:
        try:
            version = cache.get(VERSION_KEY)
            if version is None:
                cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
                version = cache.get(VERSION_KEY)
            self._warned_redis = False
            return ("redis", version)
        except Exception as exc:  # any Redis failure; the database still knows whether grids changed
            if not self._warned_redis:
                logger.warning("locator: Redis unavailable (%s); checking the grid tables instead", exc)
                self._warned_redis = True
            return ("db", _table_fingerprint())


def _table_fingerprint() -> tuple:
    grids, areas = Grid._meta.db_table, Area._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM {grids}), (SELECT max(updated_at) FROM {grids}), "
            f"(SELECT count(*) FROM {areas}), (SELECT max(updated_at) FROM {areas})"
        )
        return cursor.fetchone()


_locator = _Locator()


def locate(lon: float, lat: float, crs: str = "wgs84") -> Location | None:
    """Locate one point given in `crs` ("wgs84", "gcj02" or "bd09"); None if it is in no grid.

    Raises ValueError for an unknown crs. Non-finite coordinates are found nowhere (None).
    """
    lon, lat = float(lon), float(lat)
    if math.isfinite(lon) and math.isfinite(lat):
        lon, lat = to_wgs84(lon, lat, crs)
    return _locator.index().locate(lon, lat)


def locate_point(point: CheckedPoint) -> Location | None:
    """Locate a point checked at its door, by the WGS-84 form it was given when it was made."""
    return _locator.index().locate(point.wgs84_lon, point.wgs84_lat)


def locate_many(lons, lats, crs: str = "wgs84") -> list[Location | None]:
    """Vectorised `locate`: sequences or arrays of coordinates in `crs` → results in the same order."""
    lons, lats = to_wgs84_array(lons, lats, crs)
    return _locator.index().locate_many(lons, lats)


def current_index() -> LocatorIndex:
    """The index this process uses right now (after the freshness check)."""
    return _locator.index()


def invalidate() -> None:
    """Tell every process that the grids changed; call after the change is committed.

    This process rebuilds on its next lookup even if Redis cannot be reached; other processes then
    notice through the table fingerprint.
    """
    _locator.forget()
    try:
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception as exc:
        logger.warning("locator: could not publish a new grid version to Redis (%s)", exc)


def invalidate_on_commit() -> None:
    """`invalidate()` once the current transaction commits (at once outside a transaction)."""
    transaction.on_commit(invalidate)
