"""A socket that stayed connected while Redis was down gets what it missed from the outbox relay."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from dispatch import outbox
from dispatch.models import LiveOutbox
from dispatch.tests.test_live import comment, connect, next_event, short_lived_connections, world  # noqa: F401
from dispatch.tests.test_outbox import no_grace, redis_switch  # noqa: F401

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_a_connected_socket_gets_the_events_redis_missed_in_seq_order_once_it_is_back(
    world,  # noqa: F811
    redis_switch,  # noqa: F811
    no_grace,  # noqa: F811
):
    socket = await connect(token=world.handler_a.token)

    redis_switch.down()
    missed = [await comment(world.case_a, f"第{n}条") for n in range(3)]
    assert await database_sync_to_async(LiveOutbox.objects.count)() == 3

    redis_switch.back()
    result = await database_sync_to_async(outbox.relay)()
    assert result.events == 3
    assert [(await next_event(socket))["seq"] for _ in missed] == missed
    # A sentinel after the relay proves nothing else (no second copy) came first.
    sentinel = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == sentinel
    await socket.disconnect()


async def test_a_socket_that_reconnects_after_the_outage_replays_every_missed_event(
    world,  # noqa: F811
    redis_switch,  # noqa: F811
):
    before = await connect(token=world.handler_a.token)
    last_seen = await comment(world.case_a)
    assert (await next_event(before))["seq"] == last_seen
    await before.disconnect()

    redis_switch.down()
    missed = [await comment(world.case_a) for _ in range(2)]
    redis_switch.back()

    socket = await connect(f"/ws/live/?after_seq={last_seen}", token=world.handler_a.token)
    assert [(await next_event(socket))["seq"] for _ in missed] == missed
    assert await next_event(socket) == {"type": "resumed", "seq": missed[-1]}
    await socket.disconnect()


async def test_a_socket_is_told_the_server_is_degraded_stays_open_and_is_told_when_it_recovers(
    world,  # noqa: F811
    settings,
):
    settings.LIVE_STATUS_SECONDS = 0.2
    socket = await connect(token=world.handler_a.token)

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert await socket.receive_json_from(timeout=10) == {"type": "status", "degraded": ["redis"]}
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}  # still open, still answering

    settings.REDIS_URL = redis_url = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    assert redis_url.startswith("redis://")
    assert await socket.receive_json_from(timeout=10) == {"type": "status", "degraded": []}
    await socket.disconnect()
