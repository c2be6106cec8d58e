"""The live socket, /ws/live/, against config.asgi.application on real Redis and PostGIS.

Proving that a socket did NOT get an event never waits on a clock: after the event it must not see,
a "sentinel" event it may see is published from the same process. Redis delivers one publisher's
messages in order, so if the first thing the socket receives is the sentinel, the earlier event was
not delivered.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connections, transaction
from django.test import Client
from django.utils import timezone

from config.asgi import application
from dispatch.live import groups
from dispatch.live.consumer import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import visible_cases
from dispatch.services import case_sign, record_event
from grids.models import Area, Grid, GridWorker
from partners.models import Membership, Unit
from routing.models import Category
from tests.personas import person

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]

ORIGIN = (b"origin", b"http://testserver")
SQUARE = MultiPolygon(Polygon.from_bbox((106.6, 26.5, 106.7, 26.6)), srid=4326)


class World:
    """Two districts, a unit in each, their people, and one open case per unit."""


def _area(code: str, name: str, level: str, parent=None) -> Area:
    return Area.objects.create(code=code, name=name, level=level, parent=parent, geom=SQUARE)


def _unit(code: str, name: str, level: str, department: str, area: Area) -> Unit:
    return Unit.objects.create(code=code, name=name, level=level, department=department, area=area)


def _case(number: str, *, unit: Unit, grid: Grid, category: Category, source: str = "field", reporter=None) -> Case:
    case = Case.objects.create(
        number=number,
        status=Case.Status.DISPATCHED,
        category=category,
        source=source,
        description="井盖缺失，联系人 13812345678",
        address="某小区 3 栋",
        grid_code=grid.code,
        community_code=grid.code[:12],
        street_code=grid.code[:9],
        district_code=grid.code[:6],
        lead_unit=unit,
        reporter=reporter,
    )
    Assignment.objects.create(case=case, unit=unit, role=Assignment.Role.LEAD, dispatched_at=timezone.now())
    return case


@pytest.fixture
def world(transactional_db) -> World:
    w = World()
    city = _area("520100", "贵阳市", "city")
    districts = {}
    for code, name in (("520102", "南明区"), ("520103", "云岩区")):
        district = _area(code, name, "district", city)
        street = _area(code + "001", name + "一街道", "street", district)
        community = _area(code + "001001", name + "一社区", "community", street)
        grid = Grid.objects.create(code=code + "001001001", name=name + "一网格", community=community, geom=SQUARE)
        districts[code] = (district, grid)
    (w.district_a, w.grid_a), (w.district_b, w.grid_b) = districts["520102"], districts["520103"]
    w.unit_a = _unit("U-A", "南明区城管局", "district", "chengguan", w.district_a)
    w.unit_b = _unit("U-B", "云岩区城管局", "district", "chengguan", w.district_b)
    w.command_a = _unit("Z-A", "南明区综治中心", "district", "zongzhi", w.district_a)
    w.city_command = _unit("Z-C", "贵阳市综治中心", "city", "zongzhi", city)
    w.hotline = _unit("H-C", "12345热线中心", "city", "hotline", city)
    w.category = Category.objects.create(code="0101", name="井盖", kind="component")

    w.handler_a = person("handler_a", unit=w.unit_a)
    w.handler_b = person("handler_b", unit=w.unit_b)
    w.dispatcher_a = person("dispatcher_a", unit=w.command_a, role="dispatcher")
    w.supervisor = person("supervisor", unit=w.city_command, role="supervisor")
    w.agent = person("agent", unit=w.hotline, role="agent")
    w.grid_worker_b = person("grid_worker_b")
    GridWorker.objects.create(user=w.grid_worker_b, grid=w.grid_b)
    w.nobody = person("nobody")

    w.case_a = _case("2026112200001", unit=w.unit_a, grid=w.grid_a, category=w.category)
    w.case_b = _case("2026112200002", unit=w.unit_b, grid=w.grid_b, category=w.category, source="hotline")
    # Reported by handler_a but led by unit B: visible to handler_a whatever unit they are in.
    w.own_report = _case("2026112200003", unit=w.unit_b, grid=w.grid_b, category=w.category, reporter=w.handler_a)
    return w


@pytest.fixture(autouse=True)
def short_lived_connections(monkeypatch):
    # database_sync_to_async would otherwise keep a connection open in its worker thread for
    # CONN_MAX_AGE, and the test database could not be dropped at the end.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)


@database_sync_to_async
def comment(case: Case, note: str = "") -> int:
    """Append a committed event (the way every service does) and return its seq."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        return record_event(case, kind=CaseEvent.Kind.COMMENT, note=note).id


