# The case tests' fixtures are imported by name, and tests take them as arguments of the same name.
# ruff: noqa: F811
"""The replica router: read-heavy pages read from a real streaming replica, and fall back to the primary
when none is configured, when it lags, when it is down, and inside a write.

The module starts a primary cluster of its own and a hot standby of it (pg_basebackup, bench/pgcluster.py)
on ports 5447/5448, and stops both by pid at the end. The project's test database stays on DATABASE_URL's
server, which cannot be replicated here: the standby holds no project tables, so a page that really
reads from it fails there and must be answered from the primary instead. The test that checks which
views read through the replica alias points that alias at the test database itself.
"""

from __future__ import annotations

import time

import dj_database_url
import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext

from bench.pgcluster import Cluster, remove, workspace
from config import db_router
from config.db_router import REPLICA, ReplicaRouter, replica_reads
from dispatch.models import Case
from dispatch.tests.conftest import WEST_SOUTH, open_case_at, world  # noqa: F401 - fixtures

PRIMARY_PORT, STANDBY_PORT = 5447, 5448


@pytest.fixture(scope="module")
def clusters():
    root = workspace("shehui-router-test-")
    primary = standby = None
    try:
        primary = Cluster.create(PRIMARY_PORT, root, durable=False)
        primary.start()
        # The backends register PostGIS types on connect; the standby gets the extension by streaming.
        primary.sql("CREATE EXTENSION postgis")
        primary.sql("CREATE TABLE heartbeat (n int)")
        standby = primary.replica(STANDBY_PORT)
        standby.start()
        yield primary, standby
    finally:
        for cluster in (standby, primary):
            if cluster is not None:
                cluster.stop()
        remove(root)


@pytest.fixture
def replica_at(settings):
    """`replica_at(url)` adds the `replica` alias, as DATABASE_REPLICA_URL does, for this test only.

    The connection is handed to this thread only, not added to the connection settings, so Django's
    test case treats it as a connection made on the fly rather than a database the test forgot to list.
    """
    added = []

    def add(url: str, max_lag: float = 5.0):
        raw = dj_database_url.parse(url)
        raw.setdefault("OPTIONS", {})["connect_timeout"] = 2
        full = connections.configure_settings({DEFAULT_DB_ALIAS: dict(connections.settings["default"]), REPLICA: raw})
        connections[REPLICA] = load_backend(full[REPLICA]["ENGINE"]).DatabaseWrapper(full[REPLICA], REPLICA)
        settings.DATABASE_REPLICA_URL = url
        settings.DATABASE_REPLICA_MAX_LAG = max_lag
        # Every read asks afresh, so a test sees the state it just made.
        settings.DATABASE_REPLICA_CHECK_SECONDS = 0
        db_router.health.forget()
        added.append(True)

    yield add
    if added:
        connections[REPLICA].close()
        del connections[REPLICA]
    db_router.health.forget()


def _read_db() -> str:
    return ReplicaRouter().db_for_read(Case)


