"""A dispatcher sends a case to a unit (or on to another one), or merges a duplicate into the case it repeats."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import visible_cases
from dispatch.services.cases.assignments import add_collaborators, assign_lead, unit_data
from dispatch.services.cases.states import check_dispatcher, record_event
from partners.models import Unit

Status = Case.Status
Kind = CaseEvent.Kind


def case_dispatch(*, case_id: int, actor, version: int, unit, collaborators: Sequence = (), note: str = "") -> Case:
    """Dispatch (from triage/returned/reopened) or re-dispatch a case to `unit` as lead (dispatcher)."""
    with transaction.atomic():
        case, _roles = check_dispatcher(case_id=case_id, actor=actor, version=version, action="dispatch")
        unit_obj = unit if isinstance(unit, Unit) else Unit.objects.filter(pk=unit).first()
        if unit_obj is None or not unit_obj.is_active:
            raise ValidationError({"unit": [_("单位不存在或已停用。")]})
        extra = list(Unit.objects.filter(pk__in=[getattr(u, "pk", u) for u in collaborators], is_active=True))
        if len(extra) != len(set(collaborators)):
            raise ValidationError({"collaborators": [_("协办单位不存在或已停用。")]})
        now = timezone.now()
        previous = case.lead_unit
        assign_lead(case, unit_obj, now=now)
        add_collaborators(case, extra, now=now)
        case.needs_review = False
        record_event(
            case,
            kind=Kind.DISPATCHED,
            actor=actor,
            to_status=Status.DISPATCHED,
            note=note,
            data={
                "lead_unit": unit_data(unit_obj),
                "previous_unit": unit_data(previous),
                "collaborators": [unit_data(u) for u in extra],
            },
        )
    return case


def case_merge(*, case_id: int, actor, version: int, into: int, note: str = "") -> Case:
    """Merge a duplicate into another open case (并单): the duplicate ends as `merged` and the case it
    joins gets a `merged_in` event naming it (its status stays)."""
    with transaction.atomic():
        case, _roles = check_dispatcher(case_id=case_id, actor=actor, version=version, action="merge")
        try:
            into_id = int(into)
        except (TypeError, ValueError):
            raise ValidationError({"into": [_("需要目标工单编号。")]}) from None
        if into_id == case.pk:
            raise ValidationError({"into": [_("不能并入自身。")]})
        target = Case.objects.select_for_update(of=("self",)).filter(pk=into_id).first()
        if target is None or not visible_cases(actor).filter(pk=into_id).exists():
            raise ValidationError({"into": [_("目标工单不存在。")]})
        if not target.is_open:
            raise ValidationError({"into": [_("目标工单已办结或已并单。")]})
        case.merged_into = target
        case.assignments.filter(status__in=Assignment.ACTIVE).update(status=Assignment.Status.WITHDRAWN)
        record_event(
            case,
            kind=Kind.MERGED,
            actor=actor,
            to_status=Status.MERGED,
            note=note,
            data={"into": {"id": target.pk, "number": target.number}},
        )
        # The case that stays records it too, so its own handlers see the duplicate arrive live.
        record_event(
            target,
            kind=Kind.MERGED_IN,
            actor=actor,
            note=note or _("重复工单 %(number)s 已并入本工单。") % {"number": case.number},
            data={"merged": {"id": case.pk, "number": case.number}},
        )
    return case
