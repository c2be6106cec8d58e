"""Live groups: who hears about a case. Every group name is spelled here and only here.

The publisher (`dispatch.live.publisher`) and the socket (`dispatch.live.consumer`) both take their
names from this module, so the two sides cannot drift.

Groups are narrow on purpose — a group send reaches exactly the sockets that may see the case:

    live.all              supervisors, city dispatchers, superusers
    live.district.<code>  dispatchers of that district (incl. its triage queue)
    live.unit.<id>        members of the lead unit or of a unit with an active assignment (lead or 协办)
    live.partner.<id>     members of a partner organisation with an active assignment
    live.grid.<code>      grid workers of the case's grid
    live.source.hotline   12345 agents (any agent may make the callback on any hotline case)
    live.user.<id>        the person who reported the case

A case's groups are published in `delivery_order`: those who must act on it first.
"""

from __future__ import annotations

from dispatch.models import Assignment, Case
from dispatch.selectors import roles_of

ALL = "all"
UNIT = "unit"
PARTNER = "partner"
GRID = "grid"
DISTRICT = "district"
USER = "user"
SOURCE = "source"
_SCOPES = frozenset({ALL, UNIT, PARTNER, GRID, DISTRICT, USER, SOURCE})
# A PUBLISH per group, and every server hands each one to its sockets in turn: the units and partners
# the case is assigned to (whose signing clock runs) hear first, then its reporter and the grid, the
# hotline and the district who follow it, and the city-wide watchers last.
_DELIVERY_RANK = {UNIT: 0, PARTNER: 0, USER: 1, GRID: 2, SOURCE: 3, DISTRICT: 4, ALL: 5}


def group_name(scope: str, key: object = None) -> str:
    """The one place a live group's name is spelled."""
    if scope not in _SCOPES:
        raise ValueError(f"unknown live group scope {scope!r}")
    if scope == ALL:
        return "live.all"
    if key is None or key == "":
        raise ValueError(f"live group scope {scope!r} needs a key")
    return f"live.{scope}.{key}"


def delivery_order(names) -> list[str]:
    """`names` with those who must act first (then by name, so the order is always the same)."""
    return sorted(names, key=lambda name: (_DELIVERY_RANK[name.split(".")[1]], name))


def group_names_for_case(case, active_assignments: list[tuple[int | None, int | None]] | None = None) -> list[str]:
    """Every group whose members may see `case` — the rule of `dispatch.selectors.visible_cases` —
    in `delivery_order`.

    `active_assignments` — (unit_id, partner_id) of the case's active assignments — saves a query
    when the caller has them already.
    """
    names = {group_name(ALL)}
    if case.district_code:
        names.add(group_name(DISTRICT, case.district_code))
    if case.grid_code:
        names.add(group_name(GRID, case.grid_code))
    if case.source == Case.Source.HOTLINE:
        names.add(group_name(SOURCE, Case.Source.HOTLINE))
    if case.lead_unit_id:
        names.add(group_name(UNIT, case.lead_unit_id))
    if case.reporter_id:
        names.add(group_name(USER, case.reporter_id))
    if active_assignments is None:
        active = case.assignments.filter(status__in=Assignment.ACTIVE)
        active_assignments = list(active.values_list("unit_id", "partner_id"))
    for unit_id, partner_id in active_assignments:
        if unit_id:
            names.add(group_name(UNIT, unit_id))
        if partner_id:
            names.add(group_name(PARTNER, partner_id))
    return delivery_order(names)


def group_names_for_user(user) -> list[str]:
    """The groups a user listens to, from the same roles `visible_cases` uses; empty for anonymous or
    deactivated users."""
    roles = roles_of(user)
    if roles.user_id is None:
        return []
    if roles.sees_everything:
        return [group_name(ALL)]
    names = {group_name(USER, roles.user_id)}
    names.update(group_name(DISTRICT, code) for code in roles.dispatcher_districts)
    names.update(group_name(GRID, code) for code in roles.grids)
    names.update(group_name(UNIT, unit_id) for unit_id in roles.member_units)
    names.update(group_name(PARTNER, partner_id) for partner_id in roles.member_partners)
    if roles.agent:
        names.add(group_name(SOURCE, "hotline"))
    return sorted(names)
