"""Demo organisations and people for Guiyang, called by `manage.py load_demo` after the geography.

- Exactly 510 government units over city, district and street/community levels. Which units exist is
  computed from the geography actually loaded (see `plan_units`), so the total is 510 whatever the
  number of streets and communities.
- Exactly 2,859 partner organisations, every capability offered in every district.
- One demo user per role, password `demo12345`, printed as a table at the end.

Idempotent: rows are upserted by code and only differences are written, so a second run with the same
geography and seed changes nothing. Deterministic for a seed.

One module, though long: it is mostly data (the departments of each level, partner kinds and the
names they take), read top to bottom beside the two functions that lay it out.
"""

from __future__ import annotations

import random
import re
import unicodedata
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry, Point
from django.utils.translation import gettext as _
from pyproj import Transformer
from shapely.geometry import MultiPolygon as ShapelyMultiPolygon
from shapely.geometry import Point as ShapelyPoint

from grids.models import Area, Grid
from partners import services
from partners.models import Capability, Department, Membership, Partner, Unit

UNIT_TOTAL = 510
PARTNER_TOTAL = 2859
DEMO_PASSWORD = "demo12345"  # noqa: S105 - documented demo credential, set only by this loader
CITY_NAME = "贵阳市"
UNIT_CODE = re.compile(r"^\d{6,12}-[a-z]+$")
PARTNER_CODE = re.compile(r"^P\d{10}$")

D = Department

# City departments, in the order they are kept when the budget is short. The first two always exist.
CITY_UNITS: list[tuple[str, str]] = [
    (D.HOTLINE, "贵阳市12345政务服务便民热线中心"),
    (D.ZONGZHI, "贵阳市社会治安综合治理中心"),
    (D.CHENGGUAN, "贵阳市城市管理局"),
    (D.ZHUJIAN, "贵阳市住房和城乡建设局"),
    (D.SHUIWU, "贵阳市水务管理局"),
    (D.JIAOJING, "贵阳市公安交通管理局交警支队"),
    (D.SHENGTAI, "贵阳市生态环境局"),
    (D.SHICHANG, "贵阳市市场监督管理局"),
    (D.GONGDIAN, "贵州电网贵阳供电局"),
    (D.RANQI, "贵阳燃气集团有限公司"),
    (D.WEIJIAN, "贵阳市卫生健康委员会"),
    (D.MINZHENG, "贵阳市民政局"),
    (D.JIAOYU, "贵阳市教育局"),
    (D.GONGAN, "贵阳市公安局"),
]
CITY_EXTRA_UNITS: list[tuple[str, str]] = [
    (D.RENSHE, "贵阳市人力资源和社会保障局"),
    (D.JIAOTONG, "贵阳市交通运输局"),
    (D.YUANLIN, "贵阳市园林绿化管理局"),
    (D.ZIRANZIYUAN, "贵阳市自然资源和规划局"),
    (D.YINGJI, "贵阳市应急管理局"),
    (D.WENLV, "贵阳市文化和旅游局"),
    (D.NONGYE, "贵阳市农业农村局"),
]
# District departments: `{d}` is the district's name.
DISTRICT_ZONGZHI = "{d}网格化服务管理中心"
DISTRICT_UNITS: list[tuple[str, str]] = [
    (D.CHENGGUAN, "{d}城市管理局"),
    (D.ZHUJIAN, "{d}住房和城乡建设局"),
    (D.SHUIWU, "{d}水务管理局"),
    (D.JIAOJING, "{d}交警大队"),
    (D.SHENGTAI, "贵阳市生态环境局{d}分局"),
    (D.SHICHANG, "{d}市场监督管理局"),
    (D.GONGDIAN, "{d}供电局"),
    (D.MINZHENG, "{d}民政局"),
    (D.WEIJIAN, "{d}卫生健康局"),
    (D.GONGAN, "{d}公安分局"),
]
DISTRICT_EXTRA_UNITS: list[tuple[str, str]] = [
    (D.JIAOYU, "{d}教育局"),
    (D.RANQI, "贵阳燃气集团{d}分公司"),
    (D.RENSHE, "{d}人力资源和社会保障局"),
    (D.JIAOTONG, "{d}交通运输局"),
    (D.YUANLIN, "{d}园林绿化局"),
    (D.ZIRANZIYUAN, "贵阳市自然资源和规划局{d}分局"),
    (D.YINGJI, "{d}应急管理局"),
    (D.WENLV, "{d}文体旅游局"),
    (D.NONGYE, "{d}农业农村局"),
]
# Street-level offices besides 街道办/乡镇政府, 综合执法队 and 派出所: (department, name in a 街道, name in
# a 镇/乡); `{s}` is the street's short name (花果园), `{n}` its full name (花果园街道).
STREET_EXTRA_UNITS: list[tuple[str, str, str]] = [
    (D.SHICHANG, "{s}市场监督管理所", "{s}市场监督管理所"),
    (D.GONGDIAN, "{s}供电所", "{s}供电所"),
    (D.WEIJIAN, "{n}社区卫生服务中心", "{n}卫生院"),
    (D.JIAOJING, "{s}交警中队", "{s}交警中队"),
    (D.SHUIWU, "{s}供水服务站", "{n}水务站"),
    (D.WENLV, "{n}综合文化站", "{n}综合文化站"),
    (D.RENSHE, "{n}社会保障服务中心", "{n}社会保障服务中心"),
    (D.ZIRANZIYUAN, "{s}自然资源所", "{s}自然资源所"),
    (D.YINGJI, "{n}应急服务站", "{n}应急服务站"),
]
# Community-level stations besides the 居委会/村委会: (department, in a 社区, in a 村); `{c}` its name.
COMMUNITY_EXTRA_UNITS: list[tuple[str, str, str]] = [
    (D.GONGAN, "{c}警务室", "{c}警务室"),
    (D.WEIJIAN, "{c}卫生服务站", "{c}卫生室"),
    (D.MINZHENG, "{c}养老服务站", "{c}互助幸福院"),
    (D.RENSHE, "{c}就业和社会保障服务站", "{c}就业和社会保障服务站"),
]
# Short Chinese names of departments for the last-resort tier (never translated: unit names are data).
SHORT_NAMES = {
    D.CHENGGUAN: "城管", D.ZHUJIAN: "住建", D.SHUIWU: "水务", D.JIAOJING: "交警", D.SHENGTAI: "生态环境",
    D.SHICHANG: "市场监管", D.GONGDIAN: "供电", D.RANQI: "燃气", D.WEIJIAN: "卫生健康", D.MINZHENG: "民政",
    D.JIAOYU: "教育", D.GONGAN: "警务", D.RENSHE: "人社", D.JIAOTONG: "交通运输", D.YUANLIN: "园林绿化",
    D.ZIRANZIYUAN: "自然资源", D.YINGJI: "应急管理", D.WENLV: "文化旅游", D.NONGYE: "农业农村",
}  # fmt: skip


