"""A small city for routing tests: two districts, three streets, three communities, six grids.

    y 26.70 ┌──────────── 云岩区 520103 ─────────────┐
            │ 北街道 520103001, one community,        │
            │ grids …001 (south half) and …002 (north)│
    y 26.60 ├──── 南明区 520102 ────┬─────────────────┤
            │ 西街道 520102001       │ 东街道 520102002  │
            │ one community,         │ one community,  │
            │ grids …001 / …002      │ grids …001 / …002│
    y 26.50 └────────────────────────┴─────────────────┘
          x 106.70                 106.75            106.80

Units: city 综治中心, 12345, 供电局, 水务局; per district 综治中心 and 城管局; 南明区 also 交警 and
民政; 西街道 and 北街道 have a 综合执法队, 东街道 has none (so rules naming it fall through there).
Categories: 部件 > 公用设施 > 井盖, 路灯; 事件 > 街面秩序 > 占道经营, 违章停车; 社会需求 > 独居老人帮扶
(asks for elderly_care partners and 民政 as collaborator).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from grids import locator
from grids.models import Area, Grid
from partners.models import Partner, Unit
from routing.models import Category
from routing.tables import invalidate_local


def box(x0: float, y0: float, x1: float, y1: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((x0, y0, x1, y1)), srid=4326)


@dataclass
class World:
    areas: dict[str, Area] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)

    # Points well inside each grid (away from street lines, so not near a boundary).
    NANMING_WEST_SOUTH = (106.72, 26.52)  # grid 520102001001001
    NANMING_WEST_NORTH = (106.72, 26.58)  # grid 520102001001002
    NANMING_EAST_SOUTH = (106.78, 26.52)  # grid 520102002001001
    YUNYAN = (106.72, 26.65)  # grid 520103001001001


def _area(w: World, code: str, name: str, level: str, parent: Area | None, geom: MultiPolygon) -> Area:
    w.areas[code] = Area.objects.create(code=code, name=name, level=level, parent=parent, geom=geom)
    return w.areas[code]


def _grids(w: World, community: Area, x0: float, y0: float, x1: float, y1: float) -> None:
    mid = (y0 + y1) / 2
    for n, (a, b) in enumerate(((y0, mid), (mid, y1)), start=1):
        code = f"{community.code}{n:03d}"
        w.grids[code] = Grid.objects.create(code=code, name=f"网格{n}", community=community, geom=box(x0, a, x1, b))


def _unit(w: World, key: str, name: str, level: str, department: str, area: Area, **extra) -> Unit:
    w.units[key] = Unit.objects.create(code=key, name=name, level=level, department=department, area=area, **extra)
    return w.units[key]


def _category(w: World, code: str, name: str, kind: str, parent: str | None = None, **extra) -> Category:
    w.categories[code] = Category.objects.create(
        code=code,
        name=name,
        kind=kind,
        parent=w.categories[parent] if parent else None,
        principle=Category.principle_for_kind(kind),
        **extra,
    )
    return w.categories[code]


def build_world() -> World:
    w = World()
    city = _area(w, "520100", "贵阳市", "city", None, box(106.70, 26.50, 106.80, 26.70))
    nanming = _area(w, "520102", "南明区", "district", city, box(106.70, 26.50, 106.80, 26.60))
    yunyan = _area(w, "520103", "云岩区", "district", city, box(106.70, 26.60, 106.80, 26.70))
    west = _area(w, "520102001", "西街道", "street", nanming, box(106.70, 26.50, 106.75, 26.60))
    east = _area(w, "520102002", "东街道", "street", nanming, box(106.75, 26.50, 106.80, 26.60))
    north = _area(w, "520103001", "北街道", "street", yunyan, box(106.70, 26.60, 106.80, 26.70))
    for street, (x0, x1) in ((west, (106.70, 106.75)), (east, (106.75, 106.80)), (north, (106.70, 106.80))):
        y0, y1 = (26.60, 26.70) if street is north else (26.50, 26.60)
        community = _area(w, f"{street.code}001", f"{street.name}社区", "community", street, box(x0, y0, x1, y1))
        _grids(w, community, x0, y0, x1, y1)

    _unit(w, "city-zongzhi", "贵阳市综治中心", "city", "zongzhi", city)
    _unit(w, "city-hotline", "12345热线中心", "city", "hotline", city)
    _unit(w, "city-gongdian", "贵阳供电局", "city", "gongdian", city)
    _unit(w, "city-shuiwu", "贵阳市水务局", "city", "shuiwu", city)
    for district in (nanming, yunyan):
        _unit(w, f"{district.code}-zongzhi", f"{district.name}综治中心", "district", "zongzhi", district)
        _unit(w, f"{district.code}-chengguan", f"{district.name}城管局", "district", "chengguan", district)
    _unit(w, "520102-jiaojing", "南明区交警大队", "district", "jiaojing", nanming)
    _unit(w, "520102-minzheng", "南明区民政局", "district", "minzheng", nanming)
    _unit(w, "520102001-zhifa", "西街道综合执法队", "street", "zhifa", west)
    _unit(w, "520103001-zhifa", "北街道综合执法队", "street", "zhifa", north)

    _category(w, "BJ", "部件", "component")
    _category(w, "BJ01", "公用设施", "component", "BJ")
    _category(w, "BJ0101", "井盖", "component", "BJ01", keywords=["井盖"])
    _category(w, "BJ0107", "路灯", "component", "BJ01", keywords=["路灯"])
    _category(w, "SJ", "事件", "event")
    _category(w, "SJ04", "街面秩序", "event", "SJ")
    _category(w, "SJ0401", "占道经营", "event", "SJ04", keywords=["摆摊"])
    _category(w, "SJ0405", "违章停车", "event", "SJ04")
    _category(w, "XQ", "社会需求", "need")
    _category(
        w,
        "XQ0101",
        "独居老人帮扶",
        "need",
        "XQ",
        capabilities=["elderly_care"],
        collaborator_departments=["minzheng"],
    )

    locator.invalidate()
    invalidate_local()
    return w


def partner(
    code: str,
    *,
    office: tuple[float, float],
    area: MultiPolygon,
    district: Area,
    capabilities=("elderly_care",),
    capacity: int = 5,
    is_active: bool = True,
) -> Partner:
    p = Partner.objects.create(
        code=code,
        name=f"协作单位{code}",
        kind="social_org",
        capabilities=list(capabilities),
        service_area=area,
        location=Point(*office, srid=4326),
        district=district,
        capacity=capacity,
        is_active=is_active,
    )
    invalidate_local()
    return p
