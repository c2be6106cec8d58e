"""Deadlines on the Chinese working calendar.

Normal-urgency limits count working time only: the working periods of a day (settings
`SLA_WORK_PERIODS`, e.g. 09:00–12:00 and 13:30–17:30 Asia/Shanghai) on working days, where a working
day follows the State Council calendar (public holidays off, make-up working days 调休 on) as stored in
the calendar tables (`dispatch.models.CalendarYear` / `CalendarDay`, read through
`dispatch.workdays`, see docs/calendar.md). Urgent limits run on the wall clock.

A "working day" of limit is the working length of one day (7 hours with the default periods), so a
case dispatched on Monday at 15:00 with one working day to reply is due on Tuesday at 15:00, and one
dispatched on Friday evening is due at the end of Monday's working time. This is how the digital
city-management standards count 工作日 limits, and it keeps the yellow warning (a fraction of the
limit) meaningful for every limit.

Years the tables do not cover yet (an administrator enters or imports each year once the State
Council publishes it) fall back to Monday–Friday with one warning in the log per year and process, a
warning on /healthz and one on the dispatchers' map.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings

from dispatch import workdays

if TYPE_CHECKING:
    from routing.models import Category

logger = logging.getLogger(__name__)

URGENT = "urgent"
NORMAL = "normal"

# A limit longer than this many calendar days is a configuration error, not a deadline.
_MAX_DAYS = 3660

_warned_years: set[int] = set()
_warned_lock = threading.Lock()


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.SLA_TIME_ZONE)


def _periods() -> list[tuple[time, time]]:
    return list(settings.SLA_WORK_PERIODS)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime; naive times are ambiguous.")


def is_working_day(day: date) -> bool:
    """True on a working day of the Chinese calendar (make-up Saturdays included)."""
    return _is_working(workdays.snapshot(), day)


def _is_working(calendar: workdays.Snapshot, day: date) -> bool:
    if not calendar.covers(day):
        _warn_uncovered(day.year)
    return calendar.is_working_day(day)


def _warn_uncovered(year: int) -> None:
    with _warned_lock:
        first = year not in _warned_years
        _warned_years.add(year)
    if first:
        logger.warning(
            "The working calendar has no data for %s; counting Monday to Friday as working days for that "
            "year. Enter the State Council's holidays in the admin or with `manage.py import_holidays`.",
            year,
        )


def day_working_seconds() -> float:
    """Working seconds in one working day under the configured periods."""
    return sum(
        (datetime.combine(date.min, end) - datetime.combine(date.min, begin)).total_seconds()
        for begin, end in _periods()
    )


def _working_intervals(from_day: date, tz: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """Working periods as aware intervals, from `from_day` on, in order."""
    periods = _periods()
    # One snapshot for the whole walk, so a deadline is computed on one version of the calendar.
    calendar = workdays.snapshot()
    for offset in range(_MAX_DAYS):
        day = from_day + timedelta(days=offset)
        if not _is_working(calendar, day):
            continue
        for begin, end in periods:
            yield datetime.combine(day, begin, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)
    raise ValueError(f"No working time within {_MAX_DAYS} days of {from_day}; check SLA_WORK_PERIODS.")


def add_working_seconds(start: datetime, seconds: float) -> datetime:
    """`start` plus `seconds` of working time, in Asia/Shanghai.

    Time outside the working periods does not count, so a start in the evening begins counting at
    the next working morning. Zero returns `start` unchanged.
    """
    _require_aware(start, "start")
    if seconds < 0:
        raise ValueError("Working time to add must not be negative.")
    tz = _zone()
    local = start.astimezone(tz)
    if seconds == 0:
        return local
    remaining = timedelta(seconds=seconds)
    for begin, end in _working_intervals(local.date(), tz):
        if end <= local:
            continue
        begin = max(begin, local)
        available = end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: _working_intervals raises when it runs out")


def add_working_hours(start: datetime, hours: float) -> datetime:
    """`start` plus `hours` of working time (see module docstring)."""
    return add_working_seconds(start, hours * 3600)


def add_working_days(start: datetime, days: float) -> datetime:
    """`start` plus `days` working days, each the working length of one day."""
    return add_working_seconds(start, days * day_working_seconds())


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Working seconds from `start` to `end` (0 when `end` is not after `start`)."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end <= start:
        return 0.0
    tz = _zone()
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    total = timedelta()
    for begin, finish in _working_intervals(local_start.date(), tz):
        if begin >= local_end:
            break
        overlap = min(finish, local_end) - max(begin, local_start)
        if overlap > timedelta():
            total += overlap
    return total.total_seconds()


def deadlines_for(*, category: Category | Any, urgency: str, start: datetime) -> tuple[datetime, datetime]:
    """(sign_due, reply_due) for a case of `category` and `urgency` dispatched at `start`.

    Urgent: `sign_urgent_minutes` and `reply_urgent_hours` on the wall clock. Normal:
    `sign_normal_work_hours` working hours and `reply_normal_work_days` working days. Both limits run
    from `start` (the dispatch), not from the signature.
    """
    _require_aware(start, "start")
    if urgency == URGENT:
        local = start.astimezone(_zone())
        return (
            local + timedelta(minutes=category.sign_urgent_minutes),
            local + timedelta(hours=category.reply_urgent_hours),
        )
    if urgency != NORMAL:
        raise ValueError(f"Unknown urgency {urgency!r}; expected {NORMAL!r} or {URGENT!r}.")
    return (
        add_working_hours(start, category.sign_normal_work_hours),
        add_working_days(start, category.reply_normal_work_days),
    )


def warning_at(*, start: datetime, due: datetime, urgency: str, fraction: float | None = None) -> datetime:
    """When a limit from `start` to `due` turns yellow: at `fraction` of it (SLA_YELLOW_FRACTION).

    The fraction is of working time for normal limits and of wall-clock time for urgent ones, the
    same clock the limit itself was measured on.
    """
    _require_aware(start, "start")
    _require_aware(due, "due")
    if fraction is None:
        fraction = settings.SLA_YELLOW_FRACTION
    if due <= start:
        return due
    if urgency == URGENT:
        return start + (due - start) * fraction
    return add_working_seconds(start, working_seconds_between(start, due) * fraction)


SIGN = "sign"
REPLY = "reply"


def limit_seconds(*, category: Category | Any, urgency: str, stage: str) -> float:
    """The category's limit for `stage` (sign or reply): wall seconds if urgent, else working seconds."""
    if stage not in (SIGN, REPLY):
        raise ValueError(f"Unknown stage {stage!r}; expected {SIGN!r} or {REPLY!r}.")
    if urgency == URGENT:
        return category.sign_urgent_minutes * 60 if stage == SIGN else category.reply_urgent_hours * 3600
    if stage == SIGN:
        return category.sign_normal_work_hours * 3600
    return category.reply_normal_work_days * day_working_seconds()


