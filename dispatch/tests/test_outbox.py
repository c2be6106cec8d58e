"""The transactional outbox: an event or task that misses Redis at commit is delivered later, once.

"Redis is down" here is a real refused connection (nothing listens on port 1); tests/faults/ stops
and restarts a Redis server of its own for the same scenarios across real processes.
"""

from __future__ import annotations

import uuid

import pytest
from celery import current_app
from django.core import mail
from django.db import transaction
from django.test import override_settings

from dispatch import outbox
from dispatch.live import publisher
from dispatch.models import Case, CaseEvent, LiveOutbox, TaskOutbox
from dispatch.services import record_event
from dispatch.tasks import deliver_notice
from dispatch.tests.test_api_cases import report

DOWN = "redis://127.0.0.1:1/0"
# The supervisor's dashboard data (maps/urls.py).
ENDPOINTS = ("cases", "summary", "triage", "overdue", "trend", "hotwords")


def _layer_at(settings, url: str) -> None:
    layer = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {"default": {**layer, "CONFIG": {**layer["CONFIG"], "hosts": [url]}}}


@pytest.fixture
def redis_switch(settings):
    """`down()` points the channel layer, the cache, the broker and /healthz at a closed port; `back()`
    undoes it."""
    up_layer, up_caches, up_url = settings.CHANNEL_LAYERS, settings.CACHES, settings.REDIS_URL
    up_broker = current_app.conf.broker_url

    class Switch:
        def down(self):
            _layer_at(settings, DOWN)
            settings.CACHES = {"default": {**up_caches["default"], "LOCATION": DOWN}}
            current_app.conf.broker_url = DOWN
            settings.REDIS_URL = DOWN

        def back(self):
            settings.CHANNEL_LAYERS, settings.CACHES, settings.REDIS_URL = up_layer, up_caches, up_url
            current_app.conf.broker_url = up_broker
            publisher._redis_down_until = 0.0

    switch = Switch()
    publisher._redis_down_until = 0.0
    yield switch
    switch.back()


@pytest.fixture
def no_grace(settings):
    settings.OUTBOX_GRACE_SECONDS = 0


def _comment(case: Case, note: str = "") -> CaseEvent:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        return record_event(case, kind=CaseEvent.Kind.COMMENT, note=note)


# --- live events -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_event_has_an_outbox_row_in_its_own_transaction_and_a_rollback_leaves_none(open_case_at):
    case = open_case_at()
    opened = list(case.events.values_list("id", flat=True))
    assert set(LiveOutbox.objects.values_list("event_id", flat=True)) == set(opened)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        event = record_event(Case.objects.select_for_update().get(pk=case.pk), kind=CaseEvent.Kind.COMMENT)
        assert LiveOutbox.objects.filter(event_id=event.id).exists()
        raise Abort
    assert set(LiveOutbox.objects.values_list("event_id", flat=True)) == set(opened)


@pytest.mark.django_db(transaction=True)
def test_the_writer_clears_the_rows_of_what_it_published_now_and_then(open_case_at, writers_clear_every):
    writers_clear_every(3600)
    case = open_case_at()  # its publish clears (the first of the hour), then the clock starts
    first = _comment(case)
    second = _comment(case)
    # Published at commit and noted in Redis: the rows wait for the next clear.
    assert set(LiveOutbox.objects.values_list("event_id", flat=True)) == {first.id, second.id}

    writers_clear_every(0)
    third = _comment(case)
    assert not LiveOutbox.objects.exists(), third
    assert outbox.relay().cleared == 0  # nothing left, nothing sent again


