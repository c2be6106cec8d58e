"""Input and output shapes of the geography API (grids/api.py), one pair per endpoint."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from grids.crs import CRS, normalize_crs, parse_coordinate
from grids.locator import Location
from grids.models import Area, Grid

LEVELS = (*Area.Level.values, "grid")
CODE_LENGTHS = {6, 9, 12, 15}
# A batch with thousands of bad points would answer with thousands of messages; the first few say enough.
MAX_POINT_ERRORS = 20


class CoordinateField(serializers.FloatField):
    """A coordinate: a JSON number, or a decimal string from a form or a query string — nothing else.

    The REST framework's FloatField takes `true` as 1 and "1_0" as 10 (Python's float() does);
    `grids.crs.parse_coordinate` is the one rule, shared with the doors that do not use serializers.
    """

    default_error_messages = {"invalid": _("需要是十进制数字（如 106.71）。"), "not_finite": _("必须是有限的数值。")}

    def to_internal_value(self, data):
        try:
            value = parse_coordinate(data)
        except ValueError:
            self.fail("invalid")
        return value


# Kept for the name other modules know; a coordinate is a CoordinateField.
FiniteFloatField = CoordinateField


def longitude_field(**kwargs) -> CoordinateField:
    kwargs.setdefault("help_text", _("经度（度），-180 到 180"))
    return CoordinateField(min_value=-180.0, max_value=180.0, **kwargs)


def latitude_field(**kwargs) -> CoordinateField:
    kwargs.setdefault("help_text", _("纬度（度），-90 到 90"))
    return CoordinateField(min_value=-90.0, max_value=90.0, **kwargs)


class CrsField(serializers.ChoiceField):
    """One of wgs84, gcj02, bd09; common spellings (WGS-84, GCJ_02, amap, baidu…) are accepted too."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default", "wgs84")
        kwargs.setdefault(
            "help_text",
            _("坐标系：wgs84（GPS 原始坐标）、gcj02（高德、腾讯地图）、bd09（百度地图）"),
        )
        super().__init__(choices=CRS, **kwargs)

    def to_internal_value(self, data):
        try:
            return normalize_crs(data)
        except ValueError:
            self.fail("invalid_choice", input=data)


# --- locate ---------------------------------------------------------------------------------------


class LocateQuerySerializer(serializers.Serializer):
    lon = longitude_field()
    lat = latitude_field()
    crs = CrsField()


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PointSerializer(serializers.Serializer):
    lon = serializers.FloatField()
    lat = serializers.FloatField()


class LocationSerializer(serializers.Serializer):
    grid = CodeNameSerializer(help_text=_("网格"))
    community = CodeNameSerializer(help_text=_("社区/村"))
    street = CodeNameSerializer(help_text=_("街道/乡镇"))
    district = CodeNameSerializer(help_text=_("区/县"))
    city = CodeNameSerializer(help_text=_("市"))
    outside = serializers.BooleanField(help_text=_("点不在任何网格内，已归入容差范围内最近的网格"))
    near_boundary = serializers.BooleanField(help_text=_("点靠近另一街道或区县的边界，归属可能需要人工确认"))
    distance_m = serializers.FloatField(help_text=_("点到所归网格的距离（米），在网格内为 0"))
    point = PointSerializer(help_text=_("点的 WGS-84 坐标"))

    def to_representation(self, location: Location) -> dict:
        # Built by hand: a batch answers up to LOCATE_BATCH_MAX of these and the field machinery would
        # dominate the response time.
        result = {level: {"code": code, "name": name} for level, code, name in location.chain()}
        result["outside"] = location.outside
        result["near_boundary"] = location.near_boundary
        result["distance_m"] = round(location.distance_m, 1)
        result["point"] = {"lon": location.lon, "lat": location.lat}
        return result


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "lon": {"type": "number", "minimum": -180, "maximum": 180},
                "lat": {"type": "number", "minimum": -90, "maximum": 90},
            },
            "required": ["lon", "lat"],
        },
    }
)
class PointListField(serializers.Field):
    """A JSON list of {"lon": …, "lat": …} → two lists of floats, checked in one pass.

    A ListField of nested serializers costs tens of microseconds per point; a full batch is 10,000.
    Errors come back per index and coordinate, e.g. {"3": {"lat": ["…"]}}.
    """

    default_error_messages = {
        "not_a_list": _('应为由 {{"lon": 经度, "lat": 纬度}} 组成的列表。'),
        "too_many": _("一次最多 {max} 个点，收到 {count} 个。"),
        "not_an_object": _("应为含 lon 和 lat 的对象。"),
    }

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list")
        limit = settings.LOCATE_BATCH_MAX
        if len(data) > limit:
            self.fail("too_many", max=limit, count=len(data))
        lon_field, lat_field = longitude_field(), latitude_field()
        lons, lats, errors = [], [], {}
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                errors[str(i)] = [self.error_messages["not_an_object"]]
            else:
                problems = {}
                for name, field, out in (("lon", lon_field, lons), ("lat", lat_field, lats)):
                    try:
                        out.append(field.run_validation(item.get(name, serializers.empty)))
                    except serializers.ValidationError as exc:
                        problems[name] = exc.detail
                if problems:
                    errors[str(i)] = problems
            if len(errors) >= MAX_POINT_ERRORS:
                break
        if errors:
            raise serializers.ValidationError(errors)
        return lons, lats

    def to_representation(self, value):
        return [{"lon": lon, "lat": lat} for lon, lat in zip(*value, strict=True)]


