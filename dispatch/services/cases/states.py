"""The case's state table, the checks every transition makes first, and the one way an event is written.

Each transition follows "check, then do": a `check_*` function locks the case row, then checks, in
this order, that the actor may see the case (else CaseNotFound, so a unit cannot even learn that
another unit's case exists), that their role allows the action (ActionForbidden), that the `version`
they acted on is current (StaleVersion) and that the case is in a state the action applies to
(InvalidTransition). The transition then writes. Every transition appends exactly one CaseEvent
(`record_event`), bumps `version` and publishes the event after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch import live
from dispatch.models import Assignment, Case, CaseEvent
from dispatch.selectors import Roles, roles_of, visible_cases
from dispatch.services.cases.assignments import own_assignment
from dispatch.services.errors import ActionForbidden, CaseNotFound, InvalidTransition, StaleVersion

Status = Case.Status

# The states each action applies to. Anything else is InvalidTransition (409).
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "dispatch": frozenset(
        {
            Status.RECEIVED,
            Status.TRIAGE,
            Status.DISPATCHED,
            Status.SIGNED,
            Status.RETURNED,
            Status.REWORK,
            Status.REOPENED,
        }
    ),
    "merge": frozenset(set(Status.values) - Case.TERMINAL),
    "sign": frozenset({Status.DISPATCHED, Status.REWORK}),
    "return": frozenset({Status.DISPATCHED, Status.SIGNED}),
    "reply": frozenset({Status.SIGNED}),
    "request_extension": frozenset({Status.SIGNED, Status.REWORK}),
    "decide_extension": frozenset(set(Status.values) - Case.TERMINAL),
    "urge": frozenset(set(Status.values) - Case.TERMINAL - {Status.RECEIVED}),
    "verify": frozenset({Status.VERIFYING}),
    "close": frozenset({Status.REPLIED, Status.VERIFYING}),
    "reject": frozenset({Status.RECEIVED, Status.TRIAGE}),
    "revisit": frozenset({Status.CLOSED}),
}


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


def lock_case(*, case_id: int, actor) -> tuple[Case, Roles]:
    """Lock the case row and make sure `actor` may see it. Caller is inside transaction.atomic."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise CaseNotFound(_("工单不存在。")) from None
    case = Case.objects.select_for_update(of=("self",)).filter(pk=case_id).first()
    if case is None or not visible_cases(actor).filter(pk=case_id).exists():
        raise CaseNotFound(_("工单不存在。"))
    return case, roles_of(actor)


def require(allowed: bool, message: str) -> None:
    """ActionForbidden with `message` unless `allowed`."""
    if not allowed:
        raise ActionForbidden(message)


def check_version(case: Case, version) -> None:
    if version is None or str(version) != str(case.version):
        raise StaleVersion(
            _("工单已被他人更新（当前版本 %(current)s），请刷新后重试。") % {"current": case.version},
            current_version=case.version,
        )


def check_state(case: Case, action: str) -> None:
    if case.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            _("工单当前状态为“%(status)s”，不能执行此操作。") % {"status": case.get_status_display()},
            status=case.status,
        )


def require_note(note: str, message: str) -> str:
    """The note without surrounding blanks; a field error with `message` when nothing is left."""
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [message]})
    return note


def check_dispatcher(*, case_id: int, actor, version, action: str) -> tuple[Case, Roles]:
    """Lock; the actor must direct this case (its district's dispatcher or a supervisor)."""
    case, roles = lock_case(case_id=case_id, actor=actor)
    require(roles.dispatches(case), _("只有本辖区的调度员或督办人员可以执行此操作。"))
    check_version(case, version)
    check_state(case, action)
    return case, roles


def check_handler(*, case_id: int, actor, version, action: str, lead_only: bool) -> tuple[Case, Assignment]:
    """Lock; the actor must handle an active assignment on the case (the lead one if `lead_only`).

    A collaborator's own part does not follow the case's state table (it is checked against its
    assignment by the action), so the state is checked for the lead only.
    """
    case, roles = lock_case(case_id=case_id, actor=actor)
    assignment = own_assignment(case, roles)
    if lead_only and assignment is not None and assignment.role != Assignment.Role.LEAD:
        assignment = None
    require(assignment is not None, _("只有承办单位的处置人员可以执行此操作。"))
    check_version(case, version)
    if assignment.role == Assignment.Role.LEAD:
        check_state(case, action)
    return case, assignment
