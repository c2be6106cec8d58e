"""The case event log is the audit trail (数据铁笼): append-only in the database, whoever asks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from dispatch import services
from dispatch.models import Case, CaseEvent
from tests.personas import fresh

pytestmark = pytest.mark.django_db


def refused(sql: str, params=()) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return "append-only" in str(exc)
    return False


def test_raw_sql_cannot_update_or_delete_an_event_even_as_the_superuser(open_case_at):
    case = open_case_at()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is True
    table = CaseEvent._meta.db_table

    assert refused(f"UPDATE {table} SET note = 'rewritten' WHERE case_id = %s", [case.id])
    assert refused(f"DELETE FROM {table} WHERE case_id = %s", [case.id])
    assert not CaseEvent.objects.filter(note="rewritten").exists()
    assert case.events.count() == 2


def test_the_orm_cannot_edit_or_delete_events_either(open_case_at):
    event = open_case_at().events.first()

    event.note = "rewritten"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).update(kind="closed")
    with pytest.raises(DatabaseError), transaction.atomic():
        CaseEvent.objects.filter(pk=event.pk).delete()
    event.refresh_from_db()
    assert event.note == "" and event.kind == "opened"


def test_a_case_with_history_cannot_be_deleted(open_case_at):
    case = open_case_at()
    with pytest.raises(ProtectedError):
        case.delete()
    assert Case.objects.filter(pk=case.pk).exists()


def test_every_transition_writes_one_event_and_the_version_counts_them(
    world, open_case_at, handler_a, grid_worker, agent, supervisor
):
    case = open_case_at()
    steps = [
        (services.case_urge, supervisor, {"note": "请尽快"}),
        (services.case_sign, handler_a, {}),
        (services.case_reply, handler_a, {"note": "已处理"}),
        (services.case_verify, grid_worker, {"passed": False, "note": "未处理干净"}),
        (services.case_sign, handler_a, {}),
        (services.case_reply, handler_a, {"note": "已再次处理"}),
        (services.case_verify, grid_worker, {"passed": True}),
        (services.case_revisit, agent, {"satisfied": True}),
    ]
    assert case.version == case.events.count()
    for service, actor, kwargs in steps:
        case.refresh_from_db()
        before = case.version
        case = service(case_id=case.id, actor=fresh(actor), version=case.version, **kwargs)
        case.refresh_from_db()
        assert case.version == case.events.count()
        assert case.version > before
    events = list(case.events.order_by("id"))
    # The log chains: each event starts where the previous one ended.
    for previous, event in zip(events, events[1:], strict=False):
        assert event.from_status == previous.to_status
        assert event.at >= previous.at
    assert events[-1].to_status == "revisited" == case.status


def test_each_event_names_its_actor_and_time(open_case_at, handler_a):
    case = open_case_at()
    case = services.case_sign(case_id=case.id, actor=fresh(handler_a), version=case.version, note="收到")
    event = case.events.last()
    assert event.actor == handler_a
    assert event.at is not None and event.note == "收到"
    assert (event.from_status, event.to_status) == ("dispatched", "signed")


def test_events_of_some_kinds_in_a_period_are_found_through_the_kind_and_time_index(open_case_at):
    open_case_at()
    now = timezone.now()
    in_period = CaseEvent.objects.filter(
        kind__in=[CaseEvent.Kind.VERIFIED, CaseEvent.Kind.REWORK], at__gte=now - dt.timedelta(days=30), at__lt=now
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # A test table is tiny, so make the planner show which index it would use on a big one.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = in_period.explain()

    assert "caseevent_kind_at" in plan