class DemoGeographyError(Exception):
    """The loaded geography cannot carry the demo organisations (missing, or the wrong size)."""


@dataclass
class Geography:
    city: Area
    districts: list[Area]
    streets: dict[str, list[Area]]  # district code -> streets
    communities: dict[str, list[Area]]  # street code -> communities

    @property
    def all_streets(self) -> list[Area]:
        return [s for d in self.districts for s in self.streets[d.code]]

    @property
    def all_communities(self) -> list[Area]:
        return [c for s in self.all_streets for c in self.communities[s.code]]


def read_geography() -> Geography:
    areas = list(Area.objects.order_by("code"))
    city = next((a for a in areas if a.level == Area.Level.CITY), None)
    districts = [a for a in areas if a.level == Area.Level.DISTRICT]
    if city is None or not districts:
        raise DemoGeographyError(_("没有市或区县区域：请先加载地理数据（grids 演示数据）。"))
    streets: dict[str, list[Area]] = {d.code: [] for d in districts}
    communities: dict[str, list[Area]] = defaultdict(list)
    by_id = {a.id: a for a in areas}
    for area in areas:
        parent = by_id.get(area.parent_id)
        if area.level == Area.Level.STREET and parent is not None and parent.code in streets:
            streets[parent.code].append(area)
        elif area.level == Area.Level.COMMUNITY and parent is not None:
            communities[parent.code].append(area)
    return Geography(city=city, districts=districts, streets=streets, communities=communities)


