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
change.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as N_

from partners.models import Department
from routing.tables import RoutingTables, tables

OWNER = "owner"
TERRITORY = "territory"
ORDER = {"owner_first": (OWNER, TERRITORY), "territory_first": (TERRITORY, OWNER)}
CHAIN_LEVELS = ("grid", "community", "street", "district", "city")  # narrowest first
ZONGZHI = "zongzhi"
PARTNER_CANDIDATES = 8  # how many nearby partners an explanation reports on when none qualifies
_MEMO_LIMIT = 400_000

PartnerLoad = Callable[[list[int]], dict[int, int]]


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
    category: Any = None  # dispatch.models.Category
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
    from grids import locator

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
    from grids import locator

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
    import shapely

    from grids.locator import Location, current_index

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
        explanation["review"] = _fixed_texts()["outside" if location.outside else "near_boundary"]

    chosen: list = []
    if node.capabilities:
        chosen, tests = _select_partners(t, node, location, partner_load)
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
                    considered.append(_rule_dict(rule, "not_reached", _fixed_texts()["not_reached"]))
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
        "summary": _summary(t, node, matched, lead_id),
    }
    return _Walk(lead_id=lead_id, triage=triage, collaborator_ids=tuple(collaborators), explanation=explanation)


def _summary(t: RoutingTables, node, matched: dict | None, lead_id: int | None) -> dict[str, str]:
    key = ("summary", node.principle, matched["rule"] if matched else None, lead_id)
    found = t.texts.get(key)
    if found is None:
        lead = t.units.get(lead_id)
        if matched is None:
            found = texts(
                N_("没有规则能确定牵头单位，转%(unit)s分拨（待分拨）。"),
                unit=_unit_label(lead) if lead is not None else gettext_lazy("综治中心"),
            )
        else:
            found = texts(
                N_("按%(principle)s，匹配规则 #%(rule)s（%(category)s @ %(territory)s），牵头单位：%(unit)s。"),
                principle=PRINCIPLE_LABELS[node.principle],
                rule=matched["rule"],
                category=matched["category"],
                territory=_area_label(t, matched["territory"]),
                unit=_unit_label(lead),
            )
        t.texts[key] = found
    return found


def _resolve(t: RoutingTables, rule, chain) -> tuple[int | None, str, dict | None]:
    """The unit a rule names at this chain, or None with the reason it could not be used."""
    if rule.unit_id is not None:
        unit = t.units.get(rule.unit_id)
        if unit is None or not unit.is_active:
            return None, "skipped", _fixed_texts()["unit_inactive"]
        return unit.id, "matched", None
    area = chain[CHAIN_LEVELS.index(rule.level)] if rule.level in CHAIN_LEVELS else None
    if not area:
        return None, "skipped", _fixed_texts()["no_area"]
    unit_id = t.unit_lookup.get((area, rule.department))
    unit = t.units.get(unit_id) if unit_id is not None else None
    if unit is None or not unit.is_active:
        key = ("no_unit", area, rule.department)
        note = t.texts.get(key)
        if note is None:
            note = t.texts[key] = texts(
                N_("%(area)s没有在用的%(department)s单位。"),
                area=_area_label(t, area),
                department=_department_label(rule.department),
            )
        return None, "skipped", note
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


PRINCIPLE_LABELS = {"owner_first": gettext_lazy("先属主、后属地"), "territory_first": gettext_lazy("先属地、后属主")}


def texts(message: str, **params: Any) -> dict[str, str]:
    """`message` % `params` in every language the site offers: {"zh-hans": …, "en": …}.

    Explanations are stored with the case and read later by people using either language, so they
    carry each text in all of them; lazy params (labels) are rendered in each language too, and a
    param that is itself such a dict (`_area_label`, `_unit_label`) gives each language its own value.
    """
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            text = translation.gettext(message)
            out[code] = text % {k: _in_language(v, code) for k, v in params.items()} if params else text
    return out


def _in_language(value: Any, code: str) -> str:
    if isinstance(value, dict):
        return value.get(code) or value[settings.LANGUAGE_CODE]
    return str(value)


def _named(name: str, describe: Callable[[], str]) -> dict[str, str]:
    """A proper name in every language: as stored in the site's own language, and — since names of
    places and units exist only in Chinese — `describe()` (labels and codes) rendered in the others."""
    out = {}
    for code, _name in settings.LANGUAGES:
        if code == settings.LANGUAGE_CODE:
            out[code] = name
            continue
        with translation.override(code):
            out[code] = describe()
    return out


_FIXED: dict[str, dict[str, str]] = {}


