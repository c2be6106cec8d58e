"""A new early warning reaches supervisors' live sockets, and nobody else's, on real Redis.

Proving a socket did not get the alert never waits on a clock: after the sweep a case event the
socket may see is sent from the same process, and Redis keeps one publisher's order, so if that
event is the first thing the socket receives, the alert was not delivered to it.
"""

import datetime as dt
import random

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections, transaction

from config.asgi import application
from dispatch.models import Case, CaseEvent
from dispatch.services import record_event
from dispatch.tests import conftest as case_world
from maps.services import alert_sweep
from maps.tests.history import Place, plant
from maps.tests.test_alerts import DAY, MANHOLE, NOW, WEST, history_days

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

world = case_world.world
handler_a = case_world.handler_a
ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def short_lived_connections(monkeypatch):
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@pytest.fixture
def surge(world):
    rng = random.Random(1)
    for day in history_days()[:-1]:
        plant(day=day, place=WEST, category="SJ0401", text="人行道上有人摆摊", count=3, rng=rng)
    plant(day=DAY, place=WEST, category="BJ0107", text=MANHOLE, count=9, rng=rng)
    # A case of unit A's, to send the sentinel event on.
    return plant(
        day=DAY,
        place=Place(106.72, 26.52, "520102001001001"),
        category="SJ0401",
        text="摆摊",
        count=1,
        rng=rng,
        lead_unit=world.unit_a,
    )[0]


async def connect(token: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, f"/ws/live/?token={token}", headers=[ORIGIN])
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "hello"
    return socket


@database_sync_to_async
def sentinel(case_id: int) -> int:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case_id)
        return record_event(case, kind=CaseEvent.Kind.COMMENT, note="sentinel").id


async def test_a_new_alert_is_pushed_to_supervisors_only_once(world, supervisor, handler_a, surge):
    watching = await connect(supervisor.token)
    unit = await connect(handler_a.token)
    result = await database_sync_to_async(alert_sweep)(now=NOW)
    assert result.new

    alert = await watching.receive_json_from(timeout=3)
    assert alert["type"] == "alert"
    assert alert["area"]["district"] == "520102"
    assert alert["day"] == DAY.isoformat()
    assert alert["observed"] >= 9
    assert "description" not in alert and "窨井盖" not in str(alert)

    # A second sweep finds the same alerts and announces nothing new.
    await database_sync_to_async(alert_sweep)(now=NOW + dt.timedelta(minutes=10))
    seq = await sentinel(surge)
    seen = []
    while True:
        message = await watching.receive_json_from(timeout=3)
        if message["type"] == "event":
            assert message["seq"] == seq
            break
        seen.append(message)
    assert len(seen) == len(result.new) - 1  # the rest of the first sweep's alerts, nothing after

    first = await unit.receive_json_from(timeout=3)
    assert first["type"] == "event" and first["seq"] == seq
    await watching.disconnect()
    await unit.disconnect()
