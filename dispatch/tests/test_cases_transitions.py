"""Every transition of the case lifecycle, who may take it, and every refusal."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.utils import timezone

from dispatch import live, services
from dispatch.models import Case, CaseEvent
from dispatch.selectors import visible_cases
from dispatch.tests.conftest import EAST, WEST_SOUTH, upload
from grids.models import Grid, GridWorker
from grids.points import CheckedPoint
from tests.personas import fresh, person

pytestmark = pytest.mark.django_db


def act(service, case: Case, actor, **kw) -> Case:
    """Take an action as a new request would: against the case's current version."""
    case.refresh_from_db()
    return service(case_id=case.id, actor=fresh(actor), version=case.version, **kw)


def last_events(case: Case, n: int = 1) -> list[tuple[str, str, str]]:
    rows = CaseEvent.objects.filter(case=case).order_by("-id").values_list("kind", "from_status", "to_status")[:n]
    return list(reversed(rows))


def unchanged(case: Case, version: int, events: int) -> bool:
    case.refresh_from_db()
    return case.version == version and case.events.count() == events


# --- sign ----------------------------------------------------------------------------------------


def test_the_lead_units_handler_signs_and_exactly_one_event_is_written(open_case_at, handler_a):
    case = open_case_at()
    before_version, before_events = case.version, case.events.count()

    case = act(services.case_sign, case, handler_a)

    assert case.status == "signed"
    assert case.version == before_version + 1
    assert case.events.count() == before_events + 1
    event = case.events.last()
    assert (event.kind, event.from_status, event.to_status, event.actor_id) == (
        "signed",
        "dispatched",
        "signed",
        handler_a.id,
    )
    assert case.assignments.get(role="lead").signed_at is not None


def test_a_handler_of_another_unit_cannot_even_find_the_case(open_case_at, handler_b):
    case = open_case_at()
    with pytest.raises(services.CaseNotFound):
        act(services.case_sign, case, handler_b)
    assert unchanged(case, 2, 2)


def test_a_dispatcher_cannot_sign_for_a_unit(open_case_at, dispatcher):
    case = open_case_at()
    with pytest.raises(services.ActionForbidden):
        act(services.case_sign, case, dispatcher)
    assert unchanged(case, 2, 2)


def test_a_stale_version_is_refused_and_nothing_changes(open_case_at, handler_a):
    case = open_case_at()
    with pytest.raises(services.StaleVersion) as refused:
        services.case_sign(case_id=case.id, actor=fresh(handler_a), version=case.version - 1)
    assert refused.value.extra["current_version"] == case.version
    assert unchanged(case, 2, 2)
    assert case.status == "dispatched"


def test_signing_twice_is_an_invalid_transition(open_case_at, handler_a):
    case = act(services.case_sign, open_case_at(), handler_a)
    with pytest.raises(services.InvalidTransition):
        act(services.case_sign, case, handler_a)


def test_a_partner_signs_and_replies_its_own_part_without_moving_the_case(world, open_case_at, partner_handler):
    case = open_case_at(category="XQ0101", description="独居老人需要助餐")

    case = act(services.case_sign, case, partner_handler)
    assert case.status == "dispatched"
    assert case.assignments.get(partner=world.partner).status == "signed"
    assert last_events(case) == [("signed", "dispatched", "dispatched")]

    case = act(services.case_reply, case, partner_handler, note="已安排志愿者每日送餐")
    assert case.status == "dispatched"
    assert case.assignments.get(partner=world.partner).status == "replied"


# --- return and (re-)dispatch --------------------------------------------------------------------


def test_a_return_needs_a_reason(open_case_at, handler_a):
    case = open_case_at()
    with pytest.raises(ValidationError) as refused:
        act(services.case_return, case, handler_a, note="  ")
    assert "note" in refused.value.message_dict
    assert unchanged(case, 2, 2)


def test_a_returned_case_goes_back_to_the_dispatcher_who_sends_it_elsewhere(
    world, open_case_at, handler_a, handler_b, dispatcher
):
    case = open_case_at()
    case = act(services.case_return, case, handler_a, note="不属于本单位职责")

    assert case.status == "returned"
    assert case.lead_unit == world.units["520102-zongzhi"]
    assert not visible_cases(fresh(handler_a)).filter(pk=case.pk).exists()
    assert visible_cases(fresh(dispatcher)).filter(pk=case.pk).exists()

    case = act(services.case_dispatch, case, dispatcher, unit=world.unit_b.id, note="改派北街道")

    assert case.status == "dispatched" and case.lead_unit == world.unit_b
    assert last_events(case) == [("dispatched", "returned", "dispatched")]
    assert case.assignments.filter(role="lead", status="dispatched").get().unit == world.unit_b
    assert visible_cases(fresh(handler_b)).filter(pk=case.pk).exists()
    act(services.case_sign, case, handler_b)