# --- units ---------------------------------------------------------------------------------------


def _short(street: Area) -> str:
    """花果园街道 -> 花果园, 青岩镇 -> 青岩, 高坡苗族乡 -> 高坡苗族."""
    for suffix in ("街道", "镇", "乡"):
        if street.name.endswith(suffix) and len(street.name) > len(suffix):
            return street.name[: -len(suffix)]
    return street.name


def _is_township(street: Area) -> bool:
    return street.name.endswith(("镇", "乡"))


def _phone(code: str) -> str:
    return f"0851-8{zlib.crc32(code.encode()) % 10_000_000:07d}"


def _unit(area: Area, level: str, department: str, name: str, parent: tuple[str, ...] = ()) -> dict[str, Any]:
    code = f"{area.code}-{department}"
    # `parent` lists candidate parent codes, best first; the first one that is planned wins.
    return {
        "code": code,
        "name": name,
        "level": level,
        "department": department,
        "area": area,
        "phone": _phone(code),
        "is_active": True,
        "_parents": parent,
    }


def _round_robin(groups: list[list]) -> list:
    """[[a1, a2], [b1], [c1, c2, c3]] -> [a1, b1, c1, a2, c2, c3]: cuts then spread over all groups."""
    out = []
    for depth in range(max((len(g) for g in groups), default=0)):
        out.extend(g[depth] for g in groups if depth < len(g))
    return out


