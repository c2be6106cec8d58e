"""Input and output of the supervision API (/api/v1/supervision/)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from dispatch.supervision import rules, text
from dispatch.supervision.models import Finding, FindingEntry, Severity
from dispatch.supervision.services import ACTIONS
from partners.privacy import mask_phones


class FindingFilter(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Finding.Status.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    rule = serializers.ChoiceField(choices=sorted(rules.RULES), required=False)
    unit = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


class FindingActionInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS, help_text=_("acknowledge / dismiss / reopen / explain"))
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class SupervisionRunInput(serializers.Serializer):
    rules = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(rules.RULES)), required=False, allow_empty=False
    )


def _unit(finding: Finding, unit_names: dict[int, str]) -> dict | None:
    if finding.unit_id is None:
        return None
    return {"id": finding.unit_id, "name": unit_names.get(finding.unit_id, "")}


class FindingOutput(serializers.Serializer):
    """`unit_names` in the context: {unit id: name} for every unit the findings mention."""

    id = serializers.IntegerField()
    rule = serializers.CharField(source="rule.code")
    rule_title = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    severity = serializers.CharField()
    severity_label = serializers.CharField(source="get_severity_display")
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    subject = serializers.SerializerMethodField()
    unit = serializers.SerializerMethodField()
    units = serializers.SerializerMethodField()
    person = serializers.SerializerMethodField()
    case_ids = serializers.ListField(child=serializers.IntegerField())
    event_ids = serializers.ListField(child=serializers.IntegerField())
    figures = serializers.JSONField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()

    def _names(self) -> dict[int, str]:
        return self.context.get("unit_names", {})

    def get_rule_title(self, obj) -> str:
        return text.title(obj.rule.code)

    def get_summary(self, obj) -> str:
        return text.summary(obj.rule.code, obj.figures)

    def get_subject(self, obj) -> str:
        return text.subject(obj, self._names())

    def get_unit(self, obj) -> dict | None:
        return _unit(obj, self._names())

    def get_units(self, obj) -> list[dict]:
        return [{"id": u, "name": self._names().get(u, "")} for u in obj.unit_ids]

    def get_person(self, obj) -> dict | None:
        if obj.person_id is None:
            return None
        return {"id": obj.person_id, "name": obj.person.get_full_name() or obj.person.username}


class FindingEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    actor = serializers.SerializerMethodField()
    at = serializers.DateTimeField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    note = serializers.SerializerMethodField()

    def get_actor(self, obj: FindingEntry) -> str | None:
        return (obj.actor.get_full_name() or obj.actor.username) if obj.actor_id else None

    def get_note(self, obj: FindingEntry) -> str:
        return mask_phones(obj.note)


class FindingEvidenceOutput(serializers.Serializer):
    """One row of the case event log, as it is (the finding stores its id, not a copy)."""

    id = serializers.IntegerField()
    case_id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")
    case_visible = serializers.BooleanField(source="visible")
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    # Of a case the viewer may no longer open, a row says only what happened when (see the selector).
    def get_actor(self, obj) -> str | None:
        return obj.actor_name if obj.actor_id and obj.visible else None

    def get_note(self, obj) -> str:
        return mask_phones(obj.note) if obj.visible else ""

    def get_photos(self, obj) -> int:
        return len(obj.evidence or [])


class FindingCaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField(source="get_status_display")
    category = serializers.CharField(source="category.name")
    lead_unit = serializers.CharField(source="lead_unit.name", default=None)


class FindingDetailOutput(FindingOutput):
    entries = FindingEntryOutput(source="entries.all", many=True)
    evidence = FindingEvidenceOutput(many=True)
    cases = FindingCaseOutput(many=True)
    may_act = serializers.SerializerMethodField()
    may_explain = serializers.SerializerMethodField()

    def get_may_act(self, obj) -> bool:
        access = self.context.get("access")
        return bool(access and access.acts)

    def get_may_explain(self, obj) -> bool:
        access = self.context.get("access")
        return bool(access and access.explains(obj))


class SupervisionRuleOutput(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()
    severity = serializers.CharField()
    window_days = serializers.IntegerField()
    threshold = serializers.FloatField()
    threshold_help = serializers.SerializerMethodField()
    min_count = serializers.IntegerField()
    min_count_help = serializers.SerializerMethodField()
    params = serializers.JSONField()

    def _rule(self, obj):
        return rules.rule_for(obj.code)

    def get_title(self, obj) -> str:
        return text.title(obj.code)

    def get_description(self, obj) -> str:
        rule = self._rule(obj)
        return str(rule.description) if rule else ""

    def get_threshold_help(self, obj) -> str:
        rule = self._rule(obj)
        return str(rule.threshold_help) if rule else ""

    def get_min_count_help(self, obj) -> str:
        rule = self._rule(obj)
        return str(rule.min_count_help) if rule else ""
