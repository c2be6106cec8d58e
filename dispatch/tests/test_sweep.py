"""The SLA sweep: yellow, red and the automatic urge, each exactly once per assignment and level."""

import asyncio
import json
import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.utils import timezone

from dispatch import live, tasks
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import overdue_q
from dispatch.services import (
    case_decide_extension,
    case_reply,
    case_request_extension,
    case_sign,
    case_verify,
)
from dispatch.sla import sweep as sla_sweep
from dispatch.tests.sla_world import at, build_sla_world, dispatched_case, events, lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

# Dispatched Monday 2 March 2026 10:00: sign due 12:00 (2 working hours), yellow from 11:36 on.
MONDAY_10 = at(2026, 3, 2, 10, 0)


@pytest.fixture
def w():
    return build_sla_world()


def sweep(now):
    return sla_sweep.sweep_deadlines(now=now)


def test_nothing_happens_before_the_yellow_point(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    result = sweep(at(2026, 3, 2, 11, 30))
    assert result.yellow == result.red == []
    assert events(case, "sla_yellow", "sla_red", "urged") == []
    assert lead(case).sla_level == "green"


def test_an_assignment_turns_yellow_at_eighty_percent_of_its_working_time_limit(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    assignment = lead(case)
    assert assignment.sign_due == at(2026, 3, 2, 12, 0)

    result = sweep(at(2026, 3, 2, 11, 37))

    assert result.yellow == [assignment.pk]
    assignment.refresh_from_db()
    assert assignment.sla_level == "yellow"
    assert assignment.yellow_notified_at is not None
    (event,) = events(case, "sla_yellow")
    assert event.actor is None
    assert event.data["stage"] == "sign"
    assert event.data["unit"] == {"id": w.unit_a.pk, "name": "南明区城管局"}


def test_an_overdue_assignment_turns_red_and_its_unit_is_urged_automatically(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    before = Case.objects.get(pk=case.pk).version

    sweep(at(2026, 3, 2, 12, 1))

    assignment = lead(case)
    assert assignment.sla_level == "red"
    assert assignment.red_notified_at is not None
    assert assignment.urge_count == 1
    assert [e.kind for e in events(case, "sla_red", "urged")] == ["sla_red", "urged"]
    assert events(case, "urged")[0].data["automatic"] is True
    # Every event moves the case version, like any other event, so clients see a fresh state.
    assert Case.objects.get(pk=case.pk).version == before + 2


def test_running_the_sweep_again_and_again_raises_each_level_once(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    for now in (at(2026, 3, 2, 11, 40), at(2026, 3, 2, 11, 41), at(2026, 3, 2, 12, 5), at(2026, 3, 2, 12, 6)):
        sweep(now)
        sweep(now)
    kinds = [e.kind for e in events(case, "sla_yellow", "sla_red", "urged")]
    assert kinds == ["sla_yellow", "sla_red", "urged"]
    assert lead(case).urge_count == 1


def test_a_sweep_that_missed_the_yellow_window_raises_only_red(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    sweep(at(2026, 3, 3, 9, 0))
    assert [e.kind for e in events(case, "sla_yellow", "sla_red")] == ["sla_red"]


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing on the way catches it."""


def test_a_worker_dying_mid_sweep_leaves_each_assignment_handled_exactly_once_after_the_rerun(w, monkeypatch):
    cases = [dispatched_case(w, at_time=MONDAY_10) for _ in range(3)]
    real_record = sla_sweep._record
    calls = []

    def dies_on_the_second(*args, **kwargs):
        calls.append(1)
        real_record(*args, **kwargs)  # the claim and the events are written...
        if len(calls) == 2:
            raise WorkerDied  # ...and the worker dies before the transaction commits

    monkeypatch.setattr(sla_sweep, "_record", dies_on_the_second)
    with pytest.raises(WorkerDied):
        sweep(at(2026, 3, 2, 12, 5))

    handled = [len(events(c, "sla_red")) for c in cases]
    assert handled == [1, 0, 0]
    assert Assignment.objects.filter(red_notified_at__isnull=False).count() == 1

    monkeypatch.setattr(sla_sweep, "_record", real_record)
    sweep(at(2026, 3, 2, 12, 6))
    sweep(at(2026, 3, 2, 12, 7))

    for case in cases:
        assert [e.kind for e in events(case, "sla_red", "urged")] == ["sla_red", "urged"]
        assert lead(case).urge_count == 1


def test_one_failing_assignment_does_not_stop_the_sweep_for_the_others(w, monkeypatch):
    first, second = dispatched_case(w, at_time=MONDAY_10), dispatched_case(w, at_time=MONDAY_10)
    real_record = sla_sweep._record

    def fails_for_the_first(case, *args, **kwargs):
        if case.pk == first.pk:
            raise RuntimeError("disk full")
        real_record(case, *args, **kwargs)

    monkeypatch.setattr(sla_sweep, "_record", fails_for_the_first)
    result = sweep(at(2026, 3, 2, 12, 5))
    assert result.failed == [lead(first).pk]
    assert result.red == [lead(second).pk]
    assert lead(first).red_notified_at is None  # rolled back, so the next sweep tries again


def test_the_reply_deadline_gets_its_own_warnings_after_the_unit_signs(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    sweep(at(2026, 3, 2, 12, 5))  # late to sign: red
    case.refresh_from_db()
    case_sign(case_id=case.pk, actor=w.handler_a, version=case.version)
    assignment = lead(case)
    assert assignment.reply_due == at(2026, 3, 9, 10, 0)  # five working days

    sweep(at(2026, 3, 6, 9, 0))  # 8 working hours left of 35: not yet
    sweep(at(2026, 3, 6, 13, 0))  # 4 hours left: yellow
    sweep(at(2026, 3, 9, 10, 1))  # overdue: red again, for the reply deadline
    sweep(at(2026, 3, 9, 10, 2))

    stages = [(e.kind, e.data["stage"]) for e in events(case, "sla_yellow", "sla_red")]
    assert stages == [("sla_red", "sign"), ("sla_yellow", "reply"), ("sla_red", "reply")]
    assert lead(case).urge_count == 2


def test_a_unit_that_signed_late_is_green_again_until_the_reply_deadline_warns(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    sweep(at(2026, 3, 2, 12, 5))  # late to sign: red
    assert lead(case).sla_level == "red"
    case.refresh_from_db()

    case_sign(case_id=case.pk, actor=w.handler_a, version=case.version)

    assert lead(case).sla_level == "green"
    sweep(at(2026, 3, 6, 9, 0))  # the reply deadline is not near yet
    assert lead(case).sla_level == "green"
    sweep(at(2026, 3, 6, 13, 0))
    assert lead(case).sla_level == "yellow"


def test_a_reworked_case_signed_again_late_starts_its_reply_stage_green(w):
    case = dispatched_case(w, at_time=timezone.now())
    case_sign(case_id=case.pk, actor=w.handler_a, version=case.version)
    case.refresh_from_db()
    case_reply(case_id=case.pk, actor=w.handler_a, version=case.version, note="已更换井盖")
    case.refresh_from_db()
    case_verify(case_id=case.pk, actor=w.dispatcher_a, version=case.version, passed=False, note="井盖松动")
    assignment = lead(case)
    assert assignment.status == "rework"
    late = assignment.sign_due + timedelta(minutes=1)
    assert sweep(late).red == [assignment.pk]  # rework waits to be signed again, on the sign deadline
    case.refresh_from_db()

    case_sign(case_id=case.pk, actor=w.handler_a, version=case.version)

    assert lead(case).sla_level == "green"
    assert sweep(late + timedelta(minutes=1)).red == []  # the reply deadline is days away
    assert lead(case).sla_level == "green"


def test_a_collaborator_that_signs_late_is_green_again_too(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    helper = Assignment.objects.create(
        case=case,
        unit=w.unit_b,
        role=Assignment.Role.COLLABORATOR,
        dispatched_at=MONDAY_10,
        sign_due=lead(case).sign_due,
        reply_due=lead(case).reply_due,
    )
    sweep(at(2026, 3, 2, 12, 5))
    helper.refresh_from_db()
    assert helper.sla_level == "red"
    case.refresh_from_db()

    case_sign(case_id=case.pk, actor=w.handler_b, version=case.version)

    helper.refresh_from_db()
    assert (helper.status, helper.sla_level) == ("signed", "green")


def test_the_overdue_filter_names_exactly_the_cases_the_sweep_turns_red(w):
    now = at(2026, 3, 10, 10, 0)
    before, after = now - timedelta(hours=1), now + timedelta(hours=1)

    def case_with_lead(status, *, sign_due, reply_due):
        case = dispatched_case(w, at_time=MONDAY_10)
        Assignment.objects.filter(case=case).update(status=status, sign_due=sign_due, reply_due=reply_due)
        if status == "rework":
            Case.objects.filter(pk=case.pk).update(status=Case.Status.REWORK)
        elif status == "signed":
            Case.objects.filter(pk=case.pk).update(status=Case.Status.SIGNED)
        return case

    late_to_sign = case_with_lead("dispatched", sign_due=before, reply_due=after)
    due_to_sign_now = case_with_lead("dispatched", sign_due=now, reply_due=after)
    late_to_reply = case_with_lead("signed", sign_due=before, reply_due=before)
    rework_late_to_sign_again = case_with_lead("rework", sign_due=before, reply_due=after)
    # Rework waits for a new signature: its reply deadline does not apply yet.
    case_with_lead("rework", sign_due=after, reply_due=before)
    case_with_lead("signed", sign_due=before, reply_due=after)
    case_with_lead("dispatched", sign_due=after, reply_due=after)

    listed = set(Case.objects.filter(overdue_q(now)).values_list("pk", flat=True))
    red = set(Assignment.objects.filter(pk__in=sweep(now).red).values_list("case_id", flat=True))

    expected = {late_to_sign.pk, due_to_sign_now.pk, late_to_reply.pk, rework_late_to_sign_again.pk}
    assert listed == red == expected


def test_an_approved_extension_gives_the_new_deadline_fresh_warnings(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    case_sign(case_id=case.pk, actor=w.handler_a, version=case.version)
    assignment = lead(case)
    Assignment.objects.filter(pk=assignment.pk).update(reply_due=timezone.now() - timedelta(minutes=1))
    sweep(timezone.now())
    assert len(events(case, "sla_red")) == 1

    case.refresh_from_db()
    until = timezone.now() + timedelta(days=30)
    case_request_extension(case_id=case.pk, actor=w.handler_a, version=case.version, until=until, note="需协调管网")
    case.refresh_from_db()
    case_decide_extension(case_id=case.pk, actor=w.dispatcher_a, version=case.version, approved=True)
    sweep(timezone.now())
    assert len(events(case, "sla_red")) == 1  # the new deadline is a month away

    sweep(until + timedelta(minutes=1))
    assert len(events(case, "sla_red")) == 2


def test_closed_and_withdrawn_work_is_not_swept(w):
    closed = dispatched_case(w, at_time=MONDAY_10, status=Case.Status.CLOSED)
    withdrawn = dispatched_case(w, at_time=MONDAY_10)
    Assignment.objects.filter(case=withdrawn).update(status=Assignment.Status.WITHDRAWN)
    result = sweep(at(2026, 3, 20, 12, 0))
    assert result.red == result.yellow == []
    assert events(closed, "sla_red") == events(withdrawn, "sla_red") == []


def test_urgent_limits_run_on_the_wall_clock_through_the_night(w):
    # Saturday 23:50: due to be signed in 30 minutes whatever the calendar says.
    case = dispatched_case(w, at_time=at(2026, 3, 7, 23, 50), urgency="urgent")
    assert lead(case).sign_due == at(2026, 3, 8, 0, 20)
    sweep(at(2026, 3, 8, 0, 10))  # 10 of 30 minutes left: not yet
    sweep(at(2026, 3, 8, 0, 15))  # 5 left: yellow
    sweep(at(2026, 3, 8, 0, 21))
    assert [e.kind for e in events(case, "sla_yellow", "sla_red")] == ["sla_yellow", "sla_red"]


def test_the_celery_task_sweeps_against_the_real_clock(w):
    case = dispatched_case(w, at_time=MONDAY_10)
    Assignment.objects.filter(case=case).update(sign_due=timezone.now() - timedelta(minutes=1))
    result = tasks.sweep_deadlines.apply().get()
    assert result["red"] == [lead(case).pk]
    assert tasks.sweep_deadlines.apply().get()["red"] == []


def test_the_single_assignment_task_re_checks_and_does_nothing_when_not_due(w):
    case = dispatched_case(w, at_time=timezone.now())
    assert tasks.raise_sla_level.apply(args=[lead(case).pk, "red"]).get() is False
    assert events(case, "sla_red") == []


def test_sla_events_are_published_live_to_the_units_group(w, django_capture_on_commit_callbacks):
    case = dispatched_case(w, at_time=MONDAY_10)
    layer = get_channel_layer()
    group = live.group_name(live.UNIT, w.unit_a.pk)

    def run_sweep():
        with django_capture_on_commit_callbacks(execute=True):
            sweep(at(2026, 3, 2, 11, 40))

    async def listen_while_sweeping():
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        try:
            await sync_to_async(run_sweep)()
            return await asyncio.wait_for(layer.receive(channel), timeout=10)
        finally:
            await layer.group_discard(group, channel)

    event = json.loads(async_to_sync(listen_while_sweeping)()["text"])
    assert event["kind"] == "sla_yellow"
    assert event["case"] == case.pk
    assert event["seq"] == events(case, "sla_yellow")[0].id


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_running_at_the_same_time_raise_each_level_once():
    w = build_sla_world()
    cases = [dispatched_case(w, at_time=MONDAY_10) for _ in range(6)]
    start = threading.Barrier(2)
    errors = []

    def run():
        try:
            start.wait()
            sweep(at(2026, 3, 2, 12, 5))
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert CaseEvent.objects.filter(kind="sla_red").count() == len(cases)
    assert CaseEvent.objects.filter(kind="urged").count() == len(cases)
