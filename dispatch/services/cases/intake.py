"""Opening a case from any channel: the input checked, the point located, the case routed and written.

A case that cannot be routed is never refused: without a point, outside every grid, or when the
router finds nothing (or fails), it opens in the triage queue of a command centre.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch import live
from dispatch.evidence import photos as photo_checks
from dispatch.evidence.storage import FilesOnRollback, store_photos
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import partner_open_load, roles_of
from dispatch.services.cases.assignments import deadlines, triage_unit, unit_data
from dispatch.services.errors import ActionForbidden
from grids import locator
from grids.points import CheckedPoint
from routing.interface import RoutingError, active_category, decide
from routing.models import Category

logger = logging.getLogger(__name__)

Status = Case.Status
Kind = CaseEvent.Kind
# What the opened event records as the crs of a case reported without a point.
DEFAULT_CRS = "wgs84"


def _category(category) -> Category:
    if isinstance(category, Category):
        return category
    found = None
    if isinstance(category, int):
        found = active_category(pk=category)
    elif isinstance(category, str) and category.strip():
        found = active_category(code=category.strip())
    if found is None:
        raise ValidationError({"category": [_("未知或已停用的类别：%(c)s。") % {"c": category}]})
    return found


def _validate_open(
    *, description, point, address, urgency, source, self_resolved, reporter, photos
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (description or "").strip():
        errors["description"] = [_("请描述问题。")]
    if point is None and not (address or "").strip():
        errors["address"] = [_("没有坐标时需要提供地址。")]
    if urgency is not None and urgency not in Case.Urgency.values:
        errors["urgency"] = [_("紧急程度只能是 normal 或 urgent。")]
    if source not in Case.Source.values:
        errors["source"] = [_("未知的来源。")]
    if self_resolved:
        if reporter is None or not roles_of(reporter).is_grid_worker:
            raise ActionForbidden(_("只有网格员可以自行处置。"))
        if not photos:
            errors["photos"] = [_("自行处置需要上传处置后的照片。")]
    return errors


def _route(category: Category, urgency: str, location) -> tuple[Any, dict[str, Any]]:
    """The router's decision, or None with the reason when the case must go to triage unrouted."""
    if location is None:
        return None, {"triage": True, "reason": "no_location"}
    try:
        decision = decide(category=category, urgency=urgency, location=location, partner_load=partner_open_load)
    except RoutingError as exc:
        return None, {"triage": True, "reason": "unroutable", "detail": exc.message}
    except Exception:
        # Nothing accepted is ever lost: a broken rule table sends the case to triage, loudly.
        logger.exception("routing failed for category %s at %s", category.code, location)
        return None, {"triage": True, "reason": "routing_error"}
    return decision, decision.as_dict()