def _fixed_texts() -> dict[str, dict[str, str]]:
    """Texts without parameters, rendered once per process (the hot path never translates)."""
    if not _FIXED:
        _FIXED.update(
            {
                "outside": texts(N_("位置在辖区范围之外（已就近归入网格），请人工复核。")),
                "near_boundary": texts(N_("位置靠近辖区边界，请人工复核。")),
                "not_reached": texts(N_("已由前面的规则确定，未使用。")),
                "unit_inactive": texts(N_("单位已停用。")),
                "no_area": texts(N_("该位置没有此层级的区域。")),
                "inactive": texts(N_("已停用")),
                "capability": texts(N_("不具备所需服务能力")),
                "service_area": texts(N_("服务范围不覆盖该位置")),
                "capacity": texts(N_("在办案件已达上限")),
            }
        )
    return _FIXED


def _area_label(t: RoutingTables, code: str) -> dict[str, str]:
    """The area as 南明区（520102） in Chinese and as "district 520102" in the other languages."""
    name = t.area_names.get(code)
    level = _level_of(t, code)
    return _named(f"{name}（{code}）" if name else code, lambda: f"{_level_label(level)} {code}" if level else code)


def _unit_label(unit) -> dict[str, str]:
    """The unit's name in Chinese; "City management (district 520102)" in the other languages."""
    area = unit.area
    return _named(unit.name, lambda: f"{_department_label(unit.department)} ({_level_label(area.level)} {area.code})")


def _level_of(t: RoutingTables, code: str) -> str | None:
    if code == t.city_code:
        return "city"
    return {6: "district", 9: "street", 12: "community", 15: "grid"}.get(len(code))


def _level_label(level: str) -> str:
    from routing.models import ResponsibilityRule

    try:
        return str(ResponsibilityRule.TerritoryLevel(level).label)
    except ValueError:
        return level


def _department_label(department: str):
    from partners.models import Department

    try:
        return Department(department).label
    except ValueError:
        return department


# --- partners ------------------------------------------------------------------------------------


