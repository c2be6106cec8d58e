"""The catalogue and routing API: the category tree, and a dry run of the router.

GET  /api/v1/categories/       the tree, nested, with codes, kinds, principles and limits
POST /api/v1/route/preview/    {lon, lat, crs?, category, urgency?} or {grid, category, urgency?}
                               → the decision the router would make now, with its explanation
"""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.crs import CRS
from grids.locator import locate_point
from grids.points import CheckedPoint, PointError
from grids.serializers import latitude_field, longitude_field
from routing.models import Category
from routing.router import RoutingError, route
from routing.tables import tables

# --- GET /categories/ ----------------------------------------------------------------------------


class CategoryOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    principle = serializers.CharField()
    default_urgency = serializers.CharField()
    sign_urgent_minutes = serializers.IntegerField()
    sign_normal_work_hours = serializers.IntegerField()
    reply_urgent_hours = serializers.IntegerField()
    reply_normal_work_days = serializers.IntegerField()
    capabilities = serializers.ListField(child=serializers.CharField())
    collaborator_departments = serializers.ListField(child=serializers.CharField())
    keywords = serializers.ListField(child=serializers.CharField())
    is_leaf = serializers.BooleanField()
    children = serializers.ListField(child=serializers.DictField())


def _category_tree() -> list[dict]:
    categories = list(Category.objects.filter(is_active=True).order_by("code"))
    by_parent: dict[int | None, list[Category]] = {}
    for c in categories:
        by_parent.setdefault(c.parent_id, []).append(c)

    def node(c: Category) -> dict:
        children = [node(child) for child in by_parent.get(c.id, [])]
        return {
            "code": c.code,
            "name": c.name,
            "name_en": c.name_en,
            "kind": c.kind,
            "kind_label": str(c.get_kind_display()),
            "principle": c.effective_principle,
            "default_urgency": c.default_urgency,
            "sign_urgent_minutes": c.sign_urgent_minutes,
            "sign_normal_work_hours": c.sign_normal_work_hours,
            "reply_urgent_hours": c.reply_urgent_hours,
            "reply_normal_work_days": c.reply_normal_work_days,
            "capabilities": list(c.capabilities),
            "collaborator_departments": list(c.collaborator_departments),
            "keywords": list(c.keywords),
            "is_leaf": not children,
            "children": children,
        }

    # Walking down from the roots hides a category whose parent is inactive along with it.
    return [node(c) for c in by_parent.get(None, [])]


class CategoryTreeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CategoryOutputSerializer(many=True), summary="The category tree (部件/事件/社会需求)")
    def get(self, request):
        return Response(CategoryOutputSerializer(_category_tree(), many=True).data)


# --- POST /route/preview/ ------------------------------------------------------------------------


class RoutePreviewInputSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=16)
    lon = longitude_field(required=False)
    lat = latitude_field(required=False)
    crs = serializers.ChoiceField(choices=CRS, default="wgs84")
    grid = serializers.RegexField(r"^\d{15}$", required=False, max_length=15)
    urgency = serializers.ChoiceField(choices=Category.Urgency.choices, required=False)

    def validate_category(self, value: str) -> str:
        node = tables().categories_by_code.get(value.strip())
        if node is None or not node.is_active:
            raise ValidationError(_msg("unknown_category"))
        return node.code

    def validate(self, attrs: dict) -> dict:
        has_lon, has_lat, has_grid = "lon" in attrs, "lat" in attrs, "grid" in attrs
        errors: dict[str, list[str]] = {}
        for name in ("lon", "lat"):
            if name in attrs and not math.isfinite(attrs[name]):
                errors[name] = [_msg("not_finite")]
        if has_grid and (has_lon or has_lat):
            errors["grid"] = [_msg("point_or_grid")]
        elif not has_grid and not (has_lon or has_lat):
            errors["lon"] = [_msg("need_place")]
            errors["grid"] = [_msg("need_place")]
        elif has_lon != has_lat:
            errors["lat" if has_lon else "lon"] = [_msg("need_both")]
        if errors:
            raise ValidationError(errors)
        return attrs


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    department_label = serializers.CharField()
    level = serializers.CharField()


class PartnerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class ChainLinkSerializer(serializers.Serializer):
    level = serializers.CharField()
    code = serializers.CharField()
    name = serializers.CharField()


class RouteLocationSerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    grid = serializers.CharField()
    community = serializers.CharField()
    street = serializers.CharField()
    district = serializers.CharField()
    city = serializers.CharField()
    outside = serializers.BooleanField()
    near_boundary = serializers.BooleanField()
    distance_m = serializers.FloatField()
    chain = ChainLinkSerializer(many=True)


class RoutePreviewOutputSerializer(serializers.Serializer):
    category = serializers.DictField()
    urgency = serializers.CharField()
    lead = UnitRefSerializer()
    triage = serializers.BooleanField()
    collaborators = UnitRefSerializer(many=True)
    partners = PartnerRefSerializer(many=True)
    needs_review = serializers.BooleanField()
    location = RouteLocationSerializer()
    explanation = serializers.DictField()


class RoutePreviewApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RoutePreviewInputSerializer,
        responses=RoutePreviewOutputSerializer,
        summary="Where would a report go? (dry run of the router, nothing is saved)",
    )
    def post(self, request):
        data = RoutePreviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        location = None
        if "lon" in v:
            # The point enters here once: checked, converted to WGS-84 and located, as a case's is.
            try:
                point = CheckedPoint.make(v["lon"], v["lat"], v["crs"])
            except PointError as exc:
                raise ValidationError(exc.messages()) from None
            location = locate_point(point)
            if location is None:
                outside = _("该位置不在贵阳市范围内。")
                raise ValidationError({"lon": [outside], "lat": [outside]})
        try:
            decision = route(
                category=v["category"], urgency=v.get("urgency") or "", location=location, grid=v.get("grid")
            )
        except RoutingError as exc:
            fields = ("lon", "lat") if exc.field == "location" else (exc.field,)
            raise ValidationError({name: [exc.message] for name in fields}) from None
        body = decision.as_dict()
        body["location"]["chain"] = decision.explanation["chain"][::-1]
        return Response(RoutePreviewOutputSerializer(body).data)


def _msg(key: str) -> str:
    return {
        "unknown_category": _("未知或已停用的类别编码。"),
        "not_finite": _("坐标必须是有限的数字。"),
        "point_or_grid": _("坐标和网格编码只能二选一。"),
        "need_place": _("请提供坐标（lon、lat）或网格编码（grid）。"),
        "need_both": _("经度和纬度必须同时提供。"),
    }[key]
