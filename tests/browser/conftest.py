"""Browser tests of the pages: headless Chromium (Playwright) against a live ASGI server.

The server is uvicorn in a subprocess on a free loopback port, serving `config.asgi:application` —
HTTP and the /ws/live/ socket — from the test database, with the same Redis as this process, so a
case written here or through the server's API reaches the browsers' sockets the way it would in
production. The tests are transactional: what they write is committed where the server can see it.

The world and personas are the case tests' own (dispatch/tests/conftest.py).
"""

from __future__ import annotations

import json
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
from django.db import connections
from django.test import Client

from dispatch.tests.conftest import *  # noqa: F403 - the world and the personas

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgis://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """Base URL of a live uvicorn serving the project from the test database."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing: run scripts/setup.sh --test to install it")
    ARTIFACTS.mkdir(exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DEBUG": "true",
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        # Each test writes a new world; the server must not route with the last one's cached rules.
        "ROUTER_CHECK_INTERVAL": "0",
        "LOCATOR_CHECK_INTERVAL": "0",
    }
    log = (ARTIFACTS / "pages-asgi-server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            pytest.fail(f"the ASGI server stopped at start; see {ARTIFACTS / 'pages-asgi-server.log'}")
        try:
            with urllib.request.urlopen(f"{base}/accounts/login/", timeout=2) as response:  # noqa: S310 - our server
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            server.terminate()
            pytest.fail("the ASGI server did not answer within 60 s")
        time.sleep(0.2)
    yield base
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
    with django_db_blocker.unblock():
        _wait_for_server_sessions_to_end()


def _wait_for_server_sessions_to_end() -> None:
    # PostgreSQL ends a dead client's session a moment after it exits; until then the test database
    # cannot be dropped.
    from django.db import connection

    others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    for _ in range(50):
        with connection.cursor() as cursor:
            cursor.execute(others)
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


@pytest.fixture
def browser(asgi_server, monkeypatch):
    """A headless Chromium for one test.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses database
    calls while one runs; the test's own queries are plain sync code, so they are let through.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # Queries made while Playwright's loop ran had a connection of their own; it goes with the loop.
        connections.close_all()


# Runs in every page before its own scripts (Playwright injects it past the CSP): each violation of the
# Content-Security-Policy becomes a console error that names the directive and what was blocked.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


class Watched:
    """A page whose console errors and uncaught exceptions are collected for the test to check.

    Content-Security-Policy violations are collected too, and fail the test at teardown whatever
    else it checks (see `open_page`).
    """

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"{m.text} @ {m.location.get('url')}"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def __getattr__(self, name):
        return getattr(self.page, name)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"pages-{name}.png"), full_page=True)


@pytest.fixture
def open_page(browser, asgi_server):
    """`open_page(user, **context_options)` → a Watched page in a new browser context logged in as `user`."""
    contexts = []

    def make(user=None, **options):
        options.setdefault("viewport", {"width": 1280, "height": 860})
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        context = browser.new_context(base_url=asgi_server, **options)
        context.add_init_script(CSP_WATCH)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": asgi_server}])
        page = Watched(context.new_page())
        pages.append(page)
        return page

    pages: list[Watched] = []
    yield make
    for context in contexts:
        context.close()
    violations = [v for page in pages for v in csp_violations(page.errors)]
    assert violations == [], violations


@pytest.fixture
def api_post(asgi_server):
    """`api_post(path, body, token, key)` → (status, JSON) of a POST to the live server, as a program sends it."""

    def post(path: str, body: dict, *, token: str, key: str | None = None):
        headers = {"Content-Type": "application/json", "Authorization": f"Token {token}"}
        if key:
            headers["Idempotency-Key"] = key
        url = asgi_server + path  # http://127.0.0.1:<port>, the server started above
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    return post
