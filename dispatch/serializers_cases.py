"""Input and output shapes of the case API (one input and one output serializer per endpoint).

Inputs only validate; the services do the work. Outputs carry no personal data: reporters are not
named, and phone numbers typed into free text are masked (138****5678) before they leave.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import REPLY_STAGE, SIGN_STAGE
from grids.points import CheckedPoint, PointError
from grids.serializers import CodeNameSerializer, latitude_field, longitude_field
from partners.privacy import mask_phones

ACTIONS = (
    ("dispatch", _("派单/改派")),
    ("merge", _("并单")),
    ("sign", _("签收")),
    ("return", _("退单")),
    ("reply", _("办结反馈")),
    ("request_extension", _("申请延期")),
    ("approve_extension", _("批准延期")),
    ("deny_extension", _("不批准延期")),
    ("urge", _("督办")),
    ("verify", _("核查")),
    ("close", _("结案")),
    ("reject", _("不予受理")),
    ("revisit", _("回访")),
)
# The fields each action cannot do without.
REQUIRED = {
    "dispatch": ("unit",),
    "merge": ("into",),
    "request_extension": ("until",),
    "verify": ("passed",),
    "revisit": ("satisfied",),
}
API_SOURCES = (Case.Source.HOTLINE, Case.Source.FIELD, Case.Source.API)


def paginated(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of a LimitOffsetPagination page of `item`s, for views that paginate by hand."""
    return inline_serializer(
        name,
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


# --- inputs --------------------------------------------------------------------------------------


class CaseCreateInput(serializers.Serializer):
    category = serializers.CharField(max_length=16, help_text=_("类别编码，如 SJ0101"))
    description = serializers.CharField(max_length=4000)
    lon = longitude_field(required=False, allow_null=True)
    lat = latitude_field(required=False, allow_null=True)
    crs = serializers.ChoiceField(choices=("wgs84", "gcj02", "bd09"), default="wgs84")
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(choices=Case.Urgency.choices, required=False, allow_null=True, default=None)
    source = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in API_SOURCES],
        required=False,
        help_text=_("hotline（坐席）、field（网格员）或 api；缺省按角色判断"),
    )
    self_resolved = serializers.BooleanField(default=False, help_text=_("网格员自行处置：记录并立即结案"))
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def validate(self, attrs):
        if (attrs.get("lon") is None) != (attrs.get("lat") is None):
            missing = "lon" if attrs.get("lon") is None else "lat"
            raise serializers.ValidationError({missing: [_("经度和纬度需要同时提供。")]})
        if attrs.get("lon") is None and not attrs.get("address", "").strip():
            raise serializers.ValidationError({"address": [_("没有坐标时需要提供地址。")]})
        attrs["point"] = None
        if attrs.get("lon") is not None:
            # The fields have checked the numbers and their range already; this only fails if they change.
            try:
                attrs["point"] = CheckedPoint.make(attrs["lon"], attrs["lat"], attrs["crs"])
            except PointError as refused:
                raise serializers.ValidationError(refused.messages()) from None
        return attrs


class CaseActionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    version = serializers.IntegerField(min_value=0, help_text=_("操作所依据的工单版本；过期返回 409"))
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    unit = serializers.IntegerField(required=False, min_value=1, help_text=_("dispatch：主办单位 id"))
    collaborators = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, default=list, help_text=_("dispatch：协办单位 id")
    )
    into = serializers.IntegerField(required=False, min_value=1, help_text=_("merge：并入的工单 id"))
    until = serializers.DateTimeField(required=False, help_text=_("request_extension / approve_extension：新期限"))
    passed = serializers.BooleanField(required=False, allow_null=True, default=None, help_text=_("verify：是否通过"))
    satisfied = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text=_("revisit：群众是否满意")
    )
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def validate(self, attrs):
        errors = {
            name: [_("此操作需要该字段。")] for name in REQUIRED.get(attrs["action"], ()) if attrs.get(name) is None
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CaseListFilter(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Case.Status.choices, required=False)
    category = serializers.CharField(max_length=16, required=False)
    unit = serializers.IntegerField(min_value=1, required=False)
    grid = serializers.CharField(max_length=15, required=False)
    district = serializers.CharField(max_length=6, required=False)
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False)

    def to_internal_value(self, data):
        # `?status=a,b` as well as `?status=a&status=b`.
        if hasattr(data, "getlist") and "status" in data:
            data = data.copy()
            data.setlist("status", [s for v in data.getlist("status") for s in v.split(",") if s])
        return super().to_internal_value(data)