def test_a_dispatcher_takes_a_case_out_of_triage(world, open_case_at, dispatcher, handler_a):
    case = open_case_at(EAST)
    assert case.status == "triage"

    case = act(services.case_dispatch, case, dispatcher, unit=world.unit_a.id)

    assert case.status == "dispatched" and case.lead_unit == world.unit_a
    assert visible_cases(fresh(handler_a)).filter(pk=case.pk).exists()


def test_re_dispatch_withdraws_the_previous_lead(world, open_case_at, dispatcher, handler_a):
    case = act(services.case_dispatch, open_case_at(), dispatcher, unit=world.unit_b.id)

    assert list(case.assignments.filter(role="lead").values_list("unit_id", "status").order_by("id")) == [
        (world.unit_a.id, "withdrawn"),
        (world.unit_b.id, "dispatched"),
    ]
    assert not visible_cases(fresh(handler_a)).filter(pk=case.pk).exists()


def test_dispatching_to_an_unknown_unit_is_a_field_error(open_case_at, dispatcher):
    case = open_case_at()
    with pytest.raises(ValidationError) as refused:
        act(services.case_dispatch, case, dispatcher, unit=999999)
    assert "unit" in refused.value.message_dict


def test_another_districts_dispatcher_cannot_touch_the_case(world, open_case_at, dispatcher_yunyan):
    case = open_case_at()
    with pytest.raises(services.CaseNotFound):
        act(services.case_dispatch, case, dispatcher_yunyan, unit=world.unit_b.id)


def test_a_handler_cannot_dispatch(world, open_case_at, handler_a):
    with pytest.raises(services.ActionForbidden):
        act(services.case_dispatch, open_case_at(), handler_a, unit=world.unit_b.id)


# --- reply, verify, rework, close ----------------------------------------------------------------


def test_reply_moves_to_verification_and_the_grid_worker_closes_it(open_case_at, handler_a, grid_worker):
    case = act(services.case_sign, open_case_at(), handler_a)

    case = act(services.case_reply, case, handler_a, note="已清理摊点")
    assert case.status == "verifying"
    assert last_events(case, 2) == [("replied", "signed", "replied"), ("verifying", "replied", "verifying")]

    case = act(services.case_verify, case, grid_worker, passed=True, note="现场已恢复")
    assert case.status == "closed" and case.closed_at is not None
    assert last_events(case) == [("verified", "verifying", "closed")]


def test_a_reply_before_signing_is_refused(open_case_at, handler_a):
    with pytest.raises(services.InvalidTransition):
        act(services.case_reply, open_case_at(), handler_a, note="已处理")


def test_a_reply_needs_a_result(open_case_at, handler_a):
    case = act(services.case_sign, open_case_at(), handler_a)
    with pytest.raises(ValidationError):
        act(services.case_reply, case, handler_a, note="")


def test_failed_verification_sends_it_back_for_rework_and_the_handler_signs_again(open_case_at, handler_a, grid_worker):
    case = act(services.case_sign, open_case_at(), handler_a)
    case = act(services.case_reply, case, handler_a, note="已处理")

    with pytest.raises(ValidationError):
        act(services.case_verify, case, grid_worker, passed=False, note="")
    case = act(services.case_verify, case, grid_worker, passed=False, note="摊贩又回来了")

    assert case.status == "rework"
    lead = case.assignments.get(role="lead", status="rework")
    assert lead.reply_due > timezone.now()
    case = act(services.case_sign, case, handler_a)
    assert case.status == "signed"
    assert last_events(case) == [("signed", "rework", "signed")]


def test_only_the_grids_worker_or_a_dispatcher_may_verify(open_case_at, handler_a, dispatcher):
    case = act(services.case_sign, open_case_at(), handler_a)
    case = act(services.case_reply, case, handler_a, note="已处理")

    with pytest.raises(services.ActionForbidden):
        act(services.case_verify, case, handler_a, passed=True)
    case = act(services.case_verify, case, dispatcher, passed=True)
    assert case.status == "closed"


def test_a_grid_worker_of_another_grid_cannot_see_the_case_to_verify(world, open_case_at, handler_a):
    elsewhere = person("gridworker_north")
    GridWorker.objects.create(user=elsewhere, grid=Grid.objects.get(code="520102001001002"))
    case = act(services.case_sign, open_case_at(WEST_SOUTH), handler_a)
    case = act(services.case_reply, case, handler_a, note="已处理")

    with pytest.raises(services.CaseNotFound):
        act(services.case_verify, case, elsewhere, passed=True)


def test_a_dispatcher_closes_a_replied_case(open_case_at, handler_a, dispatcher):
    case = act(services.case_sign, open_case_at(), handler_a)
    case = act(services.case_reply, case, handler_a, note="已处理")

    case = act(services.case_close, case, dispatcher, note="电话确认已解决")

    assert case.status == "closed"
    assert last_events(case) == [("closed", "verifying", "closed")]


