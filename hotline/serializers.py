"""Input and output shapes of the hotline API, one pair per endpoint, no logic in `save()`.

Outputs that carry a caller take `full` in their context: True only for agents and supervisors (and
the view then records the access); otherwise names and numbers come out masked, and so do numbers
inside what the caller said.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from dispatch.models import Case
from grids.serializers import latitude_field, longitude_field
from hotline.gazetteer import reason_text
from hotline.models import Call, Callback
from hotline.selectors import queue_calls
from partners.privacy import mask_name, mask_phone, mask_phones
from routing.interface import explain

CRS = ("wgs84", "gcj02", "bd09")


# --- inputs ---------------------------------------------------------------------------------------


class CallCreateInput(serializers.Serializer):
    caller_phone = serializers.CharField(max_length=40, label=gettext_lazy("来电号码"))
    caller_name = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    request_type = serializers.ChoiceField(choices=Call.RequestType.choices)
    content = serializers.CharField(max_length=5000, label=gettext_lazy("来电内容"))
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    lon = longitude_field(required=False, allow_null=True, default=None)
    lat = latitude_field(required=False, allow_null=True, default=None)
    crs = serializers.ChoiceField(choices=CRS, required=False, default="wgs84")
    category = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True, default=None)
    urgency = serializers.ChoiceField(
        choices=Call.Urgency.choices, required=False, allow_blank=True, allow_null=True, default=None
    )
    answered = serializers.BooleanField(required=False, default=False, help_text="当场答复办结（仅咨询）")
    answer = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    join_case = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="并入的工单 id")


class CallJoinInput(serializers.Serializer):
    into = serializers.IntegerField(help_text="目标工单 id")
    version = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="本来电工单的版本")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class PlaceSuggestInput(serializers.Serializer):
    q = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    lon = longitude_field(required=False, allow_null=True, default=None)
    lat = latitude_field(required=False, allow_null=True, default=None)
    crs = serializers.ChoiceField(choices=CRS, required=False, default="wgs84")
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)

    def validate(self, attrs):
        has_point = attrs["lon"] is not None or attrs["lat"] is not None
        if has_point and (attrs["lon"] is None or attrs["lat"] is None):
            missing = "lon" if attrs["lon"] is None else "lat"
            raise serializers.ValidationError({missing: [_("经度和纬度需要同时提供。")]})
        if not has_point and not attrs["q"].strip():
            raise serializers.ValidationError({"q": [_("请输入地名，或提供经纬度。")]})
        return attrs


class CategorySuggestInput(serializers.Serializer):
    q = serializers.CharField(max_length=2000)
    limit = serializers.IntegerField(required=False, default=5, min_value=1, max_value=20)


class DuplicateSuggestInput(serializers.Serializer):
    lon = longitude_field()
    lat = latitude_field()
    crs = serializers.ChoiceField(choices=CRS, required=False, default="wgs84")
    category = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    q = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)


class CallerLookupInput(serializers.Serializer):
    phone = serializers.CharField(max_length=40)


class CallbackInput(serializers.Serializer):
    result = serializers.ChoiceField(choices=Callback.Result.choices)
    version = serializers.IntegerField(help_text="工单当前版本")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    call = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="回访的是哪次来电")


# --- outputs --------------------------------------------------------------------------------------


class CaseRefOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    version = serializers.IntegerField()


class CallOutput(serializers.Serializer):
    """A call; caller and content masked unless the context says `full`."""

    id = serializers.IntegerField()
    caller = serializers.SerializerMethodField()
    request_type = serializers.CharField()
    request_type_label = serializers.CharField(source="get_request_type_display")
    content = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    lon = serializers.SerializerMethodField()
    lat = serializers.SerializerMethodField()
    geocode = serializers.JSONField()
    category = serializers.SerializerMethodField()
    urgency = serializers.CharField()
    outcome = serializers.CharField()
    outcome_label = serializers.CharField(source="get_outcome_display")
    answer = serializers.SerializerMethodField()
    case = CaseRefOutput(allow_null=True)
    agent = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def _full(self) -> bool:
        return bool(self.context.get("full"))

    def get_caller(self, call: Call) -> dict:
        caller = call.caller
        if self._full():
            return {"name": caller.name, "phone": caller.phone, "masked": False}
        return {"name": mask_name(caller.name), "phone": mask_phone(caller.phone), "masked": True}

    def get_content(self, call: Call) -> str:
        return call.content if self._full() else mask_phones(call.content)

    def get_address(self, call: Call) -> str:
        return call.address if self._full() else mask_phones(call.address)

    def get_answer(self, call: Call) -> str:
        return call.answer if self._full() else mask_phones(call.answer)

    def get_lon(self, call: Call) -> float | None:
        return call.point.x if call.point is not None else None

    def get_lat(self, call: Call) -> float | None:
        return call.point.y if call.point is not None else None

    def get_category(self, call: Call) -> dict | None:
        return {"code": call.category.code, "name": call.category.name} if call.category_id else None

    def get_agent(self, call: Call) -> dict:
        agent = call.agent
        return {"id": agent.pk, "name": agent.get_full_name() or agent.get_username()}


def routing_summary(case: Case) -> str:
    """One sentence on where the case went and why, in the request's language."""
    routing = case.routing or {}
    text = explain(routing)
    if text:
        return text
    reason = routing.get("reason")
    lead = case.lead_unit.name if case.lead_unit_id else _("指挥中心")
    if reason == "no_location":
        return _("没有可用的位置，转%(unit)s待分拨。") % {"unit": lead}
    if reason == "outside":
        return _("位置不在任何网格内，转%(unit)s待分拨。") % {"unit": lead}
    if reason in ("unroutable", "routing_error", "no_rule"):
        return _("没有匹配的责任规则，转%(unit)s待分拨。") % {"unit": lead}
    if case.status == Case.Status.TRIAGE:
        return _("转%(unit)s待分拨。") % {"unit": lead}
    return _("派往%(unit)s。") % {"unit": lead}


class FiledCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    version = serializers.IntegerField()
    triage = serializers.SerializerMethodField()
    needs_review = serializers.BooleanField()
    lead_unit = serializers.SerializerMethodField()
    collaborators = serializers.SerializerMethodField()
    partners = serializers.SerializerMethodField()
    grid = serializers.CharField(source="grid_code")
    district = serializers.CharField(source="district_code")
    why = serializers.SerializerMethodField()
    routing = serializers.JSONField()

    def get_triage(self, case: Case) -> bool:
        return case.status == Case.Status.TRIAGE

    def get_lead_unit(self, case: Case) -> dict | None:
        return {"id": case.lead_unit.pk, "name": case.lead_unit.name} if case.lead_unit_id else None

    def get_collaborators(self, case: Case) -> list:
        return [{"id": u["id"], "name": u["name"]} for u in (case.routing or {}).get("collaborators") or [] if u]

    def get_partners(self, case: Case) -> list:
        return [{"id": p["id"], "name": p["name"]} for p in (case.routing or {}).get("partners") or []]

    def get_why(self, case: Case) -> str:
        return routing_summary(case)


class CallFiledOutput(serializers.Serializer):
    call = serializers.SerializerMethodField()
    outcome = serializers.CharField(source="call.outcome")
    joined = serializers.BooleanField()
    case = FiledCaseOutput(allow_null=True)
    geocode = serializers.SerializerMethodField()
    previous_calls = serializers.IntegerField(help_text="该号码在回溯期内此前的来电次数")
    message = serializers.SerializerMethodField()

    def get_call(self, filed) -> dict:
        return CallOutput(filed.call, context={"full": True}).data

    def get_geocode(self, filed) -> dict | None:
        if filed.geocoded is None:
            return None
        return {**filed.geocoded.as_dict(), "message": reason_text(filed.geocoded)}

    def get_message(self, filed) -> str:
        call = filed.call
        if call.outcome == Call.Outcome.ANSWERED:
            return _("已当场答复，一次办结，未生成工单。")
        if filed.joined:
            return _("已并入工单 %(number)s，不重复派单。") % {"number": filed.case.number}
        return _("已生成工单 %(number)s：%(why)s") % {"number": filed.case.number, "why": routing_summary(filed.case)}


class CandidateOutput(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    address = serializers.CharField()
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    score = serializers.FloatField()
    chain = serializers.ListField(child=serializers.DictField())


class PlaceSuggestOutput(serializers.Serializer):
    results = CandidateOutput(many=True)
    location = serializers.DictField(allow_null=True, required=False)


class CategorySuggestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    group = serializers.CharField()
    score = serializers.FloatField()
    reasons = serializers.DictField()


class DuplicateOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    version = serializers.IntegerField()
    category = serializers.DictField()
    same_category = serializers.BooleanField()
    description = serializers.CharField()
    address = serializers.CharField()
    distance_m = serializers.FloatField()
    similarity = serializers.FloatField()
    score = serializers.FloatField()
    created_at = serializers.DateTimeField()


class CallerHistoryOutput(serializers.Serializer):
    phone = serializers.CharField()
    name = serializers.CharField()
    known = serializers.BooleanField()
    repeat = serializers.BooleanField(help_text="回溯期内打过电话")
    period_days = serializers.IntegerField()
    calls = serializers.ListField(child=serializers.DictField())


class CallbackQueueOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    version = serializers.IntegerField()
    category = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    lead_unit = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField()
    calls = serializers.SerializerMethodField()

    def get_category(self, case: Case) -> dict:
        return {"code": case.category.code, "name": case.category.name}

    def get_description(self, case: Case) -> str:
        return mask_phones(case.description)

    def get_lead_unit(self, case: Case) -> dict | None:
        return {"id": case.lead_unit.pk, "name": case.lead_unit.name} if case.lead_unit_id else None

    def get_calls(self, case: Case) -> list[dict]:
        # The queue shows who to call back masked; opening the call shows (and logs) the number.
        return [
            {
                "id": call.pk,
                "caller": {"name": mask_name(call.caller.name), "phone": mask_phone(call.caller.phone)},
                "created_at": call.created_at,
            }
            for call in queue_calls(case)
        ]


class CallbackOutput(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.CharField()
    result_label = serializers.CharField(source="get_result_display")
    note = serializers.CharField()
    at = serializers.DateTimeField()
    case = CaseRefOutput()
