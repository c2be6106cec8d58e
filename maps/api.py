"""The dashboard's data: thin DRF views over maps.dashboard and maps.hotwords.

Only dispatchers and supervisors may read them (403 for everyone else, 401/403 without a login);
each returns only cases the user may see. Unit rankings come from /api/v1/stats/units/ and
dispatching from /api/v1/cases/{id}/actions/: the dashboard reuses those doors instead of copying them.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.models import Area
from maps import dashboard, hotwords

FORBIDDEN = OpenApiResponse(description="只有调度员和督办人员可以查看")
FIELD_ERRORS = OpenApiResponse(description="字段错误 {field: [message]}")


class DashboardAccess(BasePermission):
    message = _("只有指挥中心的调度员和督办人员可以查看一张图数据。")

    def has_permission(self, request, view) -> bool:
        return dashboard.dashboard_roles(request.user) is not None


class DashboardApi(APIView):
    permission_classes = [DashboardAccess]


# --- GET cases/ ----------------------------------------------------------------------------------


class CasesQuery(serializers.Serializer):
    ids = serializers.CharField(
        required=False, max_length=2000, help_text=_("只要这些工单（逗号分隔的 id），实时刷新时用")
    )

    def validate_ids(self, value: str) -> list[int]:
        parts = [part.strip() for part in value.split(",") if part.strip()]
        if not parts or not all(part.isascii() and part.isdigit() and len(part) <= 12 for part in parts):
            raise serializers.ValidationError(_("必须是逗号分隔的工单 id。"))
        if len(parts) > 200:
            raise serializers.ValidationError(_("一次最多 200 个工单。"))
        return sorted({int(part) for part in parts})


class CaseFeatureProperties(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    urgency = serializers.CharField()
    sla = serializers.ChoiceField(choices=["green", "yellow", "red"])
    category = serializers.CharField()
    district = serializers.CharField()
    created_at = serializers.DateTimeField()


class CaseFeature(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    geometry = serializers.DictField()
    properties = CaseFeatureProperties()


class CaseFeaturesOutput(serializers.Serializer):
    type = serializers.CharField()
    features = CaseFeature(many=True)
    truncated = serializers.BooleanField(help_text=_("超过上限时只给出最新的工单"))


class CaseFeaturesApi(DashboardApi):
    @extend_schema(
        operation_id="maps_cases",
        summary="一张图：可见的在办工单（GeoJSON 点，含状态与时限等级）",
        parameters=[CasesQuery],
        responses={(200, "application/geo+json"): CaseFeaturesOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = CasesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = dashboard.case_features(request.user, ids=query.validated_data.get("ids"))
        response = Response(body, content_type="application/geo+json")
        response["Cache-Control"] = "private, no-store"
        return response


# --- GET summary/ --------------------------------------------------------------------------------


class StatusCount(serializers.Serializer):
    status = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class DistrictCount(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    count = serializers.IntegerField()


class SummaryOutput(serializers.Serializer):
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    opened_today = serializers.IntegerField()
    closed_today = serializers.IntegerField()
    by_status = StatusCount(many=True)
    by_district = DistrictCount(many=True)


class SummaryApi(DashboardApi):
    @extend_schema(
        operation_id="maps_summary",
        summary="一张图：在办工单按状态、按区县计数，超时数，今日受理与结案",
        responses={200: SummaryOutput, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        return Response(SummaryOutput(dashboard.case_counts(request.user)).data)


# --- GET triage/ and overdue/ --------------------------------------------------------------------


class NamedRef(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class QueueCase(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    urgency = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField(help_text=_("前 120 字，手机号已打码"))
    address = serializers.CharField()
    district = serializers.CharField()
    district_name = serializers.CharField()
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    lead_unit = NamedRef(allow_null=True)
    reason = serializers.CharField(help_text=_("分派说明"))
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class TriageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    results = QueueCase(many=True)


class TriageApi(DashboardApi):
    @extend_schema(
        operation_id="maps_triage",
        summary="一张图：待分拨和已退单的工单（本区县；督办人员看全市），最早的在前",
        responses={200: TriageOutput, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        return Response(TriageOutput(dashboard.triage_queue(request.user)).data)


class OverdueCase(QueueCase):
    stage = serializers.ChoiceField(choices=["sign", "reply"], help_text=_("sign：超时未签收；reply：超时未办结"))
    due = serializers.DateTimeField()
    late_minutes = serializers.IntegerField()
    sla = serializers.CharField()


class OverdueOutput(serializers.Serializer):
    count = serializers.IntegerField()
    results = OverdueCase(many=True)


class OverdueApi(DashboardApi):
    @extend_schema(
        operation_id="maps_overdue",
        summary="一张图：主办单位超时未签收或未办结的工单，超时最久的在前",
        responses={200: OverdueOutput, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        return Response(OverdueOutput(dashboard.overdue_list(request.user)).data)


# --- GET trend/ ----------------------------------------------------------------------------------


class TrendQuery(serializers.Serializer):
    days = serializers.IntegerField(
        required=False, default=30, min_value=1, max_value=dashboard.TREND_MAX_DAYS, help_text=_("最近多少天")
    )


class TrendDayOutput(serializers.Serializer):
    day = serializers.DateField()
    opened = serializers.IntegerField()
    closed = serializers.IntegerField()


class TrendOutput(serializers.Serializer):
    days = TrendDayOutput(many=True)


class TrendApi(DashboardApi):
    @extend_schema(
        operation_id="maps_trend",
        summary="一张图：每天受理和结案的工单数",
        parameters=[TrendQuery],
        responses={200: TrendOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = TrendQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        days = dashboard.trend(request.user, days=query.validated_data["days"])
        return Response(TrendOutput({"days": days}).data)


# --- GET hotwords/ -------------------------------------------------------------------------------


class HotWordsQuery(serializers.Serializer):
    week = serializers.CharField(required=False, max_length=8, help_text=_("ISO 周，如 2026-W47；默认本周"))
    district = serializers.CharField(required=False, max_length=6, help_text=_("区县编码；默认全部可见区县"))

    def validate_week(self, value: str) -> str:
        try:
            monday, _sunday = dashboard.week_bounds(value)
        except ValueError:
            raise serializers.ValidationError(_("周的格式是 2026-W47。")) from None
        return dashboard.iso_week(monday)

    def validate_district(self, value: str) -> str:
        if not Area.objects.filter(code=value, level=Area.Level.DISTRICT).exists():
            raise serializers.ValidationError(_("没有编码为 %(code)s 的区县。") % {"code": value})
        return value


class WordOutput(serializers.Serializer):
    word = serializers.CharField()
    count = serializers.IntegerField(help_text=_("提到这个词的工单数"))


class HotWordsOutput(serializers.Serializer):
    week = serializers.CharField()
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    district = serializers.CharField(allow_null=True)
    cases = serializers.IntegerField()
    words = serializers.SerializerMethodField()

    def get_words(self, obj) -> list[dict]:
        return WordOutput([{"word": w, "count": n} for w, n in obj.words], many=True).data


class HotWordsApi(DashboardApi):
    @extend_schema(
        operation_id="maps_hotwords",
        summary="一张图：某区县某周工单描述中的热词（结巴分词）",
        parameters=[HotWordsQuery],
        responses={200: HotWordsOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = HotWordsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        week = params.get("week") or dashboard.iso_week(timezone.localdate(timezone=dashboard.local_zone()))
        result = hotwords.hot_words(request.user, week=week, district=params.get("district"))
        return Response(HotWordsOutput(result).data)
