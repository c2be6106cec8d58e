"""How a case ends: verification on site, closing, refusing a report, and the caller's callback."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.evidence import photos as photo_checks
from dispatch.evidence.storage import FilesOnRollback, store_photos
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.services.cases.assignments import TRIAGE_DEPARTMENT, assign_lead, deadlines, triage_unit, unit_data
from dispatch.services.cases.states import (
    check_dispatcher,
    check_state,
    check_version,
    lock_case,
    record_event,
    require,
    require_note,
)

Status = Case.Status
Kind = CaseEvent.Kind


def case_verify(*, case_id: int, actor, version: int, passed: bool, note: str = "", photos: Sequence = ()) -> Case:
    """Check the work on site (核查): pass → closed; fail → rework, and the handler signs again."""
    prepared = photo_checks.prepare_photos(photos)
    with FilesOnRollback() as stored, transaction.atomic():
        case, roles = lock_case(case_id=case_id, actor=actor)
        require(
            roles.dispatches(case) or (bool(case.grid_code) and case.grid_code in roles.grids),
            _("只有本网格的网格员或调度员可以核查。"),
        )
        check_version(case, version)
        check_state(case, "verify")
        if passed is None:
            raise ValidationError({"passed": [_("请选择核查是否通过。")]})
        if not passed:
            note = require_note(note, _("请填写核查不通过的原因。"))
        evidence = store_photos(case, prepared, actor=actor, stored=stored)
        now = timezone.now()
        if passed:
            case.closed_at = now
            record_event(case, kind=Kind.VERIFIED, actor=actor, to_status=Status.CLOSED, note=note, evidence=evidence)
            return case
        lead = case.assignments.filter(role=Assignment.Role.LEAD, status=Assignment.Status.REPLIED).first()
        if lead is not None:
            lead.sign_due, lead.reply_due = deadlines(case, now)
            lead.status, lead.replied_at = Assignment.Status.REWORK, None
            lead.sla_level = Assignment.SlaLevel.GREEN
            lead.yellow_notified_at = lead.red_notified_at = None
            lead.save()
        record_event(case, kind=Kind.REWORK, actor=actor, to_status=Status.REWORK, note=note, evidence=evidence)
    return case


def case_close(*, case_id: int, actor, version: int, note: str = "") -> Case:
    """Close a replied case without (further) verification (结案; dispatcher, supervisor)."""
    with transaction.atomic():
        case, _roles = check_dispatcher(case_id=case_id, actor=actor, version=version, action="close")
        case.closed_at = timezone.now()
        record_event(case, kind=Kind.CLOSED, actor=actor, to_status=Status.CLOSED, note=note)
    return case


def case_reject(*, case_id: int, actor, version: int, note: str) -> Case:
    """Refuse a report that is not a matter for the city (不予受理), with the reason."""
    with transaction.atomic():
        case, _roles = check_dispatcher(case_id=case_id, actor=actor, version=version, action="reject")
        note = require_note(note, _("请填写不予受理的理由。"))
        record_event(case, kind=Kind.REJECTED, actor=actor, to_status=Status.REJECTED, note=note)
    return case


def case_revisit(*, case_id: int, actor, version: int, satisfied: bool, note: str = "") -> Case:
    """Record the callback (回访): satisfied → revisited; unsatisfied → reopened and back to the same unit."""
    with transaction.atomic():
        case, roles = lock_case(case_id=case_id, actor=actor)
        require(roles.agent, _("只有12345坐席可以回访。"))
        check_version(case, version)
        check_state(case, "revisit")
        if satisfied is None:
            raise ValidationError({"satisfied": [_("请选择是否满意。")]})
        now = timezone.now()
        case.satisfied, case.revisited_at = bool(satisfied), now
        if satisfied:
            record_event(case, kind=Kind.REVISITED, actor=actor, to_status=Status.REVISITED, note=note)
            return case
        note = require_note(note, _("请记录不满意的原因。"))
        case.closed_at = None
        record_event(case, kind=Kind.REOPENED, actor=actor, to_status=Status.REOPENED, note=note)
        # A case the triage queue last held goes back there, not to the command centre as a handler.
        led_by_unit = case.lead_unit is not None and case.lead_unit.department != TRIAGE_DEPARTMENT
        unit = case.lead_unit if led_by_unit else None
        if unit is None or not unit.is_active:
            case.lead_unit = triage_unit(case.district_code)
            record_event(case, kind=Kind.TRIAGED, to_status=Status.TRIAGE, data={"reason": "reopened_without_unit"})
            return case
        assign_lead(case, unit, now=now)
        record_event(
            case,
            kind=Kind.DISPATCHED,
            to_status=Status.DISPATCHED,
            data={"lead_unit": unit_data(unit), "reopened": True},
        )
    return case