def open_case(
    *,
    category: Category | str | int,
    description: str,
    point: CheckedPoint | None = None,
    address: str = "",
    urgency: str | None = None,
    source: str,
    reporter=None,
    photos: Sequence = (),
    self_resolved: bool = False,
    note: str = "",
) -> Case:
    """Open a case from any channel: locate, route, write case + assignments + events in one transaction.

    - With a point (checked, and converted to WGS-84, at the door it came in by): it is located in
      the grids and routed; the case is `dispatched` to the lead (and collaborators/partners), or
      goes to `triage` when the router says so or the point cannot be located.
    - Address only (no point): `triage` at the city command centre until geocoding places it.
    - `self_resolved` (grid workers only, with at least one photo): recorded and closed at once.

    Raises ValidationError (field errors) for bad input and ActionForbidden for self-resolution by
    someone who is not a grid worker. Photos are checked and re-encoded before anything is written.
    """
    errors: dict[str, list[str]] = {}
    try:
        category = _category(category)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    errors.update(
        _validate_open(
            description=description,
            point=point,
            address=address,
            urgency=urgency,
            source=source,
            self_resolved=self_resolved,
            reporter=reporter,
            photos=photos,
        )
    )
    try:
        prepared = photo_checks.prepare_photos(photos)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    urgency = urgency or category.default_urgency or Case.Urgency.NORMAL
    location = locator.locate_point(point) if point is not None else None
    decision, routing = _route(category, urgency, location)
    if location is None and point is not None:
        routing["reason"] = "outside"

    # Without a savepoint of its own: a caller that wraps this in its transaction (the idempotency
    # key, the hotline's call) ends it on any error raised here, as none of them carries on after one.
    with FilesOnRollback() as stored, transaction.atomic(savepoint=False):
        now = timezone.now()
        case = Case(
            status=Status.RECEIVED,
            category=category,
            urgency=urgency,
            source=source,
            description=description.strip(),
            address=(address or "").strip(),
            point=point.geometry if point is not None else None,
            grid_code=(location.grid or "") if location else "",
            community_code=(location.community or "") if location else "",
            street_code=(location.street or "") if location else "",
            district_code=(location.district or "") if location else "",
            needs_review=bool(decision and decision.needs_review),
            routing=routing,
            reporter=reporter,
            self_resolved=self_resolved,
        )
        opened_data: dict[str, Any] = {"source": source, "crs": point.crs if point is not None else DEFAULT_CRS}
        if location is not None:
            opened_data["location"] = routing.get("location") or {"grid": location.grid}
        # The case is written once, in the state its second event leaves it in; the events record the way.
        if self_resolved:
            case.closed_at = now
            second = {
                "kind": Kind.CLOSED,
                "actor": reporter,
                "to_status": Status.CLOSED,
                "note": note or _("网格员自行处置。"),
                "data": {"self_resolved": True},
            }
        elif decision is not None and not decision.triage and decision.lead is not None:
            case.lead_unit = decision.lead
            second = {
                "kind": Kind.DISPATCHED,
                "to_status": Status.DISPATCHED,
                "data": {
                    "lead_unit": unit_data(decision.lead),
                    "collaborators": [unit_data(u) for u in decision.collaborators],
                    "partners": [{"id": p.pk, "name": p.name} for p in decision.partners],
                },
            }
        else:
            case.lead_unit = decision.lead if decision is not None and decision.lead is not None else None
            if case.lead_unit is None:
                case.lead_unit = triage_unit(case.district_code)
            second = {
                "kind": Kind.TRIAGED,
                "to_status": Status.TRIAGE,
                "data": {"reason": routing.get("reason", "no_rule"), "lead_unit": unit_data(case.lead_unit)},
            }
        case.status, case.version = second["to_status"], 2
        case.save(force_insert=True)

        photo_ids = store_photos(case, prepared, actor=reporter, stored=stored)
        assignments: list[Assignment] = []
        if second["kind"] == Kind.DISPATCHED:
            sign_due, reply_due = deadlines(case, now)
            lead = Assignment(case=case, unit=decision.lead, role=Assignment.Role.LEAD)
            assignments.append(lead)
            seen = {decision.lead.pk}
            for unit in decision.collaborators:
                if unit.pk not in seen:
                    seen.add(unit.pk)
                    assignments.append(Assignment(case=case, unit=unit, role=Assignment.Role.COLLABORATOR))
            for partner in dict.fromkeys(decision.partners):
                assignments.append(Assignment(case=case, partner=partner, role=Assignment.Role.COLLABORATOR))
            for assignment in assignments:
                assignment.dispatched_at, assignment.sign_due, assignment.reply_due = now, sign_due, reply_due
            Assignment.objects.bulk_create(assignments)
        events = [
            CaseEvent(
                case=case,
                kind=Kind.OPENED,
                actor=reporter,
                at=now,
                from_status=Status.RECEIVED,
                to_status=Status.RECEIVED,
                note="",
                evidence=photo_ids,
                data=opened_data,
            ),
            CaseEvent(
                case=case,
                kind=second["kind"],
                actor=second.get("actor"),
                at=now,
                from_status=Status.RECEIVED,
                to_status=second["to_status"],
                note=second.get("note", ""),
                evidence=photo_ids if second["kind"] == Kind.CLOSED else [],
                data=second["data"],
            ),
        ]
        CaseEvent.objects.bulk_create(events)
        active = [(assignment.unit_id, assignment.partner_id) for assignment in assignments]
        for event in events:
            live.publish_on_commit(event, active_assignments=active)
        # For whoever shows the new case at once (dispatch.selectors.opened_case_detail): what was written.
        case.written = {"assignments": assignments, "events": events, "photos": photo_ids}
    return case