def test_closing_a_case_nobody_has_worked_is_refused(open_case_at, dispatcher):
    with pytest.raises(services.InvalidTransition):
        act(services.case_close, open_case_at(), dispatcher)


# --- extension and urging ------------------------------------------------------------------------


def test_an_extension_moves_the_deadline_only_when_approved(open_case_at, handler_a, dispatcher):
    case = act(services.case_sign, open_case_at(), handler_a)
    lead = case.assignments.get(role="lead", status="signed")
    until = lead.reply_due + dt.timedelta(days=3)

    case = act(services.case_request_extension, case, handler_a, until=until, note="需要协调物业")
    lead.refresh_from_db()
    assert lead.extension_status == "requested" and lead.reply_due < until
    assert last_events(case) == [("extension_requested", "signed", "signed")]

    with pytest.raises(services.InvalidTransition):
        act(services.case_request_extension, case, handler_a, until=until, note="再次申请")
    with pytest.raises(services.ActionForbidden):
        act(services.case_decide_extension, case, handler_a, approved=True)

    case = act(services.case_decide_extension, case, dispatcher, approved=True)
    lead.refresh_from_db()
    assert lead.reply_due == until and lead.extension_status == "approved"
    assert last_events(case) == [("extension_approved", "signed", "signed")]


def test_a_refused_extension_keeps_the_deadline(open_case_at, handler_a, supervisor):
    case = act(services.case_sign, open_case_at(), handler_a)
    lead = case.assignments.get(role="lead", status="signed")
    due = lead.reply_due
    case = act(services.case_request_extension, case, handler_a, until=due + dt.timedelta(days=1), note="理由")

    case = act(services.case_decide_extension, case, supervisor, approved=False, note="不予延期")

    lead.refresh_from_db()
    assert lead.reply_due == due and lead.extension_status == "denied"
    assert last_events(case) == [("extension_denied", "signed", "signed")]


def test_an_extension_must_end_after_the_current_deadline(open_case_at, handler_a):
    case = act(services.case_sign, open_case_at(), handler_a)
    with pytest.raises(ValidationError) as refused:
        act(services.case_request_extension, case, handler_a, until=timezone.now(), note="理由")
    assert "until" in refused.value.message_dict


def test_approving_without_a_request_is_refused(open_case_at, dispatcher):
    with pytest.raises(services.InvalidTransition):
        act(services.case_decide_extension, open_case_at(), dispatcher, approved=True)


def test_a_supervisor_urges_and_the_status_stays(open_case_at, supervisor, handler_a):
    case = open_case_at()

    case = act(services.case_urge, case, supervisor, note="请尽快签收")

    assert case.status == "dispatched"
    assert case.assignments.get(role="lead").urge_count == 1
    assert last_events(case) == [("urged", "dispatched", "dispatched")]
    with pytest.raises(services.ActionForbidden):
        act(services.case_urge, case, handler_a)


# --- reject, merge -------------------------------------------------------------------------------


def test_a_dispatcher_rejects_a_triage_case_with_a_reason(open_case_at, dispatcher):
    case = open_case_at(EAST)
    with pytest.raises(ValidationError):
        act(services.case_reject, case, dispatcher, note="")

    case = act(services.case_reject, case, dispatcher, note="属于民事纠纷，建议诉讼")

    assert case.status == "rejected"
    assert last_events(case) == [("rejected", "triage", "rejected")]
    with pytest.raises(services.InvalidTransition):
        act(services.case_dispatch, case, dispatcher, unit=case.lead_unit_id)


def test_a_dispatched_case_cannot_be_rejected(open_case_at, dispatcher):
    with pytest.raises(services.InvalidTransition):
        act(services.case_reject, open_case_at(), dispatcher, note="重复")


def test_a_duplicate_is_merged_into_the_original(open_case_at, dispatcher, handler_a):
    original, duplicate = open_case_at(), open_case_at(description="同一处摆摊")

    duplicate = act(services.case_merge, duplicate, dispatcher, into=original.id, note="重复报告")

    assert duplicate.status == "merged" and duplicate.merged_into_id == original.id
    assert last_events(duplicate) == [("merged", "dispatched", "merged")]
    assert not duplicate.assignments.filter(status="dispatched").exists()
    with pytest.raises(services.InvalidTransition):
        act(services.case_dispatch, duplicate, dispatcher, unit=original.lead_unit_id)
    # The case that stays gets an event naming the duplicate; its status does not change.
    original.refresh_from_db()
    assert original.status == "dispatched" and original.version == 3
    assert last_events(original) == [("merged_in", "dispatched", "dispatched")]
    event = original.events.last()
    assert event.data["merged"] == {"id": duplicate.id, "number": duplicate.number}
    assert event.actor_id == dispatcher.id and event.note == "重复报告"


