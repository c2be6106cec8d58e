"""Headless Chromium for the browser tests: its command line, and pages that fail the test on any
console error, uncaught exception, failed request to our server or Content-Security-Policy violation.

Pages are served by the one live ASGI server of the test run (tests/asgi_server.py).
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from playwright.sync_api import sync_playwright

from tests.asgi_server import ARTIFACTS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    # WebGL for MapLibre from Chromium's software renderer, as there is no GPU.
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
]


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
