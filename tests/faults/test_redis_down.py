"""Drill: Redis stops while reports come in and SLA deadlines pass. Nothing is lost, nothing twice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
from django.utils import timezone

from dispatch.models import Assignment, Case, CaseEvent, LiveOutbox, TaskOutbox
from dispatch.sla.sweep import sweep_deadlines
from dispatch.tests.conftest import WEST_SOUTH
from tests.faults.conftest import LiveSocket, http, wait_for, wait_until_serving

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPORTS_DURING_OUTAGE = 5


def _report(web, agent, n: int):
    body = {"category": "SJ0401", "description": f"演练{n}：人行道摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]}
    return http("POST", f"{web.base}/api/v1/cases/", token=agent.token, body=body, key=str(uuid.uuid4()))


def _duplicates(seqs: list[int]) -> int:
    return sum(n - 1 for n in Counter(seqs).values())


def test_reports_and_sla_work_while_redis_is_down_are_saved_and_delivered_once_it_is_back(
    world, agent, handler_a, redis, procs, this_process_on_own_redis
):
    # Under scripts/run.sh, as `make demo` runs: a Celery worker that loses its broker mid-task may
    # exit (kombu cannot acknowledge), and the runner starts it again.
    web = procs.runner()
    wait_until_serving(web.proc)
    wait_for(lambda: " ready." in web.proc.output(), "the runner's Celery worker", 90)

    socket = LiveSocket(web.base, handler_a.token)
    status, first, _ = _report(web, agent, 0)
    assert status == 201, first
    wait_for(lambda: len(socket.seqs()) >= 2, "the first case's events on the socket", 30)
    seen_before = max(socket.seqs())
    # Its sign deadline has passed: the sweep run during the outage must raise red and urge once.
    late = Case.objects.get(pk=first["id"])
    Assignment.objects.filter(case=late).update(sign_due=timezone.now() - dt.timedelta(hours=1))

    redis.stop()
    answers = [_report(web, agent, n) for n in range(1, REPORTS_DURING_OUTAGE + 1)]
    assert [status for status, _body, _headers in answers] == [201] * REPORTS_DURING_OUTAGE
    case_ids = [body["id"] for _status, body, _headers in answers]
    swept = sweep_deadlines()
    assert swept.red == [Assignment.objects.get(case=late, role="lead").pk]
    health_status, health, _ = http("GET", f"{web.base}/healthz")
    assert health_status == 503 and "redis" in health["down"]
    # Opened + dispatched of each report, red and urged of the late case. (Rows of the first case's
    # events, published and noted before the outage, may still wait for the relay to clear them.)
    waiting = LiveOutbox.objects.filter(event_id__gt=seen_before)
    assert waiting.count() == 2 * REPORTS_DURING_OUTAGE + 2
    assert TaskOutbox.objects.filter(enqueued_at__isnull=True).count() == 2  # the urge and the supervision notice
    wait_for(lambda: socket.of_type("status"), "the socket to hear the server is degraded", 30)
    assert socket.of_type("status")[0]["degraded"] == ["redis"]

    redis.start()
    wait_for(lambda: not LiveOutbox.objects.exists(), "the relay to publish every waiting event", 90)
    wait_for(lambda: not TaskOutbox.objects.exists(), "the relay to queue, and a worker to deliver, the notices", 60)
    missed = list(
        CaseEvent.objects.filter(case_id__in=[*case_ids, late.pk], id__gt=seen_before)
        .order_by("id")
        .values_list("id", flat=True)
    )
    assert len(missed) == 2 * REPORTS_DURING_OUTAGE + 2
    wait_for(lambda: set(missed) <= set(socket.seqs()), "the missed events on the socket that stayed open", 30)
    wait_for(lambda: socket.of_type("status")[-1]["degraded"] == [], "the all-clear on the socket", 30)

    # A socket that was away resumes from the last seq it had and gets exactly the same events.
    resumed = LiveSocket(web.base, handler_a.token, after_seq=seen_before)
    wait_for(lambda: resumed.of_type("resumed"), "the late socket's replay", 30)
    assert resumed.seqs() == missed

    notices = web.lines(f"case {late.number} assignment")
    figures = {
        "cases saved": len(case_ids),
        "events delivered after recovery": len(set(missed) & set(socket.seqs())),
        "duplicate events": _duplicates(socket.seqs()) + _duplicates(resumed.seqs()),
        "red events": late.events.filter(kind="sla_red").count(),
        "urges": late.events.filter(kind="urged").count(),
        "notices delivered": len(notices),
    }
    print(f"\nRedis down drill: {figures}")
    assert figures == {
        "cases saved": REPORTS_DURING_OUTAGE,
        "events delivered after recovery": 2 * REPORTS_DURING_OUTAGE + 2,
        "duplicate events": 0,
        "red events": 1,
        "urges": 1,
        "notices delivered": 2,
    }
    socket.close()
    resumed.close()