# --- outputs -------------------------------------------------------------------------------------


class OrganisationRef(serializers.Serializer):
    """A unit or partner by id and name, wherever an API names one."""

    id = serializers.IntegerField()
    name = serializers.CharField()


def _lead_assignment(case: Case) -> Assignment | None:
    for a in getattr(case, "active_assignments", ()):
        if a.role == Assignment.Role.LEAD:
            return a
    return None


class CaseListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    version = serializers.IntegerField()
    category = CodeNameSerializer()
    urgency = serializers.CharField()
    source = serializers.CharField()
    description = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()
    lat = serializers.SerializerMethodField()
    grid_code = serializers.CharField()
    community_code = serializers.CharField()
    street_code = serializers.CharField()
    district_code = serializers.CharField()
    lead_unit = OrganisationRef(allow_null=True)
    needs_review = serializers.BooleanField()
    self_resolved = serializers.BooleanField()
    sign_due = serializers.SerializerMethodField()
    reply_due = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_description(self, case: Case) -> str:
        return mask_phones(case.description)

    def get_address(self, case: Case) -> str:
        return mask_phones(case.address)

    @extend_schema_field(OpenApiTypes.DOUBLE)
    def get_lon(self, case: Case) -> float | None:
        return case.point.x if case.point is not None else None

    @extend_schema_field(OpenApiTypes.DOUBLE)
    def get_lat(self, case: Case) -> float | None:
        return case.point.y if case.point is not None else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_sign_due(self, case: Case):
        lead = _lead_assignment(case)
        return serializers.DateTimeField().to_representation(lead.sign_due) if lead and lead.sign_due else None

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_reply_due(self, case: Case):
        lead = _lead_assignment(case)
        return serializers.DateTimeField().to_representation(lead.reply_due) if lead and lead.reply_due else None

    def get_overdue(self, case: Case) -> bool:
        lead = _lead_assignment(case)
        if lead is None or not case.is_open:
            return False
        # The same rule as dispatch.selectors.overdue_q, on the prefetched assignment.
        now = timezone.now()
        if lead.status in SIGN_STAGE:
            return bool(lead.sign_due and lead.sign_due <= now)
        if lead.status in REPLY_STAGE:
            return bool(lead.reply_due and lead.reply_due <= now)
        return False


class AssignmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    unit = OrganisationRef(allow_null=True)
    partner = OrganisationRef(allow_null=True)
    dispatched_at = serializers.DateTimeField()
    sign_due = serializers.DateTimeField(allow_null=True)
    reply_due = serializers.DateTimeField(allow_null=True)
    signed_at = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    sla_level = serializers.CharField()
    urge_count = serializers.IntegerField()
    extension_status = serializers.CharField()
    extension_until = serializers.DateTimeField(allow_null=True)


class EventOutput(serializers.Serializer):
    seq = serializers.IntegerField(source="id")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    actor = serializers.SerializerMethodField()
    at = serializers.DateTimeField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.SerializerMethodField()
    evidence = serializers.ListField(child=serializers.IntegerField())
    data = serializers.JSONField()

    def get_actor(self, event: CaseEvent) -> str | None:
        return event.actor.get_username() if event.actor_id else None

    def get_note(self, event: CaseEvent) -> str:
        return mask_phones(event.note)


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    size = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_url(self, att) -> str:
        return reverse("case-attachment", args=[att.case_id, att.id])


