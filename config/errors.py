"""Error answers for the whole site: JSON for programs (/api/, /open311/), the site's pages for people.

Django answers a URL that matches no route (`/api/v1/calls/abc/`) before any REST framework view runs,
so without these handlers a program would get an HTML page where its schema promises JSON.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults

_PROGRAMS = ("/api/", "/open311/")
# Chinese as UTF-8, as the REST framework's own answers are.
_UTF8 = {"ensure_ascii": False}


def _for_programs(request) -> bool:
    return request.path.startswith(_PROGRAMS)


def _json(request, status: int, detail: str) -> JsonResponse:
    if request.path.startswith("/open311/"):
        # GeoReport v2 errors are a list of {code, description}.
        return JsonResponse(
            [{"code": status, "description": detail}], status=status, safe=False, json_dumps_params=_UTF8
        )
    return JsonResponse({"detail": detail}, status=status, json_dumps_params=_UTF8)


def bad_request(request, exception=None):
    if _for_programs(request):
        return _json(request, 400, _("请求有误。"))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _for_programs(request):
        return _json(request, 403, _("无权访问。"))
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _for_programs(request):
        return _json(request, 404, _("未找到。"))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _for_programs(request):
        return _json(request, 500, _("服务器内部错误。"))
    return defaults.server_error(request)