def plan_units(geo: Geography, total: int = UNIT_TOTAL) -> list[dict[str, Any]]:
    """Exactly `total` unit rows for this geography.

    Candidates come in tiers, most essential first, and are taken until the total is reached:

    1. always: the 12345 centre and the city 综治中心; each district's 网格化服务管理中心; each street's
       街道办事处/乡镇人民政府 and 综合执法队;
    2. the core city departments (城管, 住建, 水务, 交警, …);
    3. the ten core district departments (城管局 … 公安分局) in every district;
    4. one 社区居委会/村委会 per district;
    5. each street's 派出所;
    6. further district departments (教育, 燃气, 人社, …); 7. further city departments;
    8. the other 社区居委会/村委会;
    9. street offices: 市场监管所, 供电所, 卫生服务中心/卫生院, 交警中队, 水务站, 综合文化站, …;
    10. community stations: 警务室, 卫生服务站, 养老服务站, 就业和社会保障服务站;
    11. only for very small geographies: a station of each remaining department in each street, then
        in each community.

    Street- and community-level tiers go round-robin across districts, so a cut spreads evenly.
    Raises DemoGeographyError when tier 1 alone exceeds the total or all tiers together fall short.
    """
    city, districts = geo.city, geo.districts
    c, dl, st = Unit.Level.CITY, Unit.Level.DISTRICT, Unit.Level.STREET
    street_groups = [geo.streets[d.code] for d in districts]
    streets_rr = _round_robin(street_groups)
    community_groups = [[cm for s in streets for cm in geo.communities[s.code]] for streets in street_groups]
    communities_rr = _round_robin(community_groups)

    def district_unit(d: Area, dept: str, template: str) -> dict[str, Any]:
        name = template.format(d=d.name)
        if dept == D.GONGAN and not d.name.endswith("区"):
            name = f"{d.name}公安局"  # counties and county-level cities have a 公安局, not a 分局
        return _unit(d, dl, dept, name, (f"{city.code}-{dept}", f"{city.code}-zongzhi"))

    def street_unit(s: Area, dept: str, name: str) -> dict[str, Any]:
        return _unit(s, st, dept, name, (f"{s.code[:6]}-{dept}", f"{s.code}-jiedao"))

    def community_unit(cm: Area, dept: str, name: str) -> dict[str, Any]:
        street = cm.code[:9]
        return _unit(cm, st, dept, name, (f"{street}-{dept}", f"{cm.code}-shequ", f"{street}-jiedao"))

    tiers: list[list[dict[str, Any]]] = []
    must = [_unit(city, c, dept, name) for dept, name in CITY_UNITS[:2]]
    must += [district_unit(d, D.ZONGZHI, DISTRICT_ZONGZHI) for d in districts]
    for s in geo.all_streets:
        office = f"{s.name}人民政府" if _is_township(s) else f"{s.name}办事处"
        must.append(_unit(s, st, D.JIEDAO, office, (f"{s.code[:6]}-zongzhi",)))
        must.append(_unit(s, st, D.ZHIFA, f"{s.name}综合执法队", (f"{s.code[:6]}-chengguan", f"{s.code}-jiedao")))
    tiers.append(must)
    tiers.append([_unit(city, c, dept, name) for dept, name in CITY_UNITS[2:]])
    tiers.append([district_unit(d, dept, name) for dept, name in DISTRICT_UNITS for d in districts])
    pilots = [group[0] for group in community_groups if group]
    tiers.append([_committee(cm) for cm in pilots])
    tiers.append([street_unit(s, D.GONGAN, f"{_short(s)}派出所") for s in streets_rr])
    tiers.append([district_unit(d, dept, name) for dept, name in DISTRICT_EXTRA_UNITS for d in districts])
    tiers.append([_unit(city, c, dept, name) for dept, name in CITY_EXTRA_UNITS])
    tiers.append([_committee(cm) for cm in communities_rr if cm not in pilots])
    tiers.append(
        [
            street_unit(s, dept, (town if _is_township(s) else urban).format(s=_short(s), n=s.name))
            for dept, urban, town in STREET_EXTRA_UNITS
            for s in streets_rr
        ]
    )
    tiers.append(
        [
            community_unit(cm, dept, (village if cm.name.endswith("村") else urban).format(c=cm.name))
            for dept, urban, village in COMMUNITY_EXTRA_UNITS
            for cm in communities_rr
        ]
    )
    used = {row["code"] for tier in tiers for row in tier}
    tiers.append(
        [
            street_unit(s, dept, f"{s.name}{short}工作站")
            for dept, short in SHORT_NAMES.items()
            for s in streets_rr
            if f"{s.code}-{dept}" not in used
        ]
        + [
            community_unit(cm, dept, f"{cm.name}{short}服务点")
            for dept, short in SHORT_NAMES.items()
            for cm in communities_rr
            if f"{cm.code}-{dept}" not in used
        ]
    )

    if len(must) > total:
        raise DemoGeographyError(
            _(
                "地理数据有 %(streets)d 个街道/乡镇，每个都需要街道办和综合执法队，加上 %(districts)d 个区县指挥中心"
                "共 %(must)d 个单位，超过 %(total)d 个。"
            )
            % {"streets": len(geo.all_streets), "districts": len(districts), "must": len(must), "total": total}
        )
    available = sum(len(t) for t in tiers)
    if available < total:
        raise DemoGeographyError(
            _(
                "地理数据（%(districts)d 个区县，%(streets)d 个街道/乡镇，%(communities)d 个社区/村）只能容纳 "
                "%(available)d 个单位，少于 %(total)d 个。"
            )
            % {
                "districts": len(districts),
                "streets": len(geo.all_streets),
                "communities": len(geo.all_communities),
                "available": available,
                "total": total,
            }
        )
    chosen: list[dict[str, Any]] = []
    for tier in tiers:
        chosen.extend(tier[: total - len(chosen)])
    planned = {row["code"] for row in chosen}
    for row in chosen:
        row["parent_code"] = next((p for p in row.pop("_parents") if p in planned), None)
    return chosen


def _committee(community: Area) -> dict[str, Any]:
    name = community.name
    if name.endswith("村"):
        full = f"{name}村民委员会"
    elif name.endswith("社区"):
        full = f"{name}居民委员会"
    else:
        full = f"{name}居委会"
    return _unit(community, Unit.Level.STREET, D.SHEQU, full, (f"{community.code[:9]}-jiedao",))


# --- partners ------------------------------------------------------------------------------------

