"""Deadlines on the Chinese working calendar.

Normal-urgency limits count working time only: the working periods of a day (settings
`SLA_WORK_PERIODS`, e.g. 09:00–12:00 and 13:30–17:30 Asia/Shanghai) on working days, where a working
day follows the State Council calendar (public holidays off, make-up working days 调休 on) as published
in the `chinese_calendar` package. Urgent limits run on the wall clock.

A "working day" of limit is the working length of one day (7 hours with the default periods), so a
case dispatched on Monday at 15:00 with one working day to reply is due on Tuesday at 15:00, and one
dispatched on Friday evening is due at the end of Monday's working time. This is how the digital
city-management standards count 工作日 limits, and it keeps the yellow warning (a fraction of the
limit) meaningful for every limit.

Years the package does not know yet (it is updated each winter when the State Council publishes the
next year's calendar) fall back to Monday–Friday with one warning in the log per year.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

if TYPE_CHECKING:
    from dispatch.models import Category

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
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        with _warned_lock:
            first = day.year not in _warned_years
            _warned_years.add(day.year)
        if first:
            logger.warning(
                "The Chinese holiday calendar has no data for %s; counting Monday to Friday as working "
                "days for that year. Upgrade the chinese-calendar package once the State Council "
                "publishes the calendar.",
                day.year,
            )
        return day.weekday() < 5


def day_working_seconds() -> float:
    """Working seconds in one working day under the configured periods."""
    return sum(
        (datetime.combine(date.min, end) - datetime.combine(date.min, begin)).total_seconds()
        for begin, end in _periods()
    )


def _working_intervals(from_day: date, tz: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """Working periods as aware intervals, from `from_day` on, in order."""
    periods = _periods()
    for offset in range(_MAX_DAYS):
        day = from_day + timedelta(days=offset)
        if not is_working_day(day):
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
