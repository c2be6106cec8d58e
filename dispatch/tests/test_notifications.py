"""Who hears about SLA warnings and urgings, through which backend, and what they are told."""

import logging
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from dispatch import notifications
from dispatch.sla import sweep as sla_sweep
from dispatch.tests.sla_world import at, build_sla_world, dispatched_case, lead, person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("celery_eager")]

MONDAY_10 = at(2026, 3, 2, 10, 0)
EMAIL = "dispatch.notifications.EmailBackend"


@pytest.fixture
def w():
    return build_sla_world()


def sweep_and_deliver(now, capture):
    with capture(execute=True):
        return sla_sweep.sweep_deadlines(now=now)


def sent_to():
    return sorted(address for message in mail.outbox for address in message.to)


@override_settings(NOTIFICATION_BACKEND=EMAIL)
def test_a_yellow_warning_is_mailed_to_the_unit_and_its_handlers(w, django_capture_on_commit_callbacks):
    case = dispatched_case(w, at_time=MONDAY_10)
    sweep_and_deliver(at(2026, 3, 2, 11, 40), django_capture_on_commit_callbacks)

    assert sent_to() == ["chengguan@nanming.example", "handler_a@example.com"]
    message = mail.outbox[0]
    assert message.subject == f"[工单即将超时] {case.number}"
    assert "2026-03-02 12:00" in message.body
    assert "签收" in message.body


@override_settings(NOTIFICATION_BACKEND=EMAIL)
def test_each_recipient_gets_their_own_message(w, django_capture_on_commit_callbacks):
    person("handler_a2", w.unit_a, email="handler_a2@example.com")
    dispatched_case(w, at_time=MONDAY_10)
    sweep_and_deliver(at(2026, 3, 2, 11, 40), django_capture_on_commit_callbacks)
    assert all(len(message.to) == 1 for message in mail.outbox)
    assert len(mail.outbox) == 3


@override_settings(NOTIFICATION_BACKEND=EMAIL)
def test_overdue_work_urges_the_unit_and_tells_supervisors_and_the_districts_dispatcher(
    w, django_capture_on_commit_callbacks
):
    case = dispatched_case(w, at_time=MONDAY_10)
    sweep_and_deliver(at(2026, 3, 2, 12, 5), django_capture_on_commit_callbacks)

    by_subject = {}
    for message in mail.outbox:
        by_subject.setdefault(message.subject, []).extend(message.to)
    assert sorted(by_subject[f"[工单督办] {case.number}"]) == ["chengguan@nanming.example", "handler_a@example.com"]
    # The other district's dispatcher, the other unit and grid workers hear nothing.
    assert sorted(by_subject[f"[工单已超时] {case.number}"]) == ["dispatcher_a@example.com", "supervisor@example.com"]


@override_settings(NOTIFICATION_BACKEND=EMAIL)
def test_a_sweep_that_runs_twice_mails_once(w, django_capture_on_commit_callbacks):
    dispatched_case(w, at_time=MONDAY_10)
    sweep_and_deliver(at(2026, 3, 2, 11, 40), django_capture_on_commit_callbacks)
    sweep_and_deliver(at(2026, 3, 2, 11, 41), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


@override_settings(NOTIFICATION_BACKEND=EMAIL)
def test_inactive_people_and_people_without_an_address_get_nothing(w, django_capture_on_commit_callbacks):
    w.handler_a.is_active = False
    w.handler_a.save()
    person("no_address", w.unit_a)
    dispatched_case(w, at_time=MONDAY_10)
    sweep_and_deliver(at(2026, 3, 2, 11, 40), django_capture_on_commit_callbacks)
    assert sent_to() == ["chengguan@nanming.example"]


@override_settings(NOTIFICATION_BACKEND=EMAIL)
def test_a_rolled_back_claim_sends_nothing(w, django_capture_on_commit_callbacks):
    case = dispatched_case(w, at_time=MONDAY_10)

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abort), transaction.atomic():
        sla_sweep.assignment_raise_level(assignment_id=lead(case).pk, level="yellow", now=at(2026, 3, 2, 11, 40))
        raise Abort
    assert mail.outbox == []


def test_the_log_backend_names_the_case_but_no_person(w, django_capture_on_commit_callbacks, caplog):
    case = dispatched_case(w, at_time=MONDAY_10)
    with caplog.at_level(logging.INFO, logger="dispatch.notifications"):
        sweep_and_deliver(at(2026, 3, 2, 12, 5), django_capture_on_commit_callbacks)
    lines = [r.getMessage() for r in caplog.records if r.name == "dispatch.notifications"]
    assert len(lines) == 2  # the urge to the unit, the overdue notice to supervision
    text = "\n".join(lines)
    assert case.number in text
    for personal in ("13812345678", "某小区", "井盖缺失", "@example.com", "handler_a", "supervisor@"):
        assert personal not in text


class Broken(notifications.NotificationBackend):
    def send(self, notice):
        raise ConnectionError("smtp down")


@override_settings(NOTIFICATION_BACKEND="dispatch.tests.test_notifications.Broken")
def test_a_failing_backend_is_logged_and_the_event_stays(w, django_capture_on_commit_callbacks, caplog):
    case = dispatched_case(w, at_time=MONDAY_10)
    with caplog.at_level(logging.ERROR, logger="dispatch.notifications"):
        sweep_and_deliver(at(2026, 3, 2, 11, 40), django_capture_on_commit_callbacks)
    assert case.events.filter(kind="sla_yellow").count() == 1
    assert "could not be delivered" in caplog.text


@override_settings(NOTIFICATION_BACKEND="dispatch.models.Case")
def test_a_backend_setting_that_names_something_else_is_refused():
    with pytest.raises(TypeError, match="NotificationBackend"):
        notifications.get_backend()


def test_the_sms_backend_is_a_contract_that_sends_nothing_by_itself():
    with pytest.raises(TypeError):
        notifications.SmsBackend()


def test_an_sms_adapter_gets_template_parameters_without_personal_data():
    sent = []

    class Gateway(notifications.SmsBackend):
        def phones_for(self, notice):
            return ["13800000000"]

        def send_template(self, *, phone, template, params):
            sent.append((phone, template, params))

    notice = notifications.Notice(
        kind="urged",
        audience=notifications.ASSIGNEE,
        case_id=1,
        case_number="202603010001",
        assignment_id=1,
        unit_id=1,
        partner_id=None,
        organisation="南明区城管局",
        district_code="520102",
        stage="reply",
        due=datetime(2026, 3, 9, 2, 0, tzinfo=UTC),
    )
    Gateway().send(notice)
    assert sent == [("13800000000", "urged", {"number": "202603010001", "stage": "reply", "due": "03-09 10:00"})]