def _wait_for(predicate, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


@pytest.mark.django_db
def test_without_a_replica_every_read_uses_the_primary():
    with replica_reads():
        assert _read_db() == DEFAULT_DB_ALIAS
    assert _read_db() == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_map_reads_go_to_a_caught_up_replica_and_nothing_else_does(clusters, replica_at):
    _, standby = clusters
    replica_at(standby.url())
    with replica_reads():
        assert _read_db() == REPLICA
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery()")
            assert cursor.fetchone() == (True,)
        # People and sessions are always read from the primary: a login just made must be found.
        from django.contrib.auth import get_user_model

        assert ReplicaRouter().db_for_read(get_user_model()) == DEFAULT_DB_ALIAS
        assert ReplicaRouter().db_for_write(Case) == DEFAULT_DB_ALIAS
        # The reads of a write stay in the write's transaction.
        with transaction.atomic():
            assert _read_db() == DEFAULT_DB_ALIAS
        assert _read_db() == REPLICA
    # Outside the read-heavy views nothing reads the replica.
    assert _read_db() == DEFAULT_DB_ALIAS


@pytest.mark.django_db(transaction=True)
def test_a_lagging_replica_is_left_alone_until_it_catches_up(clusters, replica_at):
    primary, standby = clusters
    replica_at(standby.url(), max_lag=0)
    with replica_reads():
        assert _read_db() == REPLICA
        standby.sql("SELECT pg_wal_replay_pause()")
        try:
            primary.sql("INSERT INTO heartbeat VALUES (1)")
            behind = "SELECT pg_last_wal_receive_lsn() <> pg_last_wal_replay_lsn()"
            _wait_for(lambda: standby.sql(behind)[0], "the standby to receive WAL it has not replayed")
            assert db_router.replica_lag() > 0
            assert _read_db() == DEFAULT_DB_ALIAS
        finally:
            standby.sql("SELECT pg_wal_replay_resume()")
        _wait_for(lambda: db_router.replica_lag() == 0, "the standby to catch up")
        assert _read_db() == REPLICA


@pytest.mark.django_db(transaction=True)
def test_a_replica_that_does_not_answer_is_not_used(replica_at):
    # Nothing listens on this port (it is the test range's spare one).
    replica_at("postgis://postgres@127.0.0.1:5449/postgres")
    with replica_reads():
        assert _read_db() == DEFAULT_DB_ALIAS
    assert db_router.replica_lag() is None


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_answers_from_the_primary_when_a_replica_read_fails(
    clusters, replica_at, api, supervisor, open_case_at
):
    # The standby is up and caught up, but has none of the project's tables: the view's reads fail
    # there, and the page must still answer, with the primary's data.
    _, standby = clusters
    replica_at(standby.url())
    open_case_at()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = api(supervisor).get("/maps/api/summary/")
    assert response.status_code == 200, response.content
    assert response.json()["open"] == 1
    assert [q for q in on_replica.captured_queries if "pg_is_in_recovery" not in q["sql"]], "the replica was not tried"


@pytest.mark.django_db
def test_inside_an_open_transaction_even_the_dashboard_reads_the_primary(
    clusters, replica_at, api, supervisor, open_case_at
):
    # A test case runs inside a transaction, as a write does: what it wrote is only on the primary.
    _, standby = clusters
    replica_at(standby.url())
    open_case_at()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        response = api(supervisor).get("/maps/api/summary/")
    assert response.status_code == 200, response.content
    assert response.json()["open"] == 1
    assert on_replica.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_lists_and_the_map_read_through_the_replica_and_writes_never_do(
    replica_at, api, agent, supervisor, open_case_at
):
    # The alias points at the test database itself, so the committed cases are there to be read.
    replica_at(_url_of_default())
    open_case_at()
    client = api(supervisor)
    for path in ("/api/v1/cases/", "/maps/api/summary/", "/maps/api/cases/"):
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            response = client.get(path)
        assert response.status_code == 200, (path, response.content)
        assert any("dispatch_case" in q["sql"] for q in on_replica.captured_queries), path
    case = Case.objects.order_by("-pk").first()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        detail = client.get(f"/api/v1/cases/{case.pk}/")
        created = api(agent).post(
            "/api/v1/cases/",
            {"category": "SJ0401", "description": "人行道上有人摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1]},
            format="json",
        )
    assert detail.status_code == 200
    assert created.status_code == 201, created.content
    assert not [q for q in on_replica.captured_queries if "pg_is_in_recovery" not in q["sql"]]


def _url_of_default() -> str:
    s = connections.settings[DEFAULT_DB_ALIAS]
    return f"postgis://{s['USER']}@{s['HOST']}:{s['PORT']}/{connections[DEFAULT_DB_ALIAS].settings_dict['NAME']}"
