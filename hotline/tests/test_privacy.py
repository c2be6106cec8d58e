"""Callers' personal data: full only for agents and supervisors, every sighting logged, masked
everywhere else — other roles' API answers, cases, the event log, log lines, sockets and the admin."""

from __future__ import annotations

import json
import logging

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connections
from django.utils import timezone

from config.asgi import application
from dispatch.models import Case, CaseEvent
from hotline import services
from hotline.models import Call, PersonalDataAccess
from hotline.tests.conftest import PHONE, PHONE_MASKED, WEST
from partners.privacy import mask_name, mask_phone, mask_phones, normalise_phone

SAID = f"人行道上有人摆摊，我的电话{PHONE}，另一个号码 139 8765 4321 也行"


def detail(api, user, call_id: int):
    return api(user).get(f"/api/v1/calls/{call_id}/")


def test_an_agent_sees_the_full_caller_and_the_view_is_logged(world, agent, api, file_call):
    call = file_call(content=SAID).call
    PersonalDataAccess.objects.all().delete()

    response = detail(api, agent, call.pk)

    assert response.status_code == 200
    caller = response.json()["caller"]
    assert (caller["name"], caller["phone"], caller["masked"]) == ("张三", PHONE, False)
    assert response.json()["content"] == SAID
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.call, access.purpose) == (agent, call, "call_detail")
    assert access.at is not None


def test_a_supervisor_sees_the_full_caller_and_is_logged_too(world, supervisor, api, file_call):
    call = file_call().call

    assert detail(api, supervisor, call.pk).json()["caller"]["phone"] == PHONE
    assert PersonalDataAccess.objects.filter(user=supervisor, call=call).count() == 1


def test_filing_a_call_is_itself_a_logged_sighting(world, agent, file_call):
    call = file_call().call

    assert PersonalDataAccess.objects.filter(user=agent, call=call, purpose="filed").exists()


def test_the_handling_unit_sees_the_call_masked_and_nothing_is_logged(world, handler_west, api, file_call):
    call = file_call(content=SAID).call

    response = detail(api, handler_west, call.pk)

    assert response.status_code == 200
    body = response.json()
    assert body["caller"] == {"name": "张*", "phone": PHONE_MASKED, "masked": True}
    assert PHONE not in json.dumps(body) and "13987654321" not in json.dumps(body)
    assert "139****4321" in body["content"]
    assert not PersonalDataAccess.objects.filter(user=handler_west).exists()


def test_a_grid_worker_and_the_districts_dispatcher_see_the_call_masked(world, grid_worker, dispatcher, api, file_call):
    call = file_call().call

    for person in (grid_worker, dispatcher):
        assert detail(api, person, call.pk).json()["caller"]["phone"] == PHONE_MASKED


def test_someone_who_cannot_see_the_case_cannot_see_the_call(world, handler_north, nobody, api, file_call):
    call = file_call().call

    assert detail(api, handler_north, call.pk).status_code == 404
    assert detail(api, nobody, call.pk).status_code == 404
    assert api().get(f"/api/v1/calls/{call.pk}/").status_code in (401, 403)


def test_a_case_never_holds_the_callers_number(world, handler_west, api, file_call):
    case = file_call(content=SAID, address=f"西湖小学 联系{PHONE}").case

    assert PHONE not in case.description and PHONE_MASKED in case.description
    assert PHONE not in case.address
    response = api(handler_west).get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    assert PHONE not in json.dumps(response.json())


def test_the_callers_of_a_case_are_masked_for_its_unit_and_full_and_logged_for_agents(
    world, agent, handler_west, api, file_call
):
    case = file_call().case
    PersonalDataAccess.objects.all().delete()

    masked = api(handler_west).get(f"/api/v1/hotline/cases/{case.pk}/calls/").json()
    full = api(agent).get(f"/api/v1/hotline/cases/{case.pk}/calls/").json()

    assert masked[0]["caller"]["phone"] == PHONE_MASKED
    assert full[0]["caller"]["phone"] == PHONE
    assert list(PersonalDataAccess.objects.values_list("user__username", "purpose")) == [("agent", "case_callers")]


def test_the_repeat_caller_lookup_shows_previous_calls_and_logs_each(world, agent, api, file_call):
    first = file_call().call
    second = file_call(content="还是摆摊的问题，没人管").call
    file_call(caller_phone="13700001111")
    PersonalDataAccess.objects.all().delete()

    response = api(agent).get("/api/v1/hotline/callers/", {"phone": "138-1234-5678"})

    assert response.status_code == 200
    body = response.json()
    assert (body["phone"], body["name"], body["known"], body["repeat"]) == (PHONE, "张三", True, True)
    assert [c["id"] for c in body["calls"]] == [second.pk, first.pk]
    assert body["calls"][0]["case"]["number"] == second.case.number
    logged = PersonalDataAccess.objects.filter(user=agent, purpose="caller_lookup")
    assert sorted(logged.values_list("call_id", flat=True)) == sorted([first.pk, second.pk])


