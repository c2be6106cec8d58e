"""The evaluation settings in force (a city's `EvaluationSettings`, or the defaults) and the period they cover."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from dispatch.models import Case, EvaluationSettings


@dataclass(frozen=True)
class EvaluationConfig:
    """A city's evaluation settings, or the environment's defaults (`city_code` None: every unit)."""

    weights: dict[str, float]
    period: str = EvaluationSettings.Period.DAYS
    period_days: int = 30
    channels: tuple[str, ...] = tuple(Case.Source.values)
    city_code: str | None = None

    @property
    def all_channels(self) -> bool:
        return set(self.channels) >= set(Case.Source.values)

    def default_period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The period to evaluate when none is asked for: the configured one, up to `today` included."""
        if self.period == EvaluationSettings.Period.WEEK:
            return today - dt.timedelta(days=today.weekday()), today
        if self.period == EvaluationSettings.Period.MONTH:
            return today.replace(day=1), today
        if self.period == EvaluationSettings.Period.QUARTER:
            return dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
        return today - dt.timedelta(days=self.period_days - 1), today

    def as_dict(self) -> dict:
        return {
            "weights": dict(self.weights),
            "period": self.period,
            "period_days": self.period_days,
            "channels": list(self.channels),
            "city": self.city_code,
        }


def _from_row(row: EvaluationSettings) -> EvaluationConfig:
    return EvaluationConfig(
        weights=row.weights,
        period=row.period,
        period_days=row.period_days,
        channels=tuple(row.channels),
        city_code=row.city.code,
    )


def evaluation_config(*, city_code: str | None = None) -> EvaluationConfig:
    """The settings of city `city_code`, or of the only city with settings; else the defaults. One query.

    With several cities configured and none named, the defaults apply to every unit: name the city.
    """
    rows = EvaluationSettings.objects.select_related("city")
    if city_code:
        row = rows.filter(city__code=city_code).first()
        if row is None:
            return EvaluationConfig(weights=dict(settings.EVALUATION_WEIGHTS), city_code=city_code)
        return _from_row(row)
    found = list(rows[:2])
    if len(found) == 1:
        return _from_row(found[0])
    return EvaluationConfig(weights=dict(settings.EVALUATION_WEIGHTS))


def local_today() -> dt.date:
    return timezone.now().astimezone(ZoneInfo(settings.SLA_TIME_ZONE)).date()


def period_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of whole days `date_from`..`date_to` in Asia/Shanghai."""
    tz = ZoneInfo(settings.SLA_TIME_ZONE)
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end
