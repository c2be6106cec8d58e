"""503 with Retry-After when the database cannot be reached, instead of a 500.

A report sent while PostgreSQL is away changed nothing (its transaction never committed), so the
honest answer is "try again shortly": the field page's offline queue and programs retry a 503 with
the same Idempotency-Key, and the retry after the database is back creates the case exactly once.
Other errors are left to Django.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# Programs get JSON; people get a short page.
_PROGRAM_PATHS = ("/api/", "/open311/", "/healthz")


def database_unavailable_response(request) -> HttpResponse:
    message = _("数据库暂时无法连接，本次操作未保存。请稍后重试（离线队列会自动重发）。")
    wants_json = request.path_info.startswith(_PROGRAM_PATHS) or "json" in request.headers.get("Accept", "")
    if wants_json:
        response = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
    else:
        title = _("服务暂时不可用")
        body = f"<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{escape(message)}</p>"
        response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable for %s %s: %s", request.method, request.path, exception)
        return database_unavailable_response(request)