class _PartnerIndex:
    """Every partner in memory: service areas prepared for point tests, offices and bounds in arrays.

    The main path is by grid (`at_grid`): built once from the locator's grids, it holds for each
    (capability, grid) the active partners whose service area covers the whole grid — every point the
    locator places in that grid is covered, no test needed — and those whose area only overlaps it,
    which a point there is tested against (a few prepared point-in-polygon tests in one call).

    Points the grids cannot answer for (placed in a grid from outside it, or located by a newer grid
    snapshot than the one this index was built from) take the general path: for each (capability set,
    community) the partners whose service area's bounding box meets the community's, then a box
    comparison and the polygon test on what is left. Explanations use that path too.
    """

    def __init__(self) -> None:
        import numpy as np
        import shapely

        from partners.models import Partner

        self.partners = list(Partner.objects.defer("service_area", "location").order_by("id"))
        geoms = dict(Partner.objects.values_list("id", "service_area"))
        locations = dict(Partner.objects.values_list("id", "location"))
        self.areas = np.array(
            [shapely.from_wkb(bytes(geoms[p.id].wkb)) if geoms.get(p.id) else shapely.Polygon() for p in self.partners],
            dtype=object,
        )
        shapely.prepare(self.areas)
        self.bounds = shapely.bounds(self.areas) if len(self.areas) else np.empty((0, 4))
        self.capabilities = [frozenset(p.capabilities or ()) for p in self.partners]
        self.active = [p.is_active for p in self.partners]
        self.capacity = [p.capacity for p in self.partners]
        self.xs = np.array([locations[p.id].x if locations.get(p.id) else np.nan for p in self.partners])
        self.ys = np.array([locations[p.id].y if locations.get(p.id) else np.nan for p in self.partners])
        self.xs_list, self.ys_list = self.xs.tolist(), self.ys.tolist()
        self._community_boxes: dict[str, tuple] | None = None
        self._eligible: dict[frozenset | None, Any] = {}
        self._pools: dict[tuple, tuple] = {}
        self._setup_grids()

    def _setup_grids(self) -> None:
        import numpy as np
        import shapely

        from grids.locator import current_index

        grids = current_index()
        self.grids = grids
        self.grid_position = {code: g for g, code in enumerate(grids.codes)}
        n = len(grids.codes)
        # capability -> per grid (covering partners, overlapping partners or None); ascending indices.
        self._by_grid: dict[str, list[tuple[tuple[int, ...], Any]]] = {}
        self._combined: dict[tuple[frozenset, int], tuple[tuple[int, ...], Any]] = {}
        if not n or not len(self.areas):
            return
        # Boxes first (the tree alone, no geometry): a pair whose boxes meet but whose shapes do not
        # only costs a point test that fails. Only a grid whose box lies inside the area's can be covered.
        p, g = grids.tree.query(self.areas)
        a, b = self.bounds[p], shapely.bounds(grids.geoms)[g]
        maybe = (a[:, 0] <= b[:, 0]) & (a[:, 1] <= b[:, 1]) & (a[:, 2] >= b[:, 2]) & (a[:, 3] >= b[:, 3])
        whole = np.zeros(len(p), dtype=bool)
        whole[maybe] = shapely.covers(self.areas[p[maybe]], grids.geoms[g[maybe]])
        order = np.lexsort((p, g))
        offered = [caps if self.active[i] else frozenset() for i, caps in enumerate(self.capabilities)]
        whole_at: dict[str, list[list[int]]] = {}
        partial_at: dict[str, list[list[int]]] = {}
        for capability in sorted(set().union(*self.capabilities)):
            whole_at[capability] = [[] for _ in range(n)]
            partial_at[capability] = [[] for _ in range(n)]
        # Ascending partner index within each grid (the lexsort order), as the general path gives them.
        for i, k, covered in zip(p[order].tolist(), g[order].tolist(), whole[order].tolist(), strict=True):
            for capability in offered[i]:
                (whole_at if covered else partial_at)[capability][k].append(i)
        for capability, wholes in whole_at.items():
            self._by_grid[capability] = [
                (tuple(w), np.array(q, dtype=np.int64) if q else None)
                for w, q in zip(wholes, partial_at[capability], strict=True)
            ]

    def at_grid(self, needed: frozenset, location) -> list[int] | None:
        """The partners offering any of `needed` whose service area covers the located point, from the
        grid index; None when the grid index cannot answer for this location (take `covering`)."""
        import numpy as np
        import shapely

        if location.outside:
            return None
        g = self.grid_position.get(location.grid)
        if g is None or current_grids() is not self.grids:
            return None
        if len(needed) == 1:
            (capability,) = needed
            per_grid = self._by_grid.get(capability)
            if per_grid is None:
                return []
            whole, partial = per_grid[g]
        else:
            key = (needed, g)
            found = self._combined.get(key)
            if found is None:
                parts = [self._by_grid[c][g] for c in needed if c in self._by_grid]
                whole = tuple(sorted({i for w, _p in parts for i in w}))
                partial = sorted({i for _w, q in parts if q is not None for i in q.tolist()} - set(whole))
                found = self._combined[key] = (whole, np.array(partial, dtype=np.int64) if partial else None)
            whole, partial = found
        if partial is None:
            return list(whole)
        hits = partial[shapely.intersects_xy(self.areas[partial], location.lon, location.lat)]
        return [*whole, *hits.tolist()] if hits.size else list(whole)

    def pool(self, needed: frozenset | None, community: str) -> tuple:
        """(indices, their bounds) of the partners whose service area's box meets the community's:
        active ones offering any of `needed`, or — `needed` None — every partner, for explanations."""
        key = (needed, community)
        found = self._pools.get(key)
        if found is None:
            import numpy as np

            indices = self._eligible.get(needed)
            if indices is None:
                if needed is None:
                    indices = np.arange(len(self.partners))
                else:
                    indices = np.array(
                        [i for i, caps in enumerate(self.capabilities) if self.active[i] and needed & caps],
                        dtype=np.int64,
                    )
                self._eligible[needed] = indices
            box = self.community_boxes().get(community)
            if box is not None and indices.size:
                b = self.bounds[indices]
                indices = indices[(b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])]
            found = self._pools[key] = (indices, self.bounds[indices])
        return found

    def community_boxes(self) -> dict[str, tuple]:
        """Bounding boxes of the communities, from the locator's grids (no query)."""
        if self._community_boxes is None:
            import shapely

            from grids.locator import current_index

            index = current_index()
            boxes: dict[str, list[float]] = {}
            for code, (x0, y0, x1, y1) in zip(index.codes, shapely.bounds(index.geoms).tolist(), strict=True):
                box = boxes.get(code[:12])
                if box is None:
                    boxes[code[:12]] = [x0, y0, x1, y1]
                else:
                    box[0], box[1], box[2], box[3] = min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)
            self._community_boxes = {code: tuple(box) for code, box in boxes.items()}
        return self._community_boxes

    def covering(self, pool: tuple, lon: float, lat: float) -> list[int]:
        """The partners of a pool whose service area covers the point (its edge counts)."""
        import shapely

        indices, b = pool
        if not indices.size:
            return []
        hits = indices[(b[:, 0] <= lon) & (b[:, 2] >= lon) & (b[:, 1] <= lat) & (b[:, 3] >= lat)]
        if not hits.size:
            return []
        return hits[shapely.intersects_xy(self.areas[hits], lon, lat)].tolist()

    def distance(self, i: int, lon: float, lat: float) -> float:
        # Equirectangular is well within a metre of the great circle at city scale.
        x, y = self.xs_list[i], self.ys_list[i]
        if x != x:  # no office location (NaN)
            return math.inf
        return 6_371_008.8 * math.hypot(math.radians(x - lon) * math.cos(math.radians(lat)), math.radians(y - lat))


