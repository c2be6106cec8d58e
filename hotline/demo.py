"""Demo data for the hotline, called by `manage.py load_demo` after the categories: the places
gazetteer and the extra questions a few Open311 services ask.

Places: a handful of real Guiyang landmarks (approximate WGS-84 points, each kept only if the locator
puts it in the district it really is in), then generated ones — a school, a market, a housing estate,
a clinic, a bus stop, a crossroads… named after the community they are in, at a random point inside
it. Deterministic for a seed; idempotent (matched by code).
"""

from __future__ import annotations

import random
import re
from typing import Any

import shapely

from grids import locator
from grids.models import Area
from hotline import services
from hotline.models import Place

# (code, name, kind, address, lon, lat, district it must fall in)
LANDMARKS: list[tuple[str, str, str, str, float, float, str]] = [
    ("GY-JIAXIULOU", "甲秀楼", "landmark", "南明区翠微巷8号", 106.7126, 26.5740, "520102"),
    ("GY-ZHUCHENG", "筑城广场", "park", "南明区解放路", 106.7150, 26.5732, "520102"),
    ("GY-HEBIN", "河滨公园", "park", "南明区公园南路", 106.7105, 26.5702, "520102"),
    ("GY-STATION", "贵阳火车站", "transport", "南明区遵义路", 106.7085, 26.5595, "520102"),
    ("GY-HUAGUOYUAN", "花果园购物中心", "market", "南明区花果园大街", 106.6905, 26.5660, "520102"),
    ("GY-AIRPORT", "贵阳龙洞堡国际机场", "transport", "南明区机场路", 106.8012, 26.5412, "520102"),
    ("GY-PENSHUICHI", "喷水池", "landmark", "云岩区中华北路", 106.7128, 26.5840, "520103"),
    ("GY-QIANLING", "黔灵山公园", "park", "云岩区枣山路187号", 106.6965, 26.5985, "520103"),
    ("GY-BEIJINGLU", "北京路与中华北路交叉口", "road", "云岩区北京路", 106.7124, 26.5905, "520103"),
    ("GY-NORTH", "贵阳北站", "transport", "观山湖区北站路", 106.6745, 26.6205, "520115"),
    ("GY-GSHPARK", "观山湖公园", "park", "观山湖区长岭北路", 106.6405, 26.6445, "520115"),
    ("GY-GZU", "贵州大学", "school", "花溪区花溪大道南段", 106.6610, 26.4455, "520111"),
    ("GY-QINGYAN", "青岩古镇", "landmark", "花溪区青岩镇", 106.6960, 26.3320, "520111"),
    ("GY-HUAXIPARK", "花溪公园", "park", "花溪区花溪大道", 106.6700, 26.4330, "520111"),
]

# Generated places: (kind, name pattern) — {stem} is the community's name without its suffix.
PATTERNS: list[tuple[str, str]] = [
    ("school", "{stem}小学"),
    ("market", "{stem}农贸市场"),
    ("residential", "{stem}花园小区"),
    ("hospital", "{stem}社区卫生服务中心"),
    ("transport", "{stem}公交站"),
    ("road", "{stem}路口"),
    ("school", "{stem}幼儿园"),
    ("park", "{stem}文化广场"),
    ("public", "{stem}便民服务中心"),
    ("residential", "{stem}新村"),
]
SUFFIXES = ("社区居委会", "村委会", "居委会", "社区", "村")
# Codes this loader makes; others (added in the admin) are never retired by it.
DEMO_CODE = re.compile(r"^(GY-[A-Z]+|P\d{12}\d{2})$")

# Extra questions some services ask Open311 clients (GeoReport service definitions).
ATTRIBUTES: list[dict[str, Any]] = [
    {
        "category": "BJ0104",
        "code": "injured",
        "description": "是否有人受伤或车辆受损？",
        "datatype": "singlevaluelist",
        "required": True,
        "order": 1,
        "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
    },
    {
        "category": "SJ0108",
        "code": "time_of_day",
        "description": "噪声主要在什么时段？",
        "datatype": "singlevaluelist",
        "required": True,
        "order": 1,
        "values": [
            {"key": "night", "name": "夜间（22:00–6:00）"},
            {"key": "day", "name": "白天"},
            {"key": "all", "name": "全天"},
        ],
    },
    {
        "category": "SJ0108",
        "code": "source",
        "description": "噪声来源（如工地、商铺音响、广场舞）",
        "datatype": "string",
        "required": False,
        "order": 2,
    },
    {
        "category": "SJ0405",
        "code": "plate",
        "description": "车牌号",
        "datatype": "string",
        "required": False,
        "order": 1,
    },
    {
        "category": "SJ0405",
        "code": "fire_lane",
        "description": "是否占用消防通道？",
        "datatype": "singlevaluelist",
        "required": True,
        "order": 2,
        "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}],
    },
    {
        "category": "XQ0101",
        "code": "age",
        "description": "老人年龄",
        "datatype": "number",
        "required": False,
        "order": 1,
    },
    {
        "category": "XQ0101",
        "code": "needs",
        "description": "需要哪些帮助？",
        "datatype": "multivaluelist",
        "required": True,
        "order": 2,
        "values": [
            {"key": "meals", "name": "助餐"},
            {"key": "medical", "name": "就医"},
            {"key": "company", "name": "陪伴"},
            {"key": "cleaning", "name": "清洁"},
        ],
    },
    {
        "category": "SJ0503",
        "code": "safety",
        "description": "如闻到浓烈燃气味，请立即离开现场并拨打 119。",
        "datatype": "text",
        "required": False,
        "variable": False,
        "order": 1,
    },
]