class LocateBatchInputSerializer(serializers.Serializer):
    points = PointListField(help_text=_("要定位的点，按顺序返回结果"))
    crs = CrsField()


@extend_schema_field(
    {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Location"}], "nullable": True}}
)
class LocationListField(serializers.ListField):
    """Locations in input order, null where a point is in no grid (the schema says so per item)."""

    child = LocationSerializer(allow_null=True)


class LocateBatchOutputSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("点数"))
    found = serializers.IntegerField(help_text=_("找到网格的点数"))
    results = LocationListField(help_text=_("与输入同序；找不到网格的点为 null"))

    def to_representation(self, results: list[Location | None]) -> dict:
        location = LocationSerializer()
        return {
            "count": len(results),
            "found": sum(r is not None for r in results),
            "results": [None if r is None else location.to_representation(r) for r in results],
        }


class NotFoundSerializer(serializers.Serializer):
    detail = serializers.CharField()


# --- areas ----------------------------------------------------------------------------------------


class AreaFilterSerializer(serializers.Serializer):
    level = serializers.ChoiceField(
        choices=LEVELS, required=False, help_text=_("层级：city、district、street、community 或 grid")
    )
    parent = serializers.RegexField(
        r"^[0-9]{6}$|^[0-9]{9}$|^[0-9]{12}$",
        required=False,
        help_text=_("上级区划代码（6、9 或 12 位）；社区代码列出其网格"),
        error_messages={"invalid": _("应为 6、9 或 12 位数字的区划代码。")},
    )


class AreaListItemSerializer(serializers.Serializer):
    """One row of the area list, for an Area or a Grid (level "grid", parent = its community)."""

    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.ChoiceField(choices=LEVELS)
    parent = serializers.CharField(allow_null=True, help_text=_("上级代码"))

    def to_representation(self, obj: Area | Grid) -> dict:
        if isinstance(obj, Grid):
            return {"code": obj.code, "name": obj.name, "level": "grid", "parent": obj.community.code}
        return {
            "code": obj.code,
            "name": obj.name,
            "level": obj.level,
            "parent": obj.parent.code if obj.parent else None,
        }


class AreaFeatureSerializer(GeoFeatureModelSerializer):
    """An area as a GeoJSON Feature: its boundary (WGS-84) and code, name, level, parent."""

    # Declared so the schema shows the shape grids share: 15-digit codes, level "grid".
    code = serializers.CharField(read_only=True)
    level = serializers.ChoiceField(choices=LEVELS, read_only=True)
    parent = serializers.SerializerMethodField()

    class Meta:
        model = Area
        geo_field = "geom"
        id_field = False
        fields = ("code", "name", "level", "parent")

    @extend_schema_field(OpenApiTypes.STR)
    def get_parent(self, area: Area) -> str | None:
        return area.parent.code if area.parent else None


class GridFeatureSerializer(GeoFeatureModelSerializer):
    """A grid as a GeoJSON Feature shaped like an area's, with level "grid"."""

    parent = serializers.SerializerMethodField()
    level = serializers.SerializerMethodField()

    class Meta:
        model = Grid
        geo_field = "geom"
        id_field = False
        fields = ("code", "name", "level", "parent")

    def get_parent(self, grid: Grid) -> str:
        return grid.community.code

    def get_level(self, grid: Grid) -> str:
        return "grid"
