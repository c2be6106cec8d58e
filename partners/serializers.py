"""Input and output shapes of the partners API."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from grids.models import Area
from grids.serializers import CodeNameSerializer
from partners.models import Capability, Department, Partner, Unit

KINDS = [("unit", _("处置单位")), ("partner", _("协作单位"))]
TYPES = [*Department.choices, *Partner.Kind.choices, *Capability.choices]


class OrganizationFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS, required=False, help_text=_("unit：处置单位；partner：协作单位"))
    level = serializers.ChoiceField(choices=Unit.Level.choices, required=False, help_text=_("单位层级（仅单位）"))
    type = serializers.ChoiceField(
        choices=TYPES, required=False, help_text=_("单位的部门类型，或协作单位的类型、服务能力")
    )
    area = serializers.CharField(required=False, max_length=12, help_text=_("区域编码：管辖或服务范围在该区域内"))
    active = serializers.BooleanField(required=False, allow_null=True, default=None, help_text=_("是否在用"))
    q = serializers.CharField(required=False, max_length=50, default="", help_text=_("名称或编码"))

    def validate_area(self, value: str) -> Area:
        area = Area.objects.filter(code=value.strip()).first()
        if area is None:
            raise serializers.ValidationError(_("没有编码为 %(code)s 的区域。") % {"code": value})
        return area

    def validate(self, attrs: dict) -> dict:
        kind, level, type_ = attrs.get("kind"), attrs.get("level"), attrs.get("type")
        errors = {}
        if kind == "partner" and level:
            errors["level"] = [_("层级只适用于处置单位。")]
        if type_ and kind == "unit" and type_ not in Department.values:
            errors["type"] = [_("处置单位的类型必须是部门类型。")]
        if type_ and kind == "partner" and type_ in Department.values:
            errors["type"] = [_("协作单位的类型必须是协作单位类型或服务能力。")]
        if type_ and level and type_ not in Department.values:
            errors["type"] = [_("层级只适用于处置单位，类型必须是部门类型。")]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class OrganizationSerializer(serializers.Serializer):
    """One row of the directory, a unit or a partner; fields that do not apply are null."""

    kind = serializers.SerializerMethodField()
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.SerializerMethodField(help_text=_("部门类型（单位）或协作单位类型"))
    type_label = serializers.SerializerMethodField()
    level = serializers.SerializerMethodField()
    area = serializers.SerializerMethodField(help_text=_("单位的管辖区域；协作单位所在区县"))
    parent_code = serializers.SerializerMethodField()
    capabilities = serializers.SerializerMethodField()
    capacity = serializers.SerializerMethodField()
    location = serializers.SerializerMethodField(help_text=_("协作单位办公地点 [经度, 纬度]，WGS-84"))
    phone = serializers.CharField()
    is_active = serializers.BooleanField()

    @extend_schema_field(serializers.ChoiceField(choices=KINDS))
    def get_kind(self, obj) -> str:
        return "unit" if isinstance(obj, Unit) else "partner"

    @extend_schema_field(OpenApiTypes.STR)
    def get_type(self, obj) -> str:
        return obj.department if isinstance(obj, Unit) else obj.kind

    @extend_schema_field(OpenApiTypes.STR)
    def get_type_label(self, obj) -> str:
        return str(obj.get_department_display() if isinstance(obj, Unit) else obj.get_kind_display())

    @extend_schema_field(serializers.ChoiceField(choices=Unit.Level.choices, allow_null=True))
    def get_level(self, obj) -> str | None:
        return obj.level if isinstance(obj, Unit) else None

    @extend_schema_field(CodeNameSerializer)
    def get_area(self, obj) -> dict:
        area = obj.area if isinstance(obj, Unit) else obj.district
        return {"code": area.code, "name": area.name}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_parent_code(self, obj) -> str | None:
        return obj.parent.code if isinstance(obj, Unit) and obj.parent_id else None

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=Capability.choices)))
    def get_capabilities(self, obj) -> list[str]:
        return list(obj.capabilities) if isinstance(obj, Partner) else []

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_capacity(self, obj) -> int | None:
        return obj.capacity if isinstance(obj, Partner) else None

    @extend_schema_field(serializers.ListField(child=serializers.FloatField(), allow_null=True))
    def get_location(self, obj) -> list[float] | None:
        if isinstance(obj, Partner) and obj.location is not None:
            return [round(obj.location.x, 6), round(obj.location.y, 6)]
        return None