K = Partner.Kind
C = Capability
KIND_WEIGHTS = {K.SOCIAL_ORG: 35, K.VOLUNTEER_TEAM: 30, K.CARING_COMPANY: 20, K.SOCIAL_WORK_STATION: 15}
KIND_CAPABILITIES = {
    K.SOCIAL_ORG: list(C),
    K.CARING_COMPANY: [C.ELDERLY_CARE, C.MEDICAL_HELP, C.VOLUNTEER_CLEANUP, C.HARDSHIP_RELIEF, C.CHILD_CARE,
                       C.DISABILITY_HELP],
    K.VOLUNTEER_TEAM: [C.VOLUNTEER_CLEANUP, C.ELDERLY_CARE, C.CHILD_CARE, C.DISABILITY_HELP, C.HARDSHIP_RELIEF,
                       C.DISPUTE_MEDIATION],
    K.SOCIAL_WORK_STATION: [C.ELDERLY_CARE, C.CHILD_CARE, C.HARDSHIP_RELIEF, C.PSYCHOLOGICAL, C.DISPUTE_MEDIATION,
                            C.DISABILITY_HELP, C.LEGAL_AID],
}  # fmt: skip
WORDS = [
    "阳光", "春晖", "同心", "暖阳", "善行", "仁爱", "和美", "益家", "启明", "筑梦", "甲秀", "黔灵", "乐享",
    "康乐", "常青", "馨家", "明德", "惠民", "邻里", "彩虹", "向日葵", "红枫", "青禾", "山花", "爽爽", "林城",
    "筑城", "星光", "蒲公英", "知行", "守望", "携手", "新起点", "映山红", "百灵", "绿荫", "金桥", "立德",
    "博爱", "聚力", "德馨", "安康", "怡然", "朝阳", "晨曦", "花溪", "南山", "云上", "多彩", "山水",
]  # fmt: skip
VOLUNTEER_WORDS = ["红马甲", "学雷锋", "巾帼", "银龄", "青年", "夕阳红", "邻里守望", "党员先锋", "小红帽", "护河",
                   "绿色家园", "爱心妈妈", "平安守护", "文明劝导"]  # fmt: skip
SOCIAL_ORG_NAMES = {
    C.ELDERLY_CARE: ["{d}{w}养老服务中心", "{d}{w}居家养老服务协会", "{d}{w}助老服务社"],
    C.DISABILITY_HELP: ["{d}{w}残疾人康复服务中心", "{d}{w}助残服务社"],
    C.HARDSHIP_RELIEF: ["{d}{w}慈善救助协会", "{d}{w}公益服务中心"],
    C.LEGAL_AID: ["{d}{w}法律服务中心", "{d}{w}法律援助服务社", "贵州{w}律师事务所"],
    C.PSYCHOLOGICAL: ["{d}{w}心理咨询服务中心", "{d}{w}心理健康服务协会"],
    C.VOLUNTEER_CLEANUP: ["{d}{w}环保公益协会", "{d}{w}生态环保志愿者协会"],
    C.CHILD_CARE: ["{d}{w}儿童关爱服务中心", "{d}{w}青少年事务服务社"],
    C.MEDICAL_HELP: ["{d}{w}健康服务促进会", "{d}{w}医疗互助协会"],
    C.DISPUTE_MEDIATION: ["{d}{w}人民调解协会", "{d}{w}矛盾纠纷调解服务中心"],
}
COMPANY_NAMES = {
    C.ELDERLY_CARE: ["贵州{w}养老服务有限公司", "贵阳{w}康养产业有限公司"],
    C.MEDICAL_HELP: ["贵阳{w}大药房连锁有限公司", "贵州{w}医疗器械有限公司"],
    C.VOLUNTEER_CLEANUP: ["贵阳{w}物业管理有限公司", "贵州{w}环境服务有限公司"],
    C.HARDSHIP_RELIEF: ["贵阳{w}超市有限公司", "贵州{w}食品有限公司"],
    C.CHILD_CARE: ["贵阳{w}教育咨询有限公司", "贵州{w}文化传媒有限公司"],
    C.DISABILITY_HELP: ["贵州{w}康复器具有限公司", "贵阳{w}助行科技有限公司"],
}
VOLUNTEER_NAMES = ["{s}{v}志愿服务队", "{d}{v}志愿者服务队", "{c}{v}志愿服务队"]

_TO_METRES = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)  # UTM 48N covers Guiyang
_TO_DEGREES = Transformer.from_crs("EPSG:32648", "EPSG:4326", always_xy=True)


def _shape(area: Area, cache: dict[str, Any]):
    if area.code not in cache:
        cache[area.code] = shapely.from_wkb(bytes(area.geom.wkb))
    return cache[area.code]