async def connect(path: str = "/ws/live/", *, token: str | None = None, headers=None, expect_hello=True):
    if token is not None:
        path += ("&" if "?" in path else "?") + "token=" + token
    socket = WebsocketCommunicator(application, path, headers=[ORIGIN] if headers is None else headers)
    connected, _ = await socket.connect()
    assert connected
    if expect_hello:
        hello = await socket.receive_json_from()
        assert hello["type"] == "hello"
    return socket


async def closed_with(socket: WebsocketCommunicator) -> int | None:
    message = await socket.receive_output(timeout=3)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def next_event(socket: WebsocketCommunicator) -> dict:
    return await socket.receive_json_from(timeout=3)


# --- who may connect ---------------------------------------------------------------------------


async def test_a_socket_without_credentials_is_closed_as_unauthenticated(world):
    socket = await connect(expect_hello=False)
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED


async def test_a_socket_with_a_wrong_token_is_closed_as_unauthenticated(world):
    socket = await connect(token="not-a-real-token", expect_hello=False)
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED


async def test_a_deactivated_users_token_opens_nothing(world):
    await database_sync_to_async(get_user_model().objects.filter(pk=world.handler_a.pk).update)(is_active=False)
    socket = await connect(token=world.handler_a.token, expect_hello=False)
    assert await closed_with(socket) == CLOSE_UNAUTHENTICATED


async def test_a_socket_from_a_foreign_origin_is_refused(world):
    socket = WebsocketCommunicator(
        application, f"/ws/live/?token={world.handler_a.token}", headers=[(b"origin", b"http://evil.example")]
    )
    connected, _ = await socket.connect()
    assert not connected


async def test_a_program_with_a_token_needs_no_origin(world):
    socket = await connect(token=world.handler_a.token, headers=[])
    await socket.disconnect()


async def test_a_session_without_origin_is_refused(world):
    client = Client()
    await database_sync_to_async(client.force_login)(world.handler_a)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    socket = WebsocketCommunicator(application, "/ws/live/", headers=[(b"cookie", cookie)])
    connected, _ = await socket.connect()
    assert not connected


async def test_a_token_opens_the_socket_and_says_where_the_log_stands(world):
    seq = await comment(world.case_a)
    socket = await connect(token=world.handler_a.token, expect_hello=False)
    assert await socket.receive_json_from() == {"type": "hello", "seq": seq}
    await socket.disconnect()


async def test_a_logged_in_browser_session_opens_the_socket(world):
    client = Client()
    await database_sync_to_async(client.force_login)(world.handler_a)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    socket = await connect(headers=[ORIGIN, (b"cookie", cookie)])
    seq = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == seq
    await socket.disconnect()


# --- who hears what ----------------------------------------------------------------------------


async def test_a_units_handler_receives_its_cases_event_and_the_other_unit_does_not(world):
    socket_a = await connect(token=world.handler_a.token)
    socket_b = await connect(token=world.handler_b.token)

    seq_a = await comment(world.case_a)
    event = await next_event(socket_a)
    assert event["seq"] == seq_a
    assert event["case"] == world.case_a.pk

    sentinel = await comment(world.case_b)
    assert (await next_event(socket_b))["seq"] == sentinel
    await socket_a.disconnect()
    await socket_b.disconnect()


async def test_a_supervisor_receives_every_units_events_once_each(world):
    socket = await connect(token=world.supervisor.token)
    seqs = [await comment(world.case_a), await comment(world.case_b), await comment(world.case_a)]
    received = [(await next_event(socket))["seq"] for _ in seqs]
    assert received == seqs
    # Each event went to several groups (all, district, grid, unit); the socket still saw it once.
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


async def test_a_deeply_nested_or_huge_message_is_refused_and_the_socket_stays_open(world):
    socket = await connect(token=world.handler_a.token)
    await socket.send_to(text_data="[" * 5000 + "]" * 5000)
    deep = await socket.receive_json_from()
    assert deep["type"] == "error" and deep["code"] == "too_large" and "嵌套" in deep["detail"]
    await socket.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 100_000}))
    huge = await socket.receive_json_from()
    assert huge["type"] == "error" and huge["code"] == "too_large"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


async def test_a_district_dispatcher_hears_its_district_but_not_the_next(world):
    socket = await connect(token=world.dispatcher_a.token)
    await comment(world.case_b)
    seq = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == seq
    await socket.disconnect()


async def test_a_grid_worker_hears_the_cases_in_their_grid(world):
    socket = await connect(token=world.grid_worker_b.token)
    await comment(world.case_a)
    seq = await comment(world.case_b)
    assert (await next_event(socket))["seq"] == seq
    await socket.disconnect()


