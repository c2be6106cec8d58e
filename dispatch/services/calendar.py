"""Writes to the working calendar, and what they set off: every process reloads it, and the deadlines
of open cases are recomputed on it.

A year is replaced as a whole (`calendar_year_import`, from a file or a list), saved through the admin
(`calendar_year_edited`, after the admin has saved the year's rows) or deleted
(`calendar_year_delete`). Each then calls `recompute_open_deadlines` in the same transaction, so the
calendar and the deadlines computed on it commit together or not at all.

Recomputing: a normal-urgency deadline is `clock.deadlines_for` from its start — the dispatch, or for a
lead sent back to rework the failed verification — so it is computed again from the same start on the
new calendar. Urgent deadlines run on the wall clock and do not move; a reply deadline set by an
approved extension is a date a person chose and does not move either. Each case whose deadlines moved
gets one `deadlines_recomputed` event listing the old and new deadlines (published live like every
event). A deadline that moved later and is still ahead loses its yellow/red marks, as after an
extension, so the sweep warns again on the new deadline.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from dispatch import workdays
from dispatch.models import Assignment, CalendarDay, CalendarYear, Case, CaseEvent
from dispatch.services.cases.states import record_event
from dispatch.sla import clock, stages

# The deadline field each SLA stage runs against.
_DUE_FIELD = {clock.SIGN: "sign_due", clock.REPLY: "reply_due"}
# Deadlines are stored to the microsecond but meant to the minute; a rework's deadline was computed a
# moment before its event was written, so smaller differences are not a move.
_TOLERANCE = dt.timedelta(seconds=1)

_KINDS = {
    "holiday": CalendarDay.Kind.HOLIDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "workday": CalendarDay.Kind.WORKDAY,
    "班": CalendarDay.Kind.WORKDAY,
}


@dataclass(frozen=True)
class DayEntry:
    date: dt.date
    kind: str
    name: str = ""


@dataclass
class Recomputed:
    """What a recompute did: the cases whose deadlines moved, and how many assignments it looked at."""

    cases: list[int] = field(default_factory=list)
    assignments_checked: int = 0


# --- the file format ----------------------------------------------------------------------------


def parse_holiday_lines(lines: Iterable[str]) -> list[DayEntry]:
    """Parse `DATE KIND [NAME]` lines (spaces, tabs or commas between fields; `#` starts a comment).

    KIND is `holiday` (休) or `workday` (班, a make-up working day 调休). Raises ValidationError with
    one message per bad line, naming the line.
    """
    entries: list[DayEntry] = []
    errors: list[str] = []
    seen: dict[dt.date, int] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip().lstrip("\ufeff")
        if not line:
            continue
        parts = [part.strip() for part in re.split(r"[,\t ]+", line, maxsplit=2)]
        if len(parts) < 2:
            errors.append(f"line {number}: expected 'YYYY-MM-DD holiday|workday [name]', got {raw.strip()!r}")
            continue
        if number == 1 and parts[0].lower() == "date":  # a CSV header
            continue
        try:
            day = dt.date.fromisoformat(parts[0])
        except ValueError:
            errors.append(f"line {number}: {parts[0]!r} is not a date (YYYY-MM-DD)")
            continue
        kind = _KINDS.get(parts[1].lower())
        if kind is None:
            errors.append(f"line {number}: kind must be 'holiday' or 'workday', not {parts[1]!r}")
            continue
        if day in seen:
            errors.append(f"line {number}: {day} is already on line {seen[day]}")
            continue
        seen[day] = number
        entries.append(DayEntry(date=day, kind=kind, name=(parts[2] if len(parts) > 2 else "").strip(" ,")))
    if errors:
        raise ValidationError(errors)
    return entries


def _validate_year(year: int, entries: Sequence[DayEntry]) -> None:
    errors = []
    for entry in entries:
        if entry.date.year != year:
            errors.append(f"{entry.date} is not in {year}")
        elif entry.kind == CalendarDay.Kind.WORKDAY and entry.date.weekday() < 5:
            errors.append(f"{entry.date} is a {entry.date:%A}; a make-up working day (workday) falls on a weekend")
        if len(entry.name) > 60:
            errors.append(f"{entry.date}: the name is longer than 60 characters")
    if errors:
        raise ValidationError(errors)


# --- writes --------------------------------------------------------------------------------------


def calendar_year_import(
    *, year: int | None = None, days: Sequence[DayEntry], source: str = "", actor=None
) -> tuple[CalendarYear, Recomputed]:
    """Replace `year`'s holidays and make-up working days with `days` and recompute open deadlines.

    `year` may be left out when `days` are all of one year. One transaction.
    """
    years = {entry.date.year for entry in days}
    if year is None:
        if len(years) != 1:
            raise ValidationError(
                ["The file must hold the days of exactly one year (or give the year)."]
                if years
                else ["No days given; give the year to import a year without holidays."]
            )
        (year,) = years
    if not 1990 <= year <= 2200:
        raise ValidationError([f"{year} is not a plausible year."])
    _validate_year(year, days)
    with transaction.atomic():
        record, _created = CalendarYear.objects.select_for_update().get_or_create(year=year)
        record.source = (source or record.source)[:200]
        record.save()  # bumps updated_at: the version every process compares
        record.days.all().delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(year=record, date=e.date, kind=e.kind, name=e.name) for e in sorted(days, key=lambda e: e.date)
        )
        recomputed = _changed(years={year}, actor=actor)
    return record, recomputed


def calendar_year_edited(*, year: int, actor=None) -> Recomputed:
    """The admin saved `year` and its rows: bump the version and recompute. Caller is in the admin's
    transaction."""
    with transaction.atomic():
        record = CalendarYear.objects.select_for_update().get(year=year)
        record.save(update_fields=["updated_at"])
        return _changed(years={year}, actor=actor)


def calendar_year_delete(*, year: int, actor=None) -> Recomputed:
    """Forget `year` (it falls back to Monday–Friday and is reported as not covered) and recompute."""
    with transaction.atomic():
        CalendarYear.objects.filter(year=year).delete()
        return _changed(years={year}, actor=actor)


def _changed(*, years: set[int], actor) -> Recomputed:
    workdays.invalidate()
    # A rollback leaves this process's snapshot ahead of the database until the next version check.
    transaction.on_commit(workdays.invalidate)
    return recompute_open_deadlines(years=years, actor=actor)


# --- recomputing ----------------------------------------------------------------------------------


def _candidates(years: Iterable[int] | None) -> Q:
    """Active assignments of open normal-urgency cases whose deadlines could involve `years`.

    A deadline computed from its start only looks at the days up to it, so an edit of year Y can move
    only deadlines on or after 1 January of Y.
    """
    condition = (
        Q(status__in=Assignment.ACTIVE)
        & ~Q(case__status__in=Case.TERMINAL)
        & Q(case__urgency=Case.Urgency.NORMAL)
        & (Q(sign_due__isnull=False) | Q(reply_due__isnull=False))
    )
    if years:
        tz = ZoneInfo(settings.SLA_TIME_ZONE)
        first = dt.datetime(min(years), 1, 1, tzinfo=tz)
        condition &= Q(sign_due__gte=first) | Q(reply_due__gte=first)
    return condition


def _starts(assignments: list[Assignment]) -> dict[int, dt.datetime]:
    """When each assignment's deadlines started running: its dispatch, or the lead's latest rework."""
    case_ids = {a.case_id for a in assignments if a.role == Assignment.Role.LEAD}
    reworks = dict(
        CaseEvent.objects.filter(case_id__in=case_ids, kind=CaseEvent.Kind.REWORK)
        .values("case_id")
        .annotate(last=Max("at"))
        .values_list("case_id", "last")
    )
    starts = {}
    for a in assignments:
        start = a.dispatched_at
        rework = reworks.get(a.case_id) if a.role == Assignment.Role.LEAD else None
        if rework is not None and rework > start:
            start = rework
        starts[a.pk] = start
    return starts


def _moves(assignment: Assignment, start: dt.datetime) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    """{field: (old, new)} for the deadlines the calendar moves."""
    sign_due, reply_due = clock.deadlines_for(
        category=assignment.case.category, urgency=Case.Urgency.NORMAL, start=start
    )
    moves = {}
    if assignment.sign_due is not None and abs(sign_due - assignment.sign_due) >= _TOLERANCE:
        moves["sign_due"] = (assignment.sign_due, sign_due)
    extended = assignment.extension_status == Assignment.Extension.APPROVED
    if not extended and assignment.reply_due is not None and abs(reply_due - assignment.reply_due) >= _TOLERANCE:
        moves["reply_due"] = (assignment.reply_due, reply_due)
    return moves


def recompute_open_deadlines(*, years: Iterable[int] | None = None, actor=None) -> Recomputed:
    """Recompute the deadlines of open cases on the current calendar; one event per case that moved.

    `years`: the edited years (None: look at every open case). Safe to run again: a deadline already
    right is left alone and logs nothing. Locks each case that moves, in id order.
    """
    years = set(years) if years is not None else None
    result = Recomputed()
    rows = list(
        Assignment.objects.filter(_candidates(years)).select_related("case__category").order_by("case_id", "id")
    )
    result.assignments_checked = len(rows)
    starts = _starts(rows)
    moving = sorted({a.case_id for a in rows if _moves(a, starts[a.pk])})
    now = timezone.now()
    for case_id in moving:
        with transaction.atomic():
            if _recompute_case(case_id, years=years, actor=actor, now=now):
                result.cases.append(case_id)
    return result


def _local(value: dt.datetime) -> str:
    return value.astimezone(ZoneInfo(settings.SLA_TIME_ZONE)).isoformat()


def _recompute_case(case_id: int, *, years: set[int] | None, actor, now: dt.datetime) -> bool:
    """Re-read the case under its lock and move its deadlines; False when nothing (any longer) moves."""
    case = Case.objects.select_for_update(of=("self",)).select_related("category").get(pk=case_id)
    if not case.is_open or case.urgency != Case.Urgency.NORMAL:
        return False
    assignments = list(
        case.assignments.filter(status__in=Assignment.ACTIVE).select_related("unit", "partner").order_by("id")
    )
    for a in assignments:
        a.case = case
    starts = _starts(assignments)
    changes = []
    for a in assignments:
        moves = _moves(a, starts[a.pk])
        if not moves:
            continue
        for name, (_old, new) in moves.items():
            setattr(a, name, new)
        fields = list(moves)
        stage, _due = stages.current_stage(a)
        current = _DUE_FIELD.get(stage)
        if current in moves:
            old, new = moves[current]
            if new > old and new > now and (a.yellow_notified_at or a.red_notified_at):
                a.sla_level = Assignment.SlaLevel.GREEN
                a.yellow_notified_at = a.red_notified_at = None
                fields += ["sla_level", "yellow_notified_at", "red_notified_at"]
        a.save(update_fields=fields)
        changes.append(
            {
                "assignment": a.pk,
                "role": a.role,
                "unit": {"id": a.unit.pk, "name": a.unit.name} if a.unit_id else None,
                "partner": {"id": a.partner.pk, "name": a.partner.name} if a.partner_id else None,
                **{name: {"from": _local(old), "to": _local(new)} for name, (old, new) in moves.items()},
            }
        )
    if not changes:
        return False
    record_event(
        case,
        kind=CaseEvent.Kind.DEADLINES_RECOMPUTED,
        actor=actor,
        data={"years": sorted(years) if years else None, "assignments": changes},
    )
    return True
