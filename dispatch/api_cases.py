"""The case API: thin views over dispatch.selectors (reads) and dispatch.services (writes).

Refusals map to HTTP the same way as in every API (dispatch/api_errors.py): bad input 400 with field
errors, wrong role 403, a case the user may not see 404 (indistinguishable from one that does not
exist), stale version or wrong state 409, an idempotency key reused for a different request 422.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch import idempotency, selectors, services
from dispatch.api_errors import IDEMPOTENCY_HEADER, REFUSALS, refusal
from dispatch.models import Case
from dispatch.serializers_cases import (
    CaseActionInput,
    CaseCreateInput,
    CaseDetailOutput,
    CaseListFilter,
    CaseListOutput,
    case_detail_data,
    paginated,
)


def _detail_or_summary(request, case: Case, *, opened: bool = False) -> dict:
    # After returning or merging a case its former handler may no longer see it; they still get
    # the outcome of their own action, without the timeline.
    detail = selectors.case_detail(user=request.user, case_id=case.pk, opened=opened)
    if detail is None:
        return CaseListOutput(case).data
    return CaseDetailOutput(detail).data


def _created_body(case: Case) -> dict:
    # The reporter always sees their own report; the body is built from what open_case wrote.
    return case_detail_data(selectors.opened_case_detail(case))


def _source_for(roles: selectors.Roles, requested: str | None) -> str | None:
    """The intake channel this user reports through; None when they may not report at all."""
    allowed = []
    if roles.agent:
        allowed.append(Case.Source.HOTLINE)
    if roles.is_grid_worker:
        allowed.append(Case.Source.FIELD)
    if roles.is_dispatcher or roles.superuser:
        allowed.append(Case.Source.API)
    if requested is None:
        return allowed[0] if allowed else None
    return requested if requested in allowed else None


class CaseListCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cases_list",
        summary="工单列表（仅可见工单）",
        parameters=[CaseListFilter],
        responses={200: paginated("PaginatedCaseList", CaseListOutput), 400: REFUSALS[400]},
    )
    def get(self, request):
        params = CaseListFilter(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        filters["status"] = sorted(filters.get("status") or []) or None
        qs = selectors.case_list(user=request.user, **filters)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(CaseListOutput(page, many=True).data)

    @extend_schema(
        operation_id="cases_create",
        summary="上报/受理一件工单（JSON 或 multipart，含照片）",
        request={"application/json": CaseCreateInput, "multipart/form-data": CaseCreateInput},
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: CaseDetailOutput, **REFUSALS},
    )
    def post(self, request):
        return idempotency.run(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = CaseCreateInput(data=request.data)
        if not data.is_valid():
            return Response(data.errors, status=status.HTTP_400_BAD_REQUEST)
        v = data.validated_data
        roles = selectors.roles_of(request.user)
        source = _source_for(roles, v.get("source"))
        if source is None:
            if v.get("source") is not None and _source_for(roles, None) is not None:
                return Response({"source": [_("您的角色不能通过该渠道上报。")]}, status=status.HTTP_400_BAD_REQUEST)
            return Response(
                {"detail": _("您的角色不能上报工单。"), "code": "forbidden"}, status=status.HTTP_403_FORBIDDEN
            )
        try:
            case = services.open_case(
                category=v["category"],
                description=v["description"],
                point=v["point"],
                address=v["address"],
                urgency=v.get("urgency"),
                source=source,
                reporter=request.user,
                photos=v["photos"],
                self_resolved=v["self_resolved"],
                note=v["note"],
            )
        except (DjangoValidationError, services.CaseActionError) as exc:
            return refusal(exc)
        return Response(_created_body(case), status=status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="cases_retrieve", summary="工单详情（含流转记录）", responses={200: CaseDetailOutput})
    def get(self, request, case_id: int):
        case = selectors.case_detail(user=request.user, case_id=case_id)
        if case is None:
            return Response({"detail": _("工单不存在。"), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
        return Response(CaseDetailOutput(case).data)


def _run_action(request, case_id: int, v: dict) -> Case:
    common = {"case_id": case_id, "actor": request.user, "version": v["version"]}
    action, note = v["action"], v["note"]
    match action:
        case "dispatch":
            return services.case_dispatch(**common, unit=v["unit"], collaborators=v["collaborators"], note=note)
        case "merge":
            return services.case_merge(**common, into=v["into"], note=note)
        case "sign":
            return services.case_sign(**common, note=note)
        case "return":
            return services.case_return(**common, note=note)
        case "reply":
            return services.case_reply(**common, note=note, photos=v["photos"])
        case "request_extension":
            return services.case_request_extension(**common, until=v["until"], note=note)
        case "approve_extension":
            return services.case_decide_extension(**common, approved=True, until=v.get("until"), note=note)
        case "deny_extension":
            return services.case_decide_extension(**common, approved=False, note=note)
        case "urge":
            return services.case_urge(**common, note=note)
        case "verify":
            return services.case_verify(**common, passed=v["passed"], note=note, photos=v["photos"])
        case "close":
            return services.case_close(**common, note=note)
        case "reject":
            return services.case_reject(**common, note=note)
        case "revisit":
            return services.case_revisit(**common, satisfied=v["satisfied"], note=note)
    raise AssertionError(f"unhandled action {action}")


class CaseActionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cases_action",
        summary="对工单执行一个操作（派单、签收、退单、办结反馈、核查、回访……）",
        request={"application/json": CaseActionInput, "multipart/form-data": CaseActionInput},
        parameters=[IDEMPOTENCY_HEADER],
        responses={200: CaseDetailOutput, **REFUSALS},
    )
    def post(self, request, case_id: int):
        return idempotency.run(request, lambda: self._act(request, case_id))

    def _act(self, request, case_id: int) -> Response:
        data = CaseActionInput(data=request.data)
        if not data.is_valid():
            return Response(data.errors, status=status.HTTP_400_BAD_REQUEST)
        try:
            case = _run_action(request, case_id, data.validated_data)
        except (DjangoValidationError, services.CaseActionError) as exc:
            return refusal(exc)
        return Response(_detail_or_summary(request, case))


class CaseAttachmentView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="cases_attachment",
        summary="工单照片（仅对可见该工单的用户）",
        responses={(200, "image/jpeg"): OpenApiResponse(description="JPEG"), 404: REFUSALS[404]},
    )
    def get(self, request, case_id: int, attachment_id: int):
        att = selectors.visible_attachment(user=request.user, case_id=case_id, attachment_id=attachment_id)
        if att is None:
            return Response({"detail": _("附件不存在。"), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
        try:
            handle = att.file.open("rb")
        except FileNotFoundError:
            return Response({"detail": _("附件不存在。"), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
        response = FileResponse(handle, content_type=att.content_type)
        response["Cache-Control"] = "private, max-age=3600"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Disposition"] = f'inline; filename="case-{case_id}-{att.pk}.jpg"'
        return response