async def test_a_hotline_agent_hears_hotline_cases(world):
    socket = await connect(token=world.agent.token)
    await comment(world.case_a)
    seq = await comment(world.case_b)
    assert (await next_event(socket))["seq"] == seq
    await socket.disconnect()


async def test_signing_a_case_reaches_the_unit_with_the_new_status_and_version(world):
    socket = await connect(token=world.handler_a.token)
    case = await database_sync_to_async(case_sign)(case_id=world.case_a.pk, actor=world.handler_a, version=0)
    event = await next_event(socket)
    assert event["kind"] == "signed"
    assert event["status"] == "signed"
    assert event["version"] == case.version
    await socket.disconnect()


async def test_an_event_carries_no_personal_data(world):
    socket = await connect(token=world.supervisor.token)
    seq = await comment(world.case_a, note="请联系 13812345678")
    event = await next_event(socket)
    assert event == {
        "type": "event",
        "seq": seq,
        "case": world.case_a.pk,
        "number": "2026112200001",
        "status": "dispatched",
        "version": 1,
        "kind": "comment",
        "at": event["at"],
        "lead_unit": {"id": world.unit_a.pk, "name": "南明区城管局"},
        "category": {"code": "0101", "name": "井盖"},
        "grid": "520102001001001",
        "district": "520102",
    }
    # Neither the note nor a piece of the number in any text of it (ids and `at` are any digits).
    texts = [v for k, v in event.items() if isinstance(v, str) and k != "at"]
    texts += [v for part in event.values() if isinstance(part, dict) for v in part.values() if isinstance(v, str)]
    assert not [t for t in texts if "请联系" in t or "138" in t or "5678" in t], texts
    await socket.disconnect()


async def test_a_rolled_back_transaction_sends_nothing(world):
    socket = await connect(token=world.supervisor.token)

    @database_sync_to_async
    def write_then_fail() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            case = Case.objects.select_for_update().get(pk=world.case_a.pk)
            record_event(case, kind=CaseEvent.Kind.COMMENT, note="never happened")
            raise RuntimeError("the rest of the transaction failed")

    await write_then_fail()
    sentinel = await comment(world.case_b)
    assert (await next_event(socket))["seq"] == sentinel
    assert not await database_sync_to_async(CaseEvent.objects.filter(note="never happened").exists)()
    await socket.disconnect()


async def test_an_event_in_a_rolled_back_savepoint_is_not_sent_but_the_rest_of_the_transaction_is(world):
    socket = await connect(token=world.supervisor.token)

    @database_sync_to_async
    def write() -> int:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=world.case_a.pk)
            with pytest.raises(RuntimeError), transaction.atomic():
                record_event(case, kind=CaseEvent.Kind.COMMENT, note="undone")
                raise RuntimeError("this step failed")
            return record_event(case, kind=CaseEvent.Kind.COMMENT, note="kept").id

    kept = await write()
    assert (await next_event(socket))["seq"] == kept
    sentinel = await comment(world.case_b)
    assert (await next_event(socket))["seq"] == sentinel
    await socket.disconnect()


async def test_events_of_one_transaction_arrive_together_in_order(world):
    socket = await connect(token=world.handler_a.token)

    @database_sync_to_async
    def write() -> list[int]:
        with transaction.atomic():
            case = Case.objects.select_for_update().get(pk=world.case_a.pk)
            return [record_event(case, kind=CaseEvent.Kind.COMMENT).id for _ in range(3)]

    seqs = await write()
    assert [(await next_event(socket))["seq"] for _ in seqs] == seqs
    await socket.disconnect()


async def test_events_also_arrive_through_a_channel_layer_other_than_redis_pubsub(world, settings):
    # The publisher talks to Redis directly only for the Pub/Sub layer; any other layer gets group_send.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": settings.CACHES["default"]["KEY_PREFIX"] + "-core"},
        }
    }
    socket = await connect(token=world.handler_a.token)
    seq = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == seq
    await socket.disconnect()


async def test_the_live_groups_follow_the_visibility_rule(world):
    @database_sync_to_async
    def compare() -> None:
        cases = list(Case.objects.all())
        for user in get_user_model().objects.all():
            listening = set(groups.group_names_for_user(user))
            heard = {c.pk for c in cases if listening & set(groups.group_names_for_case(c))}
            assert heard == set(visible_cases(user).values_list("pk", flat=True)), user.username

    await compare()


async def test_the_units_on_a_case_are_published_to_before_the_city_wide_watchers(world):
    @database_sync_to_async
    def names() -> list[str]:
        return groups.group_names_for_case(world.case_a)

    published = await names()
    assert published[0] == groups.group_name(groups.UNIT, world.unit_a.pk)
    assert published[-1] == groups.group_name(groups.ALL)
    assert published.index(groups.group_name(groups.DISTRICT, world.case_a.district_code)) > 0


