"""The explainable router: which unit leads a case, who helps, and why.

`route()` takes a located point (or a grid code) and a category and returns a `Decision`. The order the
rules are tried in (docs/routing.md has worked examples):

1. The category's principle orders the two bases: 部件 (owner_first) try the owner rules (named
   units: 供电局 owns the street lamps) before the territorial ones; 事件 and needs (territory_first)
   try the territorial rules (the department at a level of the point's chain: the street's 综合执法队)
   first.
2. Within a basis the most specific territory wins — grid, community, street, district, city — and
   within a territory the most specific category (the leaf before its parent before the root).
3. A rule whose unit is inactive, or whose department has no unit at that level of this point's chain,
   is passed over and the walk goes on. When nothing resolves, the case goes to triage: the lead is
   the district's 综治中心, `triage=True`, and the explanation says so.

Everything is read from the in-memory tables (routing/tables.py), so after locating a point a decision
is a few dictionary lookups; the rule walk for a (category, grid) pair is remembered until the tables
change. The explanation's texts come from routing/explanations.py, the partners from the spatial index
in routing/partner_index.py.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import shapely
from django.utils.translation import gettext as _

from grids import locator
from grids.locator import Location, current_index
from partners.models import Department
from routing.explanations import fixed_texts, no_unit_note, summary
from routing.partner_index import PartnerLoad, select_partners
from routing.tables import RoutingTables, tables
from routing.validation import OWNER, TERRITORY

ORDER = {"owner_first": (OWNER, TERRITORY), "territory_first": (TERRITORY, OWNER)}
CHAIN_LEVELS = ("grid", "community", "street", "district", "city")  # narrowest first
ZONGZHI = "zongzhi"  # the department that triages what no rule resolves (the district's 综治中心)
_MEMO_LIMIT = 400_000


class RoutingError(ValueError):
    """The input cannot be routed at all; `field` names the input that is wrong."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(slots=True)
class Decision:
    lead: Any  # partners.models.Unit; the district's 综治中心 when triage
    triage: bool
    collaborators: list = field(default_factory=list)  # partners.models.Unit
    partners: list = field(default_factory=list)  # partners.models.Partner
    needs_review: bool = False
    location: Any = None  # grids.locator.Location
    explanation: dict = field(default_factory=dict)
    category: Any = None  # routing.models.Category
    urgency: str = "normal"

    def as_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "category": {"id": self.category.id, "code": self.category.code, "name": self.category.name}
            if self.category is not None
            else None,
            "urgency": self.urgency,
            "lead": unit_dict(self.lead),
            "triage": self.triage,
            "collaborators": [unit_dict(u) for u in self.collaborators],
            "partners": [{"id": p.id, "code": p.code, "name": p.name} for p in self.partners],
            "needs_review": self.needs_review,
            "location": {
                "lon": loc.lon,
                "lat": loc.lat,
                "grid": loc.grid,
                "community": loc.community,
                "street": loc.street,
                "district": loc.district,
                "city": loc.city,
                "outside": loc.outside,
                "near_boundary": loc.near_boundary,
                "distance_m": loc.distance_m,
            }
            if loc is not None
            else None,
            "explanation": self.explanation,
        }


def unit_dict(unit) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {
        "id": unit.id,
        "code": unit.code,
        "name": unit.name,
        "department": unit.department,
        "department_label": str(Department(unit.department).label),
        "level": unit.level,
    }


@dataclass(frozen=True, slots=True)
class _Walk:
    """The part of a decision that depends only on the category and the grid chain (memoised)."""

    lead_id: int | None
    triage: bool
    collaborator_ids: tuple[int, ...]
    explanation: dict


# --- public API ----------------------------------------------------------------------------------


def route(
    *,
    category,
    urgency: str = "normal",
    location=None,
    grid: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    partner_load: PartnerLoad | None = None,
) -> Decision:
    """Decide who leads a case of `category` at a place, and explain why.

    The place is a `grids.locator.Location`, a grid code, or a point (`lon`, `lat` in `crs`) that is
    located here. `category` is a Category, its id or its code. `partner_load(ids) -> {id: open cases}`
    tells how busy partners are (default: all idle). Raises RoutingError (a ValueError with `.field`)
    when the category or place is unknown or the point lies outside the city.
    """
    t = tables()
    node = _category_node(t, category)
    location = _resolve_location(t, location=location, grid=grid, lon=lon, lat=lat, crs=crs)
    return _decide(t, node, urgency or node.default_urgency, location, partner_load)


