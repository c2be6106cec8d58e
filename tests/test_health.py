"""/healthz: ok when the database, Redis and a worker answer; names whichever does not."""

import subprocess
import sys
import time
import uuid

import pytest
from django.core.cache import cache

from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery_worker_running():
    """A real worker process on the real broker, as `make demo` starts one."""
    name = f"health-{uuid.uuid4().hex[:8]}@test"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            name,
            "-l",
            "WARNING",
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not celery_app.control.ping(destination=[name], timeout=0.5):
            assert time.monotonic() < deadline, "the Celery worker did not start within 30 s"
            assert worker.poll() is None, "the Celery worker exited"
        yield name
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_healthz_is_ok_when_database_redis_and_a_worker_answer(client, celery_worker_running):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["down"] == []
    assert body["checks"]["database"]["postgis"].startswith("3.")
    assert celery_worker_running in body["checks"]["celery"]["workers"]


def test_healthz_names_celery_when_no_worker_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["celery"]


def test_healthz_names_redis_and_celery_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    cache.close()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["redis", "celery"]
    assert response.json()["checks"]["database"]["ok"] is True