@pytest.mark.django_db(transaction=True)
def test_the_relay_clears_published_rows_without_sending_them_again(open_case_at, writers_clear_every):
    writers_clear_every(3600)
    case = open_case_at()
    _comment(case)
    _comment(case)
    result = outbox.relay()
    assert (result.cleared, result.events, result.pending_events) == (2, 0, 0)
    assert not LiveOutbox.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_note_naming_another_databases_event_clears_nothing(
    open_case_at, redis_switch, no_grace, writers_clear_every
):
    # Redis outlived the database: a note of an earlier event with the same seq but another write
    # time. The row of this never-published event stays and the relay sends it.
    writers_clear_every(3600)
    redis_switch.down()
    case = open_case_at()
    redis_switch.back()
    client, key, _members = publisher.published_notes(0)
    seqs = list(case.events.values_list("id", flat=True))
    client.sadd(key, *(f"{seq}@2020-01-01T00:00:00+08:00" for seq in seqs))
    result = outbox.relay()
    assert (result.cleared, result.events, result.pending_events) == (0, 2, 0)


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_a_case_is_saved_with_201_and_its_events_wait_in_the_outbox(
    api, world, agent, redis_switch, no_grace
):
    redis_switch.down()
    response = api(agent).post(
        "/api/v1/cases/",
        {"category": "SJ0401", "description": "人行道上有人摆摊", "lon": 106.72, "lat": 26.52},
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    seqs = list(case.events.order_by("id").values_list("id", flat=True))
    assert [e.kind for e in case.events.order_by("id")] == ["opened", "dispatched"]
    assert list(LiveOutbox.objects.order_by("event_id").values_list("event_id", flat=True)) == seqs

    # The relay cannot do better while Redis is away, and loses nothing trying.
    result = outbox.relay()
    assert result.events == 0 and result.error and result.pending_events == 2

    redis_switch.back()
    result = outbox.relay()
    assert (result.events, result.pending_events, result.error) == (2, 0, "")
    assert outbox.relay().events == 0  # nothing twice


@pytest.mark.django_db(transaction=True)
def test_a_second_report_while_redis_is_down_does_not_wait_on_redis_again(api, world, agent, redis_switch):
    redis_switch.down()
    assert report(api(agent)).status_code == 201
    assert publisher._redis_down_until > 0  # the first failure opened the breaker
    assert report(api(agent)).status_code == 201
    assert LiveOutbox.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_the_relay_leaves_young_rows_to_the_process_that_wrote_them(open_case_at, redis_switch, settings):
    settings.OUTBOX_GRACE_SECONDS = 3600
    redis_switch.down()
    open_case_at()
    redis_switch.back()
    result = outbox.relay()
    assert (result.events, result.pending_events) == (0, 2)


# --- tasks -----------------------------------------------------------------------------------------


def _notice_task(case: Case) -> TaskOutbox:
    from django.utils import timezone

    from dispatch.notifications import Notice

    notice = Notice(
        kind="sla_red",
        audience="assignee",
        case_id=case.pk,
        case_number=case.number,
        assignment_id=case.assignments.first().pk,
        unit_id=case.lead_unit_id,
        partner_id=None,
        organisation=case.lead_unit.name,
        district_code=case.district_code,
        stage="sign",
        due=timezone.now(),
    )
    with transaction.atomic():
        return outbox.enqueue_on_commit("dispatch.tasks.deliver_notice", notice=notice.as_dict())


@pytest.mark.django_db(transaction=True)
@override_settings(NOTIFICATION_BACKEND="dispatch.notifications.EmailBackend")
def test_a_task_queued_while_the_broker_is_down_is_sent_by_the_relay_and_runs_once(
    open_case_at, world, redis_switch, no_grace, celery_eager
):
    case = open_case_at()
    world.unit_a.email = "zhifa@nanming.example"
    world.unit_a.save()
    current_app.conf.task_always_eager = False  # a real send to a broker that refuses it
    redis_switch.down()
    row = _notice_task(case)
    assert TaskOutbox.objects.get(pk=row.pk).enqueued_at is None
    assert mail.outbox == []

    redis_switch.back()
    current_app.conf.task_always_eager = True
    result = outbox.relay()
    assert result.tasks == 1 and result.pending_tasks == 0
    assert [m.to for m in mail.outbox] == [["zhifa@nanming.example"]]

    # The same task arriving again (a redelivery after a killed worker) finds its claim gone.
    assert deliver_notice(outbox_id=row.pk, notice={}) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_rolled_back_transaction_queues_no_task(open_case_at, celery_eager, django_capture_on_commit_callbacks):
    case = open_case_at()

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort), transaction.atomic():
        _notice_task(case)
        raise Abort
    assert callbacks == [] and not TaskOutbox.objects.exists()


@pytest.mark.django_db
def test_pages_and_lists_stay_readable_while_redis_is_down(client, api, world, open_case_at, supervisor, redis_switch):
    case = open_case_at()
    redis_switch.down()
    client.force_login(supervisor)
    for url in ("/maps/", "/inbox/", f"/cases/{case.pk}/", *(f"/maps/api/{name}/" for name in ENDPOINTS)):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    listed = api(supervisor).get("/api/v1/cases/")
    assert listed.status_code == 200 and listed.json()["results"][0]["id"] == case.pk
    health = client.get("/healthz")
    assert health.status_code == 503 and "redis" in health.json()["down"]
