"""Map pages and vector tiles.

Tiles are plain Django views, not DRF: the body is binary protobuf straight from PostGIS and there is
nothing to serialise. Errors are JSON in the shape DRF uses (`detail`, or field -> messages).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_safe
from rest_framework import serializers

from dispatch import workdays
from dispatch.evaluation.config import evaluation_config, local_today
from dispatch.models import Case, CaseEvent
from dispatch.serializers_cases import CaseListFilter
from grids.models import Area
from maps import dashboard, reports, selectors
from maps.api import PeriodQuery, TopicsQuery
from maps.exports import spreadsheet_response
from maps.models import Alert


class RankingQuery(PeriodQuery):
    """Without dates, the city's configured evaluation period (admin: 考评设置), as on the stats API."""

    MAX_DAYS = 366

    def validate(self, attrs):
        if "from" not in attrs and "to" not in attrs:
            attrs["from"], attrs["to"] = evaluation_config().default_period(local_today())
        return super().validate(attrs)


class CaseExportQuery(CaseListFilter):
    """The case list's filters, and the days the cases were opened (both optional, both included)."""

    to = serializers.DateField(required=False)

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        return {"from": serializers.DateField(required=False), **super().get_fields()}

    def validate(self, attrs):
        if attrs.get("from") and attrs.get("to") and attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": [_("截止日期不能早于起始日期。")]})
        return attrs


MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
# Marker colours by case status; the legend and the map read the same table.
STATUS_COLOURS = {
    "received": "#829ab1",
    "triage": "#d64545",
    "dispatched": "#2186eb",
    "signed": "#0e7c86",
    "returned": "#9446ed",
    "replied": "#3ebd93",
    "verifying": "#27ab83",
    "rework": "#f0b429",
    "reopened": "#e12d39",
}