def _metres(coords: np.ndarray) -> np.ndarray:
    return np.column_stack(_TO_METRES.transform(coords[:, 0], coords[:, 1]))


def _degrees(coords: np.ndarray) -> np.ndarray:
    return np.column_stack(_TO_DEGREES.transform(coords[:, 0], coords[:, 1]))


def _polygons(geom) -> ShapelyMultiPolygon:
    parts = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    multi = []
    for part in parts:
        multi.extend(part.geoms if part.geom_type == "MultiPolygon" else [part])
    return ShapelyMultiPolygon(multi)


def _random_point_in(shape, rng: random.Random) -> ShapelyPoint:
    minx, miny, maxx, maxy = shape.bounds
    shapely.prepare(shape)
    for _attempt in range(200):
        p = ShapelyPoint(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if shape.contains(p):
            return p
    return shape.representative_point()


def _buffer(point: ShapelyPoint, radius_m: float, clip) -> ShapelyMultiPolygon:
    circle = shapely.transform(shapely.transform(point, _metres).buffer(radius_m, quad_segs=8), _degrees)
    return _polygons(circle.intersection(clip))


def _allot(districts: list[Area], geo: Geography, total: int) -> dict[str, int]:
    """Partners per district: an equal floor, the rest by number of communities (denser = more)."""
    floor = min(60, total // len(districts))
    weights = {d.code: max(1, sum(len(geo.communities[s.code]) for s in geo.streets[d.code])) for d in districts}
    rest = total - floor * len(districts)
    weight_sum = sum(weights.values())
    exact = {code: rest * w / weight_sum for code, w in weights.items()}
    counts = {code: floor + int(x) for code, x in exact.items()}
    short = total - sum(counts.values())
    for code in sorted(exact, key=lambda k: (-(exact[k] - int(exact[k])), k))[:short]:
        counts[code] += 1
    return counts


def _weighted_kind(rng: random.Random, kinds: list[str]) -> str:
    return rng.choices(kinds, weights=[KIND_WEIGHTS[k] for k in kinds])[0]


def plan_partners(geo: Geography, *, seed: int, total: int = PARTNER_TOTAL, stdout=None) -> list[dict[str, Any]]:
    """Exactly `total` partner rows; in each district the first partners cover every capability."""
    counts = _allot(geo.districts, geo, total)
    shapes: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    used_names: set[str] = set()
    for index, district in enumerate(geo.districts, start=1):
        rng = random.Random(f"partners:{seed}:{district.code}")
        district_shape = _shape(district, shapes)
        streets = geo.streets[district.code]
        places = [(c, s) for s in streets for c in geo.communities[s.code]] or [(None, s) for s in streets]
        stations_at: dict[str, int] = defaultdict(int)
        for i in range(counts[district.code]):
            if i < len(C):
                capability = list(C)[i]
                kind = _weighted_kind(rng, [k for k in KIND_WEIGHTS if capability in KIND_CAPABILITIES[k]])
            else:
                kind = _weighted_kind(rng, list(KIND_WEIGHTS))
                capability = rng.choice(KIND_CAPABILITIES[kind])
            others = [c for c in KIND_CAPABILITIES[kind] if c != capability]
            capabilities = [capability, *rng.sample(others, k=min(len(others), rng.choice([0, 0, 1, 1, 2])))]

            community, street = rng.choice(places) if places else (None, None)
            home = community or street or district
            office = _random_point_in(_shape(home, shapes), rng)
            if kind == K.SOCIAL_WORK_STATION and street is not None:
                area = _polygons(_shape(street, shapes))
            elif kind == K.SOCIAL_ORG and street is not None and rng.random() < 0.5:
                # A set of streets: its own and up to two neighbours in the district.
                own = _shape(street, shapes)
                neighbours = [s for s in streets if s is not street and _shape(s, shapes).touches(own)]
                picked = rng.sample(neighbours, k=min(2, len(neighbours)))
                area = _polygons(shapely.union_all([own, *(_shape(s, shapes) for s in picked)]))
            else:
                low, high = {K.VOLUNTEER_TEAM: (1000, 3000), K.CARING_COMPANY: (2000, 6000)}.get(kind, (3000, 8000))
                area = _buffer(office, rng.uniform(low, high), district_shape)

            name = _partner_name(rng, kind, capability, district, street, community, stations_at, used_names)
            code = f"P{district.code}{i + 1:04d}"
            rows.append(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "capabilities": capabilities,
                    "service_area": GEOSGeometry(shapely.to_wkb(area, hex=True), srid=4326),
                    "location": Point(office.x, office.y, srid=4326),
                    "district": district,
                    "capacity": rng.randint(3, 20),
                    "phone": _phone(code),
                    # The capability-covering first few stay active so every district offers every capability.
                    "is_active": i < len(C) or rng.random() >= 0.05,
                }
            )
        if stdout is not None:
            stdout.write(
                _("  协作单位：%(i)d/%(n)d %(name)s %(count)d 个")
                % {"i": index, "n": len(geo.districts), "name": district.name, "count": counts[district.code]}
            )
    return rows


def _partner_name(rng, kind, capability, district, street, community, stations_at, used) -> str:
    d = district.name
    s = _short(street) if street is not None else d
    c = community.name if community is not None else s
    for _attempt in range(30):
        w = rng.choice(WORDS)
        if kind == K.SOCIAL_WORK_STATION:
            key = street.code if street is not None else d
            stations_at[key] += 1
            name = f"{street.name}社会工作服务站" if stations_at[key] == 1 and street else f"{c}社会工作服务室"
        elif kind == K.VOLUNTEER_TEAM:
            name = rng.choice(VOLUNTEER_NAMES).format(s=s, d=d, c=c, v=rng.choice(VOLUNTEER_WORDS))
        elif kind == K.CARING_COMPANY:
            name = rng.choice(COMPANY_NAMES.get(capability, ["贵州{w}科技有限公司"])).format(w=w)
        else:
            name = rng.choice(SOCIAL_ORG_NAMES[capability]).format(d=d, w=w)
        if name not in used:
            used.add(name)
            return name
    n = 2
    while f"{name}（{n}）" in used:
        n += 1
    used.add(f"{name}（{n}）")
    return f"{name}（{n}）"


# --- people --------------------------------------------------------------------------------------


@dataclass
class DemoPerson:
    username: str
    full_name: str
    role: str  # shown in the table
    where: str = ""
    is_superuser: bool = False


@dataclass
class Summary:
    units: services.UpsertResult
    partners: services.UpsertResult
    deactivated: int
    people: list[DemoPerson] = field(default_factory=list)


def _pick_district(geo: Geography, wanted: str, fallback_index: int) -> Area:
    return next((d for d in geo.districts if d.code == wanted), geo.districts[fallback_index % len(geo.districts)])


def load_people(geo: Geography, stdout) -> list[DemoPerson]:
    city = geo.city.code
    yunyan = _pick_district(geo, "520103", 1)
    nanming = _pick_district(geo, "520102", 0 if yunyan is not geo.districts[0] else 1)
    units = Unit.objects.in_bulk(
        [
            f"{city}-hotline",
            f"{city}-zongzhi",
            f"{yunyan.code}-chengguan",
            f"{nanming.code}-chengguan",
            f"{yunyan.code}-zongzhi",
        ],
        field_name="code",
    )
    partner = (
        Partner.objects.filter(district=yunyan, is_active=True, capabilities__contains=[C.ELDERLY_CARE])
        .order_by("code")
        .first()
    )
    grids = list(Grid.objects.filter(code__startswith=yunyan.code).order_by("code")[:3])
    R = Membership.Role
    plan: list[tuple[DemoPerson, str | None, Any]] = [
        (DemoPerson("admin", "系统管理员", "超级管理员", "后台 /admin/", is_superuser=True), None, None),
        (DemoPerson("agent", "王芳", str(R.AGENT.label)), R.AGENT, units.get(f"{city}-hotline")),
        (DemoPerson("gridworker", "李强", "网格员"), None, None),
        (DemoPerson("handler", "张伟", str(R.HANDLER.label)), R.HANDLER, units.get(f"{yunyan.code}-chengguan")),
        (DemoPerson("handler2", "刘洋", str(R.HANDLER.label)), R.HANDLER, units.get(f"{nanming.code}-chengguan")),
        (DemoPerson("dispatcher", "陈静", str(R.DISPATCHER.label)), R.DISPATCHER, units.get(f"{yunyan.code}-zongzhi")),
        (DemoPerson("supervisor", "杨帆", str(R.SUPERVISOR.label)), R.SUPERVISOR, units.get(f"{city}-zongzhi")),
        (DemoPerson("unitadmin", "周敏", str(R.UNIT_ADMIN.label)), R.UNIT_ADMIN, units.get(f"{yunyan.code}-chengguan")),
        (DemoPerson("partner", "赵丽", "协作单位处置人员"), R.HANDLER, partner),
    ]  # fmt: skip
    people = []
    for person, role, organisation in plan:
        user, _changed = services.person_ensure(
            username=person.username,
            password=DEMO_PASSWORD,
            full_name=person.full_name,
            is_staff=person.is_superuser,
            is_superuser=person.is_superuser,
        )
        if person.username == "gridworker":
            services.grid_workers_ensure(user=user, grids=grids)
            person.where = "、".join(g.code for g in grids) or "（暂无网格：请先加载地理数据）"
        elif role is not None and organisation is not None:
            kwargs = {"unit": organisation} if isinstance(organisation, Unit) else {"partner": organisation}
            services.membership_ensure(user=user, role=role, **kwargs)
            person.where = organisation.name
        elif role is not None:
            person.where = "（单位缺失）"
        people.append(person)
    return people


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def people_table(people: list[DemoPerson]) -> list[str]:
    header = ["用户名 user", "姓名", "角色 role", "单位 / 网格", "密码 password"]
    rows = [[p.username, p.full_name, p.role, p.where, DEMO_PASSWORD] for p in people]
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        ("  " + "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True))).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    return lines


def load(*, seed: int = 2026, stdout=None, **options) -> Summary:
    """Load the demo organisations and people; see the module docstring."""
    out = stdout or _Quiet()
    geo = read_geography()
    out.write(
        _("  地理数据：%(d)d 个区县，%(s)d 个街道/乡镇，%(c)d 个社区/村")
        % {"d": len(geo.districts), "s": len(geo.all_streets), "c": len(geo.all_communities)}
    )
    unit_rows = plan_units(geo)
    by_level = defaultdict(int)
    for row in unit_rows:
        by_level[row["area"].level] += 1
    out.write(
        _("  处置单位：计划 %(n)d 个（市级 %(city)d，区县级 %(district)d，街道 %(street)d，社区/村 %(community)d）")
        % {"n": len(unit_rows), **{level: by_level[level] for level in ("city", "district", "street", "community")}}
    )
    unit_result = services.units_upsert(rows=unit_rows)
    planned = {row["code"] for row in unit_rows}
    stale_units = [
        code
        for code in Unit.objects.filter(is_active=True).exclude(code__in=planned).values_list("code", flat=True)
        if UNIT_CODE.match(code)
    ]
    deactivated = services.units_deactivate(codes=stale_units)
    out.write(_("  处置单位：") + _written(unit_result, deactivated))

    partner_rows = plan_partners(geo, seed=seed, stdout=out)
    partner_result = services.partners_upsert(rows=partner_rows)
    planned = {row["code"] for row in partner_rows}
    stale_partners = [
        code
        for code in Partner.objects.filter(is_active=True).exclude(code__in=planned).values_list("code", flat=True)
        if PARTNER_CODE.match(code)
    ]
    deactivated_partners = services.partners_deactivate(codes=stale_partners)
    out.write(_("  协作单位：") + _written(partner_result, deactivated_partners))

    people = load_people(geo, out)
    out.write(_("  演示用户（密码仅由本演示设置）："))
    for line in people_table(people):
        out.write(line)
    return Summary(
        units=unit_result, partners=partner_result, deactivated=deactivated + deactivated_partners, people=people
    )


def _written(result: services.UpsertResult, deactivated: int) -> str:
    text = _("新建 %(c)d，更新 %(u)d，未变 %(k)d") % {"c": result.created, "u": result.updated, "k": result.unchanged}
    if deactivated:
        text += _("，停用不再计划的 %(x)d 个") % {"x": deactivated}
    return text


class _Quiet:
    def write(self, text: str) -> None:
        pass
