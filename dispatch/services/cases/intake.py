"""Every write to a case: opening it from any channel, and each transition of its lifecycle (DESIGN §6).

Each public function is one transaction. Transitions follow "check, then do" (STYLE §3): a `_check_*`
function locks the case row, then checks, in this order, that the actor may see the case (else
CaseNotFound, so a unit cannot even learn that another unit's case exists), that their role allows
the action (ActionForbidden), that the `version` they acted on is current (StaleVersion) and that the
case is in a state the action applies to (InvalidTransition). The `_do_*` part then writes. Every
transition appends exactly one CaseEvent, bumps `version` and publishes the event after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch import live, sla
from dispatch.evidence import photos as photo_store
from dispatch.models import Assignment, Attachment, Case, CaseEvent, Category
from dispatch.selectors import Roles, partner_open_load, roles_of, visible_cases
from dispatch.services.errors import ActionForbidden, CaseNotFound, InvalidTransition, StaleVersion
from grids.crs import parse_coordinate

logger = logging.getLogger(__name__)

S = Case.Status
A = Assignment.Status
K = CaseEvent.Kind
CRS_CHOICES = ("wgs84", "gcj02", "bd09")

# The states each action applies to. Anything else is InvalidTransition (409).
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "dispatch": frozenset({S.RECEIVED, S.TRIAGE, S.DISPATCHED, S.SIGNED, S.RETURNED, S.REWORK, S.REOPENED}),
    "merge": frozenset(set(S.values) - Case.TERMINAL),
    "sign": frozenset({S.DISPATCHED, S.REWORK}),
    "return": frozenset({S.DISPATCHED, S.SIGNED}),
    "reply": frozenset({S.SIGNED}),
    "request_extension": frozenset({S.SIGNED, S.REWORK}),
    "decide_extension": frozenset(set(S.values) - Case.TERMINAL),
    "urge": frozenset(set(S.values) - Case.TERMINAL - {S.RECEIVED}),
    "verify": frozenset({S.VERIFYING}),
    "close": frozenset({S.REPLIED, S.VERIFYING}),
    "reject": frozenset({S.RECEIVED, S.TRIAGE}),
    "revisit": frozenset({S.CLOSED}),
}


# --- shared steps --------------------------------------------------------------------------------


def record_event(
    case: Case,
    *,
    kind: str,
    actor=None,
    to_status: str | None = None,
    note: str = "",
    evidence: Sequence[int] = (),
    data: dict[str, Any] | None = None,
    save: bool = True,
) -> CaseEvent:
    """Append one event, move the case to `to_status` (if given), bump its version and save it.

    Caller holds the case row lock (or created the case in this transaction). The event is
    published to the live groups after commit; a rollback publishes nothing.
    """
    from_status = case.status
    if to_status is not None:
        case.status = to_status
    case.version += 1
    if save:  # `save=False`: the caller saves the case before the transaction ends
        case.save()
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=timezone.now(),
        from_status=from_status,
        to_status=case.status,
        note=note,
        evidence=list(evidence),
        data=data or {},
    )
    live.publish_on_commit(event)
    return event


def _lock(*, case_id: int, actor) -> tuple[Case, Roles]:
    """Lock the case row and make sure `actor` may see it. Caller is inside transaction.atomic."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise CaseNotFound(_("工单不存在。")) from None
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None or not visible_cases(actor).filter(pk=case_id).exists():
        raise CaseNotFound(_("工单不存在。"))
    return case, roles_of(actor)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise ActionForbidden(message)


def _check_version(case: Case, version) -> None:
    if version is None or str(version) != str(case.version):
        raise StaleVersion(
            _("工单已被他人更新（当前版本 %(current)s），请刷新后重试。") % {"current": case.version},
            current_version=case.version,
        )


def _check_state(case: Case, action: str) -> None:
    if case.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            _("工单当前状态为“%(status)s”，不能执行此操作。") % {"status": case.get_status_display()},
            status=case.status,
        )


def _require_note(note: str, message: str) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [message]})
    return note


def _lead(case: Case) -> Assignment | None:
    return (
        case.assignments.filter(role=Assignment.Role.LEAD, status__in=Assignment.ACTIVE).select_related("unit").first()
    )