def _stem(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _point_inside(geom, rng: random.Random) -> tuple[float, float]:
    shape = shapely.from_wkb(bytes(geom.wkb))
    minx, miny, maxx, maxy = shape.bounds
    for _attempt in range(200):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shape.contains(shapely.Point(x, y)):
            return round(x, 6), round(y, 6)
    point = shape.representative_point()
    return round(point.x, 6), round(point.y, 6)


def plan_places(*, seed: int, total: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows to load, and the landmarks left out because they fall outside their district here."""
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for code, name, kind, address, lon, lat, district in LANDMARKS:
        found = locator.locate(lon, lat)
        if found is None or found.district != district:
            skipped.append(name)
            continue
        rows.append({"code": code, "name": name, "kind": kind, "address": address, "lon": lon, "lat": lat})

    rng = random.Random(f"hotline-places:{seed}")
    communities = list(Area.objects.filter(level=Area.Level.COMMUNITY).order_by("code").only("code", "name", "geom"))
    if not communities:
        return rows, skipped
    streets = dict(Area.objects.filter(level=Area.Level.STREET).values_list("code", "name"))
    districts = dict(Area.objects.filter(level=Area.Level.DISTRICT).values_list("code", "name"))
    wanted = max(0, total - len(rows))
    # Every community gets places in turn, so a small demo still has some everywhere.
    order = communities[:]
    rng.shuffle(order)
    per_community: dict[str, int] = {}
    used_names = {r["name"] for r in rows}
    i = 0
    while wanted > 0 and i < len(order) * len(PATTERNS):
        community = order[i % len(order)]
        i += 1
        n = per_community.get(community.code, 0)
        per_community[community.code] = n + 1
        kind, pattern = PATTERNS[(n + int(community.code[-3:])) % len(PATTERNS)]
        name = pattern.format(stem=_stem(community.name))
        if name in used_names:
            continue
        used_names.add(name)
        lon, lat = _point_inside(community.geom, rng)
        address = f"{districts.get(community.code[:6], '')}{streets.get(community.code[:9], '')}{community.name}"
        rows.append(
            {
                "code": f"P{community.code}{n + 1:02d}",
                "name": name,
                "kind": kind,
                "address": address,
                "lon": lon,
                "lat": lat,
            }
        )
        wanted -= 1
    return rows, skipped


def load(*, seed: int = 2026, stdout=None, places: int = 300, **options) -> dict[str, int]:
    out = stdout or _Quiet()
    rows, skipped = plan_places(seed=seed, total=places)
    counts = services.places_sync(rows=rows)
    planned = {row["code"] for row in rows}
    stale = [
        code
        for code in Place.objects.filter(is_active=True).exclude(code__in=planned).values_list("code", flat=True)
        if DEMO_CODE.match(code)
    ]
    counts["deactivated"] = services.places_deactivate(codes=stale)
    out.write(
        f"  places: {len(rows)} planned; created {counts['created']}, updated {counts['updated']}, "
        f"unchanged {counts['unchanged']}" + (f", {counts['deactivated']} no longer planned retired" if stale else "")
    )
    if skipped:
        out.write(f"  places: {len(skipped)} landmark(s) outside this geography left out: {'、'.join(skipped)}")
    attributes = services.service_attributes_sync(rows=ATTRIBUTES)
    out.write(
        f"  Open311 service questions: created {attributes['created']}, updated {attributes['updated']}, "
        f"unchanged {attributes['unchanged']}" + (f", skipped {attributes['skipped']}" if attributes["skipped"] else "")
    )
    return {**counts, **{f"attributes_{k}": v for k, v in attributes.items()}}


class _Quiet:
    def write(self, text: str) -> None:
        pass
