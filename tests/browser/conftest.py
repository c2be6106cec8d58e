"""Browser tests of the pages: headless Chromium (Playwright) against the test run's live ASGI server.

The server is the one every browser test uses (tests/asgi_server.py): uvicorn on the test database
with the same Redis as this process, so a case written here or through the server's API reaches the
browsers' sockets the way it would in production. The world is the case tests' own
(dispatch/tests/conftest.py), the personas every app's (tests/personas.py).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from playwright.sync_api import sync_playwright

from dispatch.tests.conftest import *  # noqa: F403 - the world
from tests.asgi_server import ARTIFACTS
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, CSP_WATCH


@pytest.fixture
def browser(asgi_server, monkeypatch):
    """A headless Chromium for one test.

    Playwright's sync API keeps an event loop running in this thread, and Django refuses database
    calls while one runs; the test's own queries are plain sync code, so they are let through.
    """
    if CHROMIUM is None:
        pytest.skip("Chromium is missing: run scripts/setup.sh --test to install it")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
        # Queries made while Playwright's loop ran had a connection of their own; it goes with the loop.
        connections.close_all()


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