def current_grids():
    from grids.locator import current_index

    return current_index()


def _partner_index(t: RoutingTables) -> _PartnerIndex:
    index = t.lazy.get("partners")
    if index is None:
        with t.lock:
            index = t.lazy.get("partners")
            if index is None:
                index = _PartnerIndex()
                t.lazy["partners"] = index
    return index


def _select_partners(
    t: RoutingTables, node, location, partner_load: PartnerLoad | None
) -> tuple[list, list[dict[str, Any]]]:
    """Active partners with a needed capability whose service area covers the point and who are under
    capacity, nearest office first, at most ROUTER_MAX_PARTNERS; and the tests of those looked at.

    When fewer than the maximum qualify, the partners nearby are reported too, each with the first
    test it failed, so a dispatcher can see why.
    """
    index = _partner_index(t)
    lon, lat = location.lon, location.lat
    needed = frozenset(node.capabilities)

    found = index.at_grid(needed, location)
    if found is None:
        found = index.covering(index.pool(needed, location.community), lon, lat)
    ranked = sorted((index.distance(i, lon, lat), i) for i in found)
    load: dict[int, int] = {}
    if partner_load is not None and ranked:
        load = partner_load([index.partners[i].id for _d, i in ranked])

    limit = settings.ROUTER_MAX_PARTNERS
    chosen: list = []
    tests: list[dict[str, Any]] = []
    reported: set[int] = set()
    for d, i in ranked:
        if len(chosen) >= limit:
            break
        partner = index.partners[i]
        full = load.get(partner.id, 0) >= index.capacity[i]
        if not full:
            chosen.append(partner)
        tests.append(_partner_test(index, i, d, load, "capacity" if full else None))
        reported.add(i)
    if len(chosen) < limit:
        tests.extend(_why_not(index, needed, location, load, reported))
    return chosen, tests


def _why_not(index: _PartnerIndex, needed: frozenset, location, load, reported: set) -> list:
    """The nearest partners around the point not reported yet — any whose service area reaches the
    community, active or not, capable or not — each with the first test it fails."""
    import numpy as np

    lon, lat = location.lon, location.lat
    pool = index.pool(None, location.community)
    covering = set(index.covering(pool, lon, lat))
    indices = pool[0]
    if len(indices) > PARTNER_CANDIDATES + len(reported):
        # Only the nearest few are reported: rank offices in one vectorised pass, sort just those.
        k = math.cos(math.radians(lat))
        far = np.hypot((index.xs[indices] - lon) * k, index.ys[indices] - lat)
        indices = indices[np.argpartition(np.nan_to_num(far, nan=np.inf), PARTNER_CANDIDATES + len(reported))]
        indices = indices[: PARTNER_CANDIDATES + len(reported) + 1]
    nearby = sorted((index.distance(i, lon, lat), i) for i in indices.tolist() if i not in reported)
    tests = []
    for d, i in nearby[:PARTNER_CANDIDATES]:
        if not index.active[i]:
            failed = "inactive"
        elif not needed & index.capabilities[i]:
            failed = "capability"
        elif i not in covering:
            failed = "service_area"
        else:
            failed = "capacity"  # active, capable and covering: only its load can have kept it out
        tests.append(_partner_test(index, i, d, load, failed))
    return tests


def _partner_test(index: _PartnerIndex, i: int, distance: float, load, failed: str | None) -> dict[str, Any]:
    partner = index.partners[i]
    return {
        "partner": partner.id,
        "name": partner.name,
        "distance_m": None if distance == math.inf else round(distance),
        "open_cases": load.get(partner.id, 0),
        "capacity": index.capacity[i],
        "chosen": failed is None,
        "failed": failed,
        "reason": _fixed_texts()[failed] if failed else None,
    }
