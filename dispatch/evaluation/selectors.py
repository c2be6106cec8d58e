"""Unit evaluation (三率 and friends) per period, in aggregate SQL: a fixed number of queries for any
number of units. The formulas are stated in docs/evaluation.md; in short, for unit U and the period P
(whole days in Asia/Shanghai, both ends included), counting only cases from the city's channels:

- 响应率 response    = signed in time / dispatched
- 解决率 resolution  = resolved / due
- 满意率 satisfaction = satisfied callbacks / callbacks
- 按期结案率 on-time closure = closed cases U replied to by the deadline / closed cases U led
- 返工率 rework      = failed verifications / verifications
- 退单率 return      = returned / dispatched
- score = weighted mean of the three 率 over those with data, × 100

The weights, the default period and the channels that count are the city's `EvaluationSettings`
(admin), or `EVALUATION_WEIGHTS`, the last 30 days and every channel where the city has none
(`evaluation_config`).

A rate whose denominator is zero is None ("no data"), never 0 % or 100 %, and the score leaves it out
(re-weighting the others); with none of the three the score is None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, F, Q
from django.utils import timezone

from dispatch.models import Assignment, Case, CaseEvent, EvaluationSettings

A = Assignment.Status
K = CaseEvent.Kind

COUNTS = (
    "dispatched",
    "signed_in_time",
    "returned",
    "due",
    "resolved",
    "closed",
    "closed_on_time",
    "verifications",
    "reworks",
    "callbacks",
    "satisfied",
)
# rate name -> (numerator, denominator)
RATES = {
    "response_rate": ("signed_in_time", "dispatched"),
    "resolution_rate": ("resolved", "due"),
    "satisfaction_rate": ("satisfied", "callbacks"),
    "on_time_closure_rate": ("closed_on_time", "closed"),
    "rework_rate": ("reworks", "verifications"),
    "return_rate": ("returned", "dispatched"),
}
# EVALUATION_WEIGHTS key -> rate
SCORED = {"response": "response_rate", "resolution": "resolution_rate", "satisfaction": "satisfaction_rate"}


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


@dataclass
class UnitEvaluation:
    unit_id: int
    unit: dict
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    weights: dict[str, float] = field(default_factory=lambda: dict(settings.EVALUATION_WEIGHTS))

    @property
    def rates(self) -> dict[str, float | None]:
        return {
            name: (self.counts[num] / self.counts[den] if self.counts[den] else None)
            for name, (num, den) in RATES.items()
        }

    @property
    def score(self) -> float | None:
        rates = self.rates
        weights = self.weights
        used = {key: weights[key] for key, rate in SCORED.items() if rates[rate] is not None and weights[key] > 0}
        total = sum(used.values())
        if not total:
            return None
        return 100 * sum(weight * rates[SCORED[key]] for key, weight in used.items()) / total


def period_bounds(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of whole days `date_from`..`date_to` in Asia/Shanghai."""
    tz = ZoneInfo(settings.SLA_TIME_ZONE)
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start, end


def evaluate_units(
    *,
    date_from: dt.date,
    date_to: dt.date,
    unit_ids: Iterable[int] | None = None,
    now: dt.datetime | None = None,
    config: EvaluationConfig | None = None,
) -> list[UnitEvaluation]:
    """Evaluation of every unit with activity in the period (or of `unit_ids`, active or not).

    `config`: the city's settings (default `evaluation_config()`, one more query). With a city, only
    that city's units count; only cases from `config.channels` count. Sorted best score first (units
    without a score last), then by name. Three queries.
    """
    from partners.models import Unit

    config = config or evaluation_config()
    now = now or timezone.now()
    start, end = period_bounds(date_from, date_to)
    wanted = None if unit_ids is None else set(unit_ids)
    results: dict[int, dict[str, int]] = {}

    def in_period(name: str) -> Q:
        return Q(**{f"{name}__gte": start, f"{name}__lt": end})

    # Taken back by a dispatcher before the unit signed: not the unit's to answer for.
    withdrawn_unsigned = Q(status=A.WITHDRAWN, signed_at__isnull=True)
    still_in_time = Q(signed_at__isnull=True, sign_due__gt=now) & ~Q(status=A.RETURNED)
    dispatched = in_period("dispatched_at") & ~withdrawn_unsigned & ~still_in_time
    signed_in_time = Q(signed_at__isnull=False) & (Q(sign_due__isnull=True) | Q(signed_at__lte=F("sign_due")))
    due = in_period("reply_due") & Q(reply_due__lte=now) & ~Q(status=A.RETURNED)
    due &= ~Q(status=A.WITHDRAWN, replied_at__isnull=True)
    closed = Q(role=Assignment.Role.LEAD, status=A.REPLIED) & in_period("case__closed_at")
    on_time = Q(replied_at__lte=F("reply_due"))

    assignments = Assignment.objects.filter(unit__isnull=False).filter(
        in_period("dispatched_at") | in_period("reply_due") | in_period("case__closed_at")
    )
    if wanted is not None:
        assignments = assignments.filter(unit_id__in=wanted)
    if not config.all_channels:
        assignments = assignments.filter(case__source__in=config.channels)
    if config.city_code:
        assignments = assignments.filter(unit__area__code__startswith=_city_prefix(config.city_code))
    for row in assignments.values("unit_id").annotate(
        dispatched=Count("id", filter=dispatched),
        signed_in_time=Count("id", filter=dispatched & signed_in_time),
        returned=Count("id", filter=dispatched & Q(status=A.RETURNED)),
        due=Count("id", filter=due),
        resolved=Count("id", filter=due & Q(replied_at__isnull=False)),
        closed=Count("id", filter=closed),
        closed_on_time=Count("id", filter=closed & on_time),
    ):
        results.setdefault(row.pop("unit_id"), dict.fromkeys(COUNTS, 0)).update(row)

    # Verification outcomes and callbacks judge the case's lead unit.
    events = CaseEvent.objects.filter(
        in_period("at"), kind__in=[K.VERIFIED, K.REWORK, K.REVISITED, K.REOPENED], case__lead_unit__isnull=False
    )
    if wanted is not None:
        events = events.filter(case__lead_unit_id__in=wanted)
    if not config.all_channels:
        events = events.filter(case__source__in=config.channels)
    if config.city_code:
        events = events.filter(case__lead_unit__area__code__startswith=_city_prefix(config.city_code))
    for row in events.values(unit_id=F("case__lead_unit_id")).annotate(
        verifications=Count("id", filter=Q(kind__in=[K.VERIFIED, K.REWORK])),
        reworks=Count("id", filter=Q(kind=K.REWORK)),
        callbacks=Count("id", filter=Q(kind__in=[K.REVISITED, K.REOPENED])),
        satisfied=Count("id", filter=Q(kind=K.REVISITED)),
    ):
        results.setdefault(row.pop("unit_id"), dict.fromkeys(COUNTS, 0)).update(row)

    ids = wanted if wanted is not None else set(results)
    units = Unit.objects.filter(pk__in=ids).values("id", "code", "name", "level", "department")
    evaluations = [
        UnitEvaluation(
            unit_id=u["id"], unit=u, counts=results.get(u["id"], dict.fromkeys(COUNTS, 0)), weights=config.weights
        )
        for u in units
    ]
    evaluations.sort(key=lambda e: (e.score is None, -(e.score or 0), e.unit["name"], e.unit_id))
    return evaluations


def _city_prefix(city_code: str) -> str:
    """Area codes of a city's districts, streets and communities share its first four digits (5201…)."""
    return city_code[:4]
