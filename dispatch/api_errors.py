"""How every API door answers a refused request: service errors mapped to HTTP, and their schema.

Refusals map to HTTP the same way everywhere: bad input 400 with field errors, wrong role 403, a case
the user may not see 404 (indistinguishable from one that does not exist), stale version or wrong
state 409, an idempotency key reused for a different request 422. The case API, the supervision API
and the hotline API all answer with these.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from dispatch.services.errors import ActionForbidden, CaseNotFound, InvalidTransition, StaleVersion

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="同一键重试返回首次结果；不同请求体 422；首个请求未完成 409。",
)
# `code` is there for our own refusals; the framework's (an unknown id, no token) carry only `detail`.
ERROR = inline_serializer(
    "CaseError", {"detail": serializers.CharField(), "code": serializers.CharField(required=False)}
)
REFUSALS = {
    400: OpenApiResponse(description="字段错误 {field: [message]}"),
    403: OpenApiResponse(ERROR, description="角色无权执行"),
    404: OpenApiResponse(ERROR, description="工单不存在或不可见"),
    409: OpenApiResponse(ERROR, description="版本过期、状态不允许或幂等键处理中"),
    422: OpenApiResponse(ERROR, description="幂等键已用于不同请求"),
}
_HTTP = {
    CaseNotFound: status.HTTP_404_NOT_FOUND,
    ActionForbidden: status.HTTP_403_FORBIDDEN,
    StaleVersion: status.HTTP_409_CONFLICT,
    InvalidTransition: status.HTTP_409_CONFLICT,
}


def refusal(exc: Exception) -> Response:
    """The HTTP answer for a refusal raised by a service."""
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    body = {"detail": exc.message, "code": exc.code, **exc.extra}
    return Response(body, status=_HTTP.get(type(exc), status.HTTP_400_BAD_REQUEST))