# --- reconnecting --------------------------------------------------------------------------------


async def test_a_reconnect_with_resume_replays_exactly_the_missed_events_in_order(world):
    socket = await connect(token=world.handler_a.token)
    seen = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == seen
    await socket.disconnect()

    missed = [await comment(world.case_a), await comment(world.own_report), await comment(world.case_a)]
    await comment(world.case_b)  # not handler_a's: must not be replayed

    socket = await connect(token=world.handler_a.token)
    await socket.send_json_to({"type": "resume", "after_seq": seen})
    replayed = [(await next_event(socket))["seq"] for _ in missed]
    assert replayed == missed
    assert await socket.receive_json_from() == {"type": "resumed", "seq": missed[-1]}

    after = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == after
    await socket.disconnect()


async def test_a_resume_does_not_repeat_an_event_that_already_arrived_live(world):
    start = await comment(world.case_a)
    missed = await comment(world.case_a)
    socket = await connect(token=world.handler_a.token)
    live_seq = await comment(world.case_a)
    assert (await next_event(socket))["seq"] == live_seq

    await socket.send_json_to({"type": "resume", "after_seq": start})
    assert (await next_event(socket))["seq"] == missed
    assert await socket.receive_json_from() == {"type": "resumed", "seq": live_seq}
    await socket.disconnect()


async def test_resuming_in_the_url_replays_before_anything_live(world):
    start = await comment(world.case_a)
    missed = [await comment(world.case_a), await comment(world.case_a)]
    socket = await connect(f"/ws/live/?after_seq={start}", token=world.handler_a.token)
    assert [(await next_event(socket))["seq"] for _ in missed] == missed
    assert await socket.receive_json_from() == {"type": "resumed", "seq": missed[-1]}
    await socket.disconnect()


async def test_a_resume_beyond_the_replay_limit_is_told_to_reload(world, settings):
    settings.LIVE_REPLAY_LIMIT = 3
    start = await comment(world.case_a)
    newest = [await comment(world.case_a) for _ in range(4)][-1]
    socket = await connect(token=world.handler_a.token)
    await socket.send_json_to({"type": "resume", "after_seq": start})
    assert await socket.receive_json_from() == {"type": "reload", "seq": newest}
    await socket.disconnect()


async def test_a_resume_at_exactly_the_limit_is_replayed(world, settings):
    settings.LIVE_REPLAY_LIMIT = 3
    start = await comment(world.case_a)
    missed = [await comment(world.case_a) for _ in range(3)]
    socket = await connect(token=world.handler_a.token)
    await socket.send_json_to({"type": "resume", "after_seq": start})
    assert [(await next_event(socket))["seq"] for _ in missed] == missed
    await socket.disconnect()


@pytest.mark.parametrize(
    "message",
    ['{"type": "resume", "after_seq": -1}', '{"type": "resume", "after_seq": "7"}', '{"type": "dance"}', "[1]", "{"],
)
async def test_a_message_the_server_does_not_understand_gets_an_error_not_a_closed_socket(world, message):
    socket = await connect(token=world.handler_a.token)
    await socket.send_to(text_data=message)
    reply = await socket.receive_json_from()
    assert reply["type"] == "error"
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}
    await socket.disconnect()


# --- people change -------------------------------------------------------------------------------


async def test_a_deactivated_user_stops_receiving_and_is_disconnected(world, settings):
    settings.LIVE_RECHECK_SECONDS = 0
    socket = await connect(token=world.handler_a.token)
    await database_sync_to_async(get_user_model().objects.filter(pk=world.handler_a.pk).update)(is_active=False)
    await comment(world.case_a)
    assert await closed_with(socket) == CLOSE_FORBIDDEN


async def test_an_idle_socket_of_a_deactivated_user_is_closed_by_the_periodic_check(world, settings):
    settings.LIVE_SESSION_CHECK_SECONDS = 0.05
    socket = await connect(token=world.handler_a.token)
    await database_sync_to_async(get_user_model().objects.filter(pk=world.handler_a.pk).update)(is_active=False)
    assert await closed_with(socket) == CLOSE_FORBIDDEN


async def test_a_handler_moved_to_another_unit_stops_hearing_the_old_one(world, settings):
    settings.LIVE_RECHECK_SECONDS = 0
    socket = await connect(token=world.handler_a.token)
    await database_sync_to_async(Membership.objects.filter(user=world.handler_a).update)(unit=world.unit_b)

    await comment(world.case_a)
    sentinel = await comment(world.own_report)
    assert (await next_event(socket))["seq"] == sentinel

    # And the new unit's events now reach them.
    seq = await comment(world.case_b)
    assert (await next_event(socket))["seq"] == seq
    await socket.disconnect()