def _coordinate(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 8 else None


def _tile_errors(z: int | None, x: int | None, y: int | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, value in (("z", z), ("x", x), ("y", y)):
        if value is None:
            errors[name] = [_("必须是非负整数。")]
    if "z" not in errors and z > selectors.MAX_ZOOM:
        errors["z"] = [_("缩放级别必须在 0 到 %(max)d 之间。") % {"max": selectors.MAX_ZOOM}]
    if not errors:
        for name, value in (("x", x), ("y", y)):
            if value >= 2**z:
                errors[name] = [_("在缩放级别 %(z)d 下必须小于 %(n)d。") % {"z": z, "n": 2**z}]
    return errors


def _tile_response(request: HttpRequest, body: bytes, *, public: bool) -> HttpResponse:
    if not body:
        response = HttpResponse(status=204)
    else:
        etag = f'"{hashlib.md5(body, usedforsecurity=False).hexdigest()}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type=MVT_CONTENT_TYPE)
        response["ETag"] = etag
    if public:
        response["Cache-Control"] = f"public, max-age={settings.MAP_TILE_MAX_AGE}"
    else:
        # Someone else's view of the cases must never come out of a shared cache.
        response["Cache-Control"] = "private, no-cache"
        response["Vary"] = "Cookie, Authorization"
    return response


@require_safe
def tile(request: HttpRequest, layer: str, z: str, x: str, y: str) -> HttpResponse:
    if layer not in selectors.TILE_NAMES:
        message = _("没有图层“%(layer)s”。可用图层：%(layers)s。")
        return JsonResponse(
            {"detail": message % {"layer": layer, "layers": ", ".join(selectors.TILE_NAMES)}}, status=404
        )
    zi, xi, yi = _coordinate(z), _coordinate(x), _coordinate(y)
    errors = _tile_errors(zi, xi, yi)
    if errors:
        return JsonResponse(errors, status=400)
    if layer == selectors.CASES.name:
        if not request.user.is_authenticated:
            return JsonResponse({"detail": _("工单图层需要登录。")}, status=401)
        return _tile_response(request, selectors.case_tile(request.user, zi, xi, yi), public=False)
    return _tile_response(request, selectors.boundary_tile(layer, zi, xi, yi), public=True)


def tile_not_found(request: HttpRequest, rest: str) -> JsonResponse:
    return JsonResponse({"detail": _("瓦片地址的格式是 /maps/tiles/{图层}/{z}/{x}/{y}.mvt。")}, status=404)


def tile_template(layer: str) -> str:
    """The tile URL of `layer` with {z}/{x}/{y} placeholders, as MapLibre wants it."""
    # Tiles carry data, not language: one URL (and one cached copy) whatever language the page is in.
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("maps:tile", kwargs={"layer": layer, "z": "{z}", "x": "{x}", "y": "{y}"})
    return unquote(path)


def boundary_map_config() -> dict:
    """What a page needs to draw the boundary map: tile URL, levels, optional base layer."""
    return {
        "center": [106.63, 26.65],
        "zoom": 9,
        "maxZoom": 19,
        # The version changes with the boundaries, so cached tiles of old ones are never shown.
        "tiles": f"{tile_template(selectors.BUNDLE)}?v={selectors.boundary_version()}",
        "tileMaxZoom": 16,
        "layers": [
            {"name": layer.name, "label": str(layer.label), "minzoom": layer.minzoom}
            for layer in selectors.BOUNDARY_LAYERS.values()
        ],
        "baseTiles": settings.MAP_BASE_TILE_URL or None,
        "baseAttribution": settings.MAP_BASE_ATTRIBUTION,
        "text": {
            "code": pgettext("dashboard", "代码"),
            "name": pgettext("dashboard", "名称"),
            "level": pgettext("dashboard", "级别"),
        },
    }


@require_safe
def map_config(request: HttpRequest) -> JsonResponse:
    """The boundary map's configuration for pages of other apps (the hotline console's address map)."""
    response = JsonResponse(boundary_map_config())
    response["Cache-Control"] = "public, max-age=60"
    return response


def _dashboard_text() -> dict[str, str]:
    """Strings the page's scripts show, in the page's language."""
    return {
        "case": pgettext("dashboard", "工单"),
        "cases": pgettext("dashboard", "件"),
        "status": pgettext("dashboard", "状态"),
        "category": pgettext("dashboard", "类别"),
        "district": pgettext("dashboard", "区县"),
        "created": pgettext("dashboard", "受理时间"),
        "sla": pgettext("dashboard", "时限"),
        "slaGreen": pgettext("dashboard", "正常"),
        "slaYellow": pgettext("dashboard", "预警"),
        "slaRed": pgettext("dashboard", "超时"),
        "urgent": pgettext("dashboard", "紧急"),
        "open": pgettext("dashboard", "在办"),
        "overdue": pgettext("dashboard", "超时"),
        "openedToday": pgettext("dashboard", "今日受理"),
        "closedToday": pgettext("dashboard", "今日结案"),
        "opened": pgettext("dashboard", "受理"),
        "closed": pgettext("dashboard", "结案"),
        "empty": pgettext("dashboard", "暂无"),
        "loading": pgettext("dashboard", "加载中…"),
        "loadFailed": pgettext("dashboard", "加载失败，稍后自动重试。"),
        "dispatch": pgettext("dashboard", "派单"),
        "dispatchTo": pgettext("dashboard", "派往单位"),
        "searchUnit": pgettext("dashboard", "输入单位名称或编码"),
        "chooseUnit": pgettext("dashboard", "请先从列表中选择单位。"),
        "note": pgettext("dashboard", "派单说明（可选）"),
        "send": pgettext("dashboard", "确认派单"),
        "cancel": pgettext("dashboard", "取消"),
        "dispatched": pgettext("dashboard", "已派往 %(unit)s。"),
        "stale": pgettext("dashboard", "工单已被他人更新，列表已刷新。"),
        "showOnMap": pgettext("dashboard", "在地图上查看"),
        "openCase": pgettext("dashboard", "打开工单"),
        "lateSign": pgettext("dashboard", "超时未签收"),
        "lateReply": pgettext("dashboard", "超时未办结"),
        "lateBy": pgettext("dashboard", "超时 %(time)s"),
        "minutes": pgettext("dashboard", "%(n)s 分钟"),
        "hours": pgettext("dashboard", "%(n)s 小时"),
        "days": pgettext("dashboard", "%(n)s 天"),
        "score": pgettext("dashboard", "综合得分"),
        "responseRate": pgettext("dashboard", "响应率"),
        "resolutionRate": pgettext("dashboard", "解决率"),
        "satisfactionRate": pgettext("dashboard", "满意率"),
        "noScore": pgettext("dashboard", "本期没有可评价的工单"),
        "allDistricts": pgettext("dashboard", "全部区县"),
        "hotwordsCases": pgettext("dashboard", "共 %(n)s 件工单"),
        "liveConnecting": pgettext("dashboard", "实时连接中…"),
        "liveOn": pgettext("dashboard", "实时更新"),
        "liveOff": pgettext("dashboard", "实时连接已断开，正在重连…"),
        "liveReload": pgettext("dashboard", "错过的更新太多，已重新加载。"),
        "liveDenied": pgettext("dashboard", "实时更新不可用，请重新登录后刷新页面。"),
        "liveDegraded": pgettext("dashboard", "服务器部分故障，实时更新暂停，恢复后自动补上"),
        "event": pgettext("dashboard", "动态"),
        "truncated": pgettext("dashboard", "工单过多，地图只显示最新的 %(n)s 件。"),
        "noLocation": pgettext("dashboard", "无坐标"),
        "alertNew": pgettext("dashboard", "预警：%(area)s %(what)s 明显上升"),
        "alertFigures": pgettext("dashboard", "%(n)s 件 / 同期 %(expected)s"),
        "noAlerts": pgettext("dashboard", "今日暂无预警"),
        "otherCategories": pgettext("dashboard", "其他"),
        "topicNew": pgettext("dashboard", "新"),
        "topicCases": pgettext("dashboard", "“%(word)s”的工单（共 %(n)s 件）"),
    }


def _status_colours() -> list[dict[str, str]]:
    return [
        {"status": value, "label": str(label), "colour": STATUS_COLOURS.get(value, "#627d98")}
        for value, label in Case.Status.choices
        if value not in Case.TERMINAL
    ]


def _case_url_template() -> str | None:
    """The case page's address with 0 where the id goes, once the case page exists."""
    try:
        return reverse("pages:case", kwargs={"case_id": 0})
    except NoReverseMatch:
        return None


@require_safe
def supervisor_map(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    roles = dashboard.dashboard_roles(request.user)
    if roles is None:
        return render(request, "maps/forbidden.html", status=403)
    boundaries = boundary_map_config()
    config = {
        **boundaries,
        "statuses": _status_colours(),
        "kinds": {kind: str(label) for kind, label in CaseEvent.Kind.choices},
        "alertKinds": {kind: str(label) for kind, label in Alert.Kind.choices},
        "districts": dashboard.districts_for(roles),
        "bounds": dashboard.home_bounds(roles),
        "weeks": dashboard.recent_weeks(),
        "api": {
            "cases": reverse("maps:api-cases"),
            "summary": reverse("maps:api-summary"),
            "triage": reverse("maps:api-triage"),
            "overdue": reverse("maps:api-overdue"),
            "trend": reverse("maps:api-trend"),
            "hotwords": reverse("maps:api-hotwords"),
            "topics": reverse("maps:api-topics"),
            "series": reverse("maps:api-series"),
            "alerts": reverse("maps:api-alerts"),
            "categories": reverse("maps:api-categories"),
            "density": reverse("maps:api-density"),
            "reports": reverse("maps:reports"),
            "units": reverse("organization-list"),
            "stats": reverse("stats-units"),
            "action": reverse("case-actions", kwargs={"case_id": 0}),
            "casePage": _case_url_template(),
            "live": "/ws/live/",
        },
        "csrfToken": get_token(request),
        "text": {**boundaries["text"], **_dashboard_text()},
    }
    # Deadlines in uncovered years fall back to Monday–Friday; the people watching them must know.
    calendar = workdays.coverage()
    context = {"map_config": config, "calendar_gap": None if calendar.ok else calendar}
    return render(request, "maps/supervisor.html", context)


# --- reports and downloads -----------------------------------------------------------------------


def _filled(params):
    """The query without its empty fields: a form's "all" option sends `district=`."""
    data = params.copy()
    for key in list(data):
        values = [value for value in data.getlist(key) if value.strip()]
        if values:
            data.setlist(key, values)
        else:
            del data[key]
    return data


def _query_errors(query) -> JsonResponse | None:
    if query.is_valid():
        return None
    return JsonResponse(query.errors, status=400, json_dumps_params={"ensure_ascii": False})


@require_safe
def reports_index(request: HttpRequest) -> HttpResponse:
    """The downloads this user may take, and for dispatchers the monthly reports of their districts."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    scope = reports.ranking_scope(request.user)
    roles = dashboard.dashboard_roles(request.user)
    today = timezone.localdate(timezone=dashboard.local_zone())
    ranking_from, ranking_to = evaluation_config().default_period(local_today())
    context = {
        "ranking_from": ranking_from.isoformat(),
        "ranking_to": ranking_to.isoformat(),
        "rankings": scope is not False,
        "own_units_only": isinstance(scope, set),
        "dashboard": roles is not None,
        "districts": dashboard.districts_for(roles) if roles is not None else [],
        "months": reports.report_months(),
        "statuses": Case.Status.choices,
        "date_from": (today - dt.timedelta(days=29)).isoformat(),
        "date_to": today.isoformat(),
    }
    return render(request, "maps/reports.html", context)


@require_safe
def download_rankings(request: HttpRequest, fmt: str) -> HttpResponse:
    """Unit rankings with 三率, 按期结案率, 返工率, 退单率 and their inputs, for a period."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    scope = reports.ranking_scope(request.user)
    if scope is False:
        return JsonResponse({"detail": _("只有督办人员、调度员和单位成员可以下载单位考评。")}, status=403)
    query = RankingQuery(data=_filled(request.GET))
    if (errors := _query_errors(query)) is not None:
        return errors
    params = query.validated_data
    rows = reports.ranking_rows(date_from=params["from"], date_to=params["to"], unit_ids=scope)
    period = f"{params['from']:%Y%m%d}-{params['to']:%Y%m%d}"
    return spreadsheet_response(
        rows=rows,
        columns=[str(c) for c in reports.RANKING_COLUMNS],
        filename=f"{_('单位考评')}_{period}",
        fmt=fmt,
        title=f"{_('单位考评')} {period}",
    )


@require_safe
def download_cases(request: HttpRequest, fmt: str) -> HttpResponse:
    """The user's case list with the filters of GET /api/v1/cases/, opened in an optional period."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    query = CaseExportQuery(data=_filled(request.GET))
    if (errors := _query_errors(query)) is not None:
        return errors
    params = dict(query.validated_data)
    date_from, date_to = params.pop("from", None), params.pop("to", None)
    if params.get("status"):
        params["status"] = sorted(params["status"])
    rows = reports.case_rows(user=request.user, filters=params, date_from=date_from, date_to=date_to)
    today = timezone.localdate(timezone=dashboard.local_zone())
    return spreadsheet_response(
        rows=rows,
        columns=[str(c) for c in reports.CASE_COLUMNS],
        filename=f"{_('工单清单')}_{today:%Y%m%d}",
        fmt=fmt,
        title=str(_("工单清单")),
    )


@require_safe
def download_topics(request: HttpRequest, fmt: str) -> HttpResponse:
    """Hot topics of a period by district, with the previous period and the cases behind them."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if dashboard.dashboard_roles(request.user) is None:
        return JsonResponse({"detail": _("只有指挥中心的调度员和督办人员可以下载热点话题。")}, status=403)
    query = TopicsQuery(data=_filled(request.GET))
    if (errors := _query_errors(query)) is not None:
        return errors
    params = query.validated_data
    rows = reports.topic_rows(
        request.user, date_from=params["from"], date_to=params["to"], district=params.get("district")
    )
    period = f"{params['from']:%Y%m%d}-{params['to']:%Y%m%d}"
    return spreadsheet_response(
        rows=rows,
        columns=[str(c) for c in reports.TOPIC_COLUMNS],
        filename=f"{_('热点话题')}_{period}",
        fmt=fmt,
        title=f"{_('热点话题')} {period}",
    )


@require_safe
def monthly_report(request: HttpRequest, district: str, month: str) -> HttpResponse:
    """A district's month, to read on screen or print (the page has print styles)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    year, number = (int(part) for part in month.split("-"))
    area = Area.objects.filter(code=district, level=Area.Level.DISTRICT).first()
    if area is None or not 1 <= number <= 12 or not 2000 <= year <= 2100:
        return render(request, "maps/report_missing.html", status=404)
    if not reports.directs(dashboard.dashboard_roles(request.user), district):
        return render(request, "maps/forbidden.html", status=403)
    report = reports.monthly_report(request.user, district=area, year=year, month=number)
    context = {
        "report": report,
        "month": month,
        "chart_data": report.chart_data(),
        "chart_text": {
            "opened": pgettext("dashboard", "受理"),
            "closed": pgettext("dashboard", "结案"),
            "restDay": pgettext("dashboard", "休息日"),
            "score": pgettext("dashboard", "综合得分"),
        },
    }
    return render(request, "maps/monthly_report.html", context)
