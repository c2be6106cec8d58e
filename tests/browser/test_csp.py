"""Every page under the strict Content-Security-Policy in a real browser: nothing is blocked.

Each page is opened as the role that uses it and left to run its scripts (maps draw, sockets open);
`open_page` fails the test on any `securitypolicyviolation`. The headers are checked on the way.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from dispatch.tests.conftest import WEST_SOUTH
from tests.browser.conftest import csp_violations

pytestmark = pytest.mark.django_db(transaction=True)


def visit(page, path: str, *, settle: str = "networkidle") -> None:
    response = page.goto(path)
    assert response is not None and response.status < 500, (path, response and response.status)
    if response.status >= 400:
        return  # the test server runs with DEBUG on, whose error pages django-csp leaves alone
    headers = response.headers
    policy = headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
    assert "geolocation=(self)" in headers.get("permissions-policy", ""), path
    page.wait_for_load_state(settle)


def test_the_pages_of_every_role_run_under_the_policy(
    world, open_case_at, agent, handler_a, grid_worker, supervisor, open_page
):
    case = open_case_at(point=WEST_SOUTH)
    for user, paths in (
        (None, ["/accounts/login/", "/no-such-page/"]),
        (handler_a, ["/inbox/", f"/cases/{case.pk}/"]),
        (grid_worker, ["/field/"]),
        (agent, ["/hotline/"]),
        (supervisor, ["/maps/"]),
    ):
        page = open_page(user)
        for path in paths:
            visit(page, path)


def test_the_admin_and_the_api_docs_run_under_the_policy(world, open_page):
    admin = get_user_model().objects.create_superuser("csp-admin", password=None)
    page = open_page(admin)
    unit = world.unit_a
    for path in (
        "/admin/",
        "/admin/partners/unit/",
        f"/admin/partners/unit/{unit.pk}/change/",
        "/admin/partners/partner/add/",
        "/admin/partners/securityevent/",
        "/admin/axes/accessattempt/",
        "/api/docs/",
    ):
        visit(page, path)
    # Swagger UI built the page from the schema, so its start-up script ran.
    page.wait_for_selector(".swagger-ui .info", timeout=10_000)


def test_an_injected_inline_script_is_blocked_and_reported(world, open_page):
    page = open_page()
    visit(page, "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.append(s); }"
    )
    page.wait_for_function("() => true")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert csp_violations(page.errors), page.errors
    # Seen and checked: the fixture's own check at teardown is for violations nobody expected.
    page.errors.clear()
