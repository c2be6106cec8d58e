"""Live push: who hears about a case, and sending its events once the transaction commits.

Group names are built here and only here (`group_name`); the publisher (`publish_on_commit`) and the
consumer (`dispatch.consumers.LiveConsumer`) both import them, so the two sides cannot drift.

Groups are narrow on purpose — a group send reaches exactly the sockets that may see the case:

    live.all              supervisors
    live.district.<code>  dispatchers of that district (incl. its triage queue)
    live.unit.<id>        members of a unit that holds an assignment on the case (lead or collaborator)
    live.partner.<id>     members of a partner organisation that holds an assignment
    live.grid.<code>      grid workers of the case's grid
    live.user.<id>        the person who reported the case (hotline agent, grid worker)
"""

from __future__ import annotations

import logging
import re
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

ALL = "all"
UNIT = "unit"
PARTNER = "partner"
GRID = "grid"
DISTRICT = "district"
USER = "user"
_SCOPES = frozenset({ALL, UNIT, PARTNER, GRID, DISTRICT, USER})

# The message type the consumer handles (`live.event` → `LiveConsumer.live_event`).
MESSAGE_TYPE = "live.event"

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def group_name(scope: str, key: object = None) -> str:
    """The one place a live group's name is spelled."""
    if scope not in _SCOPES:
        raise ValueError(f"unknown live group scope {scope!r}")
    if scope == ALL:
        return "live.all"
    if key is None or key == "":
        raise ValueError(f"live group scope {scope!r} needs a key")
    return f"live.{scope}.{key}"


def mask_phones(text: str) -> str:
    """Mainland mobile numbers become 138****5678 (DESIGN §11: never a full number on a socket)."""
    return _PHONE.sub(r"\1****\2", text or "")


def group_names_for_case(case) -> list[str]:
    """Every group whose members may see `case` (same rule as `dispatch.selectors.visible_cases`)."""
    names = {group_name(ALL)}
    if case.district_code:
        names.add(group_name(DISTRICT, case.district_code))
    if case.grid_code:
        names.add(group_name(GRID, case.grid_code))
    if case.lead_unit_id:
        names.add(group_name(UNIT, case.lead_unit_id))
    if case.reporter_id:
        names.add(group_name(USER, case.reporter_id))
    for unit_id, partner_id in case.assignments.values_list("unit_id", "partner_id"):
        if unit_id:
            names.add(group_name(UNIT, unit_id))
        if partner_id:
            names.add(group_name(PARTNER, partner_id))
    return sorted(names)


def group_names_for_user(user) -> list[str]:
    """The groups a user listens to; empty for anonymous or deactivated users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    from partners.models import Membership

    from grids.models import GridWorker

    if user.is_superuser:
        return [group_name(ALL)]
    names: set[str] = set()
    memberships = Membership.objects.filter(user=user).select_related("unit__area")
    for m in memberships:
        if m.role == "supervisor":
            return [group_name(ALL)]
        if m.unit_id is not None and not m.unit.is_active:
            continue
        if m.unit_id is not None:
            names.add(group_name(UNIT, m.unit_id))
            if m.role == "dispatcher":
                area_code = m.unit.area.code if m.unit.area_id else ""
                if m.unit.level == "city":
                    return [group_name(ALL)]
                if area_code:
                    names.add(group_name(DISTRICT, area_code[:6]))
        if m.partner_id is not None:
            names.add(group_name(PARTNER, m.partner_id))
    for code in GridWorker.objects.filter(user=user).values_list("grid__code", flat=True):
        names.add(group_name(GRID, code))
    names.add(group_name(USER, user.pk))
    return sorted(names)


def event_payload(event) -> dict[str, Any]:
    """The JSON a socket receives for one case event. No personal data: no names, phones, addresses."""
    case = event.case
    lead = case.lead_unit
    category = case.category
    return {
        "type": "event",
        "seq": event.id,
        "case": case.id,
        "number": case.number,
        "status": event.to_status or case.status,
        "version": case.version,
        "kind": event.kind,
        "at": event.at.isoformat() if event.at else None,
        "lead_unit": {"id": lead.id, "name": lead.name} if lead is not None else None,
        "category": {"code": category.code, "name": category.name} if category is not None else None,
        "grid": case.grid_code or None,
        "district": case.district_code or None,
    }


def publish_on_commit(event) -> None:
    """Send `event` to its groups once the surrounding transaction commits; a rollback sends nothing.

    Call it inside the transaction that wrote the event. Groups and payload are worked out after the
    commit, so assignments written later in the same transaction are included.
    """
    event_id = event.id
    transaction.on_commit(lambda: _publish_committed(event_id))


def _publish_committed(event_id: int) -> None:
    from dispatch.models import CaseEvent

    try:
        event = CaseEvent.objects.select_related("case__lead_unit", "case__category").get(id=event_id)
        publish_now_unsafe(event_payload(event), group_names_for_case(event.case))
    except Exception:
        # The log is the source of truth: a client that missed this gets it by resuming.
        logger.exception("live: could not publish case event %s", event_id)


def publish_now_unsafe(payload: dict[str, Any], groups: list[str]) -> None:
    """Send at once, committed or not. Only for payloads already committed (and for benchmarks)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(_send_all)(layer, payload, groups)


async def _send_all(layer, payload: dict[str, Any], groups: list[str]) -> None:
    # Each copy names the group it went to, so a socket in several of them delivers it once.
    for name in groups:
        await layer.group_send(name, {"type": MESSAGE_TYPE, "event": payload, "group": name, "groups": groups})
