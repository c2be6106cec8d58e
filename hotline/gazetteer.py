"""The gazetteer: place names callers use (areas at every level and landmarks), for suggestions while
the agent types and for placing an address-only call on the map.

Matching is done in PostgreSQL: a name that contains what was typed, or that the typed text contains
("花果园购物中心旁边" contains 花果园购物中心), ranks first; pg_trgm similarity ranks the rest, so a
slip of a character still finds the place. The trigram GIN index on `hotline_place.name` keeps that
fast as the table grows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from grids import locator
from grids.models import Area, Grid
from hotline.models import Place

LEVEL_RANK = {"place": 0, "community": 1, "street": 2, "district": 3, "city": 4}
# Below this a fuzzy match is more likely a different place than a slip of the tongue.
GEOCODE_MIN_SIMILARITY = 0.45
# Names shorter than this ("中心", "花园") occur inside too many unrelated names to place a call.
CONTAINED_MIN_LENGTH = 3

_SEARCH = """
WITH q AS (SELECT %(q)s::text AS q)
SELECT src, id, code, name, level, address, score FROM (
    SELECT 'place' AS src, p.id, p.code, p.name, p.kind AS level, p.address,
           CASE WHEN strpos(p.name, q.q) = 1 THEN 2.0
                WHEN strpos(p.name, q.q) > 0 THEN 1.5
                WHEN char_length(p.name) >= %(min_len)s AND strpos(q.q, p.name) > 0 THEN 1.2
                ELSE 0 END + similarity(p.name, q.q) AS score
    FROM hotline_place p, q
    WHERE p.is_active AND (p.name %% q.q OR strpos(p.name, q.q) > 0
                           OR (char_length(p.name) >= %(min_len)s AND strpos(q.q, p.name) > 0))
    UNION ALL
    SELECT 'area', a.id, a.code, a.name, a.level, '',
           CASE WHEN strpos(a.name, q.q) = 1 THEN 2.0
                WHEN strpos(a.name, q.q) > 0 THEN 1.5
                WHEN char_length(a.name) >= %(min_len)s AND strpos(q.q, a.name) > 0 THEN 1.2
                ELSE 0 END + similarity(a.name, q.q)
    FROM grids_area a, q
    WHERE a.name %% q.q OR strpos(a.name, q.q) > 0
          OR (char_length(a.name) >= %(min_len)s AND strpos(q.q, a.name) > 0)
) hits
ORDER BY score DESC, char_length(name), code
LIMIT %(limit)s
"""

_CONTAINED = """
SELECT 'place' AS src, p.id, p.code, p.name, p.kind AS level
FROM hotline_place p
WHERE p.is_active AND char_length(p.name) >= %(min_len)s AND strpos(%(q)s, p.name) > 0
UNION ALL
SELECT 'area', a.id, a.code, a.name, a.level
FROM grids_area a
WHERE char_length(a.name) >= %(min_len)s AND strpos(%(q)s, a.name) > 0
"""


@dataclass
class Candidate:
    """A place or area a caller may have meant, with its point and its chain of areas."""

    kind: str  # "place" or "area"
    id: int
    code: str
    name: str
    level: str  # area level, or the place's kind
    address: str = ""
    lon: float | None = None
    lat: float | None = None
    score: float = 0.0
    chain: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Geocoded:
    """Where an address-only call was placed: a point good enough to route, or why not."""

    found: bool
    precision: str = ""  # place, community, street; district/city are too coarse to route
    lon: float | None = None
    lat: float | None = None
    match: dict[str, Any] | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _points(candidates: list[Candidate]) -> None:
    """Fill lon/lat: a place's own point; for an area, a point surely inside it."""
    place_ids = [c.id for c in candidates if c.kind == "place"]
    area_ids = [c.id for c in candidates if c.kind == "area"]
    points: dict[tuple[str, int], tuple[float, float]] = {}
    with connection.cursor() as cursor:
        if place_ids:
            cursor.execute("SELECT id, ST_X(point), ST_Y(point) FROM hotline_place WHERE id = ANY(%s)", [place_ids])
            points.update({("place", i): (x, y) for i, x, y in cursor.fetchall()})
        if area_ids:
            cursor.execute(
                "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) AS p "
                "FROM grids_area WHERE id = ANY(%s)) s",
                [area_ids],
            )
            points.update({("area", i): (x, y) for i, x, y in cursor.fetchall()})
    for c in candidates:
        c.lon, c.lat = points.get((c.kind, c.id), (None, None))


def chain_codes(code: str) -> list[tuple[str, str]]:
    """(level, code) from a grid or area code up to the city, read from the code's prefixes."""
    out = []
    for level, length in (("grid", 15), ("community", 12), ("street", 9), ("district", 6)):
        if len(code) >= length:
            out.append((level, code[:length]))
    if len(code) >= 6:
        city = code[:4] + "00"
        # A 6-digit code ending in 00 is the city itself, not a district.
        out = [pair for pair in out if pair[1] != city]
        out.append(("city", city))
    return out


