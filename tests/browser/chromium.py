"""Real-browser test tools: an ASGI server (HTTP and websockets) on the test database, and headless
Chromium pages that fail the test on any console error.

Django's own `live_server` speaks WSGI only, so pages that listen on /ws/live/ get a Daphne process
of their own, started once per test session against the test database (pytest-django has created
it by then) and the same Redis, so events published by the test reach the page's socket.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # WebGL for MapLibre from Chromium's software renderer, as there is no GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgis://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def asgi_server(django_db_setup):
    """URL of a Daphne server running config.asgi on the test database."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "DEBUG": "true", "PYTHONUNBUFFERED": "1"}
    # Recheck memberships at once, so a test's fresh personas are heard without waiting.
    env.setdefault("LIVE_RECHECK_SECONDS", "0")
    ARTIFACTS.mkdir(exist_ok=True)
    log = (ARTIFACTS / "asgi-server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"the ASGI server stopped at start; see {ARTIFACTS / 'asgi-server.log'}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the ASGI server did not start within 30 s")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# Runs in every page before its own scripts (Playwright injects it past the CSP): each violation of the
# Content-Security-Policy becomes a console error that names the directive and what was blocked.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || document.location.href}:${e.lineNumber}`);
});
"""


@contextmanager
def chromium_page(base_url: str, *, user=None, viewport=(1400, 860)):
    """A tab of a fresh headless Chromium, logged in as `user` (by session cookie) when given.

    `page.problems` collects console errors, uncaught exceptions and failed requests to our server;
    `assert_clean(page)` fails the test on any of them.
    """
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: run scripts/setup.sh --test")
    from django.test import Client
    from playwright.sync_api import sync_playwright

    cookie = None
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="zh-CN")
        if cookie:
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
        context.add_init_script(CSP_WATCH)
        page = context.new_page()
        page.problems = []
        page.requested = []
        page.on("request", lambda request: page.requested.append(request.url))
        page.on("pageerror", lambda error: page.problems.append(f"uncaught: {error}"))
        page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and response.url.startswith(base_url)
                and page.problems.append(f"{response.status} {response.url}")
            ),
        )
        try:
            yield page
            # Whatever the test checked, a Content-Security-Policy violation fails it.
            violations = [p for p in page.problems if "Content Security Policy" in p]
            assert violations == [], violations
        finally:
            browser.close()


def off_the_loop(fn, *args, **kwargs):
    """Run database work while a Playwright page is open.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses ORM calls
    there; a worker thread (with its own connection, closed afterwards) has no loop.
    """
    from django.db import connections

    def call():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def screenshot(page, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def assert_clean(page) -> None:
    assert page.problems == [], page.problems