def test_calls_older_than_the_period_do_not_make_a_repeat_caller(world, agent, api, file_call, settings):
    call = file_call().call
    Call.objects.filter(pk=call.pk).update(created_at=timezone.now() - timezone.timedelta(days=31))

    body = api(agent).get("/api/v1/hotline/callers/", {"phone": PHONE}).json()

    assert (body["known"], body["repeat"], body["calls"]) == (True, False, [])


def test_only_agents_and_supervisors_may_look_callers_up(world, agent, handler_west, dispatcher, api, file_call):
    file_call()

    assert api(handler_west).get("/api/v1/hotline/callers/", {"phone": PHONE}).status_code == 403
    assert api(dispatcher).get("/api/v1/hotline/callers/", {"phone": PHONE}).status_code == 403
    assert "phone" in api(agent).get("/api/v1/hotline/callers/", {"phone": "not a phone"}).json()
    assert "phone" in api(agent).get("/api/v1/hotline/callers/").json()
    unknown = api(agent).get("/api/v1/hotline/callers/", {"phone": "13000000000"}).json()
    assert (unknown["known"], unknown["calls"]) == (False, [])


def test_log_lines_carry_only_masked_numbers(world, agent, caplog, file_call):
    with caplog.at_level(logging.DEBUG):
        filed = file_call(content=SAID)
        file_call(caller_phone="13912345678", join_case=filed.case.pk, content="同一个摊点")

    text = "\n".join(record.getMessage() for record in caplog.records)
    assert PHONE not in text and "13912345678" not in text and "13987654321" not in text
    assert PHONE_MASKED in text


def test_the_event_log_has_only_masked_reporters(world, file_call):
    case = file_call(content=SAID).case
    file_call(caller_phone="13912345678", caller_name="李四", join_case=case.pk)

    for event in CaseEvent.objects.filter(case=case):
        dumped = json.dumps(event.data, ensure_ascii=False) + event.note
        assert "13912345678" not in dumped and PHONE not in dumped and "李四" not in dumped


def test_the_admin_lists_calls_masked(world, file_call, client):
    file_call()
    admin_user = get_user_model().objects.create_superuser("root", password=None)
    client.force_login(admin_user)

    response = client.get("/admin/hotline/call/")

    assert response.status_code == 200
    page = response.content.decode()
    assert PHONE_MASKED in page and PHONE not in page


# --- sockets --------------------------------------------------------------------------------------


async def _socket(token: str) -> WebsocketCommunicator:
    socket = WebsocketCommunicator(application, f"/ws/live/?token={token}", headers=[(b"origin", b"http://testserver")])
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from(timeout=3))["type"] == "hello"
    return socket


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_socket_messages_about_a_call_carry_no_phone_numbers(world, agent, handler_west, monkeypatch):
    # database_sync_to_async would otherwise keep its thread's connection open and the test database
    # could not be dropped.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    agent_socket = await _socket(agent.token)
    unit_socket = await _socket(handler_west.token)

    def take_two_calls() -> Case:
        filed = services.call_file(
            agent=agent, caller_phone=PHONE, caller_name="张三", request_type="complaint", content=SAID,
            category="SJ0401", lon=WEST[0], lat=WEST[1],
        )  # fmt: skip
        services.call_file(
            agent=agent, caller_phone="13912345678", caller_name="李四", request_type="complaint",
            content=f"我也看到了，打{PHONE}找他", join_case=filed.case.pk,
        )  # fmt: skip
        return filed.case

    case = await database_sync_to_async(take_two_calls)()
    for socket in (agent_socket, unit_socket):
        raw = [await socket.receive_from(timeout=3) for _ in range(3)]  # opened, dispatched, reporter added
        assert [json.loads(m)["case"] for m in raw] == [case.pk] * 3
        for message in raw:
            assert PHONE not in message and "13912345678" not in message and "13987654321" not in message
            assert "张三" not in json.loads(message).__repr__() and "李四" not in json.loads(message).__repr__()
        await socket.disconnect()
    # The caller's number stays with the hotline.
    assert await database_sync_to_async(Case.objects.filter(description__contains=PHONE).exists)() is False


# --- the masking rules themselves ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("号码 139 8765 4321 也行", "号码 139****4321 也行"),
        ("+86 138-1234-5678", "138****5678"),
        ("座机0851-86912345", "座机0851-****2345"),
        ("工单2026112200001，坐标106.72", "工单2026112200001，坐标106.72"),
    ],
)
def test_numbers_in_free_text_are_masked_however_they_were_typed(text, masked):
    assert mask_phones(text) == masked


def test_names_and_numbers_are_masked_to_the_agreed_shape():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("085186912345") == "085*****2345"
    assert mask_phone("12345") == "***45"
    assert (mask_name("王芳"), mask_name("欧阳明月"), mask_name("")) == ("王*", "欧***", "")
    assert normalise_phone("+86 138-1234-5678") == "13812345678"
    assert normalise_phone("（0851）8691 2345") == "085186912345"
    assert normalise_phone("call me") is None
