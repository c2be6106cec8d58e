"""GeoReport v2 endpoints. Every answer, refusals included, is JSON or XML by the URL's suffix — never
an HTML page: errors are `[{"code": 400, "description": "..."}]` (XML `<errors><error>…`), with the
HTTP status the spec names (400 bad request, 403 bad api_key, 404 unknown service/request/token).
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch import idempotency
from dispatch.parsers import LimitedFormParser, LimitedMultiPartParser
from hotline.models import Open311Request
from hotline.open311 import selectors
from hotline.open311 import services as open311_services
from hotline.open311.renderers import Open311JSONRenderer, Open311XMLRenderer
from hotline.services import open311_client_for_key

logger = logging.getLogger(__name__)

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-22T00:00:00+08:00"
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](?:\[\])?$")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Open311Error(Exception):
    def __init__(self, http_status: int, description: str):
        super().__init__(description)
        self.status = http_status
        self.description = description


def errors_response(http_status: int, descriptions: list[str]) -> Response:
    response = Response([{"code": http_status, "description": d} for d in descriptions], status=http_status)
    response.xml_root = "errors"
    return response


def _field_errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {message}" for field, messages in exc.message_dict.items() for message in messages]
    return list(exc.messages)


@extend_schema(exclude=True)
class Open311View(APIView):
    """Common ground: no session or token auth (api_key is per request), the two renderers, spec errors."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    parser_classes = [LimitedFormParser, LimitedMultiPartParser]
    xml_root = "response"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        jurisdiction = request.query_params.get("jurisdiction_id")
        if jurisdiction is None and request.method == "POST":
            jurisdiction = request.data.get("jurisdiction_id")
        if jurisdiction not in (None, "", settings.OPEN311_JURISDICTION_ID):
            raise Open311Error(404, _("jurisdiction_id 不存在：%(j)s。") % {"j": jurisdiction})

    def handle_exception(self, exc):
        if isinstance(exc, Open311Error):
            return errors_response(exc.status, [exc.description])
        if isinstance(exc, ValidationError):
            return errors_response(400, _field_errors(exc))
        if isinstance(exc, Http404 | exceptions.NotFound):
            return errors_response(404, [_("未找到。")])
        if isinstance(exc, exceptions.APIException):
            detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
            response = errors_response(exc.status_code, [detail])
            if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
                response["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
            return response
        logger.exception("open311: unexpected error")
        return errors_response(500, [_("服务器内部错误。")])

    def finalize_response(self, request, response, *args, **kwargs):
        if not hasattr(response, "xml_root"):
            response.xml_root = "errors" if response.status_code >= 400 else self.xml_root
        return super().finalize_response(request, response, *args, **kwargs)


class DiscoveryView(Open311View):
    xml_root = "discovery"

    def get(self, request, format=None):
        url = request.build_absolute_uri("/open311/v2/")
        return Response(
            {
                "changeset": CHANGESET,
                "contact": settings.OPEN311_CONTACT,
                "key_service": settings.OPEN311_KEY_SERVICE,
                "endpoints": [
                    {
                        "specification": SPECIFICATION,
                        "url": url,
                        "changeset": CHANGESET,
                        "type": "production",
                        "formats": ["text/xml", "application/json"],
                    }
                ],
            }
        )


class ServiceListView(Open311View):
    xml_root = "services"

    def get(self, request, format=None):
        return Response(selectors.service_list())


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    def get(self, request, service_code: str, format=None):
        category = selectors.service_for(service_code)
        if category is None:
            raise Open311Error(404, _("没有这个服务：%(c)s。") % {"c": service_code})
        return Response(selectors.service_definition(category))


def _when(value: str, name: str, *, end: bool) -> tuple[dt.datetime, bool]:
    """The moment a start_date/end_date names, and whether it was a bare date (a whole day)."""
    parsed = None
    bare = False
    try:
        day = parse_date(value) if _DATE_ONLY.fullmatch(value) else None
        if day is not None:
            # A bare date means the whole day, in the city's time zone.
            parsed = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
            bare = True
        else:
            parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise Open311Error(400, _("%(name)s 不是 W3C 日期时间（如 2026-11-01T00:00:00+08:00）。") % {"name": name})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed, bare


class RequestsView(Open311View):
    xml_root = "service_requests"

    def get(self, request, format=None):
        params = request.query_params
        ids = [i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()]
        if ids:
            # The spec: a list of ids overrides every other filter.
            return Response(selectors.request_dicts(selectors.requests_by_ids(ids)))
        statuses = [s.strip() for s in (params.get("status") or "").split(",") if s.strip()]
        if any(s not in ("open", "closed") for s in statuses):
            raise Open311Error(400, _("status 只能是 open 或 closed（可用逗号分隔）。"))
        start = end = None
        whole_end_day = False
        if params.get("start_date"):
            start, _bare = _when(params["start_date"], "start_date", end=False)
        if params.get("end_date"):
            end, whole_end_day = _when(params["end_date"], "end_date", end=True)
        if start is None and end is None:
            end = timezone.now()
        if start is None:
            start = end - selectors.MAX_SPAN
        if end is None:
            end = start + selectors.MAX_SPAN
        if end < start:
            raise Open311Error(400, _("end_date 早于 start_date。"))
        # 2026-08-24 to 2026-11-22 is 90 days even though the last one is counted to its end.
        if end - start > selectors.MAX_SPAN + (dt.timedelta(days=1) if whole_end_day else dt.timedelta()):
            raise Open311Error(400, _("start_date 与 end_date 之间不能超过 90 天。"))
        codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
        cases = selectors.requests_search(start=start, end=end, service_codes=codes, statuses=statuses)
        return Response(selectors.request_dicts(cases))

    def post(self, request, format=None):
        key = request.data.get("api_key") or request.query_params.get("api_key") or ""
        client = open311_client_for_key(key.strip())
        if client is None:
            raise Open311Error(403, _("api_key 无效或已停用。"))
        # Requests are filed as the client's account: it owns their idempotency keys and reports the cases.
        request.user = client.user
        response = idempotency.run(request, lambda: self._file(request, client))
        data = response.data
        # The idempotency layer refuses in the case API's shape; say it the spec's way.
        if not status.is_success(response.status_code) and isinstance(data, dict):
            if "detail" in data:
                return errors_response(response.status_code, [str(data["detail"])])
            return errors_response(
                response.status_code, [f"{k}: {m}" for k, messages in data.items() for m in messages]
            )
        if not hasattr(response, "xml_root"):
            # A replayed answer is rebuilt from the stored body.
            response.xml_root = "service_requests" if status.is_success(response.status_code) else "errors"
        return response

    def _file(self, request, client) -> Response:
        attributes: dict[str, list[str]] = {}
        for key in request.data:
            match = _ATTRIBUTE.match(key)
            if match:
                attributes.setdefault(match.group(1), []).extend(request.data.getlist(key))
        try:
            filed = open311_services.request_file(client=client, data=request.data, attributes=attributes)
        except ValidationError as exc:
            return errors_response(400, _field_errors(exc))
        case = filed.case
        due = selectors.requests_queryset().filter(pk=case.pk).values_list("expected", flat=True).first()
        notice = _("已受理，工单号 %(number)s。") % {"number": case.number}
        if due is not None:
            notice += _("预计 %(due)s 前答复。") % {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
        body = [
            {
                "service_request_id": case.number,
                "token": filed.token,
                "service_notice": notice,
                "account_id": filed.account_id or None,
            }
        ]
        return Response(body, status=status.HTTP_201_CREATED)


class RequestDetailView(Open311View):
    xml_root = "service_requests"

    def get(self, request, request_id: str, format=None):
        cases = selectors.requests_by_ids([request_id])
        if not cases:
            raise Open311Error(404, _("没有这个服务请求：%(id)s。") % {"id": request_id})
        return Response(selectors.request_dicts(cases))


class TokenView(Open311View):
    xml_root = "service_requests"

    def get(self, request, token: str, format=None):
        found = Open311Request.objects.select_related("case").filter(token=token).first()
        if found is None:
            raise Open311Error(404, _("没有这个 token：%(t)s。") % {"t": token})
        return Response([{"service_request_id": found.case.number, "token": found.token}])


class NotFoundView(Open311View):
    """Anything else under /open311/v2/: a spec-shaped 404, not Django's HTML page."""

    def _missing(self, request, *args, **kwargs):
        raise Open311Error(404, _("没有这个接口：%(path)s。") % {"path": request.path})

    get = post = put = patch = delete = _missing
