"""Drill: a Celery worker is killed with SIGKILL in the middle of the SLA sweep."""

from __future__ import annotations

import datetime as dt
import re

import psycopg
import pytest
from celery import current_app
from django.db import connection
from django.utils import timezone

from dispatch.models import Assignment, Case, TaskOutbox
from tests.faults.conftest import wait_for, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _raw_connection():
    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname=s["NAME"],
    )


def test_a_sweep_cut_short_by_kill_9_is_rerun_by_another_worker_and_its_effects_happen_once(
    world, open_case_at, redis, procs, this_process_on_own_redis
):
    late = open_case_at()
    Assignment.objects.filter(case=late).update(sign_due=timezone.now() - dt.timedelta(hours=1))
    first, second = procs.worker("first"), procs.worker("second")
    wait_until_serving(first, second)

    # Hold the case row, so the sweep that takes the task stops inside its work and waits there.
    blocker = _raw_connection()
    blocker.execute("SELECT id FROM dispatch_case WHERE id = %s FOR UPDATE", [late.pk])
    watcher = _raw_connection()
    watcher.autocommit = True
    try:
        # Its own connection: the app's producer pool may still point at the broker of an earlier test.
        with current_app.connection_for_write() as conn:
            current_app.send_task("dispatch.tasks.sweep_deadlines", connection=conn)
        wait_for(
            lambda: watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()[0],
            "a worker's sweep to wait on the case lock",
            60,
        )
        taken = [w for w in (first, second) if "sweep_deadlines" in w.output() and "received" in w.output()]
        assert len(taken) == 1, "exactly one worker holds the sweep"
        victim = taken[0]
        other = second if victim is first else first
        victim.kill()  # the worker and its pool processes, mid-task
    finally:
        blocker.rollback()
        blocker.close()

    # The message was never acknowledged: it comes back after the visibility timeout, to the survivor.
    wait_for(
        lambda: re.search(r"sweep_deadlines\[.*\] succeeded", other.output()), "the survivor to re-run the sweep", 90
    )
    wait_for(lambda: not TaskOutbox.objects.exists(), "the sweep's notices to be delivered", 60)
    watcher.close()

    case = Case.objects.get(pk=late.pk)
    notices = [line for w in (first, second) for line in w.output().splitlines() if f"case {case.number} " in line]
    figures = {
        "re-run by the other worker": bool(re.search(r"sweep_deadlines\[.*\] succeeded", other.output())),
        "red events": case.events.filter(kind="sla_red").count(),
        "urges": case.events.filter(kind="urged").count(),
        "notices delivered": len(notices),
        "urge count on the assignment": Assignment.objects.get(case=case, role="lead").urge_count,
    }
    print(f"\nworker killed drill: {figures}")
    assert figures == {
        "re-run by the other worker": True,
        "red events": 1,
        "urges": 1,
        "notices delivered": 2,
        "urge count on the assignment": 1,
    }