def test_the_unit_working_the_original_hears_live_that_a_duplicate_joined_it(
    open_case_at, dispatcher, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # their own events go out before we listen
        original = open_case_at()  # led by unit A
        duplicate = open_case_at(EAST)  # triage at the district's command centre: unit A never sees it
    layer = get_channel_layer()

    async def merge_while_listening() -> dict:
        channel = await layer.new_channel()
        group = live.group_name(live.UNIT, original.lead_unit_id)
        await layer.group_add(group, channel)
        try:

            @sync_to_async
            def merge():
                with django_capture_on_commit_callbacks(execute=True):
                    act(services.case_merge, duplicate, dispatcher, into=original.id)

            await merge()
            return await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            await layer.group_discard(group, channel)

    event = json.loads(async_to_sync(merge_while_listening)()["text"])
    assert (event["case"], event["kind"]) == (original.id, "merged_in")
    assert event["seq"] == original.events.last().id


def test_a_case_cannot_be_merged_into_itself_or_a_closed_case(open_case_at, dispatcher):
    case, other = open_case_at(), open_case_at()
    with pytest.raises(ValidationError):
        act(services.case_merge, case, dispatcher, into=case.id)
    act(services.case_reject, open_case_at(EAST), dispatcher, note="无效")
    closed = Case.objects.get(status="rejected")
    with pytest.raises(ValidationError):
        act(services.case_merge, case, dispatcher, into=closed.id)
    act(services.case_merge, case, dispatcher, into=other.id)


# --- callback ------------------------------------------------------------------------------------


def _closed_case(open_case_at, handler_a, grid_worker) -> Case:
    case = act(services.case_sign, open_case_at(), handler_a)
    case = act(services.case_reply, case, handler_a, note="已处理")
    return act(services.case_verify, case, grid_worker, passed=True)


def test_a_satisfied_caller_ends_the_case(open_case_at, handler_a, grid_worker, agent):
    case = act(services.case_revisit, _closed_case(open_case_at, handler_a, grid_worker), agent, satisfied=True)

    assert case.status == "revisited" and case.satisfied is True
    assert last_events(case) == [("revisited", "closed", "revisited")]


def test_an_unsatisfied_caller_reopens_it_to_the_same_unit(world, open_case_at, handler_a, grid_worker, agent):
    case = _closed_case(open_case_at, handler_a, grid_worker)

    case = act(services.case_revisit, case, agent, satisfied=False, note="摊贩晚上还在")

    assert case.status == "dispatched" and case.lead_unit == world.unit_a
    assert case.satisfied is False and case.closed_at is None
    assert last_events(case, 2) == [("reopened", "closed", "reopened"), ("dispatched", "reopened", "dispatched")]
    assert case.assignments.filter(role="lead", status="dispatched", unit=world.unit_a).exists()
    assert act(services.case_sign, case, handler_a).status == "signed"


def test_only_an_agent_makes_the_callback(open_case_at, handler_a, grid_worker, dispatcher):
    case = _closed_case(open_case_at, handler_a, grid_worker)
    with pytest.raises(services.ActionForbidden):
        act(services.case_revisit, case, dispatcher, satisfied=True)


def test_an_open_case_cannot_be_revisited(open_case_at, agent):
    with pytest.raises(services.InvalidTransition):
        act(services.case_revisit, open_case_at(), agent, satisfied=True)


# --- resolved on the spot ------------------------------------------------------------------------


def test_a_grid_worker_resolves_a_minor_issue_on_the_spot(world, grid_worker, media):
    case = services.open_case(
        category="SJ0401",
        description="井边有少量垃圾",
        point=CheckedPoint.make(*WEST_SOUTH),
        source="field",
        reporter=fresh(grid_worker),
        photos=[upload()],
        self_resolved=True,
        note="已当场清理",
    )

    assert case.status == "closed" and case.self_resolved and case.closed_at is not None
    assert last_events(case, 2) == [("opened", "received", "received"), ("closed", "received", "closed")]
    assert case.events.last().evidence == [case.attachments.get().id]
    assert not case.assignments.exists()


def test_only_grid_workers_resolve_on_the_spot_and_with_a_photo(world, agent, grid_worker):
    common = {"category": "SJ0401", "description": "垃圾", "point": CheckedPoint.make(*WEST_SOUTH)}
    with pytest.raises(services.ActionForbidden):
        services.open_case(**common, source="hotline", reporter=fresh(agent), self_resolved=True, photos=[upload()])
    with pytest.raises(ValidationError) as refused:
        services.open_case(**common, source="field", reporter=fresh(grid_worker), self_resolved=True)
    assert "photos" in refused.value.message_dict
    assert not Case.objects.exists()
