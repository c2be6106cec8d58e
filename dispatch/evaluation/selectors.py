"""`evaluate_units`: every unit's counts for a period in aggregate SQL (formulas in docs/evaluation.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Count, F, Q
from django.utils import timezone

from dispatch.evaluation.config import EvaluationConfig, evaluation_config, period_bounds
from dispatch.evaluation.scores import COUNTS, UnitEvaluation
from dispatch.models import Assignment, CaseEvent
from partners.models import Unit

Status = Assignment.Status
Kind = CaseEvent.Kind


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
    config = config or evaluation_config()
    now = now or timezone.now()
    start, end = period_bounds(date_from, date_to)
    wanted = None if unit_ids is None else set(unit_ids)
    results: dict[int, dict[str, int]] = {}

    def in_period(name: str) -> Q:
        return Q(**{f"{name}__gte": start, f"{name}__lt": end})

    # Taken back by a dispatcher before the unit signed: not the unit's to answer for.
    withdrawn_unsigned = Q(status=Status.WITHDRAWN, signed_at__isnull=True)
    still_in_time = Q(signed_at__isnull=True, sign_due__gt=now) & ~Q(status=Status.RETURNED)
    dispatched = in_period("dispatched_at") & ~withdrawn_unsigned & ~still_in_time
    signed_in_time = Q(signed_at__isnull=False) & (Q(sign_due__isnull=True) | Q(signed_at__lte=F("sign_due")))
    due = in_period("reply_due") & Q(reply_due__lte=now) & ~Q(status=Status.RETURNED)
    due &= ~Q(status=Status.WITHDRAWN, replied_at__isnull=True)
    closed = Q(role=Assignment.Role.LEAD, status=Status.REPLIED) & in_period("case__closed_at")
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
        returned=Count("id", filter=dispatched & Q(status=Status.RETURNED)),
        due=Count("id", filter=due),
        resolved=Count("id", filter=due & Q(replied_at__isnull=False)),
        closed=Count("id", filter=closed),
        closed_on_time=Count("id", filter=closed & on_time),
    ):
        results.setdefault(row.pop("unit_id"), dict.fromkeys(COUNTS, 0)).update(row)

    # Verification outcomes and callbacks judge the case's lead unit.
    events = CaseEvent.objects.filter(
        in_period("at"),
        kind__in=[Kind.VERIFIED, Kind.REWORK, Kind.REVISITED, Kind.REOPENED],
        case__lead_unit__isnull=False,
    )
    if wanted is not None:
        events = events.filter(case__lead_unit_id__in=wanted)
    if not config.all_channels:
        events = events.filter(case__source__in=config.channels)
    if config.city_code:
        events = events.filter(case__lead_unit__area__code__startswith=_city_prefix(config.city_code))
    for row in events.values(unit_id=F("case__lead_unit_id")).annotate(
        verifications=Count("id", filter=Q(kind__in=[Kind.VERIFIED, Kind.REWORK])),
        reworks=Count("id", filter=Q(kind=Kind.REWORK)),
        callbacks=Count("id", filter=Q(kind__in=[Kind.REVISITED, Kind.REOPENED])),
        satisfied=Count("id", filter=Q(kind=Kind.REVISITED)),
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
