"""Demo categories and responsibility rules for Guiyang, called by `manage.py load_demo` last.

The rules cover every leaf category in every grid (`manage.py check_routing` reports none missing):
each root has a city-wide territorial rule on a department every street or district has (the
street's 综合执法队 for 事件, the district's 城管 for 部件, the 街道办/乡镇政府 for needs), and more
specific rules on top — owners for utilities (供电 street lamps, 水务 manholes, 燃气 gas), the right
district department for each kind of event, and a few per-district and per-grid overrides. A rule
whose department has no unit in some place falls through to the root's rule there.

Idempotent: categories are matched by code, rules by (category, territory, basis); only differences
are written. Deterministic for a seed (the seed picks the demo's grid-level override).
"""

from __future__ import annotations

import random
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from grids.models import Area, Grid
from partners.models import Unit
from routing import catalog, demo_catalog
from routing.models import Category, ResponsibilityRule

CITY = "city"

# (category, territory, target): territory is CITY or an area code; target is ("owner", department)
# for an owner rule naming the unit of that department on the territory ("the city's 供电局" on CITY,
# "花溪区城管局" on 520111), ("named", department) for a territorial rule naming such a unit, or
# (department, level) for "the unit of that department at that level of the point's chain".
RULES: list[tuple[str, str, tuple[str, str]]] = [
    # 部件: owners first (先属主), city-wide.
    ("BJ0101", CITY, ("owner", "shuiwu")),
    ("BJ0102", CITY, ("owner", "shuiwu")),
    ("BJ0103", CITY, ("owner", "shuiwu")),
    ("BJ0108", CITY, ("owner", "shuiwu")),
    ("BJ0105", CITY, ("owner", "gongdian")),
    ("BJ0107", CITY, ("owner", "gongdian")),
    ("BJ0109", CITY, ("owner", "gongdian")),
    ("BJ0106", CITY, ("owner", "ranqi")),
    ("BJ0110", CITY, ("owner", "ranqi")),
    ("BJ0201", CITY, ("owner", "jiaojing")),
    ("BJ0202", CITY, ("owner", "jiaojing")),
    ("BJ0207", CITY, ("owner", "jiaojing")),
    # 部件 without an owner rule: the territory (后属地).
    ("BJ", CITY, ("chengguan", "district")),
    ("BJ02", CITY, ("zhujian", "district")),
    ("BJ0204", CITY, ("jiaotong", "district")),
    ("BJ04", CITY, ("yuanlin", "district")),
    ("BJ05", CITY, ("zhujian", "district")),
    ("BJ0503", CITY, ("ziranziyuan", "district")),
    ("BJ06", CITY, ("jiedao", "street")),
    # 事件: the territory first (先属地): the street's 综合执法队 unless a department is named.
    ("SJ", CITY, ("zhifa", "street")),
    ("SJ0105", CITY, ("shuiwu", "district")),
    ("SJ0106", CITY, ("shengtai", "district")),
    ("SJ0107", CITY, ("shengtai", "district")),
    ("SJ0108", CITY, ("shengtai", "district")),
    ("SJ0202", CITY, ("chengguan", "district")),
    ("SJ03", CITY, ("zhujian", "district")),
    ("SJ0303", CITY, ("chengguan", "district")),
    ("SJ0405", CITY, ("jiaojing", "district")),
    ("SJ0406", CITY, ("jiaojing", "district")),
    ("SJ0501", CITY, ("zhujian", "district")),
    ("SJ0502", CITY, ("shuiwu", "district")),
    ("SJ0503", CITY, ("ranqi", "city")),
    ("SJ0504", CITY, ("shuiwu", "district")),
    ("SJ0505", CITY, ("yuanlin", "district")),
    ("SJ0506", CITY, ("gongdian", "district")),
    ("SJ0507", CITY, ("jiaojing", "district")),
    ("SJ06", CITY, ("shichang", "district")),
    ("SJ0701", CITY, ("jiaoyu", "district")),
    ("SJ0702", CITY, ("weijian", "district")),
    ("SJ0703", CITY, ("renshe", "district")),
    ("SJ0704", CITY, ("jiaotong", "district")),
    # 社会需求: the 街道办/乡镇政府, the 居委会/村委会 where there is one, a few departments.
    ("XQ", CITY, ("jiedao", "street")),
    ("XQ03", CITY, ("shequ", "community")),
    ("XQ0303", CITY, ("renshe", "district")),
    ("XQ0103", CITY, ("gongan", "street")),
    ("XQ0404", CITY, ("weijian", "district")),
    # Per-district overrides.
    ("BJ0107", "520111", ("owner", "chengguan")),  # 花溪区: rural street lamps belong to the district 城管局
    ("SJ0401", "520115", ("chengguan", "district")),  # 观山湖区: one district team for street vending
    ("SJ0108", "520102", ("gongan", "street")),  # 南明区: noise goes to the 派出所
]
# The grid-level override: in a grid of 云岩区 (chosen by the seed) street order is kept by the district
# 城管局 directly, as for a scenic area's grid.
GRID_OVERRIDE = ("SJ04", "520103", ("named", "chengguan"))


