"""Optimistic concurrency on real connections: of two simultaneous actions on one version, one wins."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection, connections

from dispatch import services
from dispatch.models import Case
from tests.personas import fresh

pytestmark = pytest.mark.django_db(transaction=True)


def _raw_connection():
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
        autocommit=False,
    )


def _waiting_on_locks(raw) -> int:
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def race(case: Case, attempts: list) -> list:
    """Run each (service, actor, kwargs) in its own thread and connection, all against `case.version`.

    A third session holds the case row while both threads reach for it, so both are provably in
    flight at once before either may go on.
    """
    version = case.version
    holder = _raw_connection()
    holder.execute(f"SELECT id FROM {Case._meta.db_table} WHERE id = %s FOR UPDATE", [case.id])
    watcher = _raw_connection()
    watcher.autocommit = True
    outcomes: list = [None] * len(attempts)

    def run(i, service, actor, kwargs):
        try:
            outcomes[i] = service(case_id=case.id, actor=actor, version=version, **kwargs)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(i, service, fresh(actor), kwargs))
        for i, (service, actor, kwargs) in enumerate(attempts)
    ]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 30
        while _waiting_on_locks(watcher) < len(attempts):
            assert time.monotonic() < deadline, "the competing actions never reached the row lock"
            time.sleep(0.02)
    finally:
        holder.rollback()
        holder.close()
        for t in threads:
            t.join(30)
        watcher.close()
    return outcomes


def test_of_two_simultaneous_signatures_exactly_one_wins(open_case_at, handler_a):
    case = open_case_at()
    colleague = type(handler_a).objects.create_user(username="handler_a2")
    from partners.models import Membership

    Membership.objects.create(user=colleague, unit=case.lead_unit, role="handler")

    outcomes = race(case, [(services.case_sign, handler_a, {}), (services.case_sign, colleague, {})])

    wins = [o for o in outcomes if isinstance(o, Case)]
    stale = [o for o in outcomes if isinstance(o, services.StaleVersion)]
    assert len(wins) == 1 and len(stale) == 1, outcomes
    case.refresh_from_db()
    assert (case.status, case.version) == ("signed", 3), outcomes
    assert list(case.events.filter(kind="signed").values_list("actor_id", flat=True)) == [
        wins[0].events.last().actor_id
    ]


def test_a_signature_and_a_re_dispatch_at_once_do_not_both_apply(world, open_case_at, handler_a, dispatcher):
    case = open_case_at()

    outcomes = race(
        case,
        [
            (services.case_sign, handler_a, {}),
            (services.case_dispatch, dispatcher, {"unit": world.unit_b.id}),
        ],
    )

    signed, dispatched = outcomes
    if isinstance(signed, Case):
        assert isinstance(dispatched, services.StaleVersion), outcomes
    else:
        # Re-dispatched first: the case is no longer unit A's, so its handler cannot even find it.
        assert isinstance(dispatched, Case) and isinstance(signed, services.CaseNotFound), outcomes
    case.refresh_from_db()
    assert case.version == 3 and case.events.count() == 3
    assert case.status in ("signed", "dispatched")
    assert case.assignments.filter(role="lead", status__in=["dispatched", "signed"]).count() == 1
