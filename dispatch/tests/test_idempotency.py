"""Idempotency-Key: retries return the first answer, never a second case."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from django.db import connection, connections

from dispatch.models import Attachment, Case, IdempotencyKey
from dispatch.tests.conftest import WEST_SOUTH, photo_bytes, upload

CASES = "/api/v1/cases/"
BODY = {"category": "SJ0401", "description": "人行道上有人摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]}


def post(client, key: str | None, body=None, **extra):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(CASES, body or BODY, format=extra.pop("format", "json"), **headers, **extra)


@pytest.mark.django_db
def test_the_same_key_and_body_return_the_first_response_and_make_one_case(api, world, agent):
    client = api(agent)
    first = post(client, "k-1")
    again = post(client, "k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_the_first_answer_is_stored_as_sent_and_other_formats_still_render(api, world, agent):
    client = api(agent)
    first = post(client, "k-1")
    stored = IdempotencyKey.objects.get(key="k-1")
    assert first["Content-Type"] == "application/json"
    assert stored.response == first.json()
    assert stored.status_code == 201

    # A request asking for indented JSON gets it; the key stores the same data.
    indented = post(client, "k-2", HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 201
    assert indented.content.decode().startswith('{\n  "id": ')
    assert indented.json() == IdempotencyKey.objects.get(key="k-2").response


@pytest.mark.django_db
def test_the_same_key_with_a_different_body_is_refused_with_422(api, world, agent):
    client = api(agent)
    post(client, "k-1")

    response = post(client, "k-1", BODY | {"description": "另一件事"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_mismatch"
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_retried_field_report_with_photos_never_makes_two_cases(api, world, grid_worker, media):
    client = api(grid_worker)

    def send():
        return post(client, "field-7", BODY | {"photos": [upload("p.jpg")]}, format="multipart")

    first, second = send(), send()

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1 and Attachment.objects.count() == 1


@pytest.mark.django_db
def test_a_different_photo_under_the_same_key_is_a_different_request(api, world, grid_worker, media):
    client = api(grid_worker)
    post(client, "field-8", BODY | {"photos": [upload("p.jpg")]}, format="multipart")
    other = upload("p.jpg", photo_bytes(size=(80, 60)))

    response = post(client, "field-8", BODY | {"photos": [other]}, format="multipart")

    assert response.status_code == 422


@pytest.mark.django_db
def test_keys_belong_to_their_user(api, world, agent, supervisor):
    a = post(api(agent), "shared")
    b = post(api(supervisor), "shared")
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_a_refused_request_frees_its_key_for_the_corrected_retry(api, world, agent):
    client = api(agent)
    assert post(client, "k-2", BODY | {"category": "NOPE"}).status_code == 400

    response = post(client, "k-2")

    assert response.status_code == 201
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_a_malformed_key_is_a_field_error(api, world, agent):
    response = post(api(agent), "x" * 300)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


@pytest.mark.django_db
def test_a_retried_action_returns_the_first_answer_instead_of_a_conflict(api, world, agent, handler_a):
    case = post(api(agent), None).json()
    client = api(handler_a)
    url = f"{CASES}{case['id']}/actions/"
    body = {"action": "sign", "version": case["version"]}

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sign-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sign-1")
    without_key = client.post(url, body, format="json")

    assert first.status_code == again.status_code == 200
    assert again.json()["version"] == first.json()["version"]
    assert without_key.status_code == 409


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


@pytest.mark.django_db(transaction=True)
def test_a_second_request_while_the_first_is_in_flight_gets_409(api, world, agent):
    client = api(agent)
    # Hold the first request inside its work: another session blocks every insert into the case table.
    blocker = _raw_connection()
    blocker.execute(f"LOCK TABLE {Case._meta.db_table} IN EXCLUSIVE MODE")
    results = {}

    def first_request():
        try:
            results["first"] = post(api(agent), "slow-1")
        finally:
            connections.close_all()

    watcher = _raw_connection()
    watcher.autocommit = True
    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        # In flight: it has reserved its key and waits on the case table.
        while not watcher.execute(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            [f'INSERT INTO "{Case._meta.db_table}"%'],
        ).fetchone():
            assert time.monotonic() < deadline, "the first request never reached the case insert"
            time.sleep(0.02)

        during = post(client, "slow-1")
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()
        thread.join(30)

    assert during.status_code == 409
    assert during.json()["code"] == "idempotency_in_flight"
    assert results["first"].status_code == 201
    after = post(client, "slow-1")
    assert after.status_code == 201 and after.json()["id"] == results["first"].json()["id"]
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_database_connection_is_cut_answers_503_and_its_retry_makes_one_case(api, world, agent):
    # The first request is held inside its work (another session locks the case table), then its
    # connection is cut from the server side, as a PostgreSQL restart or a network drop would.
    blocker = _raw_connection()
    blocker.execute(f"LOCK TABLE {Case._meta.db_table} IN EXCLUSIVE MODE")
    watcher = _raw_connection()
    watcher.autocommit = True
    results = {}

    def first_request():
        try:
            results["first"] = post(api(agent), "cut-1")
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_request)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        waiting = None
        while waiting is None:
            assert time.monotonic() < deadline, "the first request never reached the case insert"
            time.sleep(0.02)
            # A fresh statement each time: pg_stat_activity is a snapshot per transaction.
            waiting = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
                [f'INSERT INTO "{Case._meta.db_table}"%'],
            ).fetchone()
        watcher.execute("SELECT pg_terminate_backend(%s)", [waiting[0]])
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()
        thread.join(30)

    first = results["first"]
    assert first.status_code == 503
    assert first["Retry-After"] == "5"
    assert first.json()["code"] == "database_unavailable"
    assert Case.objects.count() == 0  # nothing partial

    retry = post(api(agent), "cut-1")
    assert retry.status_code == 201, retry.json()
    again = post(api(agent), "cut-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == retry.json()["id"]
    assert Case.objects.count() == 1


@pytest.mark.django_db
def test_keys_older_than_their_lifetime_are_deleted_by_the_housekeeping_task(api, world, agent, settings):
    import datetime as dt

    from django.utils import timezone

    from dispatch.idempotency import expire_keys

    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    assert post(api(agent), "old").status_code == 201
    assert post(api(agent), "new").status_code == 201
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(hours=25))

    assert expire_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    # After its lifetime a key is a new request: the retry makes a second case, as documented.
    assert post(api(agent), "old").status_code == 201
    assert Case.objects.count() == 3


@pytest.mark.django_db
def test_a_reservation_left_by_a_request_that_died_is_taken_over_at_once(api, world, agent):
    from rest_framework.parsers import JSONParser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from dispatch.idempotency import fingerprint

    # What a request leaves when the database vanished under it: its reservation, in flight, unlocked.
    same_request = Request(APIRequestFactory().post(CASES, BODY, format="json"), parsers=[JSONParser()])
    IdempotencyKey.objects.create(user=agent, key="orphan", fingerprint=fingerprint(same_request))

    retry = post(api(agent), "orphan")
    assert retry.status_code == 201, retry.json()
    assert post(api(agent), "orphan").json()["id"] == retry.json()["id"]
    assert Case.objects.count() == 1
