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
import time
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from partners.privacy import mask_phones

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


def group_name(scope: str, key: object = None) -> str:
    """The one place a live group's name is spelled."""
    if scope not in _SCOPES:
        raise ValueError(f"unknown live group scope {scope!r}")
    if scope == ALL:
        return "live.all"
    if key is None or key == "":
        raise ValueError(f"live group scope {scope!r} needs a key")
    return f"live.{scope}.{key}"


def group_names_for_case(case, active_assignments: list[tuple[int | None, int | None]] | None = None) -> list[str]:
    """Every group whose members may see `case` — the rule of `dispatch.selectors.visible_cases`.

    `active_assignments` — (unit_id, partner_id) of the case's active assignments — saves a query
    when the caller has them already.
    """
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
    if active_assignments is None:
        active = case.assignments.filter(status__in=Assignment.ACTIVE)
        active_assignments = list(active.values_list("unit_id", "partner_id"))
    for unit_id, partner_id in active_assignments:
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


def publish_on_commit(event, *, active_assignments: list[tuple[int | None, int | None]] | None = None) -> None:
    """Send `event` to its groups once the surrounding transaction commits; a rollback sends nothing.

    Call it inside the transaction that wrote the event. If Redis cannot take it then, the event's
    outbox row (written by a trigger with the event) stays and the relay publishes it later; see
    dispatch.outbox. Payload and groups are read back after the commit, so assignments written later
    in the same transaction count, and an event whose savepoint was rolled back is simply not found.
    A caller that has written the case's assignments already passes `active_assignments`, and the
    message is built from the objects in hand instead (open_case: no read-back). All events of one
    transaction go out together, in seq order.
    """
    connection = transaction.get_connection()
    pending = connection.__dict__.setdefault("_live_pending", [])
    message = None
    # The message can be built now, without reading anything back, when the caller knows the case's
    # active assignments as they will be at commit and no savepoint is open (an event in a savepoint
    # that rolls back must not go out: only the read-back after commit can tell).
    if active_assignments is not None and not any(connection.savepoint_ids):
        message = (event_payload(event), group_names_for_case(event.case, active_assignments))
    pending.append((event.id, message))
    # One callback per event, because a savepoint rollback discards the callbacks registered inside
    # it; whichever runs first sends everything pending and the others find nothing left.
    transaction.on_commit(lambda: _publish_pending(connection))


def _publish_pending(connection) -> None:
    event_ids = connection.__dict__.get("_live_pending")
    if not event_ids:
        return
    connection._live_pending = []
    if time.monotonic() < _redis_down_until:
        return  # Redis failed a moment ago: leave these to the relay rather than wait on it again
    known = {event_id: message for event_id, message in event_ids if message is not None}
    event_ids = sorted({event_id for event_id, _message in event_ids})
    try:
        unknown = [event_id for event_id in event_ids if event_id not in known]
        # Events rolled back with a savepoint are not found, and so not sent.
        read = {payload["seq"]: (payload, groups) for payload, groups in committed_messages(unknown)} if unknown else {}
        messages = [known.get(event_id) or read.get(event_id) for event_id in event_ids]
        event_ids = [event_id for event_id, message in zip(event_ids, messages, strict=True) if message]
        publish_now_unsafe([m for m in messages if m])
    except Exception as exc:
        _trip_breaker()
        # Their outbox rows stay: the relay publishes them once Redis is back (dispatch.outbox).
        logger.warning("live: could not publish case events %s (%s); the outbox relay will", event_ids, exc)
        return
    from dispatch.outbox import mark_published

    try:
        mark_published(event_ids)
    except Exception:
        # Published but still in the outbox: the relay sends them again and sockets drop the copy.
        logger.exception("live: published events %s but could not clear their outbox rows", event_ids)


# After a failed publish, writers skip Redis for this long and leave their events to the relay, so a
# dead Redis does not cost every request a connection attempt.
_redis_down_until = 0.0


def _trip_breaker() -> None:
    global _redis_down_until
    _redis_down_until = time.monotonic() + settings.LIVE_PUBLISH_BACKOFF_SECONDS


def committed_messages(event_ids: list[int]) -> list[tuple[dict[str, Any], list[str]]]:
    """(payload, groups) for each of these events that exists, oldest first; two queries in all."""
    from dispatch.models import Assignment, CaseEvent

    events = list(
        CaseEvent.objects.filter(id__in=event_ids).select_related("case__lead_unit", "case__category").order_by("id")
    )
    active: dict[int, list[tuple[int | None, int | None]]] = {e.case_id: [] for e in events}
    rows = Assignment.objects.filter(case_id__in=active, status__in=Assignment.ACTIVE)
    for case_id, unit_id, partner_id in rows.values_list("case_id", "unit_id", "partner_id"):
        active[case_id].append((unit_id, partner_id))
    return [(event_payload(e), group_names_for_case(e.case, active[e.case_id])) for e in events]


def publish_now_unsafe(messages: list[tuple[dict[str, Any], list[str]]]) -> None:
    """Send (payload, groups) pairs at once, committed or not: only for what is already committed."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    redis_publisher = _redis_publisher()
    if redis_publisher is not None:
        client, prefix = redis_publisher
        # One pipelined round trip from this thread. Going through the layer's async group_send would
        # hop onto the server's event loop and wait there behind every socket's traffic.
        pipe = client.pipeline(transaction=False)
        for payload, groups in messages:
            data = layer.serialize(_message(payload, groups))
            for name in groups:
                pipe.publish(f"{prefix}__group__{name}", data)
        pipe.execute()
        return
    async_to_sync(_send_all)(layer, messages)


def _message(payload: dict[str, Any], groups: list[str]) -> dict[str, Any]:
    # A socket re-checks `groups` against its user's current ones before it passes the event on.
    return {"type": MESSAGE_TYPE, "event": payload, "groups": groups}


async def _send_all(layer, messages: list[tuple[dict[str, Any], list[str]]]) -> None:
    for payload, groups in messages:
        message = _message(payload, groups)
        for name in groups:
            await layer.group_send(name, message)


_publishers: dict[tuple[str, str], tuple[Any, str]] = {}


def _redis_publisher() -> tuple[Any, str] | None:
    """(sync Redis client, channel prefix) when the layer is channels_redis' Pub/Sub layer on one host.

    That layer sends a group message as PUBLISH `<prefix>__group__<group>` of the layer-serialised
    message (channels_redis 4); publishing so ourselves is the same on the wire, which the tests
    check through real consumers. Any other layer goes through `group_send`.
    """
    config = settings.CHANNEL_LAYERS.get("default", {})
    hosts = config.get("CONFIG", {}).get("hosts") or []
    if config.get("BACKEND") != "channels_redis.pubsub.RedisPubSubChannelLayer" or len(hosts) != 1:
        return None
    if not isinstance(hosts[0], str):
        return None
    prefix = config["CONFIG"].get("prefix", "asgi")
    key = (hosts[0], prefix)
    if key not in _publishers:
        # Short timeouts: a Redis that does not answer must not hold up the request that published.
        client = redis.Redis.from_url(hosts[0], socket_connect_timeout=1, socket_timeout=2)
        _publishers[key] = (client, prefix)
    return _publishers[key]
