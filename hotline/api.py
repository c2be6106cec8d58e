"""The hotline API: thin views over hotline.selectors (reads) and hotline.services (writes).

Refusals are mapped as in every API (dispatch.api_errors.refusal): bad input 400 with field
errors, wrong role 403, an unseen call or case 404, stale version or wrong state 409.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch import idempotency
from dispatch import services as dispatch_services
from dispatch.api_errors import IDEMPOTENCY_HEADER, REFUSALS, refusal
from dispatch.selectors import roles_of
from dispatch.serializers_cases import paginated
from grids import locator
from grids.points import CheckedPoint
from hotline import classifier, gazetteer, selectors, services
from hotline.models import PersonalDataAccess
from hotline.privacy import record_access, sees_personal_data
from hotline.serializers import (
    CallbackInput,
    CallbackOutput,
    CallbackQueueOutput,
    CallCreateInput,
    CallerHistoryOutput,
    CallerLookupInput,
    CallFiledOutput,
    CallJoinInput,
    CallOutput,
    CategorySuggestInput,
    CategorySuggestOutput,
    DuplicateOutput,
    DuplicateSuggestInput,
    PlaceSuggestInput,
    PlaceSuggestOutput,
)
from partners.privacy import normalise_phone

ACTION_ERRORS = (DjangoValidationError, dispatch_services.CaseActionError)


def _forbidden(message: str) -> Response:
    return Response({"detail": message, "code": "forbidden"}, status=status.HTTP_403_FORBIDDEN)


def _not_found(message: str) -> Response:
    return Response({"detail": message, "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)


def _invalid(serializer) -> Response:
    return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)


class CallCreateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="calls_create",
        summary="受理一个来电：当场答复、并入已有工单或生成工单（返回去向及理由）",
        request=CallCreateInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: CallFiledOutput, **REFUSALS},
    )
    def post(self, request):
        return idempotency.run(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = CallCreateInput(data=request.data)
        if not data.is_valid():
            return _invalid(data)
        try:
            filed = services.call_file(agent=request.user, **data.validated_data)
        except ACTION_ERRORS as exc:
            return refusal(exc)
        return Response(CallFiledOutput(filed).data, status=status.HTTP_201_CREATED)


class CallDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="calls_retrieve",
        summary="来电详情（坐席与督办人员可见完整号码，每次查看均留痕）",
        responses={200: CallOutput, 404: REFUSALS[404]},
    )
    def get(self, request, call_id: int):
        call = selectors.call_for(user=request.user, call_id=call_id)
        if call is None:
            return _not_found(_("来电记录不存在。"))
        full = sees_personal_data(request.user)
        if full:
            record_access(user=request.user, call_ids=[call.pk], purpose=PersonalDataAccess.Purpose.CALL_DETAIL)
        return Response(CallOutput(call, context={"full": full}).data)


class CallJoinApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="calls_join",
        summary="并单：把来电并入另一件在办工单（来电自己的工单随之并单）",
        request=CallJoinInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={200: CallOutput, **REFUSALS},
    )
    def post(self, request, call_id: int):
        return idempotency.run(request, lambda: self._join(request, call_id))

    def _join(self, request, call_id: int) -> Response:
        data = CallJoinInput(data=request.data)
        if not data.is_valid():
            return _invalid(data)
        try:
            call = services.call_join(call_id=call_id, actor=request.user, **data.validated_data)
        except ACTION_ERRORS as exc:
            return refusal(exc)
        call = selectors.call_for(user=request.user, call_id=call.pk)
        return Response(CallOutput(call, context={"full": False}).data)


class CaseCallsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_case_calls",
        summary="一件工单的全部来电（含并入的重复工单）；非坐席看到脱敏信息",
        responses={200: CallOutput(many=True), 404: REFUSALS[404]},
    )
    def get(self, request, case_id: int):
        calls = selectors.calls_of_case(user=request.user, case_id=case_id)
        if calls is None:
            return _not_found(_("工单不存在。"))
        full = sees_personal_data(request.user)
        if full:
            record_access(
                user=request.user, call_ids=[c.pk for c in calls], purpose=PersonalDataAccess.Purpose.CASE_CALLERS
            )
        return Response(CallOutput(calls, many=True, context={"full": full}).data)


class PlaceSuggestApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_suggest_places",
        summary="地名联想：区、街道、社区和地标，附坐标与网格链；或按经纬度给出网格链",
        parameters=[PlaceSuggestInput],
        responses={200: PlaceSuggestOutput, 400: REFUSALS[400]},
    )
    def get(self, request):
        params = PlaceSuggestInput(data=request.query_params)
        if not params.is_valid():
            return _invalid(params)
        v = params.validated_data
        if v["lon"] is not None:
            # The input serializer has checked the range; the point is converted once, here.
            point = CheckedPoint.make(v["lon"], v["lat"], v["crs"])
            found = locator.locate_point(point)
            location = None
            if found is not None:
                location = {
                    "lon": found.lon,
                    "lat": found.lat,
                    "grid": found.grid,
                    "outside": found.outside,
                    "near_boundary": found.near_boundary,
                    "distance_m": found.distance_m,
                    "chain": gazetteer.location_chain(found),
                }
            results = [
                {**p, "kind": "place", "code": "", "level": p["kind"], "address": "", "score": 0.0, "chain": []}
                for p in gazetteer.nearby_places(point.wgs84_lon, point.wgs84_lat, limit=v["limit"])
            ]
            return Response({"results": results, "location": location})
        candidates = gazetteer.search(v["q"], limit=v["limit"])
        return Response({"results": [c.as_dict() for c in candidates], "location": None})


class CategorySuggestApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_suggest_categories",
        summary="按来电描述推荐问题类别（结巴分词 + 类别关键词 + 坐席历史选择）",
        parameters=[CategorySuggestInput],
        responses={200: CategorySuggestOutput(many=True), 400: REFUSALS[400]},
    )
    def get(self, request):
        params = CategorySuggestInput(data=request.query_params)
        if not params.is_valid():
            return _invalid(params)
        v = params.validated_data
        return Response(classifier.suggest(v["q"], limit=v["limit"]))


class DuplicateSuggestApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_suggest_duplicates",
        summary="疑似重复工单：附近、近期、同类或同一大类的在办工单",
        parameters=[DuplicateSuggestInput],
        responses={200: DuplicateOutput(many=True), 400: REFUSALS[400]},
    )
    def get(self, request):
        params = DuplicateSuggestInput(data=request.query_params)
        if not params.is_valid():
            return _invalid(params)
        v = params.validated_data
        category = None
        if v["category"]:
            category = selectors.category_by_code(v["category"].strip())
            if category is None:
                return Response({"category": [_("未知的类别：%(c)s。") % {"c": v["category"]}]}, status=400)
        rows = selectors.duplicate_candidates(
            user=request.user,
            lon=v["lon"],
            lat=v["lat"],
            crs=v["crs"],
            category=category,
            q=v["q"],
            limit=v["limit"],
        )
        return Response(DuplicateOutput(rows, many=True).data)


class CallerHistoryApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_callers",
        summary="来电人历史：同一号码在回溯期内的来电（重复来电提示）",
        parameters=[CallerLookupInput],
        responses={200: CallerHistoryOutput, 400: REFUSALS[400], 403: REFUSALS[403]},
    )
    def get(self, request):
        if not sees_personal_data(request.user):
            return _forbidden(_("只有12345坐席和督办人员可以查询来电人。"))
        params = CallerLookupInput(data=request.query_params)
        if not params.is_valid():
            return _invalid(params)
        phone = normalise_phone(params.validated_data["phone"])
        if phone is None:
            return Response({"phone": [_("请填写有效的来电号码。")]}, status=status.HTTP_400_BAD_REQUEST)
        caller, calls = selectors.caller_history(phone=phone)
        record_access(
            user=request.user, call_ids=[c.pk for c in calls], purpose=PersonalDataAccess.Purpose.CALLER_LOOKUP
        )
        body = {
            "phone": phone,
            "name": caller.name if caller else "",
            "known": caller is not None,
            "repeat": bool(calls),
            "period_days": settings.HOTLINE_REPEAT_CALLER_DAYS,
            "calls": [
                {
                    "id": c.pk,
                    "created_at": c.created_at,
                    "request_type": c.request_type,
                    "request_type_label": c.get_request_type_display(),
                    "content": c.content,
                    "outcome": c.outcome,
                    "outcome_label": c.get_outcome_display(),
                    "case": {
                        "id": c.case.pk,
                        "number": c.case.number,
                        "status": c.case.status,
                        "status_label": c.case.get_status_display(),
                        "category": c.case.category.name,
                    }
                    if c.case_id
                    else None,
                }
                for c in calls
            ],
        }
        return Response(CallerHistoryOutput(body).data)


class CallbackQueueApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_callbacks",
        summary="回访队列：已结案的热线工单（最早结案的在前）",
        responses={200: paginated("PaginatedCallbackQueue", CallbackQueueOutput), 403: REFUSALS[403]},
    )
    def get(self, request):
        if not sees_personal_data(request.user):
            return _forbidden(_("只有12345坐席和督办人员可以查看回访队列。"))
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.callback_queue(user=request.user), request, view=self)
        return paginator.get_paginated_response(CallbackQueueOutput(page, many=True).data)


class CallbackRecordApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="hotline_callback_record",
        summary="记录回访结果：满意、基本满意或不满意（不满意则重新办理）",
        request=CallbackInput,
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: CallbackOutput, **REFUSALS},
    )
    def post(self, request, case_id: int):
        return idempotency.run(request, lambda: self._record(request, case_id))

    def _record(self, request, case_id: int) -> Response:
        if not roles_of(request.user).agent:
            return _forbidden(_("只有12345坐席可以回访。"))
        data = CallbackInput(data=request.data)
        if not data.is_valid():
            return _invalid(data)
        v = data.validated_data
        try:
            callback = services.callback_record(
                case_id=case_id,
                agent=request.user,
                result=v["result"],
                version=v["version"],
                note=v["note"],
                call_id=v["call"],
            )
        except ACTION_ERRORS as exc:
            return refusal(exc)
        return Response(CallbackOutput(callback).data, status=status.HTTP_201_CREATED)
