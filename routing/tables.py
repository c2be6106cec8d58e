"""The in-memory routing tables every process keeps, and the version that says when to rebuild them.

The router never queries the database for rules, categories or units: it reads `tables()`, a
snapshot built once per process. Whoever writes rules or categories bumps a version number in Redis
when the transaction commits (`bump_version_on_commit`); each process compares its snapshot's version
with Redis at most every `ROUTER_CHECK_INTERVAL` seconds and rebuilds when it moved. The process that
made the change drops its own snapshot at once, so its next decision already sees it. Units, grids and
partners written by the lower apps are noticed through their own version keys, read the same way.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation

from grids.locator import VERSION_KEY as GRIDS_VERSION_KEY
from grids.models import Area, Grid
from partners.models import Unit
from partners.selectors import units_by_area_and_department
from partners.services import VERSION_KEY as PARTNERS_VERSION_KEY
from routing.models import Category, ResponsibilityRule

logger = logging.getLogger(__name__)

# The key kept the name it had when routing lived in the dispatch app.
VERSION_KEY = "dispatch:routing:version"

# --- versions ------------------------------------------------------------------------------------


def bump_version_on_commit() -> None:
    """Tell every process its routing tables are stale, once the surrounding transaction commits."""
    transaction.on_commit(bump_version_now)


def bump_version_now() -> None:
    publish_version()
    invalidate_local()


def publish_version() -> None:
    """Move the shared version on, so other processes rebuild at their next check."""
    try:
        cache.add(VERSION_KEY, 0, None)
        cache.incr(VERSION_KEY)
    except Exception:
        # Redis being down must not undo a committed change; this process still sees it (its tables
        # are dropped by the caller), the others once Redis is back and the key reads differently.
        logger.exception("routing: could not bump the version in Redis")


def _version_keys() -> list[str]:
    """Ours, plus the lower apps' keys for what the tables copy: grids (the locator's) and units."""
    return [VERSION_KEY, GRIDS_VERSION_KEY, PARTNERS_VERSION_KEY]


def _read_versions() -> tuple:
    try:
        values = cache.get_many(_version_keys())
    except Exception:
        logger.exception("routing: could not read the version from Redis; keeping the current tables")
        return ()
    return tuple(values.get(key) for key in _version_keys())


# --- the tables ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryNode:
    id: int
    code: str
    name: str
    kind: str
    principle: str
    parent_id: int | None
    lineage: tuple[int, ...]  # itself, then its ancestors up to the root
    depth: int
    is_leaf: bool
    is_active: bool
    default_urgency: str
    capabilities: tuple[str, ...]
    collaborator_departments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleEntry:
    id: int
    category_id: int
    category_code: str
    territory_code: str
    territory_level: str
    basis: str
    unit_id: int | None
    department: str
    level: str
    target: str


@dataclass
class RoutingTables:
    version: tuple
    categories: dict[int, CategoryNode]
    categories_by_code: dict[str, CategoryNode]
    category_objects: dict[int, Any]
    # (basis, territory code, category id) -> rule
    rules: dict[tuple[str, str, int], RuleEntry]
    rule_count: int
    units: dict[int, Any]
    # (area code, department) -> unit id, as partners.selectors.units_by_area_and_department() gives it
    unit_lookup: dict[tuple[str, str], int]
    area_names: dict[str, str]
    city_code: str
    rules_by_category: dict[int, list[RuleEntry]]
    # Grid codes that have rules of their own; every other grid routes like its community.
    grid_territories: frozenset[str]
    # Filled on first use; see router.py.
    memo: dict = field(default_factory=dict)
    node_rules: dict = field(default_factory=dict)
    chains: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)
    lazy: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _add_rule(rules: dict, r, units: dict, nodes: dict) -> None:
    if r.unit_id is not None:
        unit = units.get(r.unit_id)
        target = unit.name if unit is not None else f"#{r.unit_id}"
    else:
        target = f"{r.get_department_display()}@{r.get_level_display()}"
    rules[(r.basis, r.territory_code, r.category_id)] = RuleEntry(
        id=r.id,
        category_id=r.category_id,
        category_code=nodes[r.category_id].code,
        territory_code=r.territory_code,
        territory_level=r.territory_level,
        basis=r.basis,
        unit_id=r.unit_id,
        department=r.department,
        level=r.level,
        target=str(target),
    )


def build_tables(version: tuple = ()) -> RoutingTables:

    objects = {c.id: c for c in Category.objects.all()}
    children: dict[int, int] = {}
    for c in objects.values():
        if c.parent_id is not None:
            children[c.parent_id] = children.get(c.parent_id, 0) + 1

    nodes: dict[int, CategoryNode] = {}
    for c in objects.values():
        lineage = [c.id]
        node = c
        while node.parent_id is not None and node.parent_id not in lineage:
            lineage.append(node.parent_id)
            node = objects[node.parent_id]
        nodes[c.id] = CategoryNode(
            id=c.id,
            code=c.code,
            name=c.name,
            kind=c.kind,
            principle=c.effective_principle,
            parent_id=c.parent_id,
            lineage=tuple(lineage),
            depth=len(lineage) - 1,
            is_leaf=c.id not in children,
            is_active=c.is_active and all(objects[a].is_active for a in lineage),
            default_urgency=c.default_urgency,
            capabilities=tuple(c.capabilities or ()),
            collaborator_departments=tuple(c.collaborator_departments or ()),
        )

    units = {u.id: u for u in Unit.objects.select_related("area")}
    rules: dict[tuple[str, str, int], RuleEntry] = {}
    # Labels in the site's language whichever request happens to build the tables.
    with translation.override(settings.LANGUAGE_CODE):
        for r in ResponsibilityRule.objects.all():
            _add_rule(rules, r, units, nodes)
    by_category: dict[int, list[RuleEntry]] = {}
    for r in rules.values():
        by_category.setdefault(r.category_id, []).append(r)
    areas = dict(Area.objects.values_list("code", "name"))
    areas.update(Grid.objects.values_list("code", "name"))
    city_code = Area.objects.filter(level="city").values_list("code", flat=True).first() or "520100"
    return RoutingTables(
        version=version,
        categories=nodes,
        categories_by_code={n.code: n for n in nodes.values()},
        category_objects=objects,
        rules=rules,
        rule_count=len(rules),
        rules_by_category=by_category,
        grid_territories=frozenset(r.territory_code for r in rules.values() if r.territory_level == "grid"),
        units=units,
        unit_lookup=dict(units_by_area_and_department()),
        area_names=areas,
        city_code=city_code,
    )


_state_lock = threading.Lock()
_tables: RoutingTables | None = None
_checked_at = 0.0


def tables() -> RoutingTables:
    """This process's routing tables, rebuilt when another process (or this one) changed them."""
    global _tables, _checked_at
    current = _tables
    now = time.monotonic()
    if current is not None and now - _checked_at < settings.ROUTER_CHECK_INTERVAL:
        return current
    version = _read_versions()
    if current is not None and (version == current.version or version == ()):
        _checked_at = now
        return current
    with _state_lock:
        if _tables is None or _tables is current:
            _tables = build_tables(version)
        _checked_at = now
        return _tables


def invalidate_local() -> None:
    global _tables
    _tables = None