def _working_seconds_exceed(start: datetime, end: datetime, threshold: float) -> bool:
    """Whether more than `threshold` working seconds lie between `start` and `end` (stops early)."""
    tz = _zone()
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    for begin, finish in _working_intervals(local_start.date(), tz):
        if begin >= local_end:
            return False
        total += max(0.0, (min(finish, local_end) - max(begin, local_start)).total_seconds())
        if total > threshold:
            return True
    return False


def is_due_for_warning(
    *, category: Category | Any, urgency: str, stage: str, due: datetime, now: datetime, fraction: float | None = None
) -> bool:
    """True once at most (1 − fraction) of the category's limit remains before `due`, and `due` is ahead.

    Measured backwards from the deadline, so a deadline that was moved (extension, rework) warns in
    its own final stretch, and an unmoved one warns at `fraction` of its limit, as configured.
    """
    _require_aware(due, "due")
    _require_aware(now, "now")
    if now >= due:
        return False
    if fraction is None:
        fraction = settings.SLA_YELLOW_FRACTION
    remaining_allowed = (1 - fraction) * limit_seconds(category=category, urgency=urgency, stage=stage)
    if urgency == URGENT:
        return (due - now).total_seconds() <= remaining_allowed
    return not _working_seconds_exceed(now, due, remaining_allowed)


def extend_deadline(assignment: Any, *, days: float | None = None, hours: float | None = None) -> datetime:
    """Move `assignment.reply_due` on by `days` working days or `hours` working hours (urgent: wall hours).

    Sets the new deadline and clears the SLA warnings so the new deadline gets its own; the caller
    holds the case lock and saves the assignment. Returns the new deadline.
    """
    if (days is None) == (hours is None):
        raise ValueError("Give exactly one of days or hours.")
    amount = days if days is not None else hours
    if amount <= 0:
        raise ValueError("An extension must be positive.")
    base = assignment.reply_due
    _require_aware(base, "reply_due")
    if assignment.case.urgency == URGENT:
        new_due = base.astimezone(_zone()) + timedelta(hours=amount if hours is not None else 24 * amount)
    elif days is not None:
        new_due = add_working_days(base, days)
    else:
        new_due = add_working_hours(base, hours)
    assignment.reply_due = new_due
    assignment.sla_level = "green"
    assignment.yellow_notified_at = None
    assignment.red_notified_at = None
    return new_due
