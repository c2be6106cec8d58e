"""回访: closed hotline cases wait in the agents' queue; 不满意 sends the case back to work."""

from __future__ import annotations

from dispatch import services as dispatch_services
from dispatch.models import Assignment, Case, CaseEvent
from grids.points import CheckedPoint
from hotline.models import Callback
from hotline.tests.conftest import close_case
from tests.personas import fresh

QUEUE = "/api/v1/hotline/callbacks/"


def record(api, agent, case: Case, **kw):
    data = {"result": "satisfied", "version": Case.objects.get(pk=case.pk).version}
    data.update(kw)
    return api(agent).post(f"{QUEUE}{case.pk}/", data, format="json")


def closed_call_case(file_call, handler_west, dispatcher, **kw) -> Case:
    return close_case(file_call(**kw).case, handler=handler_west, dispatcher=dispatcher)


def queue_numbers(api, user) -> list[str]:
    response = api(user).get(QUEUE)
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def test_a_closed_hotline_case_waits_for_its_callback_and_open_ones_do_not(
    world, agent, agent2, dispatcher, handler_west, grid_worker, api, file_call
):
    closed = closed_call_case(file_call, handler_west, dispatcher)
    file_call(caller_phone="13700001111")  # still being worked
    field = dispatch_services.open_case(
        category="SJ0401",
        description="摆摊",
        point=CheckedPoint.make(106.72, 26.52),
        source="field",
        reporter=fresh(grid_worker),
    )
    close_case(field, handler=handler_west, dispatcher=dispatcher)

    assert queue_numbers(api, agent) == [closed.number]
    # Any agent may make the callback, not only the one who took the call.
    assert queue_numbers(api, agent2) == [closed.number]
    row = api(agent).get(QUEUE).json()["results"][0]
    assert row["calls"][0]["caller"] == {"name": "张*", "phone": "138****5678"}
    assert row["lead_unit"]["name"] == "西街道综合执法队"


def test_satisfied_closes_the_case_for_good(world, agent, dispatcher, handler_west, api, file_call):
    case = closed_call_case(file_call, handler_west, dispatcher)

    response = record(api, agent, case, result="satisfied", note="摊点已清走")

    assert response.status_code == 201, response.json()
    assert response.json()["result_label"] == "满意"
    case.refresh_from_db()
    assert case.status == "revisited" and case.satisfied is True
    assert queue_numbers(api, agent) == []
    assert Callback.objects.get().agent == agent


def test_basically_satisfied_counts_as_satisfied_and_is_recorded_as_said(
    world, agent, dispatcher, handler_west, api, file_call
):
    case = closed_call_case(file_call, handler_west, dispatcher)

    assert record(api, agent, case, result="basically_satisfied").status_code == 201

    case.refresh_from_db()
    assert case.status == "revisited" and case.satisfied is True
    assert Callback.objects.get().result == "basically_satisfied"
    assert CaseEvent.objects.filter(case=case).latest("id").note.startswith("基本满意")


def test_unsatisfied_reopens_the_case_and_sends_it_back_to_the_same_unit(
    world, agent, dispatcher, handler_west, api, file_call
):
    case = closed_call_case(file_call, handler_west, dispatcher)

    response = record(api, agent, case, result="unsatisfied", note="摊点第二天又回来了")

    assert response.status_code == 201, response.json()
    case.refresh_from_db()
    assert case.status == "dispatched" and case.satisfied is False
    assert case.lead_unit == world.units["520102001-zhifa"]
    lead = case.assignments.get(role=Assignment.Role.LEAD, status__in=Assignment.ACTIVE)
    assert lead.unit == world.units["520102001-zhifa"] and lead.signed_at is None
    kinds = list(case.events.order_by("-id").values_list("kind", flat=True)[:2])
    assert kinds == [CaseEvent.Kind.DISPATCHED, CaseEvent.Kind.REOPENED]
    assert queue_numbers(api, agent) == []
    # Worked and closed again, it comes back for another callback.
    close_case(case, handler=handler_west, dispatcher=dispatcher)
    assert queue_numbers(api, agent) == [case.number]


def test_unsatisfied_needs_the_reason(world, agent, dispatcher, handler_west, api, file_call):
    case = closed_call_case(file_call, handler_west, dispatcher)

    response = record(api, agent, case, result="unsatisfied")

    assert response.status_code == 400
    assert "note" in response.json()
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_a_callback_on_a_stale_version_is_refused(world, agent, dispatcher, handler_west, api, file_call):
    case = closed_call_case(file_call, handler_west, dispatcher)

    response = record(api, agent, case, version=case.version - 1)

    assert response.status_code == 409
    assert not Callback.objects.exists()


def test_a_case_still_being_worked_cannot_be_called_back(world, agent, api, file_call):
    case = file_call().case

    assert record(api, agent, case).status_code == 409


def test_only_agents_make_callbacks(world, supervisor, dispatcher, handler_west, agent, api, file_call):
    case = closed_call_case(file_call, handler_west, dispatcher)

    assert record(api, supervisor, case).status_code == 403
    assert record(api, handler_west, case).status_code == 403
    assert api(handler_west).get(QUEUE).status_code == 403
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_bad_callbacks_are_refused_with_the_field_named(world, agent, dispatcher, handler_west, api, file_call):
    case = closed_call_case(file_call, handler_west, dispatcher)
    other_call = file_call(caller_phone="13700001111").call

    assert "result" in record(api, agent, case, result="很好").json()
    assert "version" in api(agent).post(f"{QUEUE}{case.pk}/", {"result": "satisfied"}, format="json").json()
    assert "call" in record(api, agent, case, call=other_call.pk).json()
    assert record(api, agent, case, call=other_call.pk).status_code == 400
    assert api(agent).post(f"{QUEUE}999999/", {"result": "satisfied", "version": 1}, format="json").status_code == 404
    assert Case.objects.get(pk=case.pk).status == "closed"


def test_the_callback_may_name_the_call_it_returned(world, agent, dispatcher, handler_west, api, file_call):
    filed = file_call()
    close_case(filed.case, handler=handler_west, dispatcher=dispatcher)

    response = record(api, agent, filed.case, call=filed.call.pk)

    assert response.status_code == 201
    assert Callback.objects.get().call == filed.call
