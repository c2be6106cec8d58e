"""Reads of the geography: areas and grids by code and level, and PostGIS point lookups.

`locate_in_postgis` and `locate_many_in_postgis` are the reference the in-process locator
(grids/locator.py) must agree with: the grid that covers the point (ST_Covers, boundary included),
the lowest code in byte order when several do (a point on a shared edge or vertex).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import QuerySet

from grids.models import Area, Grid

GRID_CODE_LENGTH = 15
AREA_CODE_LENGTHS = {6: (Area.Level.CITY, Area.Level.DISTRICT), 9: (Area.Level.STREET,), 12: (Area.Level.COMMUNITY,)}

_GRID = Grid._meta.db_table
_LOCATE_ONE = (
    f"SELECT code FROM {_GRID} WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) "
    'ORDER BY code COLLATE "C" LIMIT 1'
)
# One statement for a whole batch; the LATERAL subquery probes the GiST index once per point.
_LOCATE_MANY = f"""
SELECT hit.code
FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, i)
LEFT JOIN LATERAL (
    SELECT g.code FROM {_GRID} g
    WHERE ST_Covers(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
    ORDER BY g.code COLLATE "C" LIMIT 1
) hit ON true
ORDER BY p.i
"""


def locate_in_postgis(lon: float, lat: float) -> str | None:
    """The code of the grid covering the WGS-84 point (lowest code on shared edges), or None."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCATE_ONE, [float(lon), float(lat)])
        row = cursor.fetchone()
    return row[0] if row else None


def locate_many_in_postgis(lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
    """`locate_in_postgis` for many points in one query; results in input order."""
    with connection.cursor() as cursor:
        cursor.execute(_LOCATE_MANY, [[float(x) for x in lons], [float(y) for y in lats]])
        return [row[0] for row in cursor.fetchall()]


def area_list(*, level: str | None = None, parent: str | None = None) -> QuerySet[Area]:
    """Areas ordered by code, optionally of one level and/or under one parent code. No geometry."""
    areas = Area.objects.select_related("parent").defer("geom", "parent__geom").order_by("code")
    if level:
        areas = areas.filter(level=level)
    if parent:
        areas = areas.filter(parent__code=parent)
    return areas


def grid_list(*, community: str | None = None) -> QuerySet[Grid]:
    """Grids ordered by code, optionally of one community. No geometry."""
    grids = Grid.objects.select_related("community").defer("geom", "community__geom").order_by("code")
    if community:
        grids = grids.filter(community__code=community)
    return grids


def area_get(*, code: str) -> Area | None:
    """The area with this code, geometry included; a 6-digit code may be the city or a district."""
    if len(code) not in AREA_CODE_LENGTHS:
        return None
    return Area.objects.select_related("parent").defer("parent__geom").filter(code=code).first()


def grid_get(*, code: str) -> Grid | None:
    if len(code) != GRID_CODE_LENGTH:
        return None
    return Grid.objects.select_related("community").defer("community__geom").filter(code=code).first()
