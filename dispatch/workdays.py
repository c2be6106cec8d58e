"""The working calendar tables, held in memory per process.

Deadline arithmetic asks "is this day a working day?" once per day it walks over, for every case at
intake and for every open assignment in each SLA sweep, so it must not query. Each process keeps a
snapshot of the tables (`Snapshot`) and, at most every `RECHECK_SECONDS`, asks the database for the
tables' version: the number of `CalendarYear` rows and their latest `updated_at`. Every edit goes
through `dispatch.services.calendar`, which saves the year (bumping the version) and drops this
process's snapshot at once; other processes see the edit within `RECHECK_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from dispatch.models import CalendarDay, CalendarYear

# How stale another process's edit may be here; one tiny query per process per interval.
RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Snapshot:
    version: tuple[int, datetime | None]
    years: frozenset[int]
    # date → True (make-up working day 调休) or False (public holiday); other days follow the weekday.
    exceptions: dict[date, bool] = field(default_factory=dict)
    names: dict[date, str] = field(default_factory=dict)

    def covers(self, day: date) -> bool:
        return day.year in self.years

    def is_working_day(self, day: date) -> bool:
        exception = self.exceptions.get(day)
        if exception is not None:
            return exception
        return day.weekday() < 5


_lock = threading.Lock()
_snapshot: Snapshot | None = None
_checked_at = 0.0


def _version() -> tuple[int, datetime | None]:
    row = CalendarYear.objects.aggregate(n=Count("year"), at=Max("updated_at"))
    return row["n"], row["at"]


def _load(version: tuple[int, datetime | None]) -> Snapshot:
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    exceptions: dict[date, bool] = {}
    names: dict[date, str] = {}
    for day, kind, name in CalendarDay.objects.values_list("date", "kind", "name"):
        exceptions[day] = kind == CalendarDay.Kind.WORKDAY
        names[day] = name
    return Snapshot(version=version, years=years, exceptions=exceptions, names=names)


def snapshot() -> Snapshot:
    """The calendar as this process knows it, re-read when the tables changed."""
    global _snapshot, _checked_at
    current = _snapshot
    if current is not None and time.monotonic() - _checked_at < RECHECK_SECONDS:
        return current
    with _lock:
        if _snapshot is not None and time.monotonic() - _checked_at < RECHECK_SECONDS:
            return _snapshot
        version = _version()
        if _snapshot is None or _snapshot.version != version:
            _snapshot = _load(version)
        _checked_at = time.monotonic()
        return _snapshot


def invalidate() -> None:
    """Forget the snapshot; the next question re-reads the tables (in the caller's transaction)."""
    global _snapshot
    with _lock:
        _snapshot = None


# How far ahead the calendar must be known; deadlines rarely run longer than this.
COVERAGE_DAYS = 60


@dataclass(frozen=True)
class Coverage:
    """Whether the next `days` days are in covered years; `missing_years` lists those that are not."""

    ok: bool
    today: date
    days: int
    missing_years: tuple[int, ...]
    covered_until: date | None  # the last day of the covered run that starts today

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "days": self.days,
            "missing_years": list(self.missing_years),
            "covered_until": self.covered_until.isoformat() if self.covered_until else None,
        }


def coverage(*, today: date | None = None, days: int = COVERAGE_DAYS) -> Coverage:
    """Is the calendar known from `today` (Asia/Shanghai) for the next `days` days? No query when warm."""
    if today is None:
        today = timezone.now().astimezone(ZoneInfo(settings.SLA_TIME_ZONE)).date()
    calendar = snapshot()
    last = today + timedelta(days=days)
    missing = tuple(year for year in range(today.year, last.year + 1) if year not in calendar.years)
    until = None
    if today.year in calendar.years:
        year = today.year
        while year + 1 in calendar.years:
            year += 1
        until = date(year, 12, 31)
    return Coverage(ok=not missing, today=today, days=days, missing_years=missing, covered_until=until)
