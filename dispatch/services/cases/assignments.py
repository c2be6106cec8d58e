"""Who holds a case: its lead and collaborator assignments, their deadlines, and the triage queue's unit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from dispatch.models import Assignment, Case
from dispatch.selectors import Roles
from dispatch.sla import clock
from partners.models import Department, Unit

# A case nobody can be routed to waits in the triage queue of a command centre: the district's
# 综治中心 (comprehensive governance centre, whose dispatchers direct the district's cases), else the
# city's. A unit of this department never handles a case itself, so a reopened case led by one goes
# back to triage rather than to it.
TRIAGE_DEPARTMENT = Department.ZONGZHI


def triage_unit(district_code: str) -> Unit | None:
    """The command centre whose triage queue takes a case: the district's 综治中心, else the city's."""
    units = Unit.objects.filter(department=TRIAGE_DEPARTMENT, is_active=True)
    if district_code:
        unit = units.filter(level=Unit.Level.DISTRICT, area__code=district_code).first()
        if unit is not None:
            return unit
    return units.filter(level=Unit.Level.CITY).first()


def lead_assignment(case: Case) -> Assignment | None:
    """The case's active lead assignment, with its unit."""
    return (
        case.assignments.filter(role=Assignment.Role.LEAD, status__in=Assignment.ACTIVE).select_related("unit").first()
    )


def own_assignment(case: Case, roles: Roles) -> Assignment | None:
    """The actor's active assignment on the case, the lead one first."""
    for assignment in case.assignments.filter(status__in=Assignment.ACTIVE).order_by("-role", "id"):
        # "lead" sorts after "collaborator", hence the descending order.
        if roles.handles(assignment):
            return assignment
    return None


def unit_data(unit) -> dict[str, Any] | None:
    """A unit as events record it."""
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def deadlines(case: Case, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(sign_due, reply_due) for an assignment on `case` dispatched at `start`."""
    return clock.deadlines_for(category=case.category, urgency=case.urgency, start=start)


def assign_lead(case: Case, unit, *, now: dt.datetime) -> Assignment:
    """Withdraw the current lead (history stays) and dispatch to `unit` with fresh deadlines."""
    case.assignments.filter(role=Assignment.Role.LEAD, status__in=Assignment.ACTIVE).update(
        status=Assignment.Status.WITHDRAWN
    )
    sign_due, reply_due = deadlines(case, now)
    case.lead_unit = unit
    return Assignment.objects.create(
        case=case,
        unit=unit,
        role=Assignment.Role.LEAD,
        dispatched_at=now,
        sign_due=sign_due,
        reply_due=reply_due,
    )


def add_collaborators(case: Case, units: Iterable[Unit], *, now: dt.datetime) -> list[Assignment]:
    """Collaborator assignments for the units not already on the case (nor leading it)."""
    units = list(units)
    if not units:
        return []
    active = set(case.assignments.filter(status__in=Assignment.ACTIVE).values_list("unit_id", "partner_id").distinct())
    sign_due, reply_due = deadlines(case, now)
    created = []
    for unit in units:
        if (unit.pk, None) in active or unit.pk == case.lead_unit_id:
            continue
        created.append(
            Assignment(
                case=case,
                unit=unit,
                role=Assignment.Role.COLLABORATOR,
                dispatched_at=now,
                sign_due=sign_due,
                reply_due=reply_due,
            )
        )
        active.add((unit.pk, None))
    Assignment.objects.bulk_create(created)
    return created