def route_many(
    *,
    categories,
    lons,
    lats,
    crs: str = "wgs84",
    urgency: str = "",
    partner_load: PartnerLoad | None = None,
) -> list[Decision | None]:
    """`route` for many points at once: one vectorised locate, then a decision per point.

    `categories` holds one category (code, id or Category) per point. A point outside the city gives
    None in its place; an unknown category raises RoutingError.
    """
    t = tables()
    nodes = [_category_node(t, c) for c in categories]
    locations = locator.locate_many(lons, lats, crs)
    return [
        None if location is None else _decide(t, node, urgency or node.default_urgency, location, partner_load)
        for node, location in zip(nodes, locations, strict=True)
    ]


def route_chain(*, category, chain: dict[str, str | None]) -> tuple[Any, bool, dict]:
    """The lead, triage flag and rule walk for a chain alone (no point, no partners). For check_routing."""
    t = tables()
    node = _category_node(t, category)
    walk = _walk(t, node, _chain_tuple(t, chain))
    return t.units.get(walk.lead_id), walk.triage, walk.explanation


# --- steps ---------------------------------------------------------------------------------------


def _category_node(t: RoutingTables, category):
    if type(category) is str:
        node = t.categories_by_code.get(category)
    elif isinstance(category, int):
        node = t.categories.get(category)
    elif hasattr(category, "pk"):
        node = t.categories.get(category.pk)
    else:
        node = t.categories_by_code.get(str(category))
    if node is None or not node.is_active:
        raise RoutingError("category", _("未知或已停用的类别：%(c)s。") % {"c": getattr(category, "code", category)})
    return node


def _resolve_location(t: RoutingTables, *, location, grid, lon, lat, crs):
    if location is not None:
        return location
    if grid:
        location = grid_location(t, str(grid))
        if location is None:
            raise RoutingError("grid", _("没有编码为 %(code)s 的网格。") % {"code": grid})
        return location
    if lon is None or lat is None:
        raise RoutingError("location", _("请提供坐标（lon、lat）或网格编码。"))
    located = locator.locate(lon, lat, crs=crs)
    if located is None:
        raise RoutingError("location", _("该位置不在贵阳市范围内。"))
    return located


def grid_location(t: RoutingTables, code: str):
    """A Location for a grid given by code (at a point inside it), or None when there is no such grid."""
    index = current_index()
    i = bisect.bisect_left(index.codes, code)
    if i == len(index.codes) or index.codes[i] != code:
        return None
    inside = shapely.point_on_surface(index.geoms[i])
    grid, community, street, district, city = index.chains[i]
    return Location(
        grid=grid, community=community, street=street, district=district, city=city, lon=inside.x, lat=inside.y
    )


def _chain_tuple(t: RoutingTables, loc) -> tuple[str | None, ...]:
    get = loc.get if isinstance(loc, dict) else lambda name: getattr(loc, name, None)
    return (get("grid"), get("community"), get("street"), get("district"), get("city") or t.city_code)


def _decide(t: RoutingTables, node, urgency: str, location, partner_load: PartnerLoad | None) -> Decision:
    grid = location.grid
    city = location.city or t.city_code
    # Grids without rules of their own route like their community, so the walk is shared by them.
    rule_chain = (
        grid if grid in t.grid_territories else None,
        location.community,
        location.street,
        location.district,
        city,
    )
    key = (node.id, rule_chain)
    walk = t.memo.get(key)
    if walk is None:
        walk = _walk(t, node, rule_chain)
        if len(t.memo) > _MEMO_LIMIT:
            t.memo.clear()
        t.memo[key] = walk

    needs_review = location.outside or location.near_boundary
    explanation = walk.explanation.copy()
    explanation["chain"] = _chain_links(t, (grid, location.community, location.street, location.district, city))
    explanation["urgency"] = urgency
    if needs_review:
        explanation["review"] = fixed_texts()["outside" if location.outside else "near_boundary"]

    chosen: list = []
    if node.capabilities:
        chosen, tests = select_partners(t, node, location, partner_load)
        explanation["partners"] = tests

    units = t.units
    return Decision(
        lead=units.get(walk.lead_id),
        triage=walk.triage,
        collaborators=[units[i] for i in walk.collaborator_ids],
        partners=chosen,
        needs_review=bool(needs_review),
        location=location,
        explanation=explanation,
        category=t.category_objects[node.id],
        urgency=urgency,
    )


