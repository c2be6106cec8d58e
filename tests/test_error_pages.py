"""Error pages with DEBUG off: Chinese, in the site's look, never Django's debug page; security headers on."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import path

import config.urls


def boom(request):
    raise RuntimeError("an unexpected bug")


urlpatterns = [path("boom/", boom), path("api/boom/", boom), *config.urls.urlpatterns]
handler400, handler403 = config.urls.handler400, config.urls.handler403
handler404, handler500 = config.urls.handler404, config.urls.handler500

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@override_settings(DEBUG=False)
def test_an_unknown_page_is_a_chinese_404_in_the_site_look():
    page = Client().get("/no-such-page/")
    assert page.status_code == 404
    text = page.content.decode()
    assert "页面不存在" in text and "site/base.css" in text and "返回首页" in text
    assert "Page not found at" not in text and "URLconf" not in text


@override_settings(DEBUG=False)
def test_an_unknown_page_in_english_speaks_english():
    page = Client().get("/en/no-such-page/")
    assert page.status_code == 404
    assert "Page not found" in page.content.decode()


@override_settings(DEBUG=False)
def test_a_crash_is_a_chinese_500_without_a_traceback():
    page = Client(raise_request_exception=False).get("/boom/")
    assert page.status_code == 500
    text = page.content.decode()
    assert "服务器出错了" in text and "12345" in text
    assert "Traceback" not in text and "RuntimeError" not in text and "an unexpected bug" not in text


def test_every_page_carries_the_content_security_policy_and_permissions_policy():
    page = Client().get("/accounts/login/")
    policy = page["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "microphone=()" in page["Permissions-Policy"]


def test_no_template_has_an_inline_script_or_event_handler():
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    templates = [p for p in root.glob("*/templates/**/*.html") if ".venv" not in p.parts]
    templates += list((root / "templates").glob("**/*.html"))
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    style_attribute = re.compile(r"\sstyle\s*=", re.I)
    offenders = [
        str(p.relative_to(root))
        for p in templates
        if inline_script.search(p.read_text()) or handler.search(p.read_text()) or style_attribute.search(p.read_text())
    ]
    assert offenders == []


@override_settings(DEBUG=False)
def test_programs_get_json_errors_even_where_no_route_matches():
    missing = Client().get("/api/v1/calls/not-a-number/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/json" and missing.json() == {"detail": "未找到。"}
    crash = Client(raise_request_exception=False).get("/api/boom/")
    assert crash.status_code == 500 and crash.json() == {"detail": "服务器内部错误。"}
