"""并单: a second caller about an open case joins it; nothing is dispatched twice."""

from __future__ import annotations

from dispatch import services as dispatch_services
from dispatch.models import Assignment, Case, CaseEvent
from grids.points import CheckedPoint
from hotline.models import Call
from hotline.tests.conftest import PHONE_MASKED, WEST_NORTH, close_case
from tests.personas import fresh, person

URL = "/api/v1/calls/"


def join_body(case_id: int, **kw) -> dict:
    data = {
        "caller_phone": "13912345678",
        "caller_name": "李四",
        "request_type": "complaint",
        "content": "我也要反映人行道摆摊的问题",
        "join_case": case_id,
    }
    data.update(kw)
    return data


def test_a_second_caller_joins_the_open_case_and_nothing_is_dispatched_again(world, agent, api, file_call):
    first = file_call()
    case = first.case
    assignments = Assignment.objects.count()
    dispatched = CaseEvent.objects.filter(kind=CaseEvent.Kind.DISPATCHED).count()

    response = api(agent).post(URL, join_body(case.pk), format="json")

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["outcome"] == "joined" and out["joined"] is True
    assert out["case"]["id"] == case.pk
    assert case.number in out["message"]
    assert Case.objects.count() == 1
    assert Assignment.objects.count() == assignments
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.DISPATCHED).count() == dispatched
    call = Call.objects.get(pk=out["call"]["id"])
    assert call.case_id == case.pk and call.category_id == case.category_id


def test_the_joined_case_gets_one_event_naming_the_new_reporter_masked(world, agent, api, file_call):
    case = file_call().case
    version = Case.objects.get(pk=case.pk).version

    api(agent).post(URL, join_body(case.pk), format="json")

    event = CaseEvent.objects.filter(case=case).latest("id")
    assert event.kind == CaseEvent.Kind.COMMENT
    added = event.data["reporter_added"]
    assert added["channel"] == "hotline"
    assert added["caller"] == "139****5678" and added["caller_name"] == "李*"
    assert event.data["reporters"] == 2
    assert "13912345678" not in str(event.data) + event.note
    assert Case.objects.get(pk=case.pk).version == version + 1
    assert Case.objects.get(pk=case.pk).status == "dispatched"


def test_a_closed_case_cannot_be_joined(world, agent, dispatcher, handler_west, api, file_call):
    case = close_case(file_call().case, handler=handler_west, dispatcher=dispatcher)

    response = api(agent).post(URL, join_body(case.pk), format="json")

    assert response.status_code == 409
    assert Call.objects.count() == 1


def test_a_case_the_agent_cannot_see_cannot_be_joined(world, agent, grid_worker, api):
    field_case = dispatch_services.open_case(
        category="SJ0401",
        description="摆摊",
        point=CheckedPoint.make(106.72, 26.52),
        source="field",
        reporter=fresh(grid_worker),
    )

    response = api(agent).post(URL, join_body(field_case.pk), format="json")

    assert response.status_code == 404
    assert Call.objects.count() == 0
    assert not CaseEvent.objects.filter(case=field_case, kind=CaseEvent.Kind.COMMENT).exists()


def test_joining_a_case_that_does_not_exist_is_a_404_and_files_nothing(world, agent, api):
    assert api(agent).post(URL, join_body(999999), format="json").status_code == 404
    assert Call.objects.count() == 0


# --- joining after the fact ----------------------------------------------------------------------


def test_a_dispatcher_joins_a_filed_call_to_the_original_and_its_own_case_is_merged(
    world, agent, dispatcher, api, file_call
):
    original = file_call().case
    duplicate_call = file_call(caller_phone="13700001111", content="西湖小学门口又有人摆摊").call
    duplicate = duplicate_call.case
    assignments_on_original = Assignment.objects.filter(case=original).count()

    response = api(dispatcher).post(
        f"/api/v1/hotline/calls/{duplicate_call.pk}/join/",
        {"into": original.pk, "version": duplicate.version, "note": "同一摊点"},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["case"]["id"] == original.pk
    duplicate.refresh_from_db()
    assert duplicate.status == "merged" and duplicate.merged_into_id == original.pk
    assert not duplicate.assignments.filter(status__in=Assignment.ACTIVE).exists()
    assert Assignment.objects.filter(case=original).count() == assignments_on_original
    event = CaseEvent.objects.filter(case=original).latest("id")
    assert event.data["reporter_added"]["from_case"] == duplicate.number
    assert event.data["reporter_added"]["caller"] == "137****1111"


def test_merging_a_calls_own_case_is_for_dispatchers_not_agents(world, agent, api, file_call):
    original = file_call().case
    other = file_call(caller_phone="13700001111").call

    response = api(agent).post(
        f"/api/v1/hotline/calls/{other.pk}/join/", {"into": original.pk, "version": other.case.version}, format="json"
    )

    assert response.status_code == 403
    assert Case.objects.get(pk=other.case_id).status == "dispatched"
    assert Call.objects.get(pk=other.pk).case_id == other.case_id


def test_a_stale_version_of_the_calls_case_is_refused(world, dispatcher, api, file_call):
    original = file_call().case
    other = file_call(caller_phone="13700001111").call

    response = api(dispatcher).post(
        f"/api/v1/hotline/calls/{other.pk}/join/", {"into": original.pk, "version": 0}, format="json"
    )

    assert response.status_code == 409
    assert Case.objects.get(pk=other.case_id).status == "dispatched"


def test_a_call_cannot_be_joined_to_its_own_case(world, dispatcher, api, file_call):
    call = file_call().call

    response = api(dispatcher).post(f"/api/v1/hotline/calls/{call.pk}/join/", {"into": call.case_id}, format="json")

    assert response.status_code == 400
    assert "into" in response.json()


def test_a_dispatcher_of_another_district_cannot_see_the_call(world, api, file_call):
    yunyan = person("dispatcher_yunyan", unit=world.units["520103-zongzhi"], role="dispatcher")
    original = file_call().case
    call = file_call(caller_phone="13700001111").call

    response = api(yunyan).post(f"/api/v1/hotline/calls/{call.pk}/join/", {"into": original.pk}, format="json")

    assert response.status_code == 404


def test_the_case_lists_every_caller_including_those_of_merged_duplicates(world, agent, dispatcher, api, file_call):
    original = file_call().case
    duplicate = file_call(caller_phone="13700001111", lon=WEST_NORTH[0], lat=WEST_NORTH[1]).case
    joined = file_call(caller_phone="13600002222", join_case=original.pk).call
    # The dispatcher merges through the case API, not the hotline: the callers still follow.
    dispatch_services.case_merge(
        case_id=duplicate.pk, actor=fresh(dispatcher), version=duplicate.version, into=original.pk
    )

    calls = api(agent).get(f"/api/v1/hotline/cases/{original.pk}/calls/").json()

    assert [c["caller"]["phone"] for c in calls] == ["13812345678", "13700001111", "13600002222"]
    assert calls[2]["id"] == joined.pk
    assert PHONE_MASKED not in str(calls)
