"""Publishing case events to the live groups once the transaction that wrote them commits.

Who hears what is `dispatch.live.groups`; what a socket receives is `dispatch.live.messages`. An event
Redis cannot take at commit stays in the outbox for the relay (`dispatch.outbox`), which publishes
through `publish_now_unsafe` here.

An event published at commit is also noted in a Redis set (`PUBLISHED`), in the same MULTI as its
PUBLISHes, and the outbox rows of noted events are cleared in bulk (`clear_published`): by a writing
process at most every OUTBOX_CLEAR_SECONDS, after one of its publishes, and by every relay run. So a
request pays no statement of its own to clear its rows, and rows are cleared whether beat runs or
not. A member names the event by seq and write time, so a set that outlives its database (a
restore, a test database made anew) can never clear a stranger's row.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection as default_connection
from django.db import transaction

from dispatch.live.groups import group_names_for_case
from dispatch.live.messages import channel_message, event_payload
from dispatch.live.selectors import committed_messages
from dispatch.models import CaseEvent, LiveOutbox

logger = logging.getLogger(__name__)


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


def mark_published(event_ids: list[int]) -> None:
    """Drop the outbox rows of events Redis has taken. One statement, no row lookups."""
    with default_connection.cursor() as cursor:
        cursor.execute("DELETE FROM dispatch_liveoutbox WHERE event_id = ANY(%s::bigint[])", [list(event_ids)])


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
        if publish_now_unsafe([m for m in messages if m], note=True):
            _clear_now_and_then()
            return
    except Exception as exc:
        _trip_breaker()
        # Their outbox rows stay: the relay publishes them once Redis is back (dispatch.outbox).
        logger.warning("live: could not publish case events %s (%s); the outbox relay will", event_ids, exc)
        return
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


# The Redis set of events published at commit whose outbox rows are not cleared yet, under the channel
# layer's prefix (as its groups are, `<prefix>__group__<name>`); members are `published_member(payload)`.
PUBLISHED = "__live_published"


def published_member(payload: dict[str, Any]) -> str:
    """How PUBLISHED names an event: `<seq>@<its write time>`, as `clear_published` reads it back."""
    return f"{payload['seq']}@{payload['at']}"


def publish_now_unsafe(messages: list[tuple[dict[str, Any], list[str]]], *, note: bool = False) -> bool:
    """Send (payload, groups) pairs at once, committed or not: only for what is already committed.

    With `note`, the events also go into PUBLISHED in the same MULTI, so Redis holds the note only if
    it took the PUBLISHes; returns whether it did (False: the caller clears their rows itself).
    """
    layer = get_channel_layer()
    if layer is None or not messages:
        return False
    redis_publisher = _redis_publisher()
    if redis_publisher is not None:
        client, prefix = redis_publisher
        # One round trip from this thread. Going through the layer's async group_send would hop onto
        # the server's event loop and wait there behind every socket's traffic.
        pipe = client.pipeline(transaction=note)
        for payload, groups in messages:
            data = layer.serialize(channel_message(payload, groups))
            for name in groups:
                pipe.publish(f"{prefix}__group__{name}", data)
        members = [published_member(payload) for payload, _groups in messages if payload.get("at")]
        noted = note and len(members) == len(messages)
        if noted:
            pipe.sadd(prefix + PUBLISHED, *members)
        pipe.execute()
        return noted
    async_to_sync(_send_all)(layer, messages)
    return False


def published_notes(limit: int) -> tuple[Any, str, list[bytes]] | None:
    """(client, key, up to `limit` members) of PUBLISHED, or None when the layer has no such set."""
    redis_publisher = _redis_publisher()
    if redis_publisher is None:
        return None
    client, prefix = redis_publisher
    key = prefix + PUBLISHED
    return client, key, client.srandmember(key, limit)


# Deletes the rows of the listed (seq, write time) pairs; a pair that names no event deletes nothing.
_CLEAR_NOTED_SQL = f"""
DELETE FROM {LiveOutbox._meta.db_table} AS o
USING {CaseEvent._meta.db_table} AS e, unnest(%s::bigint[], %s::timestamptz[]) AS noted(seq, at)
WHERE o.event_id = noted.seq AND e.id = noted.seq AND e.at = noted.at
"""


def clear_published(batch: int = 500, *, rounds: int | None = None) -> int:
    """Delete the outbox rows of events noted in PUBLISHED, `batch` at a time (for `rounds` batches
    at most, or until none is left), and drop their notes. Returns how many rows went."""
    cleared, done = 0, 0
    while rounds is None or done < rounds:
        done += 1
        notes = published_notes(batch)
        if notes is None or not notes[2]:
            break
        client, key, members = notes
        seqs, times = [], []
        for member in members:
            seq, _, at = member.decode().partition("@")
            seqs.append(int(seq))
            times.append(dt.datetime.fromisoformat(at))
        with default_connection.cursor() as cursor:
            cursor.execute(_CLEAR_NOTED_SQL, [seqs, times])
            cleared += cursor.rowcount
        # Only after the rows are gone: a note lost before that would leave its row to be sent twice.
        client.srem(key, *members)
        if len(members) < batch:
            break
    return cleared


_next_clear = 0.0


def _clear_now_and_then() -> None:
    """After a publish, clear the noted rows if this process has not for OUTBOX_CLEAR_SECONDS: one
    request in that while pays the statement for all (the relay clears too, but beat may be away)."""
    global _next_clear
    now = time.monotonic()
    if now < _next_clear:
        return
    _next_clear = now + settings.OUTBOX_CLEAR_SECONDS
    try:
        clear_published(rounds=1)
    except Exception:
        logger.warning("live: could not clear the outbox rows of published events; the relay will", exc_info=True)


async def _send_all(layer, messages: list[tuple[dict[str, Any], list[str]]]) -> None:
    for payload, groups in messages:
        message = channel_message(payload, groups)
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
