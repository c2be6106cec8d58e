"""A small Guiyang-like geography and named personas for the partners tests.

The geography is a tiling of rectangles — each district split into streets, each street into
communities, one grid per community — with the real district codes and names, so the code chains
(district code[:6], street code[:9]) hold as in the real demo.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from grids.models import Area, Grid
from partners.models import Department, Membership, Partner, Unit
from tests.personas import box

DISTRICTS = [
    ("520102", "南明区"),
    ("520103", "云岩区"),
    ("520111", "花溪区"),
    ("520112", "乌当区"),
    ("520113", "白云区"),
    ("520115", "观山湖区"),
    ("520121", "开阳县"),
    ("520122", "息烽县"),
    ("520123", "修文县"),
    ("520181", "清镇市"),
]
STREET_NAMES = ["花果园街道", "中华南路街道", "青岩镇", "黔灵镇", "金阳街道", "高坡苗族乡", "龙洞堡街道", "久长镇"]
COMMUNITY_NAMES = ["新华社区", "水口寺社区", "龙井村", "大营坡社区", "贵乌社区", "石板村"]

# Guiyang lies roughly between 106.1°–107.3° E and 26.2°–27.4° N.
WEST, SOUTH, DISTRICT_W, DISTRICT_H = 106.2, 26.4, 0.2, 0.4


def build_geography(*, districts: int = 10, streets: int = 4, communities: int = 3) -> dict[str, Area]:
    """City 520100, the first `districts` districts, `streets` streets each, `communities` communities each,
    and a grid in each community."""
    cols = 5
    width, height = cols * DISTRICT_W, 2 * DISTRICT_H
    city = Area.objects.create(
        code="520100", name="贵阳市", level="city", geom=box(WEST, SOUTH, WEST + width, SOUTH + height)
    )
    areas = {"520100": city}
    for i, (code, name) in enumerate(DISTRICTS[:districts]):
        x0, y0 = WEST + (i % cols) * DISTRICT_W, SOUTH + (i // cols) * DISTRICT_H
        district = Area.objects.create(
            code=code, name=name, level="district", parent=city, geom=box(x0, y0, x0 + DISTRICT_W, y0 + DISTRICT_H)
        )
        areas[code] = district
        street_h = DISTRICT_H / streets
        for s in range(streets):
            sy = y0 + s * street_h
            street_name = STREET_NAMES[(i + s) % len(STREET_NAMES)]
            street = Area.objects.create(
                code=f"{code}{s + 1:03d}",
                name=street_name,
                level="street",
                parent=district,
                geom=box(x0, sy, x0 + DISTRICT_W, sy + street_h),
            )
            areas[street.code] = street
            community_w = DISTRICT_W / communities
            for c in range(communities):
                cx = x0 + c * community_w
                geom = box(cx, sy, cx + community_w, sy + street_h)
                community = Area.objects.create(
                    code=f"{street.code}{c + 1:03d}",
                    name=COMMUNITY_NAMES[(s + c) % len(COMMUNITY_NAMES)],
                    level="community",
                    parent=street,
                    geom=geom,
                )
                areas[community.code] = community
                Grid.objects.create(code=f"{community.code}001", name="第一网格", community=community, geom=geom)
    return areas


def user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password="pw-for-tests-only", **extra)


def unit(area: Area, department: str, *, level: str | None = None, **extra) -> Unit:
    level = level or {"city": "city", "district": "district"}.get(area.level, "street")
    return Unit.objects.create(
        code=f"{area.code}-{department}", name=f"{area.name}{Department(department).label}", level=level,
        department=department, area=area, **extra,
    )  # fmt: skip


def partner(district: Area, *, code: str, capabilities: list[str], kind: str = Partner.Kind.SOCIAL_ORG, **extra):
    geom = extra.pop("service_area", district.geom)
    location = extra.pop("location", district.geom.point_on_surface)
    return Partner.objects.create(
        code=code, name=f"{district.name}{code}", kind=kind, capabilities=capabilities, service_area=geom,
        location=location, district=district, capacity=extra.pop("capacity", 5), **extra,
    )  # fmt: skip


def member(person, role: str, *, unit: Unit | None = None, partner: Partner | None = None) -> Membership:
    return Membership.objects.create(user=person, role=role, unit=unit, partner=partner)
