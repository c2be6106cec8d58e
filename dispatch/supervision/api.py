"""The supervision API under /api/v1/supervision/: findings (list, detail, actions), rules, run.

Same visibility as the page (dispatch.supervision.selectors): supervisors see and act on every
finding; a unit's handlers see only findings about their unit and may add an explanation; anyone
else gets 403 on the lists and 404 on a finding's own address.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.api_errors import REFUSALS
from dispatch.serializers_cases import paginated
from dispatch.services.errors import CaseActionError
from dispatch.supervision import selectors, services
from dispatch.supervision.serializers import (
    FindingActionInput,
    FindingDetailOutput,
    FindingFilter,
    FindingOutput,
    SupervisionRuleOutput,
    SupervisionRunInput,
)

_HTTP = {"not_found": 404, "forbidden": 403, "invalid_transition": 409}


def refusal(exc: Exception) -> Response:
    """The HTTP answer for a refusal raised by a supervision service."""
    if isinstance(exc, DjangoValidationError):
        body = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    return Response({"detail": exc.message, "code": exc.code, **exc.extra}, status=_HTTP.get(exc.code, 400))


def _access(request) -> selectors.Access:
    access = selectors.supervision_access(request.user)
    if access is None:
        raise PermissionDenied(_("只有督办人员和被监察单位的人员可以查看监察发现。"))
    return access


def unit_names_for(findings) -> dict[int, str]:
    ids = {u for f in findings for u in [f.unit_id, *f.unit_ids]}
    return selectors.unit_names(ids)


def detail_body(request, finding_id: int) -> dict | None:
    finding = selectors.finding_detail(user=request.user, finding_id=finding_id)
    if finding is None:
        return None
    context = {"unit_names": unit_names_for([finding]), "access": selectors.supervision_access(request.user)}
    return FindingDetailOutput(finding, context=context).data


class FindingListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="supervision_findings",
        summary="监察发现列表（按严重程度）",
        parameters=[FindingFilter],
        responses={200: paginated("PaginatedFindingList", FindingOutput), 400: REFUSALS[400], 403: REFUSALS[403]},
    )
    def get(self, request):
        _access(request)
        query = FindingFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = dict(query.validated_data)
        filters["status"] = sorted(filters.get("status") or []) or None
        qs = selectors.finding_list(user=request.user, **filters)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        data = FindingOutput(page, many=True, context={"unit_names": unit_names_for(page)}).data
        return paginator.get_paginated_response(data)


class FindingDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="supervision_finding",
        summary="一条监察发现：历史、工单和作为证据的流转记录",
        responses={200: FindingDetailOutput, 404: REFUSALS[404]},
    )
    def get(self, request, finding_id: int):
        body = detail_body(request, finding_id)
        if body is None:
            return Response({"detail": _("监察发现不存在。"), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
        return Response(body)


class FindingActionApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="supervision_finding_action",
        summary="确认、排除（须填理由）、重新打开；被监察单位添加情况说明",
        request=FindingActionInput,
        responses={200: FindingDetailOutput, **{k: REFUSALS[k] for k in (400, 403, 404, 409)}},
    )
    def post(self, request, finding_id: int):
        data = FindingActionInput(data=request.data)
        if not data.is_valid():
            return Response(data.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            services.finding_act(finding_id=finding_id, actor=request.user, **data.validated_data)
        except (DjangoValidationError, CaseActionError) as exc:
            return refusal(exc)
        return Response(detail_body(request, finding_id))


class RuleListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="supervision_rules", summary="监察规则及其阈值", responses={200: SupervisionRuleOutput(many=True)}
    )
    def get(self, request):
        _access(request)
        return Response(SupervisionRuleOutput(selectors.rule_settings(), many=True).data)


class RunApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="supervision_run",
        summary="立即运行监察规则（督办人员）",
        request=SupervisionRunInput,
        responses={200: OpenApiResponse(description="每条规则的发现数"), 403: REFUSALS[403]},
    )
    def post(self, request):
        if not _access(request).acts:
            raise PermissionDenied(_("只有督办人员可以运行监察规则。"))
        data = SupervisionRunInput(data=request.data)
        if not data.is_valid():
            return Response(data.errors, status=status.HTTP_400_BAD_REQUEST)
        result = services.supervision_run(codes=data.validated_data.get("rules"))
        return Response(result.as_dict())
