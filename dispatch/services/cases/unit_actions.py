"""What happens while a unit holds a case: signing, returning, replying, extensions and urging.

The lead unit's actions move the case; a collaborator (a unit or a partner) signs and replies its
own part, which leaves the case's status as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.evidence import photos as photo_checks
from dispatch.evidence.storage import FilesOnRollback, store_photos
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.services.cases.assignments import lead_assignment, triage_unit, unit_data
from dispatch.services.cases.states import check_dispatcher, check_handler, record_event, require_note
from dispatch.services.errors import InvalidTransition

Status = Case.Status
Kind = CaseEvent.Kind


def _collaborator_data(assignment: Assignment) -> dict[str, Any]:
    """What a collaborator's own step records: its assignment, and that it is a collaborator's."""
    return {"assignment": assignment.pk, "role": "collaborator"}


def _sign(assignment: Assignment, now: dt.datetime) -> None:
    """Sign the assignment: its reply stage starts green.

    The sign stage's yellow/red belonged to the sign deadline. Their `*_notified_at` stamps stay as
    history: being older than `signed_at`, the SLA sweep counts them as unset for the reply stage.
    """
    assignment.status, assignment.signed_at = Assignment.Status.SIGNED, now
    assignment.sla_level = Assignment.SlaLevel.GREEN
    assignment.save(update_fields=["status", "signed_at", "sla_level"])


def case_sign(*, case_id: int, actor, version: int, note: str = "") -> Case:
    """Sign for a case (签收). The lead's signature moves the case; a collaborator signs its own part."""
    with transaction.atomic():
        case, assignment = check_handler(case_id=case_id, actor=actor, version=version, action="sign", lead_only=False)
        lead = assignment.role == Assignment.Role.LEAD
        if not lead and (assignment.status != Assignment.Status.DISPATCHED or not case.is_open):
            raise InvalidTransition(_("该协办任务已签收。"), status=case.status)
        _sign(assignment, timezone.now())
        record_event(
            case,
            kind=Kind.SIGNED,
            actor=actor,
            to_status=Status.SIGNED if lead else None,
            note=note,
            data={"assignment": assignment.pk, "unit": unit_data(assignment.unit)}
            if lead
            else _collaborator_data(assignment),
        )
    return case


def case_return(*, case_id: int, actor, version: int, note: str) -> Case:
    """Return a case that is not the unit's to handle (退单), with the reason; it goes back to triage."""
    with transaction.atomic():
        case, assignment = check_handler(case_id=case_id, actor=actor, version=version, action="return", lead_only=True)
        note = require_note(note, _("请填写退单理由。"))
        assignment.status = Assignment.Status.RETURNED
        assignment.save(update_fields=["status"])
        returned_by = case.lead_unit
        case.lead_unit = triage_unit(case.district_code)
        record_event(
            case,
            kind=Kind.RETURNED,
            actor=actor,
            to_status=Status.RETURNED,
            note=note,
            data={"unit": unit_data(returned_by), "lead_unit": unit_data(case.lead_unit)},
        )
    return case


def case_reply(*, case_id: int, actor, version: int, note: str, photos: Sequence = ()) -> Case:
    """Reply that the work is done, with evidence (办结反馈). The lead's reply sends the case to verification."""
    prepared = photo_checks.prepare_photos(photos)
    with FilesOnRollback() as stored, transaction.atomic():
        case, assignment = check_handler(case_id=case_id, actor=actor, version=version, action="reply", lead_only=False)
        note = require_note(note, _("请填写办理结果。"))
        lead = assignment.role == Assignment.Role.LEAD
        open_part = (Assignment.Status.DISPATCHED, Assignment.Status.SIGNED)
        if not lead and (assignment.status not in open_part or not case.is_open):
            raise InvalidTransition(_("该协办任务已反馈。"), status=case.status)
        evidence = store_photos(case, prepared, actor=actor, stored=stored)
        assignment.status, assignment.replied_at = Assignment.Status.REPLIED, timezone.now()
        assignment.save(update_fields=["status", "replied_at"])
        record_event(
            case,
            kind=Kind.REPLIED,
            actor=actor,
            to_status=Status.REPLIED if lead else None,
            note=note,
            evidence=evidence,
            data={"assignment": assignment.pk} if lead else _collaborator_data(assignment),
        )
        if lead:
            # Verification starts at once: the grid's worker (or a dispatcher) checks the work on site.
            record_event(case, kind=Kind.VERIFYING, to_status=Status.VERIFYING, data={"grid": case.grid_code or None})
    return case


