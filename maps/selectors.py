"""Reads for the map: Mapbox vector tiles built in PostGIS, and the version of the boundaries.

A tile is one SQL statement: the tile's envelope (ST_TileEnvelope, web mercator) is turned back into
WGS-84 so the GiST index on the stored `geom` picks the rows; each row is clipped to the envelope
before it is projected (mercator is separable in lon and lat, so the clip is exact and we never
project a whole district to draw one corner of it), simplified to the tile's resolution and encoded
with ST_AsMVTGeom / ST_AsMVT.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import Case as DbCase
from django.db.models import Count, Exists, F, Max, OuterRef, Value, When
from django.utils.translation import pgettext_lazy

from grids.models import Area, Grid

# Tile coordinates: integer units across one tile, and how far (in those units) geometry may spill
# over the edge so that line joins and labels at the seams render without gaps.
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
# Half the earth's circumference in web mercator metres.
MERCATOR_HALF = 20037508.342789244


@dataclass(frozen=True)
class Layer:
    name: str
    label: str
    minzoom: int
    public: bool = True


BOUNDARY_LAYERS: dict[str, Layer] = {
    layer.name: layer
    for layer in (
        # A context of their own: dispatch translates the same words as lower-case area levels.
        Layer("districts", pgettext_lazy("map layer", "区/县"), 0),
        Layer("streets", pgettext_lazy("map layer", "街道/乡镇"), 10),
        Layer("communities", pgettext_lazy("map layer", "社区/村"), 12),
        Layer("grids", pgettext_lazy("map layer", "网格"), 13),
    )
}
# The bundle carries every boundary layer visible at the zoom in one response, so the map needs one
# request per tile instead of four.
BUNDLE = "boundaries"
CASES = Layer("cases", pgettext_lazy("map layer", "工单"), 10, public=False)
LAYERS: dict[str, Layer] = {**BOUNDARY_LAYERS, CASES.name: CASES}
TILE_NAMES = (*LAYERS, BUNDLE)

_AREA_LEVEL = {"districts": Area.Level.DISTRICT, "streets": Area.Level.STREET, "communities": Area.Level.COMMUNITY}


def tolerance(z: int) -> float:
    """Simplification tolerance in mercator metres: one tile unit, finer than anything drawn."""
    return 2 * MERCATOR_HALF / (EXTENT * 2**z)


def layers_at(z: int) -> list[Layer]:
    return [layer for layer in BOUNDARY_LAYERS.values() if z >= layer.minzoom]


def _boundary_source(layer: str) -> tuple[str, list]:
    """FROM clause (aliased `src`, columns code, name, geom in 4326) and its parameters."""
    if layer == "grids":
        return f"{Grid._meta.db_table} src", []
    return f"(SELECT code, name, geom FROM {Area._meta.db_table} WHERE level = %s) src", [_AREA_LEVEL[layer]]


def _layer_sql(layer: str, source: str, source_params: list, columns: str) -> tuple[str, list]:
    """One layer of one tile as a bytea; `columns` are the properties (prefixed `src.`)."""
    sql = f"""
        SELECT COALESCE(ST_AsMVT(t, %s, {EXTENT}, 'geom'), ''::bytea) FROM (
            SELECT {columns},
                   ST_AsMVTGeom(
                       ST_Simplify(ST_Transform(ST_ClipByBox2D(src.geom, b.env4326), 3857), b.tolerance, true),
                       b.env, {EXTENT}, {BUFFER}, true
                   ) AS geom
            FROM {source}, bounds b
            WHERE src.geom && b.env4326
        ) t WHERE t.geom IS NOT NULL
    """
    return sql, [layer, *source_params]


def _bounds_cte(z: int, x: int, y: int) -> tuple[str, list]:
    sql = """
        WITH bounds AS (
            SELECT ST_TileEnvelope(%s, %s, %s) AS env,
                   ST_Transform(ST_TileEnvelope(%s, %s, %s, margin => %s), 4326) AS env4326,
                   %s::float8 AS tolerance
        )
    """
    return sql, [z, x, y, z, x, y, BUFFER / EXTENT, tolerance(z)]


def boundary_tile(layer: str, z: int, x: int, y: int) -> bytes:
    """The tile of one boundary layer, or of the bundle; empty bytes when nothing is there."""
    names = [item.name for item in layers_at(z)] if layer == BUNDLE else [layer] if z >= LAYERS[layer].minzoom else []
    if not names:
        return b""
    cte, params = _bounds_cte(z, x, y)
    parts = []
    for name in names:
        source, source_params = _boundary_source(name)
        part, part_params = _layer_sql(name, source, source_params, "src.code, src.name")
        parts.append(f"({part})")
        params += part_params
    # Protocol buffers concatenate: one tile's layers are the bytes of each layer's tile in a row.
    sql = f"{cte} SELECT {' || '.join(parts)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bytes(cursor.fetchone()[0])


def case_tile(user, z: int, x: int, y: int) -> bytes:
    """Open cases `user` may see, as points with number, status, urgency and worst SLA level."""
    if z < CASES.minzoom:
        return b""
    # Imported here, not at the top: the boundary tiles must work while dispatch is being migrated.
    from dispatch.models import Case
    from dispatch.selectors import visible_cases

    cases = (
        visible_cases(user)
        .filter(point__bboverlaps=Polygon.from_bbox(tile_bounds_wgs84(z, x, y, margin=BUFFER / EXTENT)))
        .exclude(status__in=Case.TERMINAL)
        .order_by()
        .values("id", "number", "status", "urgency", sla=worst_sla(), geom=F("point"))
    )
    source, source_params = cases.query.sql_with_params()
    cte, params = _bounds_cte(z, x, y)
    sql = f"""
        {cte}
        SELECT COALESCE(ST_AsMVT(t, %s, {EXTENT}, 'geom'), ''::bytea) FROM (
            SELECT src.id, src.number, src.status, src.urgency, src.sla,
                   ST_AsMVTGeom(ST_Transform(src.geom, 3857), b.env, {EXTENT}, {BUFFER}, true) AS geom
            FROM ({source}) src, bounds b
        ) t WHERE t.geom IS NOT NULL
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, CASES.name, *source_params])
        return bytes(cursor.fetchone()[0])


def worst_sla():
    """The worst SLA level among a case's active assignments (red, else yellow, else green), as an
    expression over `Case` rows."""
    # Imported here for the reason given in case_tile.
    from dispatch.models import Assignment

    active = Assignment.objects.filter(case=OuterRef("pk"), status__in=Assignment.ACTIVE)
    level = Assignment.SlaLevel
    return DbCase(
        When(Exists(active.filter(sla_level=level.RED)), then=Value(level.RED.value)),
        When(Exists(active.filter(sla_level=level.YELLOW)), then=Value(level.YELLOW.value)),
        default=Value(level.GREEN.value),
    )


def tile_bounds_wgs84(z: int, x: int, y: int, *, margin: float = 0.0) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of tile z/x/y, grown by `margin` tiles on each side."""
    n = 2**z

    def lon(tx: float) -> float:
        return tx / n * 360.0 - 180.0

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return (lon(x - margin), lat(min(y + 1 + margin, n)), lon(x + 1 + margin), lat(max(y - margin, 0)))


def boundary_version() -> str:
    """Changes whenever an area or grid is added, removed or edited; the page puts it in tile URLs."""
    areas = Area.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    grids = Grid.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    raw = f"{areas['n']}:{areas['at']}:{grids['n']}:{grids['at']}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def tile_is_valid(z: int, x: int, y: int) -> bool:
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z