def _named(chains: list[list[tuple[str, str]]]) -> list[list[dict[str, str]]]:
    codes = {c for chain in chains for _level, c in chain}
    names = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    names.update(Grid.objects.filter(code__in=[c for c in codes if len(c) == 15]).values_list("code", "name"))
    return [
        [{"level": level, "code": code, "name": names.get(code, "")} for level, code in chain if code in names]
        for chain in chains
    ]


def location_chain(location) -> list[dict[str, str]]:
    """The named chain (grid up to city) of a `grids.locator.Location`."""
    if location is None:
        return []
    return _named([chain_codes(location.grid)])[0]


def _chains(candidates: list[Candidate]) -> None:
    raw = []
    for c in candidates:
        if c.kind == "area":
            raw.append(chain_codes(c.code))
        elif c.lon is not None:
            found = locator.locate(c.lon, c.lat)
            raw.append(chain_codes(found.grid) if found is not None else [])
        else:
            raw.append([])
    for c, chain in zip(candidates, _named(raw), strict=True):
        c.chain = chain


def search(q: str, *, limit: int = 10) -> list[Candidate]:
    """Places and areas matching `q`, best first, each with its point and chain."""
    q = (q or "").strip()
    if not q:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_SEARCH, {"q": q, "limit": limit, "min_len": CONTAINED_MIN_LENGTH})
        rows = cursor.fetchall()
    candidates = [
        Candidate(kind=src, id=i, code=code, name=name, level=level, address=address, score=round(float(score), 3))
        for src, i, code, name, level, address, score in rows
    ]
    _points(candidates)
    _chains(candidates)
    return candidates


def nearby_places(lon: float, lat: float, *, radius_m: float = 300, limit: int = 5) -> list[dict[str, Any]]:
    """Landmarks around a WGS-84 point, nearest first, for the agent to confirm where the caller is."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, name, kind, ST_X(point), ST_Y(point),
                   ST_DistanceSphere(point, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)) AS d
            FROM hotline_place
            WHERE is_active AND ST_DWithin(point::geography,
                                           ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography, %(r)s)
            ORDER BY d, id LIMIT %(limit)s
            """,
            {"lon": lon, "lat": lat, "r": radius_m, "limit": limit},
        )
        return [
            {"id": i, "name": name, "kind": kind, "lon": x, "lat": y, "distance_m": round(d, 1)}
            for i, name, kind, x, y, d in cursor.fetchall()
        ]


def _precision(candidate: Candidate) -> str:
    return "place" if candidate.kind == "place" else candidate.level


def _within(candidate: Candidate, scope: str) -> bool:
    return any(link["code"] == scope for link in candidate.chain) or candidate.code.startswith(scope)


def geocode(address: str) -> Geocoded:
    """Place an address against the gazetteer.

    Names the address contains win, the most precise first (a landmark, then a community, a
    street); an area the address names narrows the search ("云岩区…" never lands in 南明区). With
    nothing contained, a close fuzzy match of the whole text is accepted. A match no finer than a
    district is reported but not used: routing from a district's middle would pick a wrong street.
    """
    text = (address or "").strip()
    if not text:
        return Geocoded(found=False, reason="empty")
    with connection.cursor() as cursor:
        cursor.execute(_CONTAINED, {"q": text, "min_len": CONTAINED_MIN_LENGTH})
        rows = cursor.fetchall()
    contained = [Candidate(kind=src, id=i, code=code, name=name, level=level) for src, i, code, name, level in rows]
    if contained:
        _points(contained)
        _chains(contained)
        # The narrowest area named that agrees with every wider one named scopes the rest.
        areas = sorted((c for c in contained if c.kind == "area" and c.level != "city"), key=lambda c: -len(c.code))
        scope = next(
            (a for a in areas if all(a.code.startswith(b.code) for b in areas if len(b.code) < len(a.code))), None
        )
        pool = [c for c in contained if scope is None or _within(c, scope.code)] or contained
        pool.sort(key=lambda c: (LEVEL_RANK.get(_precision(c), 9), -len(c.name), c.code))
        best = pool[0]
    else:
        fuzzy = [c for c in search(text, limit=3) if c.score >= GEOCODE_MIN_SIMILARITY]
        if not fuzzy:
            return Geocoded(found=False, reason="no_match")
        best = fuzzy[0]
    match = {"kind": best.kind, "id": best.id, "code": best.code, "name": best.name, "level": best.level}
    precision = _precision(best)
    if precision in ("district", "city") or best.lon is None:
        return Geocoded(found=False, precision=precision, match=match, reason="too_coarse")
    return Geocoded(found=True, precision=precision, lon=best.lon, lat=best.lat, match=match)


def reason_text(geocoded: Geocoded) -> str:
    """What to tell the agent about how the address was (or was not) placed."""
    if geocoded.found:
        return _("按地名“%(name)s”定位。") % {"name": geocoded.match["name"]}
    if geocoded.reason == "too_coarse":
        return _("地址只能确定到“%(name)s”，已转待分拨。") % {"name": geocoded.match["name"]}
    return _("未能根据地址定位，已转待分拨，不会丢失。")


__all__ = ["Candidate", "Geocoded", "Place", "chain_codes", "geocode", "location_chain", "nearby_places", "search"]
