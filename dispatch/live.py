"""Live push: who hears about a case, and sending its events once the transaction commits.

Group names are built here and only here (`group_name`); the publisher (`publish_on_commit`) and the
consumer (`dispatch.consumers.LiveConsumer`) both import them, so the two sides cannot drift.

Groups are narrow on purpose — a group send reaches exactly the sockets that may see the case:

    live.all              supervisors, city dispatchers, superusers
    live.district.<code>  dispatchers of that district (incl. its triage queue)
    live.unit.<id>        members of the lead unit or of a unit with an active assignment (lead or 协办)
    live.partner.<id>     members of a partner organisation with an active assignment
    live.grid.<code>      grid workers of the case's grid
    live.source.hotline   12345 agents (any agent may make the callback on any hotline case)
    live.user.<id>        the person who reported the case
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
SOURCE = "source"
_SCOPES = frozenset({ALL, UNIT, PARTNER, GRID, DISTRICT, USER, SOURCE})

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
    """Every group whose members may see `case` — the rule of `dispatch.selectors.visible_cases`."""
    from dispatch.models import Assignment, Case

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
    active = case.assignments.filter(status__in=Assignment.ACTIVE).values_list("unit_id", "partner_id")
    for unit_id, partner_id in active:
        if unit_id:
            names.add(group_name(UNIT, unit_id))
        if partner_id:
            names.add(group_name(PARTNER, partner_id))
    return sorted(names)


def group_names_for_user(user) -> list[str]:
    """The groups a user listens to, from the same roles `visible_cases` uses; empty for anonymous or
    deactivated users."""
    from dispatch.selectors import roles_of

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


def event_payload(event) -> dict[str, Any]:
    """The JSON a socket receives for one case event. No personal data: no names, phones, addresses."""
    case = event.case
    lead = case.lead_unit
    category = case.category
    payload = {
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
    # Nothing above is free text from a caller, but a unit may have typed a number into its name.
    if lead is not None:
        payload["lead_unit"]["name"] = mask_phones(lead.name)
    return payload


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
    # A socket re-checks `groups` against its user's current ones before it passes the event on.
    message = {"type": MESSAGE_TYPE, "event": payload, "groups": groups}
    for name in groups:
        await layer.group_send(name, message)