def load(*, seed: int = 2026, stdout=None, **options) -> dict[str, int]:
    out = stdout or _Quiet()
    counts = catalog.category_sync(tree=demo_catalog.walk())
    leaves = len(demo_catalog.leaves())
    out.write(f"  categories: {leaves} leaves; created {counts['created']}, updated {counts['updated']}")
    result = load_rules(seed=seed, stdout=out)
    out.write(
        f"  rules: created {result['created']}, updated {result['updated']}, unchanged {result['unchanged']}"
        + (f", skipped {result['skipped']}" if result["skipped"] else "")
    )
    return {**counts, **{f"rules_{k}": v for k, v in result.items()}}


def _city_code() -> str | None:
    return Area.objects.filter(level="city").values_list("code", flat=True).first()


def _grid_for_override(seed: int, district: str) -> str | None:
    codes = sorted(Grid.objects.filter(code__startswith=district).values_list("code", flat=True))
    return random.Random(f"routing-demo:{seed}").choice(codes) if codes else None


@transaction.atomic
def load_rules(*, seed: int, stdout) -> dict[str, int]:
    city = _city_code()
    if city is None:
        stdout.write("  rules: no geography loaded; skipped")
        return {"created": 0, "updated": 0, "unchanged": 0, "skipped": len(RULES) + 1}
    wanted = [(c, city if t == CITY else t, target) for c, t, target in RULES]
    grid = _grid_for_override(seed, GRID_OVERRIDE[1])
    if grid is not None:
        wanted.append((GRID_OVERRIDE[0], grid, GRID_OVERRIDE[2]))

    categories = {c.code: c for c in Category.objects.all()}
    units = {u.code: u for u in Unit.objects.filter(is_active=True)}
    existing = {(r.category_id, r.territory_code, r.basis): r for r in ResponsibilityRule.objects.all()}
    result = {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    for category_code, territory, target in wanted:
        fields = _target_fields(territory, target, units)
        if fields is None:
            # The named owner was not loaded (a cut-down geography): the fallbacks route instead.
            result["skipped"] += 1
            continue
        category = categories[category_code]
        current = existing.get((category.id, territory, fields["basis"]))
        try:
            if current is None:
                catalog.rule_create(category=category, territory_code=territory, **fields)
                result["created"] += 1
            elif (current.unit_id, current.department, current.level) != (
                fields["unit"].id if fields["unit"] else None,
                fields["department"],
                fields["level"],
            ):
                catalog.rule_update(rule_id=current.id, **fields)
                result["updated"] += 1
            else:
                result["unchanged"] += 1
        except ValidationError as exc:
            stdout.write(f"  rules: {category_code} @ {territory} not loaded: {'; '.join(exc.messages)}")
            result["skipped"] += 1
    return result


def _target_fields(territory: str, target: tuple[str, str], units: dict[str, Any]) -> dict[str, Any] | None:
    first, second = target
    if first in ("owner", "named"):
        # A named unit sits on the territory's area: the city's for city-wide rules, the district's for
        # district rules and for grid rules (grids have no units of their own).
        unit = units.get(f"{territory[:6]}-{second}")
        if unit is None:
            return None
        basis = ResponsibilityRule.Basis.OWNER if first == "owner" else ResponsibilityRule.Basis.TERRITORY
        return {"unit": unit, "department": "", "level": "", "basis": basis, "note": ""}
    return {
        "unit": None,
        "department": first,
        "level": second,
        "basis": ResponsibilityRule.Basis.TERRITORY,
        "note": "",
    }


class _Quiet:
    def write(self, text: str) -> None:
        pass
