"""The SLA sweep: yellow warnings, red overdue marks and the automatic urging, each exactly once.

An open assignment is in one of two stages, and each stage has its own deadline:

- sign (签收): status `dispatched`, or `rework` (after a failed verification the unit signs again),
  against `sign_due`;
- reply (办结反馈): status `signed`, against `reply_due`.

For the current stage an assignment turns yellow once only (1 − SLA_YELLOW_FRACTION) of its category's
limit remains (`clock.is_due_for_warning`) and red when the deadline has passed. Red also urges the
unit (an automatic `urged` event) and tells supervision (supervisors and the dispatchers of the case's
district).

Exactly once, whoever runs the sweep and however often: every assignment is handled in its own
transaction that locks the case row (as every case service does, so events stay in version order),
re-reads the assignment, and claims the level with a conditional UPDATE (`... WHERE
yellow_notified_at IS NULL`). Only the transaction whose UPDATE touched the row writes the events;
they commit together with the claim or not at all, so a worker that dies mid-run leaves each
assignment either fully handled or untouched. A flag set in the sign stage does not block the reply
stage: flags older than the signature count as unset.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dispatch.models import Assignment, Case, CaseEvent
from dispatch.notifications import ASSIGNEE, SUPERVISION, Notice, notify_on_commit
from dispatch.selectors import REPLY_STAGE, SIGN_STAGE
from dispatch.services.cases.states import record_event
from dispatch.sla import clock, stages
from routing.models import Category

logger = logging.getLogger(__name__)

YELLOW = "yellow"
RED = "red"

_FLAG = {YELLOW: "yellow_notified_at", RED: "red_notified_at"}


@dataclass
class SweepResult:
    yellow: list[int] = field(default_factory=list)
    red: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[int]]:
        return asdict(self)


def _unflagged(level: str) -> Q:
    """The level has not fired for the current stage (a sign-stage flag predates the signature)."""
    flag = _FLAG[level]
    return Q(**{f"{flag}__isnull": True}) | Q(status__in=REPLY_STAGE, **{f"{flag}__lt": F("signed_at")})


def _open_stage(stage: str) -> Q:
    if stage == clock.SIGN:
        return Q(status__in=SIGN_STAGE, sign_due__isnull=False)
    return Q(status__in=REPLY_STAGE, reply_due__isnull=False)


def _candidates(now: dt.datetime) -> list[tuple[int, str]]:
    """(assignment id, level) pairs that look due; each is re-checked under the lock."""
    open_cases = ~Q(case__status__in=Case.TERMINAL)
    pairs: list[tuple[int, str]] = []
    limits = _category_limits()
    for stage, due_field in ((clock.SIGN, "sign_due"), (clock.REPLY, "reply_due")):
        late = Assignment.objects.filter(open_cases, _open_stage(stage), _unflagged(RED), **{f"{due_field}__lte": now})
        pairs += [(pk, RED) for pk in late.order_by(due_field).values_list("pk", flat=True)]
        # Yellow needs the working calendar, so the database narrows and Python decides.
        ahead = (
            Assignment.objects.filter(
                open_cases, _open_stage(stage), _unflagged(YELLOW), _unflagged(RED), **{f"{due_field}__gt": now}
            )
            .order_by(due_field)
            .values_list("pk", due_field, "case__urgency", "case__category_id")
        )
        for pk, due, urgency, category_id in ahead:
            if clock.is_due_for_warning(category=limits[category_id], urgency=urgency, stage=stage, due=due, now=now):
                pairs.append((pk, YELLOW))
    return pairs


def _category_limits() -> dict[int, object]:
    return {
        c.pk: c
        for c in Category.objects.only(
            "id", "sign_urgent_minutes", "sign_normal_work_hours", "reply_urgent_hours", "reply_normal_work_days"
        )
    }


def sweep_deadlines(*, now: dt.datetime | None = None) -> SweepResult:
    """Raise every due yellow and red level once. Safe to run concurrently and to rerun after a crash.

    One assignment's failure is logged and does not stop the others; it is retried on the next sweep.
    """
    now = now or timezone.now()
    result = SweepResult()
    for assignment_id, level in _candidates(now):
        try:
            fired = assignment_raise_level(assignment_id=assignment_id, level=level, now=now)
        except Exception:
            logger.exception("SLA sweep: assignment %s (%s) failed; the next sweep retries it", assignment_id, level)
            result.failed.append(assignment_id)
            continue
        if fired:
            getattr(result, level).append(assignment_id)
    return result


def assignment_raise_level(*, assignment_id: int, level: str, now: dt.datetime | None = None) -> bool:
    """Raise `level` (yellow or red) on one assignment if it is due and not yet raised; True if it was.

    One transaction: lock the case, re-read the assignment, re-check, claim with a conditional
    UPDATE, then write the events; notices go out after commit.
    """
    if level not in _FLAG:
        raise ValueError(f"Unknown SLA level {level!r}.")
    now = now or timezone.now()
    with transaction.atomic():
        case_id = Assignment.objects.filter(pk=assignment_id).values_list("case_id", flat=True).first()
        if case_id is None:
            return False
        case = Case.objects.select_for_update(of=("self",)).select_related("category").get(pk=case_id)
        if not case.is_open:
            return False
        assignment = Assignment.objects.select_related("unit", "partner").get(pk=assignment_id)
        stage, due = stages.current_stage(assignment)
        if stage is None or due is None:
            return False
        reached = stages.level_at(category=case.category, urgency=case.urgency, stage=stage, due=due, now=now)
        if reached != level:
            return False
        flag = _FLAG[level]
        claim = Assignment.objects.filter(_unflagged(level), pk=assignment_id, status=assignment.status)
        if level == YELLOW:
            claim = claim.filter(_unflagged(RED))
        # Flags record when the notice really went out; `now` only decides what is due.
        stamp = timezone.now()
        update = {flag: stamp, "sla_level": level}
        if level == RED:
            update.update(urged_at=stamp, urge_count=F("urge_count") + 1)
        if claim.update(**update) != 1:
            return False
        _record(case, assignment, stage=stage, due=due, level=level)
    return True


def _record(case: Case, assignment: Assignment, *, stage: str, due: dt.datetime, level: str) -> None:
    """Write the level's events and queue its notices. Caller holds the case lock and made the claim."""
    organisation = assignment.unit if assignment.unit_id else assignment.partner
    data = {
        "assignment": assignment.pk,
        "role": assignment.role,
        "stage": stage,
        "due": due.isoformat(),
        "unit": {"id": organisation.pk, "name": organisation.name} if assignment.unit_id else None,
        "partner": {"id": organisation.pk, "name": organisation.name} if assignment.partner_id else None,
    }
    notice = Notice(
        kind="sla_yellow" if level == YELLOW else "sla_red",
        audience=ASSIGNEE,
        case_id=case.pk,
        case_number=case.number,
        assignment_id=assignment.pk,
        unit_id=assignment.unit_id,
        partner_id=assignment.partner_id,
        organisation=organisation.name,
        district_code=case.district_code,
        stage=stage,
        due=due,
    )
    if level == YELLOW:
        record_event(case, kind=CaseEvent.Kind.SLA_YELLOW, data=data)
        notify_on_commit(notice)
        return
    record_event(case, kind=CaseEvent.Kind.SLA_RED, data=data)
    record_event(case, kind=CaseEvent.Kind.URGED, data={**data, "automatic": True, "times": assignment.urge_count + 1})
    notify_on_commit(Notice(**{**asdict(notice), "kind": "urged"}))
    notify_on_commit(Notice(**{**asdict(notice), "audience": SUPERVISION}))
