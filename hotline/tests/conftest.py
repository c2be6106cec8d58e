"""A small city with the real demo category tree, a few landmarks, and the hotline's personas.

    y 26.70 ┌──────── 云岩区 520103 ─────────┐   北街道 520103001 / 北门社区 …001 / grids …001 (south), …002
    y 26.60 ├──────── 南明区 520102 ─────────┤
            │ 西街道 520102001│ 东街道 520102002│   西湖社区 520102001001, 东山社区 520102002001,
    y 26.50 └────────────────┴────────────────┘   two grids each (south half …001, north half …002)
          x 106.70        106.75          106.80

Rules: 事件 (SJ) and 社会需求 (XQ) → the street's 综合执法队; 部件 (BJ) → the district's 城管局.

Personas: `agent` (12345), `supervisor` (city), `dispatcher` (南明区综治中心) and `grid_worker` (grid
520102001001001) are every world's (tests/personas.py); this world adds `agent2` (12345),
`handler_west` (西街道综合执法队), `handler_north` (北街道综合执法队, 云岩区) and `nobody` (no role).
Each has a DRF token; `api(persona)` gives a client that sends it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest
from django.contrib.gis.geos import Point

from dispatch import services as dispatch_services
from dispatch.models import Case
from grids import locator
from grids.models import Area, Grid
from hotline import services
from hotline.models import Place
from partners.models import Unit
from routing import demo_catalog
from routing.models import Category, ResponsibilityRule
from routing.tables import invalidate_local
from tests.personas import box, fresh, person

WEST = (106.72, 26.52)  # grid 520102001001001, 南明区 西街道 西湖社区
WEST_NORTH = (106.72, 26.58)  # grid 520102001001002
EAST = (106.78, 26.55)  # 东街道
NORTH = (106.72, 26.63)  # 云岩区 北街道
PHONE = "13812345678"
PHONE_MASKED = "138****5678"


@dataclass
class World:
    areas: dict[str, Area] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)

    def category(self, code: str) -> Category:
        return Category.objects.get(code=code)


def _categories() -> None:
    """The real demo category tree, written in one INSERT per level of the tree.

    `routing.catalog.category_sync` would validate each of the hundred rows on its own; these rows
    come from the same tree the demo loads, so the checks add nothing here but time.
    """
    by_code: dict[str, Category] = {}
    levels: dict[int, list[tuple[Category, str | None]]] = {}
    for node, parent_code, resolved in demo_catalog.walk():
        row = Category(
            code=node["code"],
            name=node["name"],
            name_en=node.get("name_en", ""),
            kind=resolved["kind"],
            principle=Category.principle_for_kind(resolved["kind"]),
            default_urgency=resolved["urgency"],
            sign_urgent_minutes=resolved["sign"][0],
            sign_normal_work_hours=resolved["sign"][1],
            reply_urgent_hours=resolved["reply"][0],
            reply_normal_work_days=resolved["reply"][1],
            capabilities=list(resolved["capabilities"]),
            collaborator_departments=list(resolved["collaborators"]),
            keywords=list(node.get("keywords", [])),
        )
        depth = 0 if parent_code is None else len(parent_code)
        levels.setdefault(depth, []).append((row, parent_code))
    for depth in sorted(levels):
        rows = levels[depth]
        for row, parent_code in rows:
            row.parent = by_code.get(parent_code) if parent_code else None
        Category.objects.bulk_create([row for row, _parent in rows])
        by_code.update({row.code: row for row, _parent in rows})


def _build() -> World:
    w = World()

    def area(code, name, level, parent, geom):
        w.areas[code] = Area.objects.create(code=code, name=name, level=level, parent=parent, geom=geom)
        return w.areas[code]

    def unit(code, name, level, department, area_obj):
        w.units[code] = Unit.objects.create(code=code, name=name, level=level, department=department, area=area_obj)
        return w.units[code]

    city = area("520100", "贵阳市", "city", None, box(106.70, 26.50, 106.80, 26.70))
    nanming = area("520102", "南明区", "district", city, box(106.70, 26.50, 106.80, 26.60))
    yunyan = area("520103", "云岩区", "district", city, box(106.70, 26.60, 106.80, 26.70))
    plan = (
        ("520102001", "西街道", nanming, "西湖社区", (106.70, 26.50, 106.75, 26.60)),
        ("520102002", "东街道", nanming, "东山社区", (106.75, 26.50, 106.80, 26.60)),
        ("520103001", "北街道", yunyan, "北门社区", (106.70, 26.60, 106.80, 26.70)),
    )
    for code, name, district, community_name, (x0, y0, x1, y1) in plan:
        street = area(code, name, "street", district, box(x0, y0, x1, y1))
        community = area(f"{code}001", community_name, "community", street, box(x0, y0, x1, y1))
        mid = (y0 + y1) / 2
        for n, (a, b) in enumerate(((y0, mid), (mid, y1)), start=1):
            Grid.objects.create(
                code=f"{community.code}{n:03d}",
                name=f"{community_name}第{n}网格",
                community=community,
                geom=box(x0, a, x1, b),
            )
        unit(f"{code}-zhifa", f"{name}综合执法队", "street", "zhifa", street)

    unit("city-zongzhi", "贵阳市综治中心", "city", "zongzhi", city)
    unit("city-hotline", "12345热线中心", "city", "hotline", city)
    for district in (nanming, yunyan):
        unit(f"{district.code}-zongzhi", f"{district.name}综治中心", "district", "zongzhi", district)
        unit(f"{district.code}-chengguan", f"{district.name}城管局", "district", "chengguan", district)

    _categories()
    roots = {c.code: c for c in Category.objects.filter(code__in=["SJ", "XQ", "BJ"])}
    for code, department, level in (
        ("SJ", "zhifa", "street"),
        ("XQ", "zhifa", "street"),
        ("BJ", "chengguan", "district"),
    ):
        ResponsibilityRule.objects.create(
            category=roots[code],
            territory_code="520100",
            territory_level="city",
            basis="territory",
            department=department,
            level=level,
        )
    services.places_sync(
        rows=[
            {"code": "T-XIHU-SCHOOL", "name": "西湖小学", "kind": "school", "lon": 106.72, "lat": 26.53},
            {"code": "T-HGY", "name": "花果园购物中心", "kind": "market", "lon": 106.73, "lat": 26.58},
            {"code": "T-BEIMEN-MARKET", "name": "北门农贸市场", "kind": "market", "lon": 106.72, "lat": 26.64},
            {"code": "T-DONGSHAN-PARK", "name": "东山公园", "kind": "park", "lon": 106.78, "lat": 26.55},
        ]
    )
    locator.invalidate()
    invalidate_local()
    return w


@pytest.fixture
def world(db) -> World:
    return _build()


@pytest.fixture
def agent2(world):
    return person("agent2", unit=world.units["city-hotline"], role="agent")


@pytest.fixture
def handler_west(world):
    return person("handler_west", unit=world.units["520102001-zhifa"])


@pytest.fixture
def handler_north(world):
    return person("handler_north", unit=world.units["520103001-zhifa"])


@pytest.fixture
def nobody(world):
    return person("nobody")


@pytest.fixture
def file_call(agent):
    """`file_call(**fields)` → the FiledCall of a call taken by `agent` (a complaint at WEST by default)."""

    def make(**kw):
        kw.setdefault("agent", agent)
        kw.setdefault("caller_phone", PHONE)
        kw.setdefault("caller_name", "张三")
        kw.setdefault("request_type", "complaint")
        kw.setdefault("content", "人行道上有人摆摊卖菜，影响通行")
        kw.setdefault("category", "SJ0401")
        if "address" not in kw and "lon" not in kw:
            kw["lon"], kw["lat"] = WEST
        return services.call_file(**kw)

    return make


def close_case(case: Case, *, handler, dispatcher) -> Case:
    """Work a dispatched case to `closed`: the lead signs, replies, and the dispatcher closes it."""
    case = dispatch_services.case_sign(case_id=case.pk, actor=fresh(handler), version=case.version)
    case = dispatch_services.case_reply(case_id=case.pk, actor=fresh(handler), version=case.version, note="已清理")
    return dispatch_services.case_close(case_id=case.pk, actor=fresh(dispatcher), version=case.version)


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat, srid=4326)


def move_east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point `metres` east of (lon, lat), on the sphere the distance checks use."""
    return lon + metres / (111_195.0 * math.cos(math.radians(lat))), lat


@pytest.fixture
def open311_client(world):
    client, key = services.open311_client_create(name="筑民生 app")
    client.key = key
    return client


def place(code: str) -> Place:
    return Place.objects.get(code=code)