class CaseRef(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()


class CaseDetailOutput(CaseListOutput):
    routing = serializers.JSONField(help_text=_("路由说明：尝试过的规则、命中的规则、使用的辖区链"))
    satisfied = serializers.BooleanField(allow_null=True)
    merged_into = CaseRef(allow_null=True)
    merged_cases = CaseRef(many=True, source="merged_cases.all")
    assignments = AssignmentOutput(many=True, source="assignments.all")
    attachments = AttachmentOutput(many=True, source="attachments.all")
    timeline = EventOutput(many=True, source="events.all")


# --- the intake hot path -------------------------------------------------------------------------


def _when(value):
    # As DRF's DateTimeField gives it: in the current time zone, ISO 8601, "Z" for UTC.
    if value is None:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _ref(obj) -> dict | None:
    return {"id": obj.id, "name": str(obj.name)} if obj is not None else None


def case_detail_data(case: Case) -> dict:
    """What CaseDetailOutput(case).data gives, built without DRF's field machinery, which cost a
    case POST more than its writes. For the 201 of a new case; the tests hold the two to the same JSON."""
    active = getattr(case, "active_assignments", ())
    lead = next((a for a in active if a.role == Assignment.Role.LEAD), None)
    overdue = False
    if lead is not None and case.is_open:
        now = timezone.now()
        if lead.status in SIGN_STAGE:
            overdue = bool(lead.sign_due and lead.sign_due <= now)
        elif lead.status in REPLY_STAGE:
            overdue = bool(lead.reply_due and lead.reply_due <= now)
    point = case.point
    return {
        "id": case.id,
        "number": str(case.number),
        "status": str(case.status),
        "status_label": str(Case.Status(case.status).label),
        "version": int(case.version),
        "category": {"code": str(case.category.code), "name": str(case.category.name)},
        "urgency": str(case.urgency),
        "source": str(case.source),
        "description": mask_phones(case.description),
        "address": str(case.address),
        "lon": point.x if point is not None else None,
        "lat": point.y if point is not None else None,
        "grid_code": str(case.grid_code),
        "community_code": str(case.community_code),
        "street_code": str(case.street_code),
        "district_code": str(case.district_code),
        "lead_unit": _ref(case.lead_unit),
        "needs_review": bool(case.needs_review),
        "self_resolved": bool(case.self_resolved),
        "sign_due": _when(lead.sign_due) if lead else None,
        "reply_due": _when(lead.reply_due) if lead else None,
        "overdue": overdue,
        "created_at": _when(case.created_at),
        "updated_at": _when(case.updated_at),
        "closed_at": _when(case.closed_at),
        "routing": case.routing,
        "satisfied": case.satisfied,
        "merged_into": {"id": case.merged_into.id, "number": case.merged_into.number} if case.merged_into_id else None,
        "merged_cases": [{"id": c.id, "number": c.number} for c in case.merged_cases.all()],
        "assignments": [
            {
                "id": a.id,
                "role": str(a.role),
                "status": str(a.status),
                "status_label": str(Assignment.Status(a.status).label),
                "unit": _ref(a.unit),
                "partner": _ref(a.partner),
                "dispatched_at": _when(a.dispatched_at),
                "sign_due": _when(a.sign_due),
                "reply_due": _when(a.reply_due),
                "signed_at": _when(a.signed_at),
                "replied_at": _when(a.replied_at),
                "sla_level": str(a.sla_level),
                "urge_count": int(a.urge_count),
                "extension_status": str(a.extension_status),
                "extension_until": _when(a.extension_until),
            }
            for a in case.assignments.all()
        ],
        "attachments": [
            {
                "id": att.id,
                "url": reverse("case-attachment", args=[att.case_id, att.id]),
                "width": int(att.width),
                "height": int(att.height),
                "size": int(att.size),
                "created_at": _when(att.created_at),
            }
            for att in case.attachments.all()
        ],
        "timeline": [
            {
                "seq": e.id,
                "kind": str(e.kind),
                "kind_label": str(CaseEvent.Kind(e.kind).label),
                "actor": e.actor.get_username() if e.actor_id else None,
                "at": _when(e.at),
                "from_status": str(e.from_status),
                "to_status": str(e.to_status),
                "note": mask_phones(e.note),
                "evidence": [int(i) for i in e.evidence],
                "data": e.data,
            }
            for e in case.events.all()
        ],
    }