def case_request_extension(*, case_id: int, actor, version: int, until: dt.datetime, note: str) -> Case:
    """Ask for more time to reply (申请延期); the deadline moves only when a dispatcher approves."""
    with transaction.atomic():
        case, assignment = check_handler(
            case_id=case_id, actor=actor, version=version, action="request_extension", lead_only=True
        )
        note = require_note(note, _("请填写延期理由。"))
        if assignment.extension_status == Assignment.Extension.REQUESTED:
            raise InvalidTransition(_("已有待审批的延期申请。"), status=case.status)
        if until is None or timezone.is_naive(until):
            raise ValidationError({"until": [_("需要带时区的延期截止时间。")]})
        floor = max(timezone.now(), assignment.reply_due) if assignment.reply_due else timezone.now()
        if until <= floor:
            raise ValidationError({"until": [_("延期截止时间必须晚于当前办理期限。")]})
        assignment.extension_status = Assignment.Extension.REQUESTED
        assignment.extension_until = until
        assignment.extension_reason = note
        assignment.extension_requested_at = timezone.now()
        assignment.save(
            update_fields=["extension_status", "extension_until", "extension_reason", "extension_requested_at"]
        )
        record_event(
            case,
            kind=Kind.EXTENSION_REQUESTED,
            actor=actor,
            note=note,
            data={
                "until": until.isoformat(),
                "reply_due": assignment.reply_due.isoformat() if assignment.reply_due else None,
            },
        )
    return case


def case_decide_extension(
    *, case_id: int, actor, version: int, approved: bool, until: dt.datetime | None = None, note: str = ""
) -> Case:
    """Approve (moving the reply deadline) or refuse a pending extension request (dispatcher, supervisor)."""
    with transaction.atomic():
        case, _roles = check_dispatcher(case_id=case_id, actor=actor, version=version, action="decide_extension")
        assignment = lead_assignment(case)
        if assignment is None or assignment.extension_status != Assignment.Extension.REQUESTED:
            raise InvalidTransition(_("没有待审批的延期申请。"), status=case.status)
        now = timezone.now()
        assignment.extension_decided_at = now
        if not approved:
            assignment.extension_status = Assignment.Extension.DENIED
            assignment.save(update_fields=["extension_status", "extension_decided_at"])
            record_event(case, kind=Kind.EXTENSION_DENIED, actor=actor, note=note, data={"assignment": assignment.pk})
            return case
        new_due = until or assignment.extension_until
        if timezone.is_naive(new_due) or new_due <= now:
            raise ValidationError({"until": [_("延期截止时间必须晚于现在。")]})
        previous = assignment.reply_due
        assignment.extension_status = Assignment.Extension.APPROVED
        assignment.extension_until = new_due
        assignment.reply_due = new_due
        # A new deadline gets its own warnings.
        assignment.sla_level = Assignment.SlaLevel.GREEN
        assignment.yellow_notified_at = assignment.red_notified_at = None
        assignment.save()
        record_event(
            case,
            kind=Kind.EXTENSION_APPROVED,
            actor=actor,
            note=note,
            data={
                "assignment": assignment.pk,
                "previous_due": previous.isoformat() if previous else None,
                "reply_due": new_due.isoformat(),
            },
        )
    return case


def case_urge(*, case_id: int, actor, version: int, note: str = "") -> Case:
    """Urge the unit working the case (督办); a flag and an event, the status stays."""
    with transaction.atomic():
        case, _roles = check_dispatcher(case_id=case_id, actor=actor, version=version, action="urge")
        assignment = lead_assignment(case)
        if assignment is not None:
            assignment.urged_at = timezone.now()
            assignment.urge_count += 1
            assignment.save(update_fields=["urged_at", "urge_count"])
        record_event(
            case,
            kind=Kind.URGED,
            actor=actor,
            note=note,
            data={"unit": unit_data(case.lead_unit), "times": assignment.urge_count if assignment else 1},
        )
    return case