def _own_assignment(case: Case, roles: Roles) -> Assignment | None:
    """The actor's active assignment on the case, the lead one first."""
    for assignment in case.assignments.filter(status__in=Assignment.ACTIVE).order_by("-role", "id"):
        # "lead" sorts after "collaborator", hence the descending order.
        if roles.handles(assignment):
            return assignment
    return None


def _unit_data(unit) -> dict[str, Any] | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def _deadlines(case: Case, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    return sla.deadlines_for(category=case.category, urgency=case.urgency, start=start)


def _assign_lead(case: Case, unit, *, now: dt.datetime, new_case: bool = False) -> Assignment:
    """Withdraw the current lead (history stays) and dispatch to `unit` with fresh deadlines.

    `new_case`: the case was created in this transaction, so it has no lead to withdraw yet."""
    if not new_case:
        case.assignments.filter(role=Assignment.Role.LEAD, status__in=Assignment.ACTIVE).update(status=A.WITHDRAWN)
    sign_due, reply_due = _deadlines(case, now)
    case.lead_unit = unit
    return Assignment.objects.create(
        case=case,
        unit=unit,
        role=Assignment.Role.LEAD,
        dispatched_at=now,
        sign_due=sign_due,
        reply_due=reply_due,
    )


def _add_collaborators(
    case: Case, *, units: Iterable = (), partners: Iterable = (), now: dt.datetime, active: set | None = None
) -> list:
    """`active`: the (unit_id, partner_id) pairs already assigned, when the caller knows them."""
    units, partners = list(units), list(partners)
    if not units and not partners:
        return []
    if active is None:
        active = set(
            case.assignments.filter(status__in=Assignment.ACTIVE).values_list("unit_id", "partner_id").distinct()
        )
    sign_due, reply_due = _deadlines(case, now)
    created = []
    for unit in units:
        if (unit.pk, None) in active or unit.pk == case.lead_unit_id:
            continue
        created.append(Assignment(case=case, unit=unit, role=Assignment.Role.COLLABORATOR))
        active.add((unit.pk, None))
    for partner in partners:
        if (None, partner.pk) in active:
            continue
        created.append(Assignment(case=case, partner=partner, role=Assignment.Role.COLLABORATOR))
        active.add((None, partner.pk))
    for a in created:
        a.dispatched_at, a.sign_due, a.reply_due = now, sign_due, reply_due
    Assignment.objects.bulk_create(created)
    return created


def _triage_unit(district_code: str):
    """The command centre whose triage queue takes a case: the district's 综治中心, else the city's."""
    from partners.models import Unit

    units = Unit.objects.filter(department="zongzhi", is_active=True)
    if district_code:
        unit = units.filter(level="district", area__code=district_code).first()
        if unit is not None:
            return unit
    return units.filter(level="city").first()


def _store_photos(case: Case, photos: Sequence, *, actor, stored: list[str]) -> list[int]:
    """Write already-checked photos and their rows; names go into `stored` so a rollback can remove them."""
    ids = []
    for photo in photos:
        name = photo_store.store(photo)
        stored.append(name)
        att = Attachment.objects.create(
            case=case,
            file=name,
            size=len(photo.content),
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            uploaded_by=actor,
        )
        ids.append(att.pk)
    return ids


class _FilesOnRollback:
    """Removes photos written during a transaction that did not commit (files are not transactional)."""

    def __init__(self):
        self.names: list[str] = []

    def __enter__(self):
        return self.names

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.names:
            photo_store.discard(self.names)
        return False


# --- opening a case ------------------------------------------------------------------------------


def _category(category) -> Category:
    if isinstance(category, Category):
        return category
    found = None
    if isinstance(category, int):
        found = _known_category(pk=category)
    elif isinstance(category, str) and category.strip():
        found = _known_category(code=category.strip())
    if found is None:
        raise ValidationError({"category": [_("未知或已停用的类别：%(c)s。") % {"c": category}]})
    return found


def _known_category(*, pk: int | None = None, code: str | None = None) -> Category | None:
    """The active category, from this process's routing snapshot (kept current by its version key,
    dispatch.rules); a category the snapshot does not know yet is looked up in the database."""
    from dispatch import rules

    snapshot = rules.tables()
    if code is not None:
        node = snapshot.categories_by_code.get(code)
        pk_known = node.id if node is not None else None
    else:
        pk_known = pk
    found = snapshot.category_objects.get(pk_known) if pk_known is not None else None
    if found is not None:
        return found if found.is_active else None
    lookup = {"pk": pk} if pk is not None else {"code": code}
    return Category.objects.filter(is_active=True, **lookup).first()


def _validate_open(
    *, description, lon, lat, crs, address, urgency, source, self_resolved, reporter, photos
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (description or "").strip():
        errors["description"] = [_("请描述问题。")]
    if (lon is None) != (lat is None):
        errors["lon" if lon is None else "lat"] = [_("经度和纬度需要同时提供。")]
    for name, value, low, high in (("lon", lon, -180, 180), ("lat", lat, -90, 90)):
        if value is None or name in errors:
            continue
        try:
            number = parse_coordinate(value)
        except ValueError:
            errors[name] = [_("需要是数字。")]
            continue
        if not low <= number <= high:
            errors[name] = [_("超出范围。")]
    if crs not in CRS_CHOICES:
        errors["crs"] = [_("坐标系只能是 wgs84、gcj02 或 bd09。")]
    if lon is None and lat is None and not (address or "").strip():
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


def _locate(lon, lat, crs) -> tuple[Any, Any]:
    """(Location or None, WGS-84 Point or None)."""
    from django.contrib.gis.geos import Point

    from grids import crs as crs_mod
    from grids import locator

    location = locator.locate(float(lon), float(lat), crs=crs)
    if location is not None:
        return location, Point(location.lon, location.lat, srid=4326)
    wlon, wlat = crs_mod.to_wgs84(float(lon), float(lat), crs)
    return None, Point(float(wlon), float(wlat), srid=4326)


def _route(category: Category, urgency: str, location) -> tuple[Any, dict[str, Any]]:
    """The router's decision, or None with the reason when the case must go to triage unrouted."""
    if location is None:
        return None, {"triage": True, "reason": "no_location"}
    from dispatch.router import RoutingError, route

    try:
        decision = route(category=category, urgency=urgency, location=location, partner_load=partner_open_load)
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
    lon: float | None = None,
    lat: float | None = None,
    crs: str = "wgs84",
    address: str = "",
    urgency: str | None = None,
    source: str,
    reporter=None,
    photos: Sequence = (),
    self_resolved: bool = False,
    note: str = "",
) -> Case:
    """Open a case from any channel: locate, route, write case + assignments + events in one transaction.

    - With a point: it is normalised to WGS-84, located in the grids and routed; the case is
      `dispatched` to the lead (and collaborators/partners), or goes to `triage` when the router says
      so or the point cannot be located.
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
            lon=lon,
            lat=lat,
            crs=crs,
            address=address,
            urgency=urgency,
            source=source,
            self_resolved=self_resolved,
            reporter=reporter,
            photos=photos,
        )
    )
    try:
        prepared = photo_store.prepare_photos(photos)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)

    urgency = urgency or category.default_urgency or Case.Urgency.NORMAL
    location = point = None
    if lon is not None:
        location, point = _locate(lon, lat, crs)
    decision, routing = _route(category, urgency, location)
    if location is None and lon is not None:
        routing["reason"] = "outside"

    # Without a savepoint of its own: a caller that wraps this in its transaction (the idempotency
    # key, the hotline's call) ends it on any error raised here, as none of them carries on after one.
    with _FilesOnRollback() as stored, transaction.atomic(savepoint=False):
        now = timezone.now()
        case = Case(
            status=S.RECEIVED,
            category=category,
            urgency=urgency,
            source=source,
            description=description.strip(),
            address=(address or "").strip(),
            point=point,
            grid_code=(location.grid or "") if location else "",
            community_code=(location.community or "") if location else "",
            street_code=(location.street or "") if location else "",
            district_code=(location.district or "") if location else "",
            needs_review=bool(decision and decision.needs_review),
            routing=routing,
            reporter=reporter,
            self_resolved=self_resolved,
        )
        opened_data: dict[str, Any] = {"source": source, "crs": crs}
        if location is not None:
            opened_data["location"] = routing.get("location") or {"grid": location.grid}
        # The case is written once, in the state its second event leaves it in; the events record the way.
        if self_resolved:
            case.closed_at = now
            second = {
                "kind": K.CLOSED,
                "actor": reporter,
                "to_status": S.CLOSED,
                "note": note or _("网格员自行处置。"),
                "data": {"self_resolved": True},
            }
        elif decision is not None and not decision.triage and decision.lead is not None:
            case.lead_unit = decision.lead
            second = {
                "kind": K.DISPATCHED,
                "to_status": S.DISPATCHED,
                "data": {
                    "lead_unit": _unit_data(decision.lead),
                    "collaborators": [_unit_data(u) for u in decision.collaborators],
                    "partners": [{"id": p.pk, "name": p.name} for p in decision.partners],
                },
            }
        else:
            case.lead_unit = decision.lead if decision is not None and decision.lead is not None else None
            if case.lead_unit is None:
                case.lead_unit = _triage_unit(case.district_code)
            second = {
                "kind": K.TRIAGED,
                "to_status": S.TRIAGE,
                "data": {"reason": routing.get("reason", "no_rule"), "lead_unit": _unit_data(case.lead_unit)},
            }
        case.status, case.version = second["to_status"], 2
        case.save(force_insert=True)

        photo_ids = _store_photos(case, prepared, actor=reporter, stored=stored)
        assignments: list[Assignment] = []
        if second["kind"] == K.DISPATCHED:
            sign_due, reply_due = _deadlines(case, now)
            lead = Assignment(case=case, unit=decision.lead, role=Assignment.Role.LEAD)
            assignments.append(lead)
            seen = {decision.lead.pk}
            for unit in decision.collaborators:
                if unit.pk not in seen:
                    seen.add(unit.pk)
                    assignments.append(Assignment(case=case, unit=unit, role=Assignment.Role.COLLABORATOR))
            for partner in dict.fromkeys(decision.partners):
                assignments.append(Assignment(case=case, partner=partner, role=Assignment.Role.COLLABORATOR))
            for a in assignments:
                a.dispatched_at, a.sign_due, a.reply_due = now, sign_due, reply_due
            Assignment.objects.bulk_create(assignments)
        events = [
            CaseEvent(
                case=case,
                kind=K.OPENED,
                actor=reporter,
                at=now,
                from_status=S.RECEIVED,
                to_status=S.RECEIVED,
                note="",
                evidence=photo_ids,
                data=opened_data,
            ),
            CaseEvent(
                case=case,
                kind=second["kind"],
                actor=second.get("actor"),
                at=now,
                from_status=S.RECEIVED,
                to_status=second["to_status"],
                note=second.get("note", ""),
                evidence=photo_ids if second["kind"] == K.CLOSED else [],
                data=second["data"],
            ),
        ]
        CaseEvent.objects.bulk_create(events)
        active = [(a.unit_id, a.partner_id) for a in assignments]
        for event in events:
            live.publish_on_commit(event, active_assignments=active)
        # For whoever shows the new case at once (dispatch.selectors.opened_case_detail): what was written.
        case.written = {"assignments": assignments, "events": events, "photos": photo_ids}
    return case


case_open = open_case


# --- dispatch / re-dispatch ----------------------------------------------------------------------


def _check_dispatcher(*, case_id: int, actor, version, action: str) -> tuple[Case, Roles]:
    """Lock; the actor must direct this case (its district's dispatcher or a supervisor)."""
    case, roles = _lock(case_id=case_id, actor=actor)
    _require(roles.dispatches(case), _("只有本辖区的调度员或督办人员可以执行此操作。"))
    _check_version(case, version)
    _check_state(case, action)
    return case, roles


def case_dispatch(*, case_id: int, actor, version: int, unit, collaborators: Sequence = (), note: str = "") -> Case:
    """Dispatch (from triage/returned/reopened) or re-dispatch a case to `unit` as lead (dispatcher)."""
    from partners.models import Unit

    with transaction.atomic():
        case, _roles = _check_dispatcher(case_id=case_id, actor=actor, version=version, action="dispatch")
        unit_obj = unit if isinstance(unit, Unit) else Unit.objects.filter(pk=unit).first()
        if unit_obj is None or not unit_obj.is_active:
            raise ValidationError({"unit": [_("单位不存在或已停用。")]})
        extra = list(Unit.objects.filter(pk__in=[getattr(u, "pk", u) for u in collaborators], is_active=True))
        if len(extra) != len(set(collaborators)):
            raise ValidationError({"collaborators": [_("协办单位不存在或已停用。")]})
        now = timezone.now()
        previous = case.lead_unit
        _assign_lead(case, unit_obj, now=now)
        _add_collaborators(case, units=extra, now=now)
        case.needs_review = False
        record_event(
            case,
            kind=K.DISPATCHED,
            actor=actor,
            to_status=S.DISPATCHED,
            note=note,
            data={
                "lead_unit": _unit_data(unit_obj),
                "previous_unit": _unit_data(previous),
                "collaborators": [_unit_data(u) for u in extra],
            },
        )
    return case


# --- merge ----------------------------------------------------------------------------------------


def case_merge(*, case_id: int, actor, version: int, into: int, note: str = "") -> Case:
    """Merge a duplicate into another open case (并单): the duplicate ends as `merged` and the case it
    joins gets a `merged_in` event naming it (its status stays)."""
    with transaction.atomic():
        case, _roles = _check_dispatcher(case_id=case_id, actor=actor, version=version, action="merge")
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
        case.assignments.filter(status__in=Assignment.ACTIVE).update(status=A.WITHDRAWN)
        record_event(
            case,
            kind=K.MERGED,
            actor=actor,
            to_status=S.MERGED,
            note=note,
            data={"into": {"id": target.pk, "number": target.number}},
        )
        # The case that stays records it too, so its own handlers see the duplicate arrive live.
        record_event(
            target,
            kind=K.MERGED_IN,
            actor=actor,
            note=note or _("重复工单 %(number)s 已并入本工单。") % {"number": case.number},
            data={"merged": {"id": case.pk, "number": case.number}},
        )
    return case


# --- handler actions -----------------------------------------------------------------------------


def _check_handler(*, case_id: int, actor, version, action: str, lead_only: bool) -> tuple[Case, Assignment]:
    """Lock; the actor must handle an active assignment on the case (the lead one if `lead_only`)."""
    case, roles = _lock(case_id=case_id, actor=actor)
    assignment = _own_assignment(case, roles)
    if lead_only and assignment is not None and assignment.role != Assignment.Role.LEAD:
        assignment = None
    _require(assignment is not None, _("只有承办单位的处置人员可以执行此操作。"))
    _check_version(case, version)
    if assignment.role == Assignment.Role.LEAD:
        _check_state(case, action)
    return case, assignment


def _sign(assignment: Assignment, now: dt.datetime) -> None:
    """Sign the assignment: its reply stage starts green.

    The sign stage's yellow/red belonged to the sign deadline. Their `*_notified_at` stamps stay as
    history: being older than `signed_at`, the SLA sweep counts them as unset for the reply stage.
    """
    assignment.status, assignment.signed_at = A.SIGNED, now
    assignment.sla_level = Assignment.SlaLevel.GREEN
    assignment.save(update_fields=["status", "signed_at", "sla_level"])


def case_sign(*, case_id: int, actor, version: int, note: str = "") -> Case:
    """Sign for a case (签收). The lead's signature moves the case; a collaborator signs its own part."""
    with transaction.atomic():
        case, assignment = _check_handler(case_id=case_id, actor=actor, version=version, action="sign", lead_only=False)
        now = timezone.now()
        if assignment.role == Assignment.Role.COLLABORATOR:
            if assignment.status != A.DISPATCHED or not case.is_open:
                raise InvalidTransition(_("该协办任务已签收。"), status=case.status)
            _sign(assignment, now)
            record_event(
                case, kind=K.SIGNED, actor=actor, note=note, data={"assignment": assignment.pk, "role": "collaborator"}
            )
            return case
        _sign(assignment, now)
        record_event(
            case,
            kind=K.SIGNED,
            actor=actor,
            to_status=S.SIGNED,
            note=note,
            data={"assignment": assignment.pk, "unit": _unit_data(assignment.unit)},
        )
    return case


def case_return(*, case_id: int, actor, version: int, note: str) -> Case:
    """Return a case that is not the unit's to handle (退单), with the reason; it goes back to triage."""
    with transaction.atomic():
        case, assignment = _check_handler(
            case_id=case_id, actor=actor, version=version, action="return", lead_only=True
        )
        note = _require_note(note, _("请填写退单理由。"))
        assignment.status = A.RETURNED
        assignment.save(update_fields=["status"])
        returned_by = case.lead_unit
        case.lead_unit = _triage_unit(case.district_code)
        record_event(
            case,
            kind=K.RETURNED,
            actor=actor,
            to_status=S.RETURNED,
            note=note,
            data={"unit": _unit_data(returned_by), "lead_unit": _unit_data(case.lead_unit)},
        )
    return case


def case_reply(*, case_id: int, actor, version: int, note: str, photos: Sequence = ()) -> Case:
    """Reply that the work is done, with evidence (办结反馈). The lead's reply sends the case to verification."""
    prepared = photo_store.prepare_photos(photos)
    with _FilesOnRollback() as stored, transaction.atomic():
        case, assignment = _check_handler(
            case_id=case_id, actor=actor, version=version, action="reply", lead_only=False
        )
        note = _require_note(note, _("请填写办理结果。"))
        now = timezone.now()
        if assignment.role == Assignment.Role.COLLABORATOR:
            if assignment.status not in (A.DISPATCHED, A.SIGNED) or not case.is_open:
                raise InvalidTransition(_("该协办任务已反馈。"), status=case.status)
            evidence = _store_photos(case, prepared, actor=actor, stored=stored)
            assignment.status, assignment.replied_at = A.REPLIED, now
            assignment.save(update_fields=["status", "replied_at"])
            record_event(
                case,
                kind=K.REPLIED,
                actor=actor,
                note=note,
                evidence=evidence,
                data={"assignment": assignment.pk, "role": "collaborator"},
            )
            return case
        evidence = _store_photos(case, prepared, actor=actor, stored=stored)
        assignment.status, assignment.replied_at = A.REPLIED, now
        assignment.save(update_fields=["status", "replied_at"])
        record_event(
            case,
            kind=K.REPLIED,
            actor=actor,
            to_status=S.REPLIED,
            note=note,
            evidence=evidence,
            data={"assignment": assignment.pk},
        )
        # Verification starts at once: the grid's worker (or a dispatcher) checks the work on site.
        record_event(case, kind=K.VERIFYING, to_status=S.VERIFYING, data={"grid": case.grid_code or None})
    return case


def case_request_extension(*, case_id: int, actor, version: int, until: dt.datetime, note: str) -> Case:
    """Ask for more time to reply (申请延期); the deadline moves only when a dispatcher approves."""
    with transaction.atomic():
        case, assignment = _check_handler(
            case_id=case_id, actor=actor, version=version, action="request_extension", lead_only=True
        )
        note = _require_note(note, _("请填写延期理由。"))
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
            kind=K.EXTENSION_REQUESTED,
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
        case, _roles = _check_dispatcher(case_id=case_id, actor=actor, version=version, action="decide_extension")
        assignment = _lead(case)
        if assignment is None or assignment.extension_status != Assignment.Extension.REQUESTED:
            raise InvalidTransition(_("没有待审批的延期申请。"), status=case.status)
        now = timezone.now()
        assignment.extension_decided_at = now
        if not approved:
            assignment.extension_status = Assignment.Extension.DENIED
            assignment.save(update_fields=["extension_status", "extension_decided_at"])
            record_event(case, kind=K.EXTENSION_DENIED, actor=actor, note=note, data={"assignment": assignment.pk})
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
            kind=K.EXTENSION_APPROVED,
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
        case, _roles = _check_dispatcher(case_id=case_id, actor=actor, version=version, action="urge")
        assignment = _lead(case)
        if assignment is not None:
            assignment.urged_at = timezone.now()
            assignment.urge_count += 1
            assignment.save(update_fields=["urged_at", "urge_count"])
        record_event(
            case,
            kind=K.URGED,
            actor=actor,
            note=note,
            data={"unit": _unit_data(case.lead_unit), "times": assignment.urge_count if assignment else 1},
        )
    return case


# --- verification and closing --------------------------------------------------------------------


def case_verify(*, case_id: int, actor, version: int, passed: bool, note: str = "", photos: Sequence = ()) -> Case:
    """Check the work on site (核查): pass → closed; fail → rework, and the handler signs again."""
    prepared = photo_store.prepare_photos(photos)
    with _FilesOnRollback() as stored, transaction.atomic():
        case, roles = _lock(case_id=case_id, actor=actor)
        _require(
            roles.dispatches(case) or (bool(case.grid_code) and case.grid_code in roles.grids),
            _("只有本网格的网格员或调度员可以核查。"),
        )
        _check_version(case, version)
        _check_state(case, "verify")
        if passed is None:
            raise ValidationError({"passed": [_("请选择核查是否通过。")]})
        if not passed:
            note = _require_note(note, _("请填写核查不通过的原因。"))
        evidence = _store_photos(case, prepared, actor=actor, stored=stored)
        now = timezone.now()
        if passed:
            case.closed_at = now
            record_event(case, kind=K.VERIFIED, actor=actor, to_status=S.CLOSED, note=note, evidence=evidence)
            return case
        lead = case.assignments.filter(role=Assignment.Role.LEAD, status=A.REPLIED).first()
        if lead is not None:
            lead.sign_due, lead.reply_due = _deadlines(case, now)
            lead.status, lead.replied_at = A.REWORK, None
            lead.sla_level = Assignment.SlaLevel.GREEN
            lead.yellow_notified_at = lead.red_notified_at = None
            lead.save()
        record_event(case, kind=K.REWORK, actor=actor, to_status=S.REWORK, note=note, evidence=evidence)
    return case


def case_close(*, case_id: int, actor, version: int, note: str = "") -> Case:
    """Close a replied case without (further) verification (结案; dispatcher, supervisor)."""
    with transaction.atomic():
        case, _roles = _check_dispatcher(case_id=case_id, actor=actor, version=version, action="close")
        case.closed_at = timezone.now()
        record_event(case, kind=K.CLOSED, actor=actor, to_status=S.CLOSED, note=note)
    return case


def case_reject(*, case_id: int, actor, version: int, note: str) -> Case:
    """Refuse a report that is not a matter for the city (不予受理), with the reason."""
    with transaction.atomic():
        case, _roles = _check_dispatcher(case_id=case_id, actor=actor, version=version, action="reject")
        note = _require_note(note, _("请填写不予受理的理由。"))
        record_event(case, kind=K.REJECTED, actor=actor, to_status=S.REJECTED, note=note)
    return case


def case_revisit(*, case_id: int, actor, version: int, satisfied: bool, note: str = "") -> Case:
    """Record the callback (回访): satisfied → revisited; unsatisfied → reopened and back to the same unit."""
    with transaction.atomic():
        case, roles = _lock(case_id=case_id, actor=actor)
        _require(roles.agent, _("只有12345坐席可以回访。"))
        _check_version(case, version)
        _check_state(case, "revisit")
        if satisfied is None:
            raise ValidationError({"satisfied": [_("请选择是否满意。")]})
        now = timezone.now()
        case.satisfied, case.revisited_at = bool(satisfied), now
        if satisfied:
            record_event(case, kind=K.REVISITED, actor=actor, to_status=S.REVISITED, note=note)
            return case
        note = _require_note(note, _("请记录不满意的原因。"))
        case.closed_at = None
        record_event(case, kind=K.REOPENED, actor=actor, to_status=S.REOPENED, note=note)
        unit = case.lead_unit if case.lead_unit is not None and case.lead_unit.department != "zongzhi" else None
        if unit is None or not unit.is_active:
            case.lead_unit = _triage_unit(case.district_code)
            record_event(case, kind=K.TRIAGED, to_status=S.TRIAGE, data={"reason": "reopened_without_unit"})
            return case
        _assign_lead(case, unit, now=now)
        record_event(
            case, kind=K.DISPATCHED, to_status=S.DISPATCHED, data={"lead_unit": _unit_data(unit), "reopened": True}
        )
    return case