def _chain_links(t: RoutingTables, chain: tuple) -> list[dict[str, str]]:
    links = t.chains.get(chain)
    if links is None:
        links = [
            {"level": level, "code": code, "name": t.area_names.get(code, "")}
            for level, code in zip(CHAIN_LEVELS, chain, strict=True)
            if code
        ]
        t.chains[chain] = links
    return links


def _node_rules(t: RoutingTables, node) -> dict[str, dict[str, list]]:
    """{basis: {territory code: [rules of this category's lineage, deepest category first]}}."""
    found = t.node_rules.get(node.id)
    if found is None:
        found = {OWNER: {}, TERRITORY: {}}
        for category_id in node.lineage:
            for rule in t.rules_by_category.get(category_id, ()):
                found[rule.basis].setdefault(rule.territory_code, []).append(rule)
        t.node_rules[node.id] = found
    return found


def _walk(t: RoutingTables, node, chain: tuple[str | None, ...]) -> _Walk:
    """Try the rules in the principle's order and record each one."""
    considered: list[dict[str, Any]] = []
    matched = None
    lead_id = None
    applicable = _node_rules(t, node)
    for basis in ORDER[node.principle]:
        by_territory = applicable[basis]
        if not by_territory:
            continue
        for territory in chain:
            for rule in by_territory.get(territory, ()) if territory else ():
                if lead_id is not None:
                    considered.append(_rule_dict(rule, "not_reached", fixed_texts()["not_reached"]))
                    continue
                unit_id, outcome, note = _resolve(t, rule, chain)
                considered.append(_rule_dict(rule, outcome, note))
                if unit_id is not None:
                    lead_id = unit_id
                    matched = considered[-1]

    district = chain[3]
    triage = lead_id is None
    if triage:
        lead_id = t.unit_lookup.get((district, ZONGZHI)) if district else None
        if lead_id is None:
            lead_id = t.unit_lookup.get((t.city_code, ZONGZHI))

    collaborators: list[int] = []
    collaborator_notes: list[dict[str, Any]] = []
    for department in node.collaborator_departments:
        found = _nearest_unit(t, department, chain)
        if found is not None and found[0] != lead_id and found[0] not in collaborators:
            collaborators.append(found[0])
            collaborator_notes.append({"department": department, "unit": found[0], "area": found[1]})
        elif found is None:
            collaborator_notes.append({"department": department, "unit": None, "area": None})

    explanation = {
        "category": node.code,
        "principle": node.principle,
        "order": list(ORDER[node.principle]),
        "categories": [t.categories[c].code for c in node.lineage],
        "rules": considered,
        "matched": matched["rule"] if matched else None,
        "triage": triage,
        "lead": lead_id,
        "collaborators": collaborator_notes,
        "summary": summary(t, node, matched, lead_id),
    }
    return _Walk(lead_id=lead_id, triage=triage, collaborator_ids=tuple(collaborators), explanation=explanation)


def _resolve(t: RoutingTables, rule, chain) -> tuple[int | None, str, dict | None]:
    """The unit a rule names at this chain, or None with the reason it could not be used."""
    if rule.unit_id is not None:
        unit = t.units.get(rule.unit_id)
        if unit is None or not unit.is_active:
            return None, "skipped", fixed_texts()["unit_inactive"]
        return unit.id, "matched", None
    area = chain[CHAIN_LEVELS.index(rule.level)] if rule.level in CHAIN_LEVELS else None
    if not area:
        return None, "skipped", fixed_texts()["no_area"]
    unit_id = t.unit_lookup.get((area, rule.department))
    unit = t.units.get(unit_id) if unit_id is not None else None
    if unit is None or not unit.is_active:
        return None, "skipped", no_unit_note(t, area, rule.department)
    return unit.id, "matched", None


def _nearest_unit(t: RoutingTables, department: str, chain) -> tuple[int, str] | None:
    """A collaborating department's unit: the closest one up the chain (community first, city last)."""
    for area in chain[1:]:
        if not area:
            continue
        unit_id = t.unit_lookup.get((area, department))
        if unit_id is not None and t.units.get(unit_id) is not None and t.units[unit_id].is_active:
            return unit_id, area
    return None


def _rule_dict(rule, outcome: str, note: dict | None) -> dict[str, Any]:
    return {
        "rule": rule.id,
        "category": rule.category_code,
        "territory": rule.territory_code,
        "territory_level": rule.territory_level,
        "basis": rule.basis,
        "target": rule.target,
        "outcome": outcome,
        "note": note,
    }
