"""The live ASGI server every browser test uses: uvicorn, as in production, on the test database.

Registered as a pytest plugin by the root conftest.py. Django's own `live_server` speaks WSGI only,
so pages that listen on /ws/live/ need a server of their own: uvicorn in a subprocess on a free
loopback port, serving `config.asgi:application` — HTTP and the /ws/live/ socket — from the test
database (pytest-django has created it by then), with the same Redis as this process, so a case
written here or through the server's API reaches the browsers' sockets the way it would in
production. Tests that use it are transactional: what they write is committed where the server can
see it. One server runs per test run, whichever app's browser tests start it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
SERVER_LOG = ARTIFACTS / "asgi-server.log"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgis://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """Base URL of a live uvicorn serving the project from the test database."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        # Each test writes a new world; the server must not route with the last one's cached rules.
        "ROUTER_CHECK_INTERVAL": "0",
        "LOCATOR_CHECK_INTERVAL": "0",
    }
    # Recheck memberships at once, so a test's fresh personas are heard without waiting.
    env.setdefault("LIVE_RECHECK_SECONDS", "0")
    log = SERVER_LOG.open("w")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "config.asgi:application"),
            *("--host", "127.0.0.1", "--port", str(port)),
            # As scripts/run.sh serves it.
            *("--ws-per-message-deflate", "false"),
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(server, base)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    with django_db_blocker.unblock():
        _wait_for_server_sessions_to_end()


def _wait_until_serving(server: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            pytest.fail(f"the ASGI server stopped at start; see {SERVER_LOG}")
        try:
            with urllib.request.urlopen(f"{base}/accounts/login/", timeout=2) as response:  # noqa: S310 - our server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            pytest.fail("the ASGI server did not answer within 60 s")
        time.sleep(0.2)


def _wait_for_server_sessions_to_end() -> None:
    # PostgreSQL ends a dead client's session a moment after it exits; until then the test database
    # cannot be dropped.
    others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    for _ in range(50):
        with connection.cursor() as cursor:
            cursor.execute(others)
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)
