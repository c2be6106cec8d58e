"""The dashboard's data: thin DRF views over maps.dashboard and maps.hotwords.

Only dispatchers and supervisors may read them (403 for everyone else, 401/403 without a login);
each returns only cases the user may see. Unit rankings come from /api/v1/stats/units/ and
dispatching from /api/v1/cases/{id}/actions/: the dashboard reuses those doors instead of copying them.

One module, though long: each view is a few lines over maps.dashboard, alerts, hotwords, series or
topics, and its schema declaration is most of it; one door per operation, read side by side.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.serializers_cases import OrganisationRef
from grids.models import Area
from maps import alerts, dashboard, hotwords, series, topics
from routing.models import Category

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
    lead_unit = OrganisationRef(allow_null=True)
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


# --- analytics: shared filters -------------------------------------------------------------------


def _today():
    return timezone.localdate(timezone=dashboard.local_zone())


class PeriodQuery(serializers.Serializer):
    """`from`/`to` are local days, both included; district and category narrow the cases."""

    DEFAULT_DAYS = 30
    MAX_DAYS = series.MAX_DAYS

    to = serializers.DateField(required=False, help_text=_("截止日期（含），YYYY-MM-DD；默认今天"))
    district = serializers.CharField(required=False, max_length=6, help_text=_("区县编码"))
    category = serializers.CharField(required=False, max_length=16, help_text=_("类别编码（含下级类别）"))

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        start = serializers.DateField(required=False, help_text=_("起始日期（含），YYYY-MM-DD"))
        return {"from": start, **fields}

    def validate_district(self, value: str) -> str:
        if not Area.objects.filter(code=value, level=Area.Level.DISTRICT).exists():
            raise serializers.ValidationError(_("没有编码为 %(code)s 的区县。") % {"code": value})
        return value

    def validate_category(self, value: str) -> str:
        if not Category.objects.filter(code=value).exists():
            raise serializers.ValidationError(_("没有编码为 %(code)s 的类别。") % {"code": value})
        return value

    def validate(self, attrs):
        attrs["to"] = attrs.get("to") or _today()
        attrs["from"] = attrs.get("from") or attrs["to"] - dt.timedelta(days=self.DEFAULT_DAYS - 1)
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": [_("截止日期不能早于起始日期。")]})
        if (attrs["to"] - attrs["from"]).days >= self.MAX_DAYS:
            raise serializers.ValidationError({"to": [_("一次最多 %(days)s 天。") % {"days": self.MAX_DAYS}]})
        return attrs


# --- GET topics/ ---------------------------------------------------------------------------------


class TopicsQuery(PeriodQuery):
    DEFAULT_DAYS = 7
    MAX_DAYS = topics.MAX_PERIOD_DAYS


class TopicCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    description = serializers.CharField(help_text=_("前 120 字，手机号已打码"))
    district = serializers.CharField()
    created_at = serializers.DateTimeField()


class TopicOutput(serializers.Serializer):
    word = serializers.CharField()
    count = serializers.IntegerField(help_text=_("本期提到这个话题的工单数"))
    previous = serializers.IntegerField(help_text=_("上期（等长的前一段时间）的工单数"))
    change = serializers.IntegerField()
    change_ratio = serializers.FloatField(allow_null=True, help_text=_("相对上期的变化；上期为 0 时为空"))
    cases = TopicCaseOutput(many=True, help_text=_("最新的 20 件工单"))


class HotTopicsOutput(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    previous_from = serializers.DateField()
    previous_to = serializers.DateField()
    district = serializers.CharField(allow_null=True)
    district_name = serializers.CharField()
    cases = serializers.IntegerField()
    previous_cases = serializers.IntegerField()
    topics = TopicOutput(many=True)


class TopicsApi(DashboardApi):
    @extend_schema(
        operation_id="maps_topics",
        summary="热点话题：某时段各话题的工单数、与上期相比的变化和话题下的工单",
        parameters=[TopicsQuery],
        responses={200: HotTopicsOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = TopicsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        result = topics.hot_topics(
            request.user, date_from=params["from"], date_to=params["to"], district=params.get("district")
        )
        return Response(HotTopicsOutput(result).data)


# --- GET alerts/ ---------------------------------------------------------------------------------


class AlertsQuery(serializers.Serializer):
    day = serializers.DateField(required=False, help_text=_("日期，默认今天"))


class AlertOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    area_code = serializers.CharField()
    area_name = serializers.CharField()
    district = serializers.SerializerMethodField()
    key = serializers.CharField()
    label = serializers.CharField()
    day = serializers.DateField()
    observed = serializers.IntegerField(help_text=_("当日截至目前的工单数"))
    expected = serializers.FloatField(help_text=_("历史同期（同一星期几）的平均数"))
    p_value = serializers.FloatField(help_text=_("泊松检验的 p 值"))
    baseline = serializers.ListField(child=serializers.IntegerField())
    case_ids = serializers.ListField(child=serializers.IntegerField())
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()

    def get_district(self, obj) -> str:
        return obj.area_code[:6]


class AlertsOutput(serializers.Serializer):
    day = serializers.DateField()
    districts = serializers.ListField(child=serializers.CharField(), help_text=_("有预警的区县（地图上高亮）"))
    alerts = AlertOutput(many=True)


class AlertsApi(DashboardApi):
    @extend_schema(
        operation_id="maps_alerts",
        summary="预警：某天比历史同期明显上升的类别和话题（按区县、街道）",
        parameters=[AlertsQuery],
        responses={200: AlertsOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = AlertsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        day = query.validated_data.get("day") or _today()
        found = alerts.alerts_for(request.user, day=day)
        body = {"day": day, "districts": sorted({a.area_code[:6] for a in found}), "alerts": found}
        return Response(AlertsOutput(body).data)


# --- GET series/, categories/, density/ ----------------------------------------------------------


class SeriesQuery(PeriodQuery):
    street = serializers.CharField(required=False, max_length=9, help_text=_("街道编码"))
    group_by = serializers.ChoiceField(
        required=False, choices=series.GROUPINGS, help_text=_("按类别、区县或街道分组（最多 8 组）")
    )

    def validate_street(self, value: str) -> str:
        if not Area.objects.filter(code=value, level=Area.Level.STREET).exists():
            raise serializers.ValidationError(_("没有编码为 %(code)s 的街道。") % {"code": value})
        return value


class SeriesGroupOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    total = serializers.IntegerField()
    opened = serializers.ListField(child=serializers.IntegerField())


class SeriesOutput(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    days = serializers.ListField(child=serializers.DateField())
    working = serializers.ListField(child=serializers.BooleanField(), help_text=_("是否工作日（含调休）"))
    opened = serializers.ListField(child=serializers.IntegerField())
    closed = serializers.ListField(child=serializers.IntegerField())
    working_days = serializers.IntegerField()
    per_working_day = serializers.FloatField(allow_null=True, help_text=_("工作日平均每天受理数"))
    per_rest_day = serializers.FloatField(allow_null=True, help_text=_("休息日平均每天受理数"))
    groups = SeriesGroupOutput(many=True)


class SeriesApi(DashboardApi):
    @extend_schema(
        operation_id="maps_series",
        summary="时间序列：按天的受理与结案数（标明工作日），可按类别、区县、街道分组",
        parameters=[SeriesQuery],
        responses={200: SeriesOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = SeriesQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        result = series.time_series(
            request.user,
            date_from=params["from"],
            date_to=params["to"],
            district=params.get("district"),
            street=params.get("street"),
            category=params.get("category"),
            group_by=params.get("group_by"),
        )
        return Response(SeriesOutput(result).data)


class CategoryMixOutput(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    categories = serializers.ListField(child=serializers.DictField())


class CategoryMixApi(DashboardApi):
    @extend_schema(
        operation_id="maps_categories",
        summary="类别构成：某时段受理的工单按大类计数",
        parameters=[PeriodQuery],
        responses={200: CategoryMixOutput, 400: FIELD_ERRORS, 403: FORBIDDEN},
        tags=["maps"],
    )
    def get(self, request):
        query = PeriodQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        mix = series.category_mix(
            request.user, date_from=params["from"], date_to=params["to"], district=params.get("district")
        )
        return Response({"date_from": params["from"], "date_to": params["to"], "categories": mix})


class DensityQuery(PeriodQuery):
    MAX_DAYS = 92


class DensityApi(DashboardApi):
    @extend_schema(
        operation_id="maps_density",
        summary="密度图层：每天每个约 500 米网格的受理工单数（GeoJSON 点）",
        parameters=[DensityQuery],
        responses={
            200: OpenApiResponse(description="GeoJSON FeatureCollection，属性 day、index、n"),
            400: FIELD_ERRORS,
            403: FORBIDDEN,
        },
        tags=["maps"],
    )
    def get(self, request):
        query = DensityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        body = series.density(
            request.user,
            date_from=params["from"],
            date_to=params["to"],
            district=params.get("district"),
            category=params.get("category"),
        )
        response = Response(body, content_type="application/geo+json")
        response["Cache-Control"] = "private, no-store"
        return response
